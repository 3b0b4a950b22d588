#!/usr/bin/env python3
"""Soak test: every kind of aimem writer and reader on one database at once.

  scripts/soak.py [--seconds 600] [--work DIR] [--conversations 3000] [--no-tui]

For --seconds, all at the same time:

- an importer: `aimem import` of generated JSONL exports in a loop (each round new
  conversations, every other round a newer copy of the previous export: updates);
- `aimem sync --watch --interval 1` on a folder a writer thread keeps adding session
  files to;
- two MCP clients, each talking to its own real `aimem serve-mcp` over stdio (mcp SDK
  client): save_memory, then search_memory / list_memories / get_stats, in a loop;
- the TUI searching: `aimem browse` driven by Textual's pilot in a subprocess, typing a
  query, waiting for the results, clearing it, again (--no-tui: `aimem search` in a loop);
- `aimem remember` in a loop.

At the end: every error, every "database is locked", and every saved memory (remember
and MCP) that is not in the database (a lost write). Prints one JSON object with the
counts and the latencies of the writes (remember: the whole command, start-up included;
MCP save_memory: the call); exit 1 on any error, "locked" or lost write.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _dbfiles import remove_db

ROOT = Path(__file__).resolve().parents[1]
AIMEM = [sys.executable, "-m", "aimem"]
T0 = 1_700_000_000
WORDS = ("kettle", "teapot", "sourdough", "kyoto", "postgres", "vacuum", "rust", "garden")


def gen_export(path: Path, start: int, n: int, version: int = 1) -> Path:
    lines = []
    for i in range(start, start + n):
        w = WORDS[i % len(WORDS)]
        msgs = [{"source_id": f"s{i}-m{j}", "role": "user" if j % 2 == 0 else "assistant",
                 "text": f"soak conversation {i} message {j} about the {w}"
                         + (f" version {version}" if version > 1 else ""),
                 "created_at": T0 + i * 60 + j} for j in range(10 + version)]
        lines.append(json.dumps({
            "type": "conversation", "source": "claude", "source_id": f"soak-{i}",
            "title": f"Soak {i} {w}", "created_at": T0 + i * 60,
            "updated_at": T0 + i * 60 + version * 100, "messages": msgs}))
    path.write_text("\n".join(lines) + "\n")
    return path


class Soak:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work: Path = args.work
        self.db = self.work / "soak.db"
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.remembered: list[str] = []
        self.mcp_saved: list[str] = []
        self.remember_s: list[float] = []
        self.mcp_save_s: list[float] = []
        self.counts = {"imports": 0, "imported_conversations": 0, "searches": 0,
                       "mcp_reads": 0, "sync_files_written": 0}
        home = self.work / "home"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home),
                    "AIMEM_HOME": str(home / "aimem"), "CLAUDE_CONFIG_DIR": str(home / "claude"),
                    "CODEX_HOME": str(home / "codex"), "LLM_USER_PATH": str(home / "llm"),
                    "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what[-500:])

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*AIMEM, "--db", str(self.db), *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def check(self, what: str, r: subprocess.CompletedProcess[str]) -> bool:
        if r.returncode != 0 or "Traceback" in r.stderr or "locked" in r.stderr:
            self.error(f"{what}: exit {r.returncode}: {r.stderr.strip()}")
            return False
        return True

    # -- the actors ---------------------------------------------------------------------

    def importer(self) -> None:
        n = self.args.conversations
        k = 0
        while not self.stop.is_set():
            # new conversations on even rounds; a newer copy of the last ones on odd rounds
            start = (k // 2) * n
            path = gen_export(self.work / f"export-{k}.jsonl", 100_000 + start, n,
                              version=1 + k % 2)
            r = self.run("import", str(path), "--json")
            if self.check("import", r):
                rep = json.loads(r.stdout)
                with self.lock:
                    self.counts["imports"] += 1
                    self.counts["imported_conversations"] += (rep["conversations_added"]
                                                              + rep["conversations_updated"])
            path.unlink()
            k += 1

    def sync_files(self, folder: Path) -> None:
        i = 0
        while not self.stop.wait(0.5):
            gen_export(folder / f"session-{i}.jsonl", 500_000 + i * 5, 5)
            i += 1
            with self.lock:
                self.counts["sync_files_written"] += 1

    def rememberer(self) -> None:
        i = 0
        while not self.stop.is_set():
            text = f"soak remembered fact number {i} about {WORDS[i % len(WORDS)]}"
            t = time.monotonic()
            r = self.run("remember", text, "--json", timeout=120)
            took = time.monotonic() - t
            if self.check("remember", r):
                with self.lock:
                    self.remembered.append(text)
                    self.remember_s.append(took)
            i += 1

    def searcher(self) -> None:
        i = 0
        while not self.stop.is_set():
            r = self.run("search", WORDS[i % len(WORDS)], "--json", "--limit", "10")
            if self.check("search", r):
                with self.lock:
                    self.counts["searches"] += 1
            i += 1

    def tui(self) -> None:
        """The browser under Textual's pilot, in its own process (it owns its event loop)."""
        r = subprocess.run([sys.executable, str(Path(__file__)), "--tui-driver", str(self.db),
                            "--seconds", str(self.args.seconds)], env=self.env,
                           capture_output=True, text=True, timeout=self.args.seconds + 300)
        if r.returncode != 0 or "locked" in r.stdout + r.stderr:
            self.error(f"tui: exit {r.returncode}: {r.stderr.strip()[-400:]} {r.stdout[-200:]}")
            return
        with self.lock:
            self.counts["searches"] += json.loads(r.stdout.strip().splitlines()[-1])["searches"]

    def mcp_client(self, who: int) -> None:
        try:
            asyncio.run(self._mcp(who))
        except Exception as e:  # noqa: BLE001 - everything counts as a soak error
            self.error(f"mcp {who}: {type(e).__name__}: {e}")

    async def _mcp(self, who: int) -> None:
        from mcp import Client, StdioServerParameters, stdio_client

        params = StdioServerParameters(command=sys.executable,
                                       args=["-m", "aimem", "--db", str(self.db), "serve-mcp",
                                             "--tools", "all"],
                                       env=self.env)
        errlog = (self.work / f"mcp-{who}.stderr").open("w")
        i = 0
        async with Client(stdio_client(params, errlog=errlog)) as c:
            while i == 0 or not self.stop.is_set():  # at least one round, however slow
                text = f"mcp client {who} saved fact {i} about {WORDS[i % len(WORDS)]}"
                t = time.monotonic()
                r = await c.call_tool("save_memory", {"text": text, "kind": "fact"})
                took = time.monotonic() - t
                if r.is_error:
                    self.error(f"mcp {who} save_memory: {r.content[0].text}")  # type: ignore[union-attr]
                else:
                    with self.lock:
                        self.mcp_saved.append(text)
                        self.mcp_save_s.append(took)
                for tool, targs in (("search_memory", {"query": WORDS[i % len(WORDS)]}),
                                    ("list_memories", {"limit": 5}), ("get_stats", {})):
                    r = await c.call_tool(tool, targs)
                    if r.is_error:
                        self.error(f"mcp {who} {tool}: {r.content[0].text}")  # type: ignore[union-attr]
                    else:
                        with self.lock:
                            self.counts["mcp_reads"] += 1
                i += 1
        errlog.close()
        log = (self.work / f"mcp-{who}.stderr").read_text()
        if "Traceback" in log or "locked" in log:
            self.error(f"mcp {who} server stderr: {log[-400:]}")

    # -- the run -----------------------------------------------------------------------

    def main(self) -> dict[str, Any]:
        self.work.mkdir(parents=True, exist_ok=True)
        remove_db(self.work / "soak.db")
        seed = gen_export(self.work / "seed.jsonl", 0, 200)
        self.check("seed import", self.run("import", str(seed)))
        folder = self.work / "sync"
        folder.mkdir(exist_ok=True)
        for f in folder.glob("*"):
            f.unlink()
        self.check("sync --add", self.run("sync", "--add", str(folder)))
        sync_err = (self.work / "sync.stderr").open("w")
        sync = subprocess.Popen([*AIMEM, "--db", str(self.db), "sync", "--watch", "--interval",
                                 "1"], env=self.env, stdout=subprocess.DEVNULL, stderr=sync_err)
        actors = [self.importer, lambda: self.sync_files(folder), self.rememberer,
                  lambda: self.mcp_client(1), lambda: self.mcp_client(2),
                  self.searcher if self.args.no_tui else self.tui]
        threads = [threading.Thread(target=a, daemon=True) for a in actors]
        started = time.monotonic()
        for t in threads:
            t.start()
        self.stop.wait(self.args.seconds)
        self.stop.set()
        for t in threads:
            t.join(timeout=900)
            if t.is_alive():
                self.error("an actor did not stop")
        sync.send_signal(signal.SIGINT)
        try:
            sync.wait(120)
        except subprocess.TimeoutExpired:
            sync.kill()
            self.error("sync --watch did not stop on Ctrl-C")
        sync_err.close()
        log = (self.work / "sync.stderr").read_text()
        if "warning" in log or "error" in log or "Traceback" in log or "locked" in log:
            self.error(f"sync --watch: {log[-400:]}")
        elapsed = time.monotonic() - started
        # a last sync so every session file written is in, then the checks
        self.check("final sync", self.run("sync"))
        sys.path.insert(0, str(ROOT))
        from aimem.services import Archive

        with Archive.open(self.db, create=False) as m:
            texts = {x["text"] for x in m.list_memories(limit=None)}
            stats = m.stats()
            sync_convs = sum(1 for _ in m.store.execute(
                "SELECT 1 FROM conversations WHERE source_id GLOB 'soak-5[0-9][0-9][0-9][0-9][0-9]'"))
        lost = [t for t in self.remembered + self.mcp_saved if t not in texts]
        if sync_convs != self.counts["sync_files_written"] * 5:
            self.error(f"sync: {sync_convs} conversations of "
                       f"{self.counts['sync_files_written'] * 5} written in its folder")
        locked = sum("locked" in e for e in self.errors)

        def lat(xs: list[float]) -> dict[str, float]:
            if not xs:
                return {}
            xs = sorted(xs)
            return {"n": len(xs), "median_s": round(statistics.median(xs), 3),
                    "p99_s": round(xs[min(len(xs) - 1, int(len(xs) * 0.99))], 3),
                    "max_s": round(xs[-1], 3)}

        return {"seconds": round(elapsed, 1), "errors": self.errors[:20],
                "error_count": len(self.errors), "locked": locked, "lost": len(lost),
                "lost_examples": lost[:5], "remembered": len(self.remembered),
                "mcp_saved": len(self.mcp_saved), **self.counts,
                "sync_conversations": sync_convs,
                "tui": "pilot" if not self.args.no_tui else "aimem search loop",
                "remember_command_latency": lat(self.remember_s),
                "mcp_save_memory_latency": lat(self.mcp_save_s),
                "final": {k: stats[k] for k in ("conversations", "messages", "memories")}}


