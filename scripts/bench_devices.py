#!/usr/bin/env python3
"""Sync between devices (aimem sync --to FOLDER): log sizes and apply times.

Measures, each on fresh databases in --work DIR:
- the log one device writes for 1,000 memories (bytes, and gzip -6 of it for reference);
- the log for an export (default /work/benchdata/conversations-S.json) imported on one device;
- the time to apply that log on a fresh second device (`aimem sync`), against importing the
  export there directly (`aimem import`);
- `aimem sync` with nothing new on the second device (the whole process, median of --runs),
  with HOME pointing at an empty folder so no local AI tool folders are scanned.

Usage: python scripts/bench_devices.py --work /tmp/devsync-bench [--export FILE] [--runs 7]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

AIMEM = str(Path(sys.executable).parent / "aimem")


def log_bytes(folder: Path) -> tuple[int, int]:
    raw = b"".join(p.read_bytes() for p in sorted(folder.rglob("log-*.jsonl")))
    return len(raw), len(gzip.compress(raw, 6))


def run(env: dict[str, str], *args: str) -> float:
    t = time.perf_counter()
    subprocess.run([AIMEM, *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--export", type=Path, default=Path("/work/benchdata/conversations-S.json"))
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    a.work.mkdir(parents=True)
    empty_home = a.work / "user"
    empty_home.mkdir()

    def env(name: str) -> dict[str, str]:
        return {**os.environ, "AIMEM_HOME": str(a.work / name), "HOME": str(empty_home)}

    out: dict[str, object] = {}
    # 1,000 memories
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from aimem.services import Archive

    mem = Archive.open(a.work / "m1" / "aimem.db")
    for i in range(1000):
        mem.remember(f"memory {i}: the user prefers option {i % 7} for task {i * 31 % 1000}",
                     tags=["bench"] if i % 3 == 0 else ())
    mem.set_sync_target(str(a.work / "folder-m"))
    t = time.perf_counter()
    mem.sync_devices()
    out["memories_1000_send_s"] = round(time.perf_counter() - t, 3)
    mem.close()
    out["memories_1000_log_bytes"], out["memories_1000_log_gzip_bytes"] = \
        log_bytes(a.work / "folder-m")

    # the export: import on A, send; apply on fresh B vs import on fresh C
    folder = a.work / "folder-s"
    out["import_on_A_s"] = round(run(env("A"), "import", str(a.export)), 2)
    out["first_send_s"] = round(run(env("A"), "sync", "--to", str(folder)), 2)
    out["export_log_bytes"], out["export_log_gzip_bytes"] = log_bytes(folder)
    out["export_bytes"] = a.export.stat().st_size
    out["apply_on_fresh_B_s"] = round(run(env("B"), "sync", "--to", str(folder)), 2)
    out["import_on_fresh_C_s"] = round(run(env("C"), "import", str(a.export)), 2)
    idle = [run(env("B"), "sync") for _ in range(a.runs)]
    out["sync_nothing_new_median_ms"] = round(statistics.median(idle) * 1000)
    floor = [time.perf_counter() - t for t in [time.perf_counter()]
             if subprocess.run([sys.executable, "-c", "pass"]).returncode == 0]
    out["python_startup_ms"] = round(floor[0] * 1000)
    same = (subprocess.run([AIMEM, "export"], env=env("A"), capture_output=True).stdout
            == subprocess.run([AIMEM, "export"], env=env("B"), capture_output=True).stdout)
    out["A_and_B_exports_identical"] = same
    out["load_average"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    (a.work / "devices-results.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
