"""aimem browse, driven by Textual's pilot against a fixture database.

Each test gets its own copy of one database (two ChatGPT fixtures, a JSONL file, the
bundled sample and a few memories saved at a fixed time). The helpers here are shared
by the snapshot and tmux tests.
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Input, Label, TextArea

from aimem.errors import NotFound
from aimem.services import Archive
from aimem.tui.widgets.busy_line import BusyLine
from conftest import FIXTURES, ROOT

FIXED_TIME = 1748779200.0  # 2025-06-01T12:00:00Z: when the fixture database was made
MEMORIES = [
    ("Prefers dark terminal themes and a monospace font everywhere.", "preference", ["style"],
     False),
    ("The home server is a Raspberry Pi 5 running Debian.", "fact", ["homelab"], True),
    ("Plans a trip to Kyoto with a stop in Osaka.", "project", ["travel"], False),
]


def build_db(path: Path) -> Path:
    """The fixture database, built as if at FIXED_TIME (undated items get that date)."""
    with mock.patch("time.time", return_value=FIXED_TIME), Archive.open(path) as mem:
        mem.import_paths([str(FIXTURES / "chatgpt" / "edge_cases.json"),
                          str(FIXTURES / "jsonl" / "sample.jsonl"),
                          str(ROOT / "aimem" / "data" / "sample")])
        for text, kind, tags, pin in MEMORIES:
            mem.remember(text, kind=kind, tags=tags, pin=pin)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one self-contained file to copy
    conn.close()
    return path


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("tui") / "template.db")


@pytest.fixture
def browse_db(template_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "browse.db"
    shutil.copyfile(template_db, path)
    return path


def make_app(db: Path, query: str = "") -> Any:
    from aimem.tui.app import BrowseApp

    app = BrowseApp(db, query=query)
    app.theme = "textual-dark"  # snapshots and tests never see the developer's theme
    return app


SETTLE_TIMEOUT = 30.0  # seconds; only reached when something hangs (a loaded machine is slow)


async def settle(pilot: Pilot[Any], timeout: float = SETTLE_TIMEOUT) -> None:
    """Wait until the app is idle: no loading worker running, no llm model check started
    and unfinished, everything painted. Raises, saying what it still waited for, after
    ``timeout``.

    A worker that waits for an open dialog does not count (it waits for the test).
    """
    app = pilot.app
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        dialog = isinstance(app.screen, ModalScreen)
        waiting = [f"worker {w.name!r} (group {w.group!r}, {w.state.name})" for w in app.workers
                   if w.is_running and not (dialog and w.group == "item")
                   and w.group != "summarize"]
        model = app.context.model
        if model.started and not model.checked:
            waiting.append("the llm model check")
        if not waiting:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"settle: after {timeout:.0f} s the app still runs "
                                 + ", ".join(waiting))
        await asyncio.sleep(0.005)
    await pilot.pause()


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


def pilot_test(fn: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test body (no asyncio plugin needed)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


@pytest.fixture
def memory(browse_db: Path) -> Iterator[Archive]:
    """A second connection, to check what the browser wrote."""
    mem = Archive.open(browse_db, create=False)
    yield mem
    mem.close()


def results(app: Any) -> Any:
    from aimem.tui.widgets.result_list import ResultList

    return app.screen.query_one(ResultList)


def filter_bar_text(app: Any) -> str:
    from aimem.tui.widgets.filter_bar import FilterBar

    return str(app.screen.query_one(FilterBar).render())


# -- search ----------------------------------------------------------------------------


@pilot_test
async def test_empty_query_lists_newest_conversations(browse_db: Path, memory: Archive) -> None:
    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        rows = results(app).rows
        newest = memory.list_conversations(limit=5)
        assert [r["id"] for r in rows[:5]] == [c["id"] for c in newest]
        assert {r["kind"] for r in rows} == {"conversation"}
        assert "newest conversations" in filter_bar_text(app)
        assert isinstance(app.focused, Input)


@pilot_test
async def test_search_as_you_type_shows_the_latest_query(browse_db: Path,
                                                         memory: Archive) -> None:
    kinds = ("message", "memory", "conversation")
    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "sourdough")
        await settle(pilot)
        rows = results(app).rows
        assert [r["id"] for r in rows] == [h["id"] for h in memory.search(
            "sourdough", limit=results(app).page_size(), kinds=kinds)]
        assert app.screen.shown.query == "sourdough"
        # typed on without waiting: what is shown belongs to the last keystroke
        await pilot.press(*["backspace"] * 9)
        await type_text(pilot, "kyoto")
        await settle(pilot)
        assert app.screen.shown.query == "kyoto"
        rows = results(app).rows
        assert rows and [r["id"] for r in rows] == [h["id"] for h in memory.search(
            "kyoto", limit=results(app).page_size(), kinds=kinds)]
        assert "kyoto" in rows[0]["snippet"].lower()
        assert "results" in filter_bar_text(app)


@pilot_test
async def test_rows_show_title_source_date_and_a_highlighted_snippet(browse_db: Path) -> None:
    from aimem.tui.formatting import MATCH

    app = make_app(browse_db, query="kyoto")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        index, row = next((i, r) for i, r in enumerate(results(app).rows)
                          if r["kind"] == "message" and r["created_at"])
        prompt = results(app).get_option_at_index(index).prompt
        text = prompt.plain
        assert row["title"] in text and row["source"] in text and row["created_at"][:10] in text
        highlighted = [text[s.start:s.end] for s in prompt.spans if s.style == MATCH]
        assert highlighted and all(h.lower() == "kyoto" for h in highlighted)


@pilot_test
async def test_query_from_the_command_line_and_no_matches(browse_db: Path) -> None:
    app = make_app(browse_db, query="zzzzunmatchable")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert results(app).rows == []
        empty = app.screen.query_one("#empty", Label)
        assert empty.display and "Nothing matches" in str(empty.render())
        assert "no matches" in filter_bar_text(app)


@pilot_test
async def test_scope_cycles_all_messages_memories_conversations(browse_db: Path) -> None:
    app = make_app(browse_db, query="kyoto")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert {r["kind"] for r in results(app).rows} >= {"message", "conversation", "memory"}
        assert "scope:all" in filter_bar_text(app)
        for scope, kind in (("messages", "message"), ("memories", "memory"),
                            ("conversations", "conversation")):
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert f"scope:{scope}" in filter_bar_text(app)
            assert results(app).rows and {r["kind"] for r in results(app).rows} == {kind}
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "scope:all" in filter_bar_text(app)


@pilot_test
async def test_memories_scope_with_an_empty_query_lists_memories(browse_db: Path) -> None:
    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r", "ctrl+r")
        await settle(pilot)
        rows = results(app).rows
        assert rows and {r["kind"] for r in rows} == {"memory"}
        assert "newest memories" in filter_bar_text(app)


@pilot_test
async def test_source_time_and_tag_filters_are_applied_and_shown(browse_db: Path) -> None:
    from aimem.tui.screens.dialogs import PickDialog

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        bar = filter_bar_text(app)
        assert "source:any" in bar and "tag:any" in bar and "time:any time" in bar
        await pilot.press("ctrl+s")
        await settle(pilot)
        source = app.screen.state.source
        assert source and f"source:{source}" in filter_bar_text(app)
        assert results(app).rows and {r["source"] for r in results(app).rows} == {source}
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert "source:any" in filter_bar_text(app)
        # the fixtures are old: nothing in the last day
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert "time:last day" in filter_bar_text(app)
        assert results(app).rows == []
        await pilot.press("ctrl+o", "ctrl+o", "ctrl+o", "ctrl+o")  # back to any time
        await settle(pilot)
        assert "time:any time" in filter_bar_text(app)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, PickDialog)
        await type_text(pilot, "cooking")
        await pilot.press("enter")
        await settle(pilot)
        assert "tag:cooking" in filter_bar_text(app)
        rows = results(app).rows
        assert rows and all("cooking" in r["tags"] for r in rows)


# -- a conversation ---------------------------------------------------------------------


@pilot_test
async def test_open_a_message_hit_marks_it_and_n_moves_between_matches(browse_db: Path) -> None:
    from aimem.tui.screens.conversation import ConversationScreen
    from aimem.tui.screens.search import SearchScreen
    from aimem.tui.widgets.message_view import MessageView

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "kyoto rain")
        await settle(pilot)
        hits = results(app).rows
        index = next(i for i, r in enumerate(hits) if r["kind"] == "message"
                     and r["title"] == "Kyoto on a rainy day")
        hit = hits[index]
        results(app).highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        views = list(screen.query(MessageView))
        assert [v.message["id"] for v in views] == [m["id"] for m in screen.conv["messages"]]
        current = views[screen.cursor]
        assert current.message["id"] == hit["id"]
        assert current.has_class("-cursor") and current.has_class("-match")
        assert len(screen.matches) > 1
        assert all(views[i].has_class("-match") for i in screen.matches)
        start = screen.cursor
        await pilot.press("n")
        assert screen.cursor == next((i for i in screen.matches if i > start),
                                     screen.matches[0])
        await pilot.press("N")
        assert screen.cursor == start
        for _ in screen.matches:  # n wraps around
            await pilot.press("n")
        assert screen.cursor == start
        assert f"match {screen.matches.index(start) + 1}/{len(screen.matches)}" in str(
            screen.query_one("#conv-meta").render())
        await pilot.press("j")
        assert screen.cursor == start + 1 or start == len(views) - 1
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)


@pilot_test
async def test_conversation_shows_roles_times_and_markdown(browse_db: Path) -> None:
    from aimem.tui.screens.conversation import ConversationScreen
    from aimem.tui.widgets.message_view import MessageView

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "title:kyoto rainy")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        view = app.screen.query(MessageView)[1]
        rendered = view.render()
        assert rendered.plain.startswith("assistant  2025-10-30 22:16")
        assert "**" not in rendered.plain  # bold is drawn, not shown as asterisks
        assert any(s.style == "bold" for s in rendered.spans)


# -- item actions -----------------------------------------------------------------------


async def _open_first_result(pilot: Pilot[Any], query: str) -> None:
    await type_text(pilot, query)
    await settle(pilot)
    await pilot.press("down")  # into the results: their keys apply
    await settle(pilot)


async def _answer(pilot: Pilot[Any], text: str) -> None:
    box = pilot.app.screen.query_one(Input)
    box.value = text
    await pilot.press("enter")
    await settle(pilot)


@pilot_test
async def test_tags_add_and_remove_from_a_result(browse_db: Path, memory: Archive) -> None:
    from aimem.tui.screens.dialogs import TextDialog

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open_first_result(pilot, "sourdough starter schedule")
        row = results(app).current
        conv_id = row["conversation_id"]
        before = memory.show(conv_id, record=False)["tags"]
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TextDialog)
        assert app.screen.query_one(Input).value == " ".join(before)
        await _answer(pilot, " ".join([*before, "baking", "#weekend"]))
        assert memory.show(conv_id, record=False)["tags"] == sorted([*before, "baking",
                                                                      "weekend"])
        await pilot.press("t")
        await settle(pilot)
        await _answer(pilot, "weekend")
        assert memory.show(conv_id, record=False)["tags"] == ["weekend"]


@pilot_test
async def test_tags_of_an_open_conversation_update_its_header(browse_db: Path,
                                                             memory: Archive) -> None:
    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the newest conversation
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await _answer(pilot, "finance later")
        assert "#finance #later" in str(app.screen.query_one("#conv-meta").render())
        assert memory.show(app.screen.conv_id, record=False)["tags"] == ["finance", "later"]


@pilot_test
async def test_delete_asks_first_and_no_keeps_it(browse_db: Path, memory: Archive) -> None:
    from aimem.tui.screens.dialogs import ConfirmDialog

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open_first_result(pilot, "sourdough starter")
        conv_id = results(app).current["conversation_id"]
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "cannot be undone" in str(app.screen.query_one(".dialog-question").render())
        await pilot.press("n")
        await settle(pilot)
        assert memory.show(conv_id, record=False)["id"] == conv_id
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        with pytest.raises(NotFound):
            memory.show(conv_id, record=False)
        assert all(r["conversation_id"] != conv_id for r in results(app).rows)


@pilot_test
async def test_delete_from_an_open_conversation_goes_back(browse_db: Path,
                                                          memory: Archive) -> None:
    from aimem.tui.screens.search import SearchScreen

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        first = results(app).rows[0]["id"]
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        with pytest.raises(NotFound):
            memory.show(first, record=False)
        assert first not in [r["id"] for r in results(app).rows]


@pilot_test
async def test_copy_inject_block_and_copy_message(browse_db: Path) -> None:
    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down")
        await pilot.press("y")  # no query yet: nothing to build from
        await settle(pilot)
        assert app.clipboard == ""
        await pilot.press("slash")
        await _open_first_result(pilot, "kyoto")
        await pilot.press("y")
        await settle(pilot)
        assert "kyoto" in app.clipboard.lower() and len(app.clipboard) > 100
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert app.clipboard == screen.conv["messages"][screen.cursor]["text"]


@pilot_test
async def test_export_a_conversation_to_markdown(browse_db: Path, tmp_path: Path) -> None:
    from aimem.tui.screens.dialogs import TextDialog

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        title = app.screen.conv["title"]
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, TextDialog)
        assert app.screen.query_one(Input).value.endswith(".md")
        out = tmp_path / "out.md"
        await _answer(pilot, str(out))
        text = out.read_text(encoding="utf-8")
        assert text.startswith("---\ntitle: ") and f"# {title}" in text


@pytest.fixture
def model_ready(llm_fakes: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An llm model is configured: the offline fake one, as $LLM_MODEL."""
    monkeypatch.setenv("LLM_MODEL", "aimem-fake")
    return llm_fakes.fake