def tui_driver(db: Path, seconds: float) -> None:
    """Type queries into `aimem browse` under Textual's pilot until the time is up."""
    from textual.widgets import Input

    from aimem.tui.app import BrowseApp

    async def go() -> int:
        app = BrowseApp(db)
        n = 0
        end = time.monotonic() + seconds
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            i = 0
            while time.monotonic() < end:
                word = WORDS[i % len(WORDS)]
                await pilot.press(*word)
                for _ in range(400):  # until the search worker is done
                    await pilot.pause(0.01)
                    if not [w for w in app.workers if w.is_running]:
                        break
                shown = getattr(app.screen, "shown", None)
                if shown is not None and getattr(shown, "query", None) == word:
                    n += 1
                bar = str(app.screen.query_one("FilterBar").render())
                if "locked" in bar or "error" in bar.lower():
                    print(f"filter bar: {bar}", file=sys.stderr)
                    raise SystemExit(1)
                await pilot.press(*["backspace"] * len(word))
                i += 1
            assert isinstance(app.focused, Input)
        return n

    print(json.dumps({"searches": asyncio.run(go())}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--work", type=Path, default=Path("/tmp/aimem-soak"))
    ap.add_argument("--conversations", type=int, default=3000,
                    help="conversations per imported export")
    ap.add_argument("--no-tui", action="store_true",
                    help="search with `aimem search` in a loop instead of the TUI's pilot")
    ap.add_argument("--tui-driver", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.tui_driver:
        tui_driver(args.tui_driver, args.seconds)
        return
    out = Soak(args).main()
    print(json.dumps(out, indent=2))
    sys.exit(1 if out["error_count"] or out["locked"] or out["lost"] else 0)


if __name__ == "__main__":
    main()
