"""Regenerate the README's pictures of ``aimem browse``: docs/screenshots/*.svg.

    .venv/bin/python scripts/screenshots.py            # or: make screenshots
    .venv/bin/python scripts/screenshots.py --out DIR  # somewhere else

The pictures are made by the TUI itself (Textual's SVG screenshot, ``App.save_screenshot``)
while Textual's pilot drives it, from the bundled sample (``aimem/data/sample``, what
``aimem demo`` imports) in a throwaway database. They are deterministic: a fixed terminal
size, the ``textual-dark`` theme, no cursor blink, and a fixed clock (``time.time``) both
while the database is built (memories' dates) and while the app runs (search ranking
lifts recent items by the clock). Running it twice writes the same bytes; ``--check``
says whether the files in docs/ are current (exit 1 if not).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SIZE = (100, 30)
THEME = "textual-dark"
FIXED_TIME = 1772366400.0  # 2026-03-01T12:00:00Z, a few days after the sample's last conversation


async def settle(pilot: Any) -> None:
    """Until the app is idle: no worker running, everything painted."""
    app = pilot.app
    for _ in range(2000):
        await pilot.pause()
        if not [w for w in app.workers if w.is_running]:
            break
        await asyncio.sleep(0.01)
    else:
        raise RuntimeError("the app did not become idle (a worker kept running)")
    await pilot.pause()


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


async def no_blink(pilot: Any) -> None:
    from textual.widgets import Input

    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False


async def search(pilot: Any) -> None:
    await type_text(pilot, "kyoto rain")
    await settle(pilot)


async def conversation(pilot: Any) -> None:
    await search(pilot)
    await pilot.press("enter")
    await settle(pilot)
    # The found message is scrolled to the top while the messages' heights are still
    # being measured; once everything is laid out, one message down and back up puts it
    # there for good (the same keys a person would press).
    await pilot.wait_for_scheduled_animations()
    await pilot.press("j", "k")
    await settle(pilot)


async def memories(pilot: Any) -> None:
    await pilot.press("f2")
    await settle(pilot)


SHOTS: dict[str, tuple[str, Callable[[Any], Awaitable[None]]]] = {
    # file name: (what it shows, the keys that lead there from the start)
    "browse-search.svg": ("search results for 'kyoto rain' as you type", search),
    "browse-conversation.svg": ("a conversation, opened at the message the search found",
                                conversation),
    "browse-memories.svg": ("the memories screen (F2)", memories),
}


def build_db(path: Path) -> Path:
    """The bundled sample imported as at FIXED_TIME, checkpointed into one file."""
    import sqlite3

    from aimem.services import Archive

    sample = resources.files("aimem") / "data" / "sample"
    with resources.as_file(sample) as folder, \
            mock.patch("time.time", return_value=FIXED_TIME), Archive.open(path) as mem:
        mem.import_paths([str(folder)])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


async def shoot(db: Path, steps: Callable[[Any], Awaitable[None]], out: Path) -> None:
    from aimem.tui.app import BrowseApp

    app = BrowseApp(db)
    app.theme = THEME
    async with app.run_test(size=SIZE) as pilot:
        await no_blink(pilot)
        await settle(pilot)
        await steps(pilot)
        await no_blink(pilot)
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        app.save_screenshot(filename=out.name, path=str(out.parent))


def render(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="aimem-screenshots-") as tmp:
        os.environ["AIMEM_HOME"] = tmp  # no settings of the user's (theme, config)
        os.environ.pop("AIMEM_DB", None)
        os.environ.pop("TEXTUAL_THEME", None)
        os.environ.pop("NO_COLOR", None)
        db = build_db(Path(tmp) / "demo.db")
        written = []
        for name, (_, steps) in SHOTS.items():
            work = Path(tmp) / "copy.db"  # each picture from the same untouched database
            work.write_bytes(db.read_bytes())
            with mock.patch("time.time", return_value=FIXED_TIME):
                asyncio.run(shoot(work, steps, out_dir / name))
            written.append(out_dir / name)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT, help=f"folder for the SVGs (default {OUT})")
    ap.add_argument("--check", action="store_true",
                    help="render into a temporary folder and compare with --out; exit 1 if they differ")
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as fresh:
            stale = [p.name for p in render(Path(fresh))
                     if not (args.out / p.name).exists()
                     or (args.out / p.name).read_bytes() != p.read_bytes()]
        if stale:
            print(f"out of date in {args.out}: {', '.join(stale)} (run make screenshots)",
                  file=sys.stderr)
            return 1
        print(f"{len(SHOTS)} screenshots in {args.out} are current")
        return 0
    for path in render(args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
              f"({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
