#!/usr/bin/env python3
"""How quick `aimem browse` feels on a large database, measured with Textual's pilot.

  startup     a new process importing the browser (Python, Textual, aimem.tui.app)
  terminal    the real `aimem browse` in tmux (when tmux is there): from starting the
              command to the first rows on the terminal (capture-pane every 10 ms)
  first       in-process: from starting the app to the first page of rows rendered
  keystroke   for each key of each typed query: from the key reaching the search box
              to the rows for the text typed so far painted on the screen (the
              refresh after they were set); median, p95, max, and per query. Also the
              pilot round trip per key, which adds the pilot's own settling (~45 ms
              for a key that does nothing), and the search call itself (fetch on the
              database thread: the part a loaded machine stretches least)
  open        Enter on the first hit: to its first screen of messages painted, and to
              every message mounted (long conversations mount in batches)

Build the benchmark database once (about a minute), then run this script:

  .venv/bin/aimem --db /tmp/aimem-bench/M/aimem.db import /tmp/aimem-bench/M/conversations-M.json
  .venv/bin/python scripts/bench_tui.py [--db PATH] [--queries N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_DB = Path("/tmp/aimem-bench/M/aimem.db")
QUERIES = ["sourdough", "python asyncio", "hydration mismatch", "kyoto trip", "docker",
           "PostgreSQL index", "mortgage", "climate change", "grpc", "pastel de nata"]


def startup_ms() -> float:
    """A fresh interpreter importing the browser app (best of three)."""
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import aimem.tui.app"], check=True)
        runs.append((time.perf_counter() - t) * 1000)
    return min(runs)


def terminal_ms(db: Path) -> float | None:
    """``aimem browse`` in a private tmux server, until its first rows are on screen."""
    if shutil.which("tmux") is None:
        return None
    socket = f"aimem-bench-{os.getpid()}"
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    aimem = str(Path(sys.executable).parent / "aimem")
    try:
        t = time.perf_counter()
        subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "40", aimem, "--db",
                        str(db), "browse"], check=True)
        while time.perf_counter() - t < 30:
            screen = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True,
                                    text=True).stdout
            if "newest conversations" in screen:
                return (time.perf_counter() - t) * 1000
            time.sleep(0.01)
        return None
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


async def wait_until(condition: Any, timeout: float = 30.0) -> None:
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the browser did not get there in time")
        await asyncio.sleep(0.0005)


def instrument() -> tuple[dict[str, float], dict[str, float], dict[str, tuple[float, float]]]:
    """Timestamps: when a key reached the search box (by the text after it), and when
    the rows for a query were painted; and how long each query's search call took."""
    from aimem.tui.screens import search as search_screen
    from aimem.tui.widgets.paged_list import PagedList
    from aimem.tui.widgets.search_box import SearchBox

    key_at: dict[str, float] = {}
    painted_at: dict[str, float] = {}
    search_ms: dict[str, tuple[float, float]] = {}  # wall, CPU of the database thread
    on_key, show_rows, fetch = SearchBox._on_key, PagedList.show_rows, search_screen.fetch

    def timed_fetch(mem: Any, state: Any, *args: Any, **kwargs: Any) -> Any:
        t, cpu = time.perf_counter(), time.thread_time()
        rows = fetch(mem, state, *args, **kwargs)
        search_ms[state.query] = ((time.perf_counter() - t) * 1000,
                                  (time.thread_time() - cpu) * 1000)
        return rows

    async def timed_key(self: Any, event: Any) -> None:
        t = time.perf_counter()
        await on_key(self, event)
        key_at.setdefault(self.value, t)

    def timed_show(self: Any, *args: Any, **kwargs: Any) -> None:
        show_rows(self, *args, **kwargs)
        query = self.screen.state.query
        self.call_after_refresh(lambda: painted_at.setdefault(query, time.perf_counter()))

    SearchBox._on_key = timed_key  # type: ignore[method-assign]
    PagedList.show_rows = timed_show  # type: ignore[method-assign]
    search_screen.fetch = timed_fetch  # type: ignore[assignment]
    return key_at, painted_at, search_ms


