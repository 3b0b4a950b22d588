"""The memories view: every memory, newest first; add, edit, pin and delete them."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList

from aimem.errors import AimemError
from aimem.services import Archive
from aimem.tui.context import Context
from aimem.tui.db import Database
from aimem.tui.formatting import one_line
from aimem.tui.screens.dialogs import ConfirmDialog
from aimem.tui.screens.memory_editor import MemoryEditor
from aimem.tui.widgets.memory_list import MemoryList
from aimem.tui.widgets.paged_list import PagedList


async def edit_memory(screen: Screen[Any], db: Database,
                      mem_id: str | None) -> dict[str, Any] | None:
    """Open the editor on a memory (None: a new one) and save it; the saved memory.

    Call from a worker (it waits for the dialog).
    """
    try:
        old = await db.call(lambda m: m.show(mem_id, record=False)) if mem_id else None
    except AimemError as e:
        screen.notify(str(e), severity="error")
        return None
    fields = await screen.app.push_screen_wait(MemoryEditor(old))
    if fields is None:
        return None

    def save(m: Archive) -> dict[str, Any]:
        if old is None:
            return m.remember(fields["text"], kind=fields["kind"], tags=fields["tags"],
                              pin=fields["pin"])
        return m.update_memory(old["id"], text=fields["text"], kind=fields["kind"],
                               tags=fields["tags"], pin=fields["pin"])

    try:
        saved = await db.call(save)
    except AimemError as e:
        screen.notify(str(e), severity="error")
        return None
    if old is None and not saved.get("created", True):
        screen.notify("that memory was already there: refreshed it")
    else:
        screen.notify("saved the memory")
    return saved


class MemoriesScreen(Screen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", show=False)]

    def __init__(self, browser: Context) -> None:
        super().__init__()
        self.browser = browser
        self.changed = False

    def compose(self) -> ComposeResult:
        yield Label("Memories", id="memories-title")
        yield MemoryList(id="memories")
        yield Label("No memories yet: press a to add one (or aimem remember TEXT).",
                    id="empty")
        yield Footer()

    @property
    def memories(self) -> MemoryList:
        return self.query_one(MemoryList)

    def on_mount(self) -> None:
        self.memories.focus()
        self.reload()

    def reload(self, keep: str | None = None) -> None:
        self._load(append=False, keep=keep)

    @work(exclusive=True, group="memories", exit_on_error=False)
    async def _load(self, append: bool, keep: str | None = None) -> None:
        offset = len(self.memories.rows) if append else 0
        page = self.memories.page_size()
        try:
            rows = await self.browser.db.call(
                lambda m: m.list_memories(limit=page, offset=offset))
        except AimemError as e:
            self.notify(str(e), severity="error")
            return
        self.memories.show_rows(rows, more=len(rows) == page, append=append, keep=keep)
        n = len(self.memories.rows)
        self.query_one("#memories-title", Label).update(
            f"Memories  ({n}{'+' if self.memories.more else ''})")
        self.query_one("#empty", Label).display = not n

    @on(PagedList.NeedMore)
    def _more(self) -> None:
        self._load(append=True)

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.action_edit()

    # -- keys -------------------------------------------------------------------------

    @work(group="item", exit_on_error=False)
    async def action_add(self) -> None:
        saved = await edit_memory(self, self.browser.db, None)
        if saved:
            self.changed = True
            self.reload(keep=saved["id"])

    @work(group="item", exit_on_error=False)
    async def action_edit(self) -> None:
        current = self.memories.current
        if current is None:
            return
        saved = await edit_memory(self, self.browser.db, current["id"])
        if saved:
            self.changed = True
            self.reload(keep=saved["id"])

    @work(group="item", exit_on_error=False)
    async def action_pin(self) -> None:
        current = self.memories.current
        if current is None:
            return
        pin = not current.get("pinned")
        try:
            saved = await self.browser.db.call(
                lambda m: m.update_memory(current["id"], pin=pin))
        except AimemError as e:
            self.notify(str(e), severity="error")
            return
        self.changed = True
        index = self.memories.highlighted
        if index is not None:
            self.memories.update_row(index, saved)
        self.notify("pinned: inject blocks put it first" if pin else "unpinned")

    @work(group="item", exit_on_error=False)
    async def action_delete(self) -> None:
        current = self.memories.current
        if current is None:
            return
        title = one_line(current["text"])[:60]
        if not await self.app.push_screen_wait(ConfirmDialog(
                f"Delete the memory “{title}”? This cannot be undone.")):
            return
        try:
            await self.browser.db.call(lambda m: m.forget([current["id"]]))
        except AimemError as e:
            self.notify(str(e), severity="error")
            return
        self.changed = True
        index = self.memories.highlighted
        if index is not None:
            self.memories.remove_row(index)
        self.query_one("#empty", Label).display = not self.memories.rows
        self.notify(f"deleted the memory “{title}”")

    def action_copy(self) -> None:
        current = self.memories.current
        if current is not None:
            self.app.copy_to_clipboard(current["text"])
            self.notify(f"copied {len(current['text']):,} characters")

    def action_back(self) -> None:
        self.dismiss(self.changed)