@pytest.mark.parametrize(("env", "why"), [
    pytest.param({}, "No key found", id="default-model-without-key"),
    pytest.param({"LLM_MODEL": "no-such-model"}, "llm has no model called 'no-such-model'",
                 id="unknown-model"),
])
@pilot_test
async def test_summarize_is_disabled_without_an_llm_model(
        browse_db: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], why: str) -> None:
    from aimem.tui.context import SUMMARIZE_HINT
    from aimem.tui.screens.help import HelpScreen

    for var in ("LLM_MODEL", "OPENAI_API_KEY"):  # llm's default model (OpenAI) needs a key
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert not app.context.model.checked  # typing a query does not wait for llm
        await pilot.press("enter")
        await settle(pilot)
        assert app.context.model.checked and not app.context.model.ready  # the footer asked
        assert app.screen.check_action("summarize", ()) is None  # shown dimmed
        await pilot.press("s")
        await settle(pilot)
        hints = [n.message for n in app._notifications if n.message.startswith(SUMMARIZE_HINT)]
        assert hints and why in hints[0]
        assert not app.screen.query_one(BusyLine).busy  # nothing was started
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert f"Summarize ({SUMMARIZE_HINT})" in str(app.screen.query_one("#help-text").render())


@pilot_test
async def test_summarize_is_enabled_with_a_model_and_writes_the_summary(
        browse_db: Path, model_ready: Any, memory: Archive) -> None:
    from aimem.tui.screens.help import HelpScreen

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.context.model.checked and app.context.model.ready
        assert app.screen.check_action("summarize", ()) is True
        title, conv_id = app.screen.conv["title"], app.screen.conv_id
        assert not memory.show(conv_id, record=False).get("summary")
        await pilot.press("s")
        busy = app.screen.query_one(BusyLine)
        for _ in range(500):
            await pilot.pause(0.01)
            if not busy.busy and any(n.message.startswith("summarized") for n in
                                     app._notifications):
                break
        assert any(n.message == f"summarized “{title}”" for n in app._notifications)
        await settle(pilot)
        stored = memory.show(conv_id, record=False).get("summary")
        assert stored and model_ready.history  # the model was asked; its summary was saved
        assert str(app.screen.query_one("#conv-summary").render()) == stored  # and is shown
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "(summaries need" not in str(app.screen.query_one("#help-text").render())


