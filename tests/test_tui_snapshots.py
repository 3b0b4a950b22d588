"""What aimem browse looks like: SVG snapshots of the main screens at 80x24 and 120x40.

Regenerate after a deliberate change with ``pytest tests/test_tui_snapshots.py
--snapshot-update`` and look at the SVGs in tests/__snapshots__/ before committing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from test_tui import browse_db, make_app, settle, template_db, type_text  # noqa: F401 (fixtures)
from textual.pilot import Pilot
from textual.widgets import Input


@pytest.fixture(autouse=True)
def _colour(monkeypatch: pytest.MonkeyPatch, llm_fakes: Any) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)  # snapshots show the real colours
    monkeypatch.setenv("LLM_MODEL", "aimem-fake")  # a model is configured: Summarize is on


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

Steps = Callable[[Pilot[Any]], Awaitable[None]]


async def _start(pilot: Pilot[Any]) -> None:
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await settle(pilot)


async def _search(pilot: Pilot[Any]) -> None:
    await _start(pilot)
    await type_text(pilot, "kyoto")
    await settle(pilot)


async def _conversation(pilot: Pilot[Any]) -> None:
    await _start(pilot)
    await type_text(pilot, "kyoto rain")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def _memories(pilot: Pilot[Any]) -> None:
    await _start(pilot)
    await pilot.press("f2")
    await settle(pilot)


async def _help(pilot: Pilot[Any]) -> None:
    await _start(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


async def _delete(pilot: Pilot[Any]) -> None:
    await _search(pilot)
    await pilot.press("down", "d")
    await settle(pilot)


SCREENS: dict[str, Steps] = {"start": _start, "search": _search, "conversation": _conversation,
                             "memories": _memories, "help": _help, "delete": _delete}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(screen: str, size: tuple[int, int], browse_db: Path,  # noqa: F811
                snap_compare: Any) -> None:
    assert snap_compare(make_app(browse_db), terminal_size=size, run_before=SCREENS[screen])
