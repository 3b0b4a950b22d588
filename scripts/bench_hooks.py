#!/usr/bin/env python3
"""Latency of `aimem hook session-start`, the command the agents run at every session start.

Measures the whole process, as Claude Code / Codex / Gemini CLI start it: the installed
`aimem` executable with the hook JSON on stdin, on a given database (import the M export
into it once with --import). Before measuring, the database gets a project to recall (once,
marked by a memory): 20 Claude Code sessions whose cwd is a folder inside a git project,
10 memories of that project, 20 global memories and 3 preferences, so the hook has real
work to do (profile, project memories, global memories, recent excerpts).

Usage:
  python scripts/bench_hooks.py --db /tmp/hooks-bench/m.db \
      [--import /work/benchdata/conversations-M.json] [--runs 40] [--work DIR]

Prints median and p95 (milliseconds) of wall time and of CPU time (user + system, which
a loaded machine does not stretch), the same for `python -c pass` (the interpreter's
own floor on this machine), the load average, and the size of the block; writes
WORK/hooks-results.json. Runs with bytecode caches on (PYTHONDONTWRITEBYTECODE unset), as
an installed aimem does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AIMEM = str(BIN / "aimem")
FIXTURE = ROOT / "tests" / "fixtures" / "claude_code" / "session_v2.jsonl"
SESSION = "3f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
MARK = "bench_hooks project seeded"


# as on a user's machine: Python keeps its bytecode caches (some sandboxes turn them off,
# which makes every start compile aimem again), and the hook log goes to the work folder
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


CPU: list[float] = []  # user + system CPU time of each run (ms): what the load cannot stretch


def run(cmd: list[str], stdin: bytes | None = None) -> tuple[float, bytes]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, input=stdin, capture_output=True, check=True, env=ENV)
    wall = (time.perf_counter() - t) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return wall, p.stdout


def seed(db: str, project: Path, work: Path) -> None:
    if Path(db).exists():
        out = subprocess.run([AIMEM, "--db", db, "search", MARK, "--kind", "memory", "--json"],
                             capture_output=True, text=True, check=True).stdout
        if json.loads(out):
            return
    sessions = work / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    text = FIXTURE.read_text()
    for i in range(20):
        sid = f"{SESSION[:-4]}{i:04d}"
        (sessions / f"{sid}.jsonl").write_text(
            text.replace("/home/dev/walrus", str(project / "src")).replace(SESSION, sid)
            .replace("2026-03-02T", f"2026-04-{i + 1:02d}T"))
    subprocess.run([AIMEM, "--db", db, "import", str(sessions)], check=True,
                   capture_output=True)
    for i in range(10):
        subprocess.run([AIMEM, "--db", db, "remember", f"Project fact {i}: the walrus service "
                        f"needs setting {i} on deploy", "--project", str(project)], check=True,
                       capture_output=True)
    for i in range(20):
        subprocess.run([AIMEM, "--db", db, "remember", f"Global fact {i} about the user"],
                       check=True, capture_output=True)
    for i in range(3):
        subprocess.run([AIMEM, "--db", db, "remember", f"Preference {i}: answer briefly",
                        "--kind", "preference"], check=True, capture_output=True)
    subprocess.run([AIMEM, "--db", db, "remember", MARK], check=True, capture_output=True)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--import", dest="source", help="an export to import into --db first")
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="aimem-bench-hooks-"))
    work.mkdir(parents=True, exist_ok=True)
    ENV["AIMEM_HOME"] = str(work / "aimem-home")
    if args.source and not Path(args.db).exists():
        subprocess.run([AIMEM, "--db", args.db, "import", args.source], check=True)
    project = work / "walrus"
    (project / ".git").mkdir(parents=True, exist_ok=True)
    (project / "src").mkdir(exist_ok=True)
    seed(args.db, project, work)

    payload = json.dumps({"session_id": "bench-session", "transcript_path": "/dev/null",
                          "cwd": str(project / "src"), "permission_mode": "default",
                          "hook_event_name": "SessionStart", "source": "startup"}).encode()
    cmd = [AIMEM, "--db", args.db, "hook", "session-start", "--tool", "claude-code"]
    _, out = run(cmd, payload)  # warm the page cache once
    block = json.loads(out)["hookSpecificOutput"]["additionalContext"] if out else ""
    CPU.clear()
    hook = [run(cmd, payload)[0] for _ in range(args.runs)]
    hook_cpu = list(CPU)
    CPU.clear()
    floor = [run([sys.executable, "-c", "pass"])[0] for _ in range(args.runs)]
    floor_cpu = list(CPU)
    res = {"db": args.db, "runs": args.runs,
           "hook_ms": {"median": round(statistics.median(hook), 1),
                       "p95": round(pct(hook, 0.95), 1)},
           "hook_cpu_ms": {"median": round(statistics.median(hook_cpu), 1),
                           "p95": round(pct(hook_cpu, 0.95), 1)},
           "python_pass_cpu_ms": {"median": round(statistics.median(floor_cpu), 1)},
           "python_pass_ms": {"median": round(statistics.median(floor), 1),
                              "p95": round(pct(floor, 0.95), 1)},
           "loadavg_1min": round(os.getloadavg()[0], 2), "block_chars": len(block),
           "block_has_project_memories": "Project fact" in block,
           "block_has_excerpts": "CONVERSATION EXCERPTS" in block}
    print(f"aimem hook session-start: median {res['hook_ms']['median']} ms, "
          f"p95 {res['hook_ms']['p95']} ms over {args.runs} runs "
          f"(python -c pass: median {res['python_pass_ms']['median']} ms); CPU time median "
          f"{res['hook_cpu_ms']['median']} ms, p95 {res['hook_cpu_ms']['p95']} ms (python -c "
          f"pass {res['python_pass_cpu_ms']['median']} ms); "
          f"block {len(block)} characters; load average {os.getloadavg()[0]:.2f}")
    (work / "hooks-results.json").write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
