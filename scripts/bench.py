#!/usr/bin/env python3
"""`make bench`: aimem against the reference floor on the standard export, side by side.

Generates the export with ../shared/bench/gen_export.py (cached in the work folder),
then measures, in one run on this machine:

  import     wall time and peak memory (/usr/bin/time -v) of aimem and of the floor
  re-import  the same file again (must add nothing)
  store      database size against the export size
  search     in-process p50/p95 over the generated queries: aimem.search() and the floor
  command    whole `aimem search --json` against `python -c "import typer, rich.console"`
  locomo     retrieval quality on the LoCoMo development split (R@5/10/20 by category)

Usage: python scripts/bench.py [--size S|M] [--work DIR] [--skip-locomo] [--only PART]
Results are printed as a table and written to WORK/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "bench"
SIZES = {"S": 1000, "M": 10000}
BIN = Path(sys.executable).parent
AIMEM = str(BIN / "aimem")


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(cmd, text=True, capture_output=True, check=True, **kw)


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float | str]:
    """Wall seconds, CPU seconds (user + system) and max RSS (MB) of one command, via
    /usr/bin/time -v. On a machine shared with other work, CPU time is the steadier figure."""
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], text=True, capture_output=True,
                       env={**os.environ, **(env or {})})
    if p.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", p.stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", p.stderr)
    assert wall and rss and user and system
    h, m, s = wall.groups()
    return {"wall_s": round(int(h or 0) * 3600 + int(m) * 60 + float(s), 2),
            "cpu_s": round(float(user.group(1)) + float(system.group(1)), 2),
            "max_rss_mb": round(int(rss.group(1)) / 1024, 1), "stdout": p.stdout}


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def generate(work: Path, size: str) -> tuple[Path, Path]:
    export, queries = work / f"conversations-{size}.json", work / "queries.json"
    if not export.exists() or not queries.exists():
        print(f"generating the {size} export …", file=sys.stderr)
        sh([sys.executable, str(SHARED / "gen_export.py"), "--format", "chatgpt",
            "--conversations", str(SIZES[size]), "--seed", "1", "--out", str(export),
            "--queries", "50", "--queries-out", str(queries), "--quiet"])
    return export, queries


def bench_import(work: Path, export: Path) -> dict:  # type: ignore[type-arg]
    db, floor = work / "aimem.db", work / "floor.db"
    for p in list(work.glob("aimem.db*")) + list(work.glob("floor.db*")):
        shutil.rmtree(p) if p.is_dir() else p.unlink()  # aimem.db-locks is a folder
    print("import: floor …", file=sys.stderr)
    f = timed([sys.executable, str(SHARED / "ref_fts_floor.py"), "import", str(export), str(floor),
               "--orjson"])
    print("import: aimem …", file=sys.stderr)
    a = timed([AIMEM, "--db", str(db), "import", str(export), "--json"],
              env={"AIMEM_HOME": str(work / "home")})
    report = json.loads(a.pop("stdout"))  # type: ignore[arg-type]
    print("re-import: aimem …", file=sys.stderr)
    r = timed([AIMEM, "--db", str(db), "import", str(export), "--json"])
    again = json.loads(r.pop("stdout"))  # type: ignore[arg-type]
    f.pop("stdout")
    mb = export.stat().st_size / 1e6
    return {
        "export_mb": round(mb, 1),
        "floor": {**f, "mb_per_s": round(mb / float(f["wall_s"]), 1)},
        "aimem": {**a, "mb_per_s": round(mb / float(a["wall_s"]), 1),
                  "conversations": report["conversations_added"],
                  "messages": report["messages_added"]},
        "speed_vs_floor": round(float(f["wall_s"]) / float(a["wall_s"]), 2),
        "cpu_speed_vs_floor": round(float(f["cpu_s"]) / float(a["cpu_s"]), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "reimport": {**r, "added": again["conversations_added"] + again["messages_added"],
                     "unchanged": again["conversations_unchanged"]},
        "store_mb": round(du(db) / 1e6, 1), "floor_store_mb": round(du(floor) / 1e6, 1),
        "store_vs_export": round(du(db) / export.stat().st_size, 2),
    }


def bench_search(work: Path, queries: Path) -> dict:  # type: ignore[type-arg]
    db, floor = work / "aimem.db", work / "floor.db"
    print("search: floor …", file=sys.stderr)
    fl = json.loads(sh([sys.executable, str(SHARED / "ref_fts_floor.py"), "query", str(floor),
                        str(queries), "--repeat", "3"]).stdout)
    print("search: aimem …", file=sys.stderr)
    out = work / "search-inproc.json"
    sh([sys.executable, str(SHARED / "bench_search.py"), "--queries", str(queries), "--db",
        str(db), "--python-callable", "aimem:search", "--repeat", "3", "--json", "--out",
        str(out)])
    data = json.loads(out.read_text())
    summary = data.get("summary", data)
    # best of the 3 repeats per query, as the floor measures
    rows = data.get("rows") or data.get("results") or []
    best: dict[str, float] = {}
    for row in rows:
        q, ms = row.get("query"), row.get("ms", row.get("elapsed_ms"))
        if q is not None and ms is not None:
            best[q] = min(best.get(q, float("inf")), float(ms))
    def pct(vals: list[float], p: float) -> float:
        s = sorted(vals)
        k = (len(s) - 1) * p / 100
        lo, hi = int(k), min(int(k) + 1, len(s) - 1)
        return round(s[lo] + (s[hi] - s[lo]) * (k - lo), 3)
    aimem_best = ({"p50_ms": pct(list(best.values()), 50), "p95_ms": pct(list(best.values()), 95)}
                  if best else {})
    return {"floor": fl, "aimem_all_runs": {k: summary.get(k) for k in
                                            ("p50_ms", "p95_ms", "max_ms", "zero_hit_queries",
                                             "errors") if k in summary},
            "aimem_best_of_3": aimem_best}


def bench_command(work: Path) -> dict:  # type: ignore[type-arg]
    """Whole-command time on a small database, against importing typer and rich."""
    small = work / "small.db"
    if not small.exists():
        sh([AIMEM, "--db", str(small), "import", str(ROOT / "aimem" / "data" / "sample")])
    py = str(BIN / "python")
    cmds = {"baseline": [py, "-c", "import typer, rich.console"],
            "search_json": [AIMEM, "--db", str(small), "search", "--json", "sourdough starter"],
            "help": [AIMEM, "--help"]}
    out: dict[str, float] = {}
    for name, cmd in cmds.items():
        runs = []
        for i in range(23):
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            if i >= 3:
                runs.append((time.perf_counter() - t) * 1000)
        out[name + "_ms"] = round(statistics.median(runs), 1)
    out["search_vs_baseline"] = round(out["search_json_ms"] / out["baseline_ms"], 2)
    code = ("import sys, runpy; sys.argv=['aimem','--help']\ntry: runpy.run_module('aimem', "
            "run_name='__main__')\nexcept SystemExit: pass\nprint(sorted(m for m in ('textual',"
            "'llm','mcp','rich') if m in sys.modules), file=sys.stderr)")
    out["help_imports"] = subprocess.run([py, "-c", code], capture_output=True,
                                         text=True).stderr.strip()
    return out


def bench_inject(work: Path, queries: Path) -> dict:  # type: ignore[type-arg]
    """Whole-command time of `aimem inject` against `aimem search` for the same queries."""
    db = work / "aimem.db"
    qs = [q if isinstance(q, str) else q.get("query", "") for q in json.loads(queries.read_text())]
    qs = [q for q in qs if q][:20]
    out: dict[str, list[float]] = {"search": [], "inject": []}
    for q in qs:
        for name, cmd in (("search", [AIMEM, "--db", str(db), "search", q]),
                          ("inject", [AIMEM, "--db", str(db), "inject", q])):
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                subprocess.run(cmd, capture_output=True, check=True)
                runs.append((time.perf_counter() - t) * 1000)
            out[name].append(min(runs))
    med = {k: round(statistics.median(v), 1) for k, v in out.items()}
    return {"queries": len(qs), "search_median_ms": med["search"],
            "inject_median_ms": med["inject"],
            "inject_vs_search": round(med["inject"] / med["search"], 2),
            "worst_ratio": round(max(i / s for i, s in zip(out["inject"], out["search"],
                                                          strict=True)), 2)}


def bench_locomo_inject(work: Path) -> dict:  # type: ignore[type-arg]
    """How often the evidence turns make it into inject's block at the default budget."""
    script = SHARED / "locomo" / "locomo_retrieval.py"
    out = work / "locomo-inject.json"
    cmd = f"{AIMEM} --db {{db}} inject --format json {{query}}"
    sh([sys.executable, str(script), "eval", "--jobs", "2", "--search-cmd", cmd,
        "--results-path", "excerpts", "--id-field", "messages", "--ks", "5,10,20,1000",
        "--json-out", str(out)], env={**os.environ, "AIMEM": AIMEM})
    return json.loads(out.read_text())


