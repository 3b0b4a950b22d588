"""What can be done to the item under the cursor, on the search and conversation screens.

Tags, delete (after a confirmation), copy, copy the inject block for the current query,
export a conversation to Markdown, summarize. The screens say what the item is
(:meth:`ItemActions.target`) and what to do afterwards (:meth:`ItemActions.item_changed`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import App
from textual.screen import Screen
from textual.widgets import Input, TextArea

from aimem.errors import AimemError
from aimem.services import Archive
from aimem.services.filters import make_filters
from aimem.tui.context import Context, ModelStatus
from aimem.tui.screens.dialogs import ConfirmDialog, TextDialog
from aimem.tui.screens.memory_editor import split_tags
from aimem.tui.search_state import SearchState
from aimem.tui.widgets.busy_line import BusyLine

MODEL_CHECK_DELAY = 0.5  # seconds: the screen that asked is shown before llm is imported


def _check_model(app: App[Any], model: ModelStatus) -> None:  # on a worker thread
    if model.check() is not None:
        app.call_from_thread(app.refresh_bindings)  # the footer dims "Summarize"


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # "conversation" or "memory": what tags, delete and export act on
    id: str
    title: str
    text: str | None = None  # what "copy" copies (None: the whole conversation, as Markdown)


class ItemActions(Screen[Any]):
    """Mixed into screens that have a current item; made with the browser's context."""

    def __init__(self, browser: Context) -> None:
        super().__init__()
        self.browser = browser

    def can_summarize(self) -> bool:
        """An llm model is configured and ready (as far as is known yet: the first call
        starts the check, which imports llm, on a worker thread a moment later)."""
        model = self.browser.model
        if model.start():
            app = self.app
            app.set_timer(MODEL_CHECK_DELAY, lambda: app.run_worker(
                partial(_check_model, app, model), thread=True, group="model-check",
                exit_on_error=False))
        return model.ready

    def target(self) -> Target | None:
        raise NotImplementedError

    def search_state(self) -> SearchState:
        raise NotImplementedError

    def item_changed(self, target: Target, *, deleted: bool = False) -> None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "summarize" and not self.can_summarize():
            return None  # shown dimmed in the footer; pressing it explains why
        if action in ("export", "summarize"):
            t = self.target()
            return None if t is not None and t.kind == "memory" else True
        return True

    def on_key(self, event: events.Key) -> None:
        # a disabled binding does nothing when pressed: say why, not only in the footer
        if (event.key == "s" and not self.can_summarize()
                and not isinstance(self.focused, Input | TextArea)):
            self.notify(self.browser.model.hint, severity="warning")

    # -- tags -------------------------------------------------------------------------

    @work(group="item", exit_on_error=False)
    async def action_tags(self) -> None:
        t = self.target()
        if t is None:
            return
        db = self.browser.db
        try:
            before = await db.call(lambda m: m.show(t.id, record=False).get("tags") or [])
        except AimemError as e:
            self.notify(str(e), severity="error")
            return
        answer = await self.app.push_screen_wait(TextDialog(
            f"Tags of “{t.title}”", " ".join(before), hint="separate tags with spaces; "
            "remove one by deleting it", placeholder="no tags"))
        if answer is None:
            return
        after = split_tags(answer)
        added = [x for x in after if x not in before]
        removed = [x for x in before if x not in after]
        if not added and not removed:
            return

        def change(m: Archive) -> list[str]:
            tags = before
            if removed:
                tags = m.remove_tags(t.id, removed)
            if added:
                tags = m.add_tags(t.id, added)
            return tags

        try:
            tags = await db.call(change)
        except AimemError as e:
            self.notify(str(e), severity="error")
            return
        self.notify("tags: " + (" ".join(f"#{x}" for x in tags) or "none"))
        self.item_changed(t)

    # -- delete -----------------------------------------------------------------------

    @work(group="item", exit_on_error=False)
    async def action_delete(self) -> None:
        t = self.target()
        if t is None:
            return
        what = "conversation" if t.kind == "conversation" else "memory"
        ok = await self.app.push_screen_wait(ConfirmDialog(
            f"Delete the {what} “{t.title}”? This cannot be undone."))
        if not ok:
            return
        try:
            await self.browser.db.call(lambda m: m.forget([t.id]))
        except AimemError as e:
            self.notify(str(e), severity="error")
            return
        self.notify(f"deleted the {what} “{t.title}”")
        self.item_changed(t, deleted=True)

    # -- copy -------------------------------------------------------------------------

    @work(group="item", exit_on_error=False)
    async def action_copy(self) -> None:
        t = self.target()
        if t is None:
            return
        text = t.text
        if text is None:
            try:
                text = (await self.browser.db.call(
                    lambda m: m.conversation_markdown(t.id)))["text"]
            except AimemError as e:
                self.notify(str(e), severity="error")
                return
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {len(text):,} characters")

    @work(group="item", exit_on_error=False)
    async def action_copy_inject(self) -> None:
        state = self.search_state()
        if not state.query.strip():
            self.notify("type a query first: the inject block is built from it",
                        severity="warning")
            return

        def block(m: Archive) -> str:
            f = make_filters(m, source=[state.source] if state.source else None,
                             tag=[state.tag] if state.tag else None, since=state.period)
            return m.inject(state.query, f)

        try:
            text = await self.browser.db.call(block)
        except AimemError as e:
            self.notify(str(e), severity="error")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"copied the inject block for “{state.query}” ({len(text):,} characters)")

    # -- export -----------------------------------------------------------------------

    @work(group="item", exit_on_error=False)
    async def action_export(self) -> None:
        t = self.target()
        if t is None or t.kind != "conversation":
            return
        try:
            md = await self.browser.db.call(lambda m: m.conversation_markdown(t.id))
        except AimemError as e:
            self.notify(str(e), severity="error")
            return
        answer = await self.app.push_screen_wait(TextDialog(
            "Export to a Markdown file", str(Path.cwd() / md["name"])))
        if not answer:
            return
        path = Path(answer).expanduser()
        try:
            await asyncio.to_thread(path.write_text, md["text"], encoding="utf-8")
        except OSError as e:
            self.notify(f"could not write {path}: {e.strerror or e}", severity="error")
            return
        self.notify(f"exported to {path}")

    # -- summarize --------------------------------------------------------------------

    def action_summarize(self) -> None:
        t = self.target()
        if not self.can_summarize():
            self.notify(self.browser.model.hint, severity="warning")
            return
        if t is None or t.kind != "conversation":
            return
        busy = self.query_one(BusyLine)
        if busy.busy:
            self.notify("a summary is already being written")
            return
        busy.start(f"summarizing “{t.title}”…")
        self._summarize(t)

    @work(thread=True, exclusive=True, group="summarize", exit_on_error=False)
    def _summarize(self, t: Target) -> None:
        # its own Archive: a connection belongs to one thread, and a model call is slow
        busy = self.query_one(BusyLine)

        def progress(done: int, total: int, what: str) -> None:
            self.app.call_from_thread(busy.start, f"summarizing “{t.title}” ({done}/{total})…")

        error = None
        try:
            with Archive.open(self.browser.db.path, create=False) as mem:
                report = mem.summarize([t.id], force=True, progress=progress)
            if report.get("failed"):
                error = report["failed"][0].get("error") or "the model call failed"
        except Exception as e:  # no model, no key, provider down: say it, keep running
            error = " ".join(str(e).split()) or type(e).__name__
        self.app.call_from_thread(self._summarized, t, error)

    def _summarized(self, t: Target, error: str | None) -> None:
        self.query_one(BusyLine).stop()
        if error:
            self.notify(f"summarize failed: {error}", severity="error")
            return
        self.notify(f"summarized “{t.title}”")
        self.item_changed(t)
