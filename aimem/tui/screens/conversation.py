"""One conversation: its messages in order, Markdown rendered, the matches marked.

The message the search hit is scrolled into view and gets the cursor; ``n``/``N`` move
the cursor between the messages that match the query, ``j``/``k`` between messages.
Messages are mounted in batches so a long conversation shows its first screen at once.
``b`` shows (and hides) the messages off the visible branch (edited questions,
regenerated answers, messages a later copy no longer had) after the conversation, each
saying which message it follows.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Static

from aimem.errors import AimemError
from aimem.services import Archive
from aimem.services.filters import make_filters
from aimem.tui.context import Context
from aimem.tui.formatting import day, one_line
from aimem.tui.screens.item_actions import ItemActions, Target
from aimem.tui.search_state import SearchState
from aimem.tui.widgets.busy_line import BusyLine
from aimem.tui.widgets.message_view import MessageView

BATCH = 40
MAX_MATCHES = 1000


def matching(mem: Archive, conv_id: str, query: str) -> set[str]:
    """The ids of the messages of a conversation that match ``query``."""
    if not query.strip():
        return set()
    f = make_filters(mem, conversation=conv_id)
    return {h["id"] for h in mem.search(query, f, limit=MAX_MATCHES, kinds=("message",),
                                            mode="lexical")}


class ConversationScreen(ItemActions):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_match(1)", "Next match"),
        Binding("N", "next_match(-1)", "Prev match"),
        Binding("j", "move(1)", "Next message", show=False),
        Binding("k", "move(-1)", "Previous message", show=False),
        Binding("b", "branches", "Other branches",
                tooltip="Show or hide the messages off the visible branch (edits, "
                        "regenerations)"),
        Binding("r", "related", "Related",
                tooltip="Conversations and memories closest to this one (aimem related)"),
        Binding("c", "copy", "Copy message"),
        Binding("t", "tags", "Tags"),
        Binding("y", "copy_inject", "Copy inject"),
        Binding("e", "export", "Export"),
        Binding("s", "summarize", "Summarize",
                tooltip="Write a summary with your llm model (aimem summarize)"),
        Binding("d", "delete", "Delete"),
        Binding("q,escape", "back", "Back"),
    ]

    def __init__(self, browser: Context, conv_id: str, *, focus: str | None = None,
                 state: SearchState | None = None) -> None:
        super().__init__(browser)
        self.conv_id = conv_id
        self.focus_id = focus
        self.state = state or SearchState()
        self.conv: dict[str, Any] | None = None
        self.matches: list[int] = []  # message indexes, in order
        self.cursor = 0
        self.changed = False
        self.loaded = False  # every message is mounted
        self.branches: list[dict[str, Any]] | None = None  # loaded on the first ``b``
        self.branches_shown = False

    def compose(self) -> ComposeResult:
        yield Static("", id="conv-title")
        yield Static("", id="conv-meta")
        yield Static("", id="conv-summary")
        yield VerticalScroll(id="messages", can_focus=True)
        yield BusyLine()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#messages").focus()
        self._load()

    @work(exclusive=True, group="conversation", exit_on_error=False)
    async def _load(self) -> None:
        db, query = self.browser.db, self.state.query
        try:  # showing counts as a recall, like aimem show
            if self.focus_id:  # the hit is known: show it first, mark the other matches after
                conv, match_ids = await db.call(lambda m: m.show(self.conv_id)), None
            else:
                conv = await db.call(lambda m: m.show(self.conv_id))
                match_ids = await db.call(lambda m: matching(m, conv["id"], query))
        except AimemError as e:
            self.notify(str(e), severity="error")
            self.dismiss(self.changed)
            return
        self.conv = conv
        messages = conv["messages"]
        ids = match_ids or set()
        self.matches = [i for i, m in enumerate(messages) if m["id"] in ids]
        focus = next((i for i, m in enumerate(messages) if m["id"] == self.focus_id), None)
        if focus is None:
            focus = self.matches[0] if self.matches else 0
        self.cursor = focus
        box = self.query_one("#messages", VerticalScroll)
        views = [MessageView(m, index=i, match=m["id"] in ids) for i, m in enumerate(messages)]
        # the batch with the focus first, so it can be shown at once; the rest after
        first_batch = max(BATCH, focus + 5)
        await box.mount_all(views[:first_batch])
        self._show_header()
        await self._painted()  # laid out: scrolling to the message needs to know where it is
        self._move_to(focus, animate=False)
        if match_ids is None:
            try:
                match_ids = await db.call(lambda m: matching(m, conv["id"], query))
            except AimemError:
                match_ids = set()
            self.matches = [i for i, m in enumerate(messages) if m["id"] in match_ids]
            for v in views:
                v.mark(v.message["id"] in match_ids)
            self._show_header()
        for start in range(first_batch, len(views), BATCH):
            await self._painted()  # the screen first, then the rest of a long conversation
            await box.mount_all(views[start:start + BATCH])
        self.loaded = True

    async def _painted(self) -> None:
        done = asyncio.get_running_loop().create_future()
        self.call_after_refresh(lambda: done.done() or done.set_result(None))
        await done

    @work(exclusive=True, group="header", exit_on_error=False)
    async def _reload_header(self) -> None:
        """After a change of tags or summary (the messages stay as they are)."""
        try:
            conv = await self.browser.db.call(lambda m: m.show(self.conv_id, record=False))
        except AimemError as e:
            self.notify(str(e), severity="error")
            return
        self.conv = conv
        self._show_header()

    def _show_header(self) -> None:
        c = self.conv
        if c is None:
            return
        self.query_one("#conv-title", Static).update(Content.styled(c.get("title") or
                                                                    "(untitled)", "bold"))
        n = len(c["messages"])
        meta: list[str | tuple[str, str]] = [(c.get("source") or "", "$text-accent"),
                                             f" · {day(c.get('created_at'))}"]
        if c.get("model"):
            meta.append(f" · {c['model']}")
        meta.append(f" · {n} message{'s' if n != 1 else ''}")
        if self.branches_shown and self.branches:
            k = len(self.branches)
            meta.append((f" · + {k} other-branch message{'s' if k != 1 else ''} (b hides)",
                         "$text-secondary"))
        if c.get("tags"):
            meta.append((" · " + " ".join(f"#{t}" for t in c["tags"]), "$text-secondary"))
        if self.matches:
            at = self.matches.index(self.cursor) + 1 if self.cursor in self.matches else 0
            meta.append((f" · match {at or '-'}/{len(self.matches)}", "bold $text-warning"))
        elif self.state.query.strip():
            meta.append((" · no match for the query here", "$text-muted"))
        self.query_one("#conv-meta", Static).update(Content.assemble(*meta))
        summary = self.query_one("#conv-summary", Static)
        summary.display = bool(c.get("summary"))
        summary.update(Content.styled(c.get("summary") or "", "italic $text-muted"))

    def _views(self) -> list[MessageView]:
        return list(self.query_one("#messages").query_children(MessageView))

    def _move_to(self, index: int, *, animate: bool = True) -> None:
        views = self._views()
        if not views:
            return
        index = max(0, min(index, len(views) - 1))
        for v in views:
            v.set_class(v.index == index, "-cursor")
        self.cursor = index
        box = self.query_one("#messages", VerticalScroll)
        box.scroll_to_widget(views[index], animate=animate, top=True)
        self._show_header()

    # -- keys -------------------------------------------------------------------------

    @work(group="item", exit_on_error=False)
    async def action_related(self) -> None:
        """Pick among the conversations and memories closest to this one: a conversation
        opens, a memory is shown (by meaning with embeddings, else by shared words)."""
        from aimem.tui.screens.dialogs import PickDialog

        try:
            rows = await self.browser.db.call(lambda m: m.related(self.conv_id, limit=15))
        except AimemError as e:
            self.notify(str(e), severity="error")
            return
        if not rows:
            self.notify("Nothing related found.")
            return
        how = "by meaning" if rows[0]["by"] == "embeddings" else "by shared words"
        choices: list[tuple[str, Any]] = [
            (("memory: " + one_line(r.get("text") or "")[:90]) if r["kind"] == "memory"
             else one_line(r.get("title") or "(untitled)")[:90], r) for r in rows]
        picked = await self.app.push_screen_wait(PickDialog(f"Related, {how}", choices))
        if not picked:
            return
        if picked["kind"] == "conversation":
            self.app.push_screen(ConversationScreen(self.browser, picked["id"]))
        else:
            self.notify(picked.get("text") or "", title="Memory", timeout=10)

    def action_next_match(self, step: int) -> None:
        if not self.matches:
            self.notify("no message here matches the query" if self.state.query.strip()
                        else "no query: search first, then open a result", severity="warning")
            return
        if step > 0:
            following = [i for i in self.matches if i > self.cursor]
            target = following[0] if following else self.matches[0]
        else:
            before = [i for i in self.matches if i < self.cursor]
            target = before[-1] if before else self.matches[-1]
        self._move_to(target)

    def action_move(self, step: int) -> None:
        self._move_to(self.cursor + step)

    async def action_branches(self) -> None:
        """Show or hide the other branches, after the conversation's own messages."""
        if self.conv is None or not self.loaded:
            self.notify("still loading the conversation", severity="warning")
            return
        box = self.query_one("#messages", VerticalScroll)
        n = len(self.conv["messages"])
        if self.branches_shown:
            await box.query_children(".-branch").remove()
            self.branches_shown = False
            self._move_to(min(self.cursor, n - 1), animate=False)
            return
        if self.branches is None:
            try:
                d = await self.browser.db.call(
                    lambda m: m.show(self.conv_id, record=False, branches=True))
            except AimemError as e:
                self.notify(str(e), severity="error")
                return
            self.branches = d.get("branches") or []
        if not self.branches:
            self.notify("this conversation has no other branches")
            return
        everything = {m["id"]: m for m in self.conv["messages"] + self.branches}
        k = len(self.branches)
        sep = Static(Content.styled(
            f"other branches: {k} message{'s' if k != 1 else ''}, not part of the "
            "conversation above", "bold $text-secondary"), classes="-branch branch-rule")
        views = [MessageView(m, index=n + i, branch_note=_follows(m, everything))
                 for i, m in enumerate(self.branches)]
        await box.mount_all([sep, *views])
        self.branches_shown = True
        self._move_to(n)

    def action_back(self) -> None:
        self.dismiss(self.changed)

    # -- the current item -------------------------------------------------------------

    def target(self) -> Target | None:
        if self.conv is None:
            return None
        messages = self.conv["messages"] + (self.branches or [] if self.branches_shown else [])
        text = messages[self.cursor]["text"] if 0 <= self.cursor < len(messages) else None
        return Target("conversation", self.conv["id"], self.conv.get("title") or "(untitled)",
                      text)

    def search_state(self) -> SearchState:
        return self.state

    def item_changed(self, target: Target, *, deleted: bool = False) -> None:
        self.changed = True
        if deleted:
            self.dismiss(True)
        else:
            self._reload_header()


def _follows(m: dict[str, Any], everything: dict[str, dict[str, Any]]) -> str:
    """Where an off-branch message forks: after which message, in a few words."""
    parent = everything.get(m.get("parent_id") or "")
    if parent is None:
        return "at the start" if m.get("parent") is None else "after a message not kept"
    words = " ".join(parent["text"].split())
    return f"after “{words[:40] + ('…' if len(words) > 40 else '')}”"