async def measure(db: Path, queries: list[str]) -> dict[str, Any]:
    from aimem.tui.app import BrowseApp
    from aimem.tui.screens.conversation import ConversationScreen
    from aimem.tui.widgets.message_view import MessageView

    key_at, painted_at, search_ms = instrument()
    app = BrowseApp(db)
    t0 = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: getattr(app.screen, "shown", None) is not None)
        await pilot.pause()
        first = (time.perf_counter() - t0) * 1000
        screen = app.screen
        keys: list[float] = []
        keys_typed: list[str] = []
        searches: list[float] = []
        searches_cpu: list[float] = []
        slow: list[tuple[str, float]] = []
        trips: list[float] = []
        per_query: dict[str, list[float]] = {}
        rows_max = 0
        page = screen.results.page_size()
        for query in queries:
            typed = ""
            times = per_query.setdefault(query, [])
            for ch in query:
                typed += ch
                keys_typed.append(typed)
                key_at.pop(typed, None)
                painted_at.pop(typed, None)
                search_ms.pop(typed, None)
                t = time.perf_counter()
                await pilot.press("space" if ch == " " else ch)
                await wait_until(lambda q=typed: q in painted_at)
                trips.append((time.perf_counter() - t) * 1000)
                times.append((painted_at[typed] - key_at[typed]) * 1000)
                searches.append(search_ms[typed][0])
                searches_cpu.append(search_ms[typed][1])
                if times[-1] > 100:
                    slow.append((typed, round(times[-1], 1)))
                rows_max = max(rows_max, len(screen.results.rows))
            keys += times
            await pilot.press("ctrl+u")  # clear the box for the next query
            await wait_until(lambda: screen.shown is not None and screen.shown.query == "")
        # open the best hit of the last query
        await pilot.press(*("space" if c == " " else c for c in queries[0]))
        await wait_until(lambda: screen.shown is not None and screen.shown.query == queries[0])
        # the first screen is painted when the conversation's first batch of messages is
        # (its first _painted wait ends); the pilot's press only returns once the app is idle
        painted: list[float] = []
        first_paint = ConversationScreen._painted

        async def timed_painted(self: Any) -> None:
            await first_paint(self)
            painted.append(time.perf_counter())

        ConversationScreen._painted = timed_painted  # type: ignore[method-assign]
        try:
            t = time.perf_counter()
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ConversationScreen)
                             and bool(painted))
        finally:
            ConversationScreen._painted = first_paint  # type: ignore[method-assign]
        opened = (painted[0] - t) * 1000
        conv = app.screen
        await wait_until(lambda: conv.conv is not None
                         and len(conv.query(MessageView)) == len(conv.conv["messages"]))
        await pilot.pause()
        opened_all = (time.perf_counter() - t) * 1000
        messages = len(conv.query(MessageView))
    keys_sorted, searches_sorted, cpu_sorted = sorted(keys), sorted(searches), sorted(searches_cpu)
    return {
        "db": str(db), "first_screen_ms": round(first, 1),
        "keystrokes": len(keys), "key_median_ms": round(statistics.median(keys), 1),
        "key_p95_ms": round(keys_sorted[int(0.95 * (len(keys) - 1))], 1),
        "key_max_ms": round(max(keys), 1),
        "pilot_round_trip_median_ms": round(statistics.median(trips), 1),
        "search_median_ms": round(statistics.median(searches), 1),
        "search_p95_ms": round(searches_sorted[int(0.95 * (len(searches) - 1))], 1),
        "search_max_ms": round(max(searches), 1),
        "searches_over_100_ms": sum(ms > 100 for ms in searches),
        "search_cpu_median_ms": round(statistics.median(searches_cpu), 1),
        "search_cpu_p95_ms": round(cpu_sorted[int(0.95 * (len(searches_cpu) - 1))], 1),
        "search_cpu_max_ms": round(max(searches_cpu), 1),
        "search_cpu_max_query": max(zip(searches_cpu, keys_typed, strict=True))[1],
        "per_query_max_ms": {q: round(max(v), 1) for q, v in per_query.items()},
        "keys_over_100_ms": slow,
        "rows_loaded_max": rows_max, "page": page,
        "open_ms": round(opened, 1), "open_all_ms": round(opened_all, 1),
        "open_messages": messages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--queries", type=int, default=len(QUERIES))
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    if not args.db.exists():
        sys.exit(f"no database at {args.db}: build it first (see the docstring)")
    terminal = terminal_ms(args.db)
    result = {"startup_import_ms": round(startup_ms(), 1),
              "terminal_first_screen_ms": None if terminal is None else round(terminal, 1),
              **asyncio.run(measure(args.db, QUERIES[:args.queries])),
              "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)]}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"database            {result['db']}")
    print(f"load average        {result['load_average_1min'][0]} at start, "
          f"{result['load_average_1min'][1]} at end (1 min, {os.cpu_count()} cores)")
    print(f"import the browser  {result['startup_import_ms']:.0f} ms (new process)")
    print(f"first screen        {result['first_screen_ms']:.0f} ms (app start to rows shown)")
    if result["terminal_first_screen_ms"] is not None:
        print(f"in a terminal       {result['terminal_first_screen_ms']:.0f} ms (aimem browse "
              "started to rows on screen, tmux)")
    print(f"keystroke -> rows   median {result['key_median_ms']:.0f} ms, p95 "
          f"{result['key_p95_ms']:.0f} ms, max {result['key_max_ms']:.0f} ms "
          f"over {result['keystrokes']} keys")
    print(f"  pilot round trip  median {result['pilot_round_trip_median_ms']:.0f} ms per key "
          "(press, settle, rows painted)")
    print(f"  search call       median {result['search_median_ms']:.0f} ms, p95 "
          f"{result['search_p95_ms']:.0f} ms, max {result['search_max_ms']:.0f} ms, "
          f"{result['searches_over_100_ms']} over 100 ms (fetch on the database thread)")
    print(f"  search CPU        median {result['search_cpu_median_ms']:.0f} ms, p95 "
          f"{result['search_cpu_p95_ms']:.0f} ms, max {result['search_cpu_max_ms']:.0f} ms "
          f"({result['search_cpu_max_query']!r}; CPU time of the database thread, which "
          "other processes' load does not stretch)")
    for q, ms in result["per_query_max_ms"].items():
        print(f"  {q!r:24} slowest key {ms:.0f} ms")
    print("over 100 ms         " + (", ".join(f"{q!r} {ms:.0f}" for q, ms in
                                             result["keys_over_100_ms"]) or "none"))
    print(f"rows loaded         at most {result['rows_loaded_max']} (page {result['page']})")
    print(f"open a conversation {result['open_ms']:.0f} ms to the first screen, "
          f"{result['open_all_ms']:.0f} ms to all {result['open_messages']} messages mounted")


if __name__ == "__main__":
    main()