@pilot_test
async def test_summarize_runs_in_a_worker_with_progress(browse_db: Path, model_ready: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[list[str], str]] = []
    release = threading.Event()

    def summarize(self: Archive, ids: list[str], **options: Any) -> dict[str, Any]:
        calls.append((list(ids), threading.current_thread().name))
        options["progress"](0, 1, "")
        release.wait(5)
        self.store.set_summary(self.store.conversation_rowid(ids[0]) or 0,
                               "A summary from the fake model.", "fake")
        options["progress"](1, 1, "")
        return {"failed": [], "items": [{"id": ids[0]}]}

    monkeypatch.setattr(Archive, "summarize", summarize, raising=False)
    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        conv_id = app.screen.conv_id
        await pilot.press("s")
        await pilot.pause(0.1)
        busy = app.screen.query_one(BusyLine)
        assert busy.busy  # progress is visible, and the UI still answers keys
        await pilot.press("j")
        assert app.screen.cursor == 1
        release.set()
        for _ in range(200):
            await pilot.pause(0.01)
            if not busy.busy:
                break
        assert not busy.busy
        assert calls and calls[0][0] == [conv_id]
        assert calls[0][1] != threading.main_thread().name
        await settle(pilot)
        assert "A summary from the fake model." in str(
            app.screen.query_one("#conv-summary").render())


