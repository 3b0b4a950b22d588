"""The first screen: a search box over a result list, results changing as you type.

Each keystroke starts an exclusive worker (a newer one cancels the older), and the
database helper skips or interrupts a stale query, so what is shown always belongs to
what is typed. An empty box lists the newest conversations (or memories).
"""

from __future__ import annotations

from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Label, OptionList

from aimem.errors import AimemError
from aimem.tui import heap
from aimem.tui.context import Context
from aimem.tui.db import Stale
from aimem.tui.formatting import one_line, title_of
from aimem.tui.screens.item_actions import ItemActions, Target
from aimem.tui.search_state import SearchState, fetch
from aimem.tui.widgets.busy_line import BusyLine
from aimem.tui.widgets.filter_bar import FilterBar
from aimem.tui.widgets.paged_list import PagedList
from aimem.tui.widgets.result_list import ResultList
from aimem.tui.widgets.search_box import SearchBox

RESULT_KEYS = {k for b in ResultList.BINDINGS if isinstance(b, Binding) for k in b.key.split(",")}
PLACEHOLDER = 'Search: words, "a phrase", prefix*, -word, title:, role:, source:, tag:'


class SearchScreen(ItemActions):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "cycle_scope", "Scope"),
        Binding("ctrl+s", "cycle_source", "Source"),
        Binding("ctrl+t", "pick_tag", "Tag"),
        Binding("ctrl+o", "cycle_period", "Time"),
        Binding("ctrl+g", "cycle_mode", "Mode"),
        Binding("ctrl+l", "clear_filters", "Clear filters", show=False),
        Binding("down", "into_results('cursor_down')", show=False),
        Binding("up", "into_results('cursor_up')", show=False),
        Binding("pagedown", "into_results('page_down')", show=False),
        Binding("pageup", "into_results('page_up')", show=False),
        Binding("tab", "into_results('')", show=False),
        Binding("escape", "back", show=False),
    ]

    def __init__(self, browser: Context, query: str = "") -> None:
        super().__init__(browser)
        self.state = SearchState(query=query)
        self.shown: SearchState | None = None  # the state the rows on screen belong to
        self.warning: str | None = None  # why meaning was not searched (words only)
        self.warmed = False  # the model and vectors of a default search loaded (or none)

    def compose(self) -> ComposeResult:
        yield SearchBox(self.state.query, placeholder=PLACEHOLDER, id="query")
        yield FilterBar(id="filters")
        yield ResultList(id="results")
        yield Label("", id="empty")
        yield BusyLine()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(SearchBox).focus()
        self.query_one(FilterBar).show(self.state, "loading…")
        self.reload()

    @property
    def results(self) -> ResultList:
        return self.query_one(ResultList)

    # -- loading ----------------------------------------------------------------------

    def reload(self, keep: str | None = None) -> None:
        self._load(self.state, append=False, keep=keep)

    @work(exclusive=True, group="results", exit_on_error=False)
    async def _load(self, state: SearchState, append: bool = False,
                    keep: str | None = None) -> None:
        results = self.results
        offset = len(results.rows) if append else 0
        page = results.page_size()
        try:
            rows, warning = await self.browser.db.search(
                lambda m: (fetch(m, state, page, offset), m.warning))
        except Stale:
            return
        except AimemError as e:
            self.query_one(FilterBar).show(state, str(e))
            return
        if state != self.state:
            return  # typed on meanwhile
        results.show_rows(rows, more=len(rows) == page, append=append, keep=keep)
        self.shown = state
        if not self.warmed:
            self.warmed = True
            self._warm()
            self.call_after_refresh(heap.settle)  # once the first rows are painted
        if not append:
            self.warning = warning
        self._show_status()

    @work(group="warm", exit_on_error=False)
    async def _warm(self) -> None:
        """After the first rows: load the embedding model and vectors if searches will use
        them, so the first query typed does not wait for them (a few hundred ms, once)."""
        await self.browser.db.call(lambda m: m.warm_semantic())

    def _show_status(self) -> None:
        results, state = self.results, self.state
        n = len(results.rows)
        if not state.query.strip():
            what = "memories" if state.scope == "memories" else "conversations"
            status = f"newest {what}" if n else f"no {what}"
        else:
            status = f"{n}{'+' if results.more else ''} results" if n else "no matches"
            if self.warning:
                status += f" · {self.warning}"
        self.query_one(FilterBar).show(state, status)
        empty = self.query_one("#empty", Label)
        empty.display = not n
        if not n:
            empty.update("Nothing matches. Fewer words, prefix* or ^l (clear filters) may help."
                         if state.query.strip() or state.filtered else
                         "Nothing here yet: import your conversations with aimem import FILE.")

    @on(PagedList.NeedMore)
    def _more(self) -> None:
        if self.shown == self.state:
            self._load(self.state, append=True)

    @on(Input.Changed, "#query")
    def _typed(self, event: Input.Changed) -> None:
        if event.value != self.state.query:
            self._set_state(self.state.with_query(event.value))

    def _set_state(self, state: SearchState) -> None:
        self.state = state
        self.query_one(FilterBar).show(state, "searching…")
        self.reload()

    # -- keys -------------------------------------------------------------------------

    def action_cycle_scope(self) -> None:
        self._set_state(self.state.next_scope())

    @work(group="filters", exit_on_error=False)
    async def action_cycle_source(self) -> None:
        stats = await self.browser.db.call(lambda m: m.stats())
        sources = [s["source"] for s in stats["by_source"]]
        self._set_state(self.state.next_source(sources))

    @work(group="item", exit_on_error=False)
    async def action_pick_tag(self) -> None:
        from aimem.tui.screens.dialogs import PickDialog

        tags = await self.browser.db.call(lambda m: m.list_tags())
        choices: list[tuple[str, str]] = [("any tag", "")] + [
            (f"#{t['name']}  ({t['conversations']} conversations, {t['memories']} memories)",
             t["name"]) for t in tags]
        tag = await self.app.push_screen_wait(PickDialog("Show only items with the tag", choices))
        if tag is not None:
            self._set_state(self.state.with_tag(tag or None))

    def action_cycle_period(self) -> None:
        self._set_state(self.state.next_period())

    def action_cycle_mode(self) -> None:
        self._set_state(self.state.next_mode())

    def action_clear_filters(self) -> None:
        self._set_state(self.state.cleared())

    def action_into_results(self, move: str) -> None:
        results = self.results
        if not self.query_one(SearchBox).has_focus:
            return
        results.focus()
        if move:
            getattr(results, f"action_{move}")()

    def action_focus_search(self) -> None:
        self.query_one(SearchBox).focus()

    def action_back(self) -> None:
        box = self.query_one(SearchBox)
        if box.has_focus and self.results.rows:
            self.results.focus()
        else:
            self.app.exit(0)

    def on_key(self, event: events.Key) -> None:
        super().on_key(event)
        # typing while the list has focus goes on in the search box (atuin's feel)
        if (self.results.has_focus and event.is_printable and event.character
                and event.key not in RESULT_KEYS and not event.character.isspace()):
            box = self.query_one(SearchBox)
            box.focus()
            box.insert_text_at_cursor(event.character)
            event.stop()

    # -- opening ----------------------------------------------------------------------

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        if self.shown != self.state:
            return  # the rows on screen are for an earlier query: wait for this one
        if self.results.highlighted is not None:
            self.open_row(self.results.highlighted)

    @on(OptionList.OptionSelected, "#results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.open_row(event.option_index)

    def open_row(self, index: int) -> None:
        row = self.results.rows[index]
        if row["kind"] == "memory":
            self._edit_memory(row["id"])
            return
        from aimem.tui.screens.conversation import ConversationScreen

        focus = row["id"] if row["kind"] == "message" else None
        self.app.push_screen(ConversationScreen(self.browser, row["conversation_id"], focus=focus,
                                                state=self.state), self._returned)

    def _returned(self, changed: bool | None) -> None:
        if changed:
            current = self.results.current
            self.reload(keep=current["id"] if current else None)

    @work(group="item", exit_on_error=False)
    async def _edit_memory(self, mem_id: str) -> None:
        from aimem.tui.screens.memories import edit_memory

        if await edit_memory(self, self.browser.db, mem_id):
            self.reload(keep=mem_id)

    # -- the current item -------------------------------------------------------------

    def target(self) -> Target | None:
        row = self.results.current
        if row is None:
            return None
        if row["kind"] == "memory":
            text = row.get("text") or ""
            return Target("memory", row["id"], one_line(text)[:50], text)
        return Target("conversation", row["conversation_id"], title_of(row),
                      row.get("text") if row["kind"] == "message" else None)

    def search_state(self) -> SearchState:
        return self.state

    def item_changed(self, target: Target, *, deleted: bool = False) -> None:
        keep = None
        if deleted and self.results.highlighted is not None:
            rows = self.results.rows[self.results.highlighted + 1:]
            keep = next((r["id"] for r in rows
                         if target.id not in (r["id"], r.get("conversation_id"))), None)
        elif self.results.current:
            keep = self.results.current["id"]
        self.reload(keep=keep)
