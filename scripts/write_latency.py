#!/usr/bin/env python3
"""How long a write by another process takes while `aimem import` of a large export runs.

  scripts/write_latency.py [--export PATH] [--work DIR] [--every 1.0]

Starts `aimem import EXPORT` on a new database and, until it ends, every --every seconds
saves a memory from this process (Archive.open + remember: waiting for the write lock
included, Python start-up not) and, every fifth time, runs `aimem remember` as a command
(wall time, start-up included). Prints one JSON object: the import's time and outcome,
and the latencies (median, p99, max) of both; exit 1 if any write failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _dbfiles import remove_db

ROOT = Path(__file__).resolve().parents[1]


def summary(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {}
    xs = sorted(xs)
    return {"n": len(xs), "median_s": round(statistics.median(xs), 3),
            "p99_s": round(xs[min(len(xs) - 1, int(len(xs) * 0.99))], 3),
            "max_s": round(xs[-1], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", type=Path, default=Path("/work/benchdata/conversations-M.json"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/aimem-write-latency"))
    ap.add_argument("--every", type=float, default=1.0)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / "lat.db"
    remove_db(db)
    sys.path.insert(0, str(ROOT))
    from aimem.services import Archive

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    aimem = [sys.executable, "-m", "aimem", "--db", str(db)]
    Archive.open(db).close()
    t0 = time.monotonic()
    imp = subprocess.Popen([*aimem, "import", str(args.export), "--json"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    inproc: list[float] = []
    command: list[float] = []
    errors: list[str] = []
    i = 0
    while imp.poll() is None:
        time.sleep(args.every)
        t = time.monotonic()
        try:
            with Archive.open(db) as m:
                m.remember(f"latency probe {i}")
            inproc.append(time.monotonic() - t)
        except Exception as e:  # noqa: BLE001 - a failed write is the finding
            errors.append(f"in-process: {type(e).__name__}: {e}")
        if i % 5 == 0 and imp.poll() is None:
            t = time.monotonic()
            r = subprocess.run([*aimem, "remember", f"latency command {i}"], env=env,
                               capture_output=True, text=True)
            if r.returncode:
                errors.append(f"command: {r.stderr.strip()[-300:]}")
            else:
                command.append(time.monotonic() - t)
        i += 1
    out, err = imp.communicate()
    total = time.monotonic() - t0
    rep = json.loads(out) if imp.returncode == 0 else {"error": err.decode()[-300:]}
    with Archive.open(db) as m:
        saved = sum(1 for x in m.list_memories(limit=None) if x["text"].startswith("latency"))
    result = {"export": str(args.export), "import_s": round(total, 1),
              "import_exit": imp.returncode,
              "conversations_added": rep.get("conversations_added"),
              "in_process_write": summary(inproc), "remember_command": summary(command),
              "saved": saved, "expected_saved": len(inproc) + len(command),
              "errors": errors[:10]}
    print(json.dumps(result, indent=2))
    sys.exit(1 if errors or imp.returncode or saved != len(inproc) + len(command) else 0)


if __name__ == "__main__":
    main()