@pilot_test
async def test_summarize_errors_are_shown_not_raised(browse_db: Path, model_ready: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from aimem.errors import AimemError

    def summarize(self: Archive, ids: list[str], **options: Any) -> dict[str, Any]:
        raise AimemError("llm's default model 'gpt-4o-mini' needs a key")

    monkeypatch.setattr(Archive, "summarize", summarize, raising=False)
    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s")
        for _ in range(200):
            await pilot.pause(0.01)
            if any("needs a key" in n.message for n in app._notifications):
                break
        assert any(n.message.startswith("summarize failed: llm's default model")
                   for n in app._notifications)
        assert app.is_running


# -- memories ---------------------------------------------------------------------------


@pilot_test
async def test_memories_view_add_edit_pin_delete(browse_db: Path, memory: Archive) -> None:
    from aimem.tui.screens.dialogs import ConfirmDialog
    from aimem.tui.screens.memories import MemoriesScreen
    from aimem.tui.screens.memory_editor import MemoryEditor
    from aimem.tui.widgets.memory_list import MemoryList

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "m")
        await settle(pilot)
        assert isinstance(app.screen, MemoriesScreen)
        listed = app.screen.query_one(MemoryList)
        assert [m["id"] for m in listed.rows] == [m["id"] for m in memory.list_memories()]
        # add
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, MemoryEditor)
        app.screen.query_one(TextArea).text = "Drinks green tea, not coffee."
        app.screen.query_one("#tags", Input).value = "food #tea"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MemoriesScreen)
        new = next(m for m in memory.list_memories() if m["text"].startswith("Drinks green"))
        assert new["tags"] == ["food", "tea"] and new["kind"] == "fact" and not new["pinned"]
        assert listed.current["id"] == new["id"]
        # edit
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one(TextArea).text = "Drinks green tea, never coffee."
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert memory.show(new["id"], record=False)["text"] == "Drinks green tea, never coffee."
        # pin, unpin
        await pilot.press("p")
        await settle(pilot)
        assert memory.show(new["id"], record=False)["pinned"] is True
        assert "pinned" in listed.get_option_at_index(listed.highlighted).prompt.plain
        await pilot.press("p")
        await settle(pilot)
        assert memory.show(new["id"], record=False)["pinned"] is False
        # delete, after a confirmation
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        with pytest.raises(NotFound):
            memory.show(new["id"], record=False)
        assert new["id"] not in [m["id"] for m in listed.rows]
        await pilot.press("q")
        await settle(pilot)
        assert not isinstance(app.screen, MemoriesScreen)


