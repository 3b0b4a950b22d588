#!/usr/bin/env python3
"""Kill test: `kill -9` an import at random moments; the next command leaves it consistent.

  scripts/killtest.py [--export PATH] [--kills 50] [--work DIR] [--seed 1] [--budget S]

Each round starts `aimem import EXPORT` on the same database, kills it with SIGKILL after
a random delay (uniform over the length of a whole import), runs one aimem command
(`aimem stats --json`, which undoes the unfinished run) and checks the database:

- `PRAGMA integrity_check` is ok;
- every fts5 table passes `INSERT INTO x(x, rank) VALUES('integrity-check', 1)` (with rank
  1 the check also compares the index with its external content; the bare form does not);
- every conversation is either absent or exactly as the export holds it (content hash,
  number of messages, their positions and total text length, computed from the export
  with aimem's own parser), with no orphan message, summary or tag link;
- no import run is left unfinished, and an undone run left no import_log row.

A round whose import finished before the kill starts the next one from an empty database.
A final import completes the set and is checked the same way (every conversation present).
Prints one JSON object; exit 1 if any check failed. `--budget` stops starting new rounds
after that many seconds (the figure reports how many kills were done).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from _dbfiles import remove_db

ROOT = Path(__file__).resolve().parents[1]
AIMEM = [sys.executable, "-m", "aimem"]
DEFAULT_EXPORT = Path("/work/benchdata/conversations-M.json")


def expected(export: Path) -> dict[str, tuple[str, int, int, int]]:
    """conversation id -> (content hash, messages, total text length, sum of positions),
    as aimem stores them, from aimem's own parser (no database involved)."""
    sys.path.insert(0, str(ROOT))
    from aimem import importers
    from aimem.models import Conversation, ImportReport
    from aimem.services import importing

    out: dict[str, tuple[str, int, int, int]] = {}
    run = importing._Run(None, ImportReport(), (), True)  # type: ignore[arg-type]
    for inp in importers.expand(str(export)):
        imp = importers.detect(inp)  # type: ignore[arg-type]
        assert imp is not None, f"{export}: not a recognised export"
        for item in imp.parse(inp):  # type: ignore[arg-type]
            if isinstance(item, Conversation):
                run._redact(item)
                importing.normalise(item)
                n = len(item.messages)
                out[item.id] = (importing._content_hash(item), n,  # type: ignore[index]
                                sum(len(m.text) for m in item.messages), n * (n - 1) // 2)
    return out


def check(db: Path, ref: dict[str, tuple[str, int, int, int]], *, complete: bool) -> list[str]:
    """Every problem found (an empty list: consistent)."""
    problems: list[str] = []
    conn = sqlite3.connect(db)
    sys.path.insert(0, str(ROOT))
    from aimem.store import cjk

    cjk.register(conn)  # the CJK indexes' content views call aimem's functions
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchall()
        if ok != [("ok",)]:
            problems.append(f"integrity_check: {ok[:3]}")
        fts = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE "
            "'CREATE VIRTUAL TABLE%USING fts5%'")]
        for t in fts:
            try:
                conn.execute(f"INSERT INTO {t}({t}, rank) VALUES('integrity-check', 1)")
            except sqlite3.DatabaseError as e:
                problems.append(f"{t} integrity-check: {e}")
        rows = conn.execute(
            "SELECT c.id, c.content_hash, count(m.rowid), coalesce(sum(length(m.text)), 0), "
            "coalesce(sum(m.position), 0) FROM conversations c LEFT JOIN messages m "
            "ON m.conversation = c.rowid GROUP BY c.rowid").fetchall()
        seen = set()
        for cid, h, n, length, pos in rows:
            seen.add(cid)
            want = ref.get(cid)
            if want is None:
                problems.append(f"conversation {cid} is not in the export")
            elif (h, n, length, pos) != want:
                problems.append(f"conversation {cid} differs: {(h, n, length, pos)} != {want}")
        if complete and len(seen) != len(ref):
            problems.append(f"{len(ref) - len(seen)} conversations missing after the final import")
        for what, sql in (
                ("orphan messages", "SELECT count(*) FROM messages WHERE conversation NOT IN "
                 "(SELECT rowid FROM conversations)"),
                ("orphan summaries", "SELECT count(*) FROM summaries WHERE conversation NOT IN "
                 "(SELECT rowid FROM conversations)"),
                ("orphan tag links", "SELECT count(*) FROM conversation_tags WHERE conversation "
                 "NOT IN (SELECT rowid FROM conversations)"),
                ("unfinished runs", "SELECT count(*) FROM import_runs"),
                ("run journal rows", "SELECT count(*) FROM import_run_changes")):
            n = conn.execute(sql).fetchone()[0]
            if n:
                problems.append(f"{what}: {n}")
        # an undone run's import_log rows go with it (else sync would skip the file)
        logged = conn.execute("SELECT count(*) FROM import_log").fetchone()[0]
        if logged and not rows:
            problems.append(f"{logged} import_log rows but no conversation")
    finally:
        conn.close()
    return problems


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _outlived(pids: list[int], timeout: float = 10.0) -> list[int]:
    """Those of ``pids`` still running (not zombies) after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        left = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                left.append(pid)
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", type=Path, default=DEFAULT_EXPORT)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--work", type=Path, default=Path("/tmp/aimem-killtest"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=float, default=None,
                    help="stop starting new rounds after this many seconds")
    ap.add_argument("--keep-failed", action="store_true",
                    help="keep a copy of the database of a round whose check failed")
    ap.add_argument("--import-seconds", type=float, default=None,
                    help="how long a whole import takes (default: measured by the final "
                    "import of a first, unkilled run)")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / "kill.db"
    rng = random.Random(args.seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.monotonic()

    def wipe() -> None:
        remove_db(args.work / "kill.db")

    print("reading the export …", file=sys.stderr)
    ref = expected(args.export)
    span = args.import_seconds
    if span is None:
        wipe()
        print("timing one whole import …", file=sys.stderr)
        s = time.monotonic()
        subprocess.run([*AIMEM, "--db", str(db), "import", str(args.export), "--json"],
                       env=env, check=True, capture_output=True)
        span = time.monotonic() - s
    wipe()
    rounds: list[dict[str, object]] = []
    failures = 0
    for k in range(args.kills):
        if args.budget is not None and time.monotonic() - t0 > args.budget:
            break
        delay = rng.uniform(0.05, span)
        p = subprocess.Popen([*AIMEM, "--db", str(db), "import", str(args.export), "--json"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            p.wait(delay)
            finished = True
        except subprocess.TimeoutExpired:
            children = _children(p.pid)  # the process reading a large export ahead
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            finished = False
            left = _outlived(children)
        else:
            children, left = [], []
        present_before = 0
        if db.exists():
            with sqlite3.connect(db) as c:
                try:
                    present_before = c.execute("SELECT count(*) FROM conversations").fetchone()[0]
                except sqlite3.DatabaseError:
                    pass
        s = time.monotonic()
        cmd = subprocess.run([*AIMEM, "--db", str(db), "stats", "--json"], env=env,
                             capture_output=True, text=True)
        recover_s = time.monotonic() - s
        problems = [] if cmd.returncode == 0 else [f"stats exit {cmd.returncode}: "
                                                    f"{cmd.stderr.strip()[-300:]}"]
        if "Traceback" in cmd.stderr:
            problems.append("traceback")
        if left:
            problems.append(f"child processes still running 10 s after the kill: {left}")
        problems += check(db, ref, complete=finished) if db.exists() else []
        if problems and args.keep_failed:  # the database as the check saw it, to study
            import shutil

            keep = args.work / f"failed-{k + 1}.db"
            shutil.copyfile(db, keep)
            for suffix in ("-wal",):
                if Path(f"{db}{suffix}").exists():
                    shutil.copyfile(f"{db}{suffix}", f"{keep}{suffix}")
            again = check(db, ref, complete=finished)
            problems.append(f"checked again: {again[:2] or 'ok'}")
        after = json.loads(cmd.stdout)["conversations"] if cmd.returncode == 0 else None
        rounds.append({"kill": k + 1, "delay_s": round(delay, 2), "finished": finished,
                       "children": len(children),
                       "committed_before_undo": present_before, "after_command": after,
                       "command_s": round(recover_s, 2), "problems": problems[:5]})
        failures += bool(problems)
        print(json.dumps(rounds[-1]), file=sys.stderr)
        if finished:
            wipe()
    s = time.monotonic()
    final = subprocess.run([*AIMEM, "--db", str(db), "import", str(args.export), "--json"],
                           env=env, capture_output=True, text=True)
    final_s = time.monotonic() - s
    final_problems = check(db, ref, complete=True) if final.returncode == 0 else [
        f"final import exit {final.returncode}: {final.stderr.strip()[-300:]}"]
    kills = [r for r in rounds if not r["finished"]]
    out = {
        "export": str(args.export), "conversations": len(ref), "import_seconds": round(span, 1),
        "rounds": len(rounds), "kills": len(kills),
        "kills_with_committed_batches": sum(1 for r in kills if r["committed_before_undo"]),
        "kills_with_a_child_reading_ahead": sum(1 for r in kills if r["children"]),
        "max_committed_before_undo": max((r["committed_before_undo"] for r in kills), default=0),
        "max_command_s": max((r["command_s"] for r in rounds), default=0),
        "rounds_with_problems": failures,
        "final_import_s": round(final_s, 1), "final_problems": final_problems[:10],
        "total_s": round(time.monotonic() - t0, 1),
    }
    print(json.dumps(out, indent=2))
    sys.exit(1 if failures or final_problems else 0)


if __name__ == "__main__":
    main()