def bench_locomo(work: Path) -> dict:  # type: ignore[type-arg]
    script = SHARED / "locomo" / "locomo_retrieval.py"
    print("locomo: eval …", file=sys.stderr)
    out = work / "locomo.json"
    p = sh([sys.executable, str(script), "eval", "--jobs", "2", "--json-out", str(out)],
           env={**os.environ, "AIMEM": AIMEM})
    print(p.stdout, file=sys.stderr)
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=SIZES, default="M")
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("AIMEM_BENCH_DIR",
                                                                       "/tmp/aimem-bench")))
    ap.add_argument("--skip-locomo", action="store_true")
    ap.add_argument("--only", choices=["import", "search", "command", "inject", "locomo",
                                       "locomo-inject"])
    args = ap.parse_args()
    if not SHARED.exists():
        raise SystemExit(f"the benchmark kit is not at {SHARED}")
    if not shutil.which("/usr/bin/time"):
        raise SystemExit("needs /usr/bin/time (apt-get install time)")
    work = args.work / args.size
    work.mkdir(parents=True, exist_ok=True)
    export, queries = generate(work, args.size)
    results: dict[str, object] = {"size": args.size, "machine": os.uname().machine,
                                  "cpus": os.cpu_count()}
    parts = [args.only] if args.only else ["import", "search", "command", "inject", "locomo",
                                           "locomo-inject"]
    if args.skip_locomo:
        parts = [p for p in parts if not p.startswith("locomo")]
    if "import" in parts:
        results["import"] = bench_import(work, export)
    if "search" in parts:
        results["search"] = bench_search(work, queries)
    if "command" in parts:
        results["command"] = bench_command(work)
    if "inject" in parts:
        results["inject"] = bench_inject(work, queries)
    if "locomo" in parts:
        results["locomo"] = bench_locomo(work)
    if "locomo-inject" in parts:
        results["locomo_inject"] = bench_locomo_inject(work)
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