@pilot_test
async def test_enter_on_a_memory_hit_edits_it(browse_db: Path, memory: Archive) -> None:
    from aimem.tui.screens.memory_editor import MemoryEditor

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r", "ctrl+r")  # memories
        await type_text(pilot, "raspberry")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MemoryEditor)
        assert "Raspberry Pi 5" in app.screen.query_one(TextArea).text
        assert app.screen.query_one("#pinned").value is True
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, MemoryEditor)


# -- keys, help, quitting ---------------------------------------------------------------


@pilot_test
async def test_question_mark_lists_every_binding(browse_db: Path) -> None:
    from aimem.tui.screens.help import HelpScreen

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")  # empty search box: ? is help, not a character
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for words in ("Scope", "Next match", "Copy inject", "Delete", "Pin", "Memories"):
            assert words in text
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)
        await type_text(pilot, "c?")  # with text, ? is typed
        assert app.screen.query_one(Input).value == "c?"


@pilot_test
async def test_q_and_escape_go_back_then_quit(browse_db: Path) -> None:
    from aimem.tui.screens.search import SearchScreen
    from aimem.tui.widgets.result_list import ResultList

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "kyoto")
        await settle(pilot)
        await pilot.press("escape")  # out of the search box, into the results
        assert isinstance(app.focused, ResultList)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        assert isinstance(app.focused, ResultList)  # focus comes back where it was
        await pilot.press("k")  # typing in the list goes on in the search box
        assert isinstance(app.focused, Input) and app.focused.value == "kyotok"
        await pilot.press("escape")
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


@pilot_test
async def test_results_are_paged_not_loaded_at_once(tmp_path: Path) -> None:
    from aimem.tui.widgets.paged_list import NEAR_END

    jsonl = tmp_path / "many.jsonl"
    with jsonl.open("w", encoding="utf-8") as f:
        for i in range(130):
            f.write(json.dumps({
                "type": "conversation", "source": "jsonl", "source_id": f"c{i}",
                "title": f"Note {i:03d} about gardening",
                "created_at": f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z",
                "messages": [{"role": "user", "text": f"gardening note number {i}"}]}) + "\n")
    db = tmp_path / "many.db"
    with Archive.open(db) as mem:
        mem.import_paths([str(jsonl)])
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        listed = results(app)
        PAGE = 30 // 2 + NEAR_END  # a screenful of two-line rows, and a few more  # noqa: N806
        assert listed.page_size() == PAGE
        assert len(listed.rows) == PAGE and listed.more
        await pilot.press("down", "end")
        await settle(pilot)
        assert len(listed.rows) == 2 * PAGE
        for _ in range(130 // PAGE):  # each end loads the next page, until there is none
            await pilot.press("end")
            await settle(pilot)
        assert len(listed.rows) == 130 and not listed.more
        assert len({r["id"] for r in listed.rows}) == 130
        await pilot.press("slash")
        await type_text(pilot, "gardening")
        await settle(pilot)
        assert len(listed.rows) == PAGE and listed.more
        await pilot.press("down", "end")
        await settle(pilot)
        assert len(listed.rows) == 2 * PAGE


# -- pieces -----------------------------------------------------------------------------


def test_markdown_renders_lists_code_tables_and_quotes() -> None:
    from aimem.tui.widgets.markdown_text import layout, parse

    text = ("Intro with **bold** and `code`.\n\n1. first item that is long enough to wrap "
            "around\n2. second\n   - nested\n\n> quoted\n\n```python\ndef f(x):\n"
            "    return x\n```\n\n| a | bb |\n|---|---|\n| 1 | 2 |\n")
    lines = layout(parse(text), 30)
    plain = [line.plain for line in lines]
    assert plain[0] == "Intro with bold and code."
    assert plain[2].startswith("1. first item") and plain[3].startswith("   ")
    assert "   • nested" in plain
    assert "▌ quoted" in plain
    code = [line for line in lines if line.plain.startswith("▏ ")]
    assert [c.plain for c in code] == ["▏ def f(x):", "▏     return x"]
    assert any(s.style for c in code for s in c.spans[1:])  # highlighted
    assert "a │ bb" in plain and "1 │ 2 " in plain


def test_a_newer_search_makes_the_older_one_stale(browse_db: Path) -> None:
    from aimem.tui.db import Database, Stale

    async def scenario() -> list[Any]:
        db = Database(browse_db)
        started = threading.Event()

        def spin(m: Archive) -> str:
            started.set()
            # a query that runs for minutes unless interrupted
            m.store.conn.execute("WITH RECURSIVE n(i) AS (VALUES(1) UNION ALL SELECT i + 1 "
                                 "FROM n WHERE i < 2000000000) SELECT count(*) FROM n").fetchone()
            return "finished"

        first = asyncio.ensure_future(db.search(spin))
        await asyncio.to_thread(started.wait, 5)
        second = asyncio.ensure_future(db.search(lambda m: "second"))
        third = asyncio.ensure_future(db.search(lambda m: m.stats()["conversations"]))
        out = await asyncio.gather(first, second, third, return_exceptions=True)
        db.close()
        return out

    t = time.perf_counter()
    first, second, third = asyncio.run(scenario())
    assert isinstance(first, Stale)  # stopped while running
    assert isinstance(second, Stale)  # skipped: overtaken before it started
    assert isinstance(third, int) and third > 0
    assert time.perf_counter() - t < 5


def test_an_interrupted_query_raises_aimems_own_error(browse_db: Path) -> None:
    """The store turns sqlite3's "interrupted" into errors.Interrupted (the TUI needs no
    sqlite3); outside the block queries run to the end again."""
    from aimem.errors import AimemError, Interrupted

    count = ("WITH RECURSIVE n(i) AS (VALUES(1) UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
             "SELECT count(*) FROM n")
    with Archive.open(browse_db, create=False) as mem:
        with pytest.raises(Interrupted) as caught, mem.interruptible(lambda: True, every=100):
            mem.store.conn.execute(count).fetchone()
        assert isinstance(caught.value, AimemError) and str(caught.value) == "interrupted"
        with mem.interruptible(lambda: False, every=100):
            assert mem.store.conn.execute(count).fetchone() == (200000,)
        assert mem.store.conn.execute(count).fetchone() == (200000,)  # the check is gone


def test_importing_the_tui_package_loads_no_textual() -> None:
    from test_hygiene import loaded_after

    assert "textual" not in loaded_after("import aimem.tui")
    assert "textual" not in loaded_after("import aimem.cli.cmd_browse")


def test_browse_needs_a_database_and_a_terminal(browse_db: Path, tmp_path: Path) -> None:
    from conftest import run_aimem

    missing = run_aimem("--db", str(tmp_path / "nope.db"), "browse")
    assert missing.returncode == 1 and b"no database" in missing.stderr
    piped = run_aimem("--db", str(browse_db), "browse")
    assert piped.returncode == 1 and b"needs a terminal" in piped.stderr


@pilot_test
async def test_the_theme_picked_is_remembered_unless_textual_theme_is_set(
        browse_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aimem.tui.app import BrowseApp

    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    app = BrowseApp(browse_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.theme = "nord"  # what picking it in the command palette does
        await pilot.pause()
    again = BrowseApp(browse_db)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.theme == "nord"
    monkeypatch.setenv("TEXTUAL_THEME", "gruvbox")
    from aimem.tui import settings

    assert settings.saved_theme() is None  # the user's Textual-wide choice wins


@pilot_test
async def test_command_palette_has_themes_and_the_memories(browse_db: Path) -> None:
    from textual.command import CommandList, CommandPalette

    from aimem.tui.screens.memories import MemoriesScreen

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await type_text(pilot, "memories")
        for _ in range(200):  # the palette searches its commands in the background
            await pilot.pause(0.02)
            if app.screen.query_one(CommandList).option_count:
                break
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MemoriesScreen)


@pilot_test
async def test_b_shows_and_hides_the_other_branches(browse_db: Path) -> None:
    from aimem.tui.screens.conversation import ConversationScreen
    from aimem.tui.widgets.message_view import MessageView

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_text(pilot, "walrus tuesdays")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        views = list(screen.query(MessageView))
        assert len(views) == 4 and not screen.query(".-branch")
        assert all("flamingos" not in v.message["text"] for v in views)
        await pilot.press("b")
        await settle(pilot)
        branch = [v for v in screen.query(MessageView) if v.has_class("-branch")]
        assert [v.message["text"] for v in branch] == [
            "Look at the abandoned answer about flamingos."]
        head = branch[0].render().plain.splitlines()[0]
        assert head.startswith("↳ ") and "other branch, after “How do I check that?”" in head
        assert screen.cursor == 4  # the cursor goes to the first other-branch message
        assert "1 other-branch message" in str(screen.query_one("#conv-meta").render())
        await pilot.press("b")
        await settle(pilot)
        assert not screen.query(".-branch") and len(screen.query(MessageView)) == 4
        assert screen.cursor == 3


# -- search modes and related ----------------------------------------------------------


@pilot_test
async def test_ctrl_g_cycles_the_search_mode_shown_in_the_filter_bar(
        browse_db: Path, memory: Archive, llm_fakes: Any) -> None:
    app = make_app(browse_db, query="kyoto")
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        assert "mode:auto" in filter_bar_text(app)
        assert results(app).rows and all(r["found_by"] == ["lexical"] for r in results(app).rows)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert "mode:words" in filter_bar_text(app) and app.screen.state.mode == "lexical"
        await pilot.press("ctrl+g")  # words+meaning, but no embedding model: words only, said
        await settle(pilot)
        bar = filter_bar_text(app)
        assert "mode:words+meaning" in bar and "no embedding model configured" in bar
        assert results(app).rows
        # a model with vectors: meaning alone finds rows by their vectors
        memory.set_config("embed-model", "aimem-fake-embed")
        memory.embed()
        await pilot.press("ctrl+g")
        await settle(pilot)
        bar = filter_bar_text(app)
        assert "mode:meaning" in bar and "no embedding model" not in bar
        rows = results(app).rows
        assert rows and all(r["found_by"] == ["semantic"] for r in rows)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert "mode:auto" in filter_bar_text(app)
        assert any("semantic" in (r.get("found_by") or []) for r in results(app).rows)


@pilot_test
async def test_r_in_a_conversation_lists_related_ones_and_opens_the_pick(browse_db: Path) -> None:
    from aimem.tui.screens.conversation import ConversationScreen
    from aimem.tui.screens.dialogs import PickDialog

    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open_first_result(pilot, "kyoto rain")
        await pilot.press("enter")
        await settle(pilot)
        first = app.screen
        assert isinstance(first, ConversationScreen)
        await pilot.press("r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PickDialog) and dialog.title_text == "Related, by shared words"
        picked = dialog.choices[0][1]
        assert picked["kind"] == "conversation" and picked["id"] != first.conv_id
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen) and app.screen is not first
        assert app.screen.conv_id == picked["id"]


@pilot_test
async def test_the_model_and_vectors_are_loaded_after_the_first_screen(
        browse_db: Path, memory: Archive, llm_fakes: Any) -> None:
    from aimem.services import semantic

    memory.set_config("embed-model", "aimem-fake-embed")
    memory.embed()
    semantic._CACHE.clear()
    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert (str(browse_db), "aimem-fake-embed") in semantic._CACHE  # before any query
        await type_text(pilot, "kyoto")
        await settle(pilot)
        assert any("semantic" in (r.get("found_by") or []) for r in results(app).rows)


@pilot_test
async def test_without_a_model_nothing_is_warmed(browse_db: Path) -> None:
    from aimem.services import semantic

    semantic._CACHE.clear()
    app = make_app(browse_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.warmed and not semantic._CACHE


@pilot_test
async def test_a_page_is_a_screenful_and_start_up_objects_leave_the_collector(
        tmp_path: Path) -> None:
    """Rows load a screenful at a time (every loaded row is formatted on each keystroke),
    and once the first rows show, what start-up made is frozen out of the garbage
    collector (its full collections walked it all, 50-107 ms at M, on keystrokes)."""
    import gc

    from aimem.tui.widgets.paged_list import MIN_PAGE, NEAR_END

    jsonl = tmp_path / "many.jsonl"
    with jsonl.open("w", encoding="utf-8") as f:
        for i in range(120):
            f.write(json.dumps({"type": "conversation", "source": "jsonl", "source_id": f"c{i}",
                                "title": f"Note {i:03d}",
                                "messages": [{"role": "user", "text": f"note {i}"}]}) + "\n")
    db = tmp_path / "many.db"
    with Archive.open(db) as mem:
        mem.import_paths([str(jsonl)])
    for height, page in ((80, 80 // 2 + NEAR_END), (24, MIN_PAGE)):
        app = make_app(db)
        async with app.run_test(size=(100, height)) as pilot:
            await settle(pilot)
            assert len(results(app).rows) == page and results(app).more
            assert gc.get_freeze_count() > 0
            if height == 24:  # made taller: the next page comes without a keystroke
                await pilot.resize_terminal(100, 80)
                await settle(pilot)
                assert len(results(app).rows) == page + 80 // 2 + NEAR_END
