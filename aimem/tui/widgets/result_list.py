"""The search results: conversations, messages and memories, a page at a time."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from aimem.tui.formatting import result_prompt
from aimem.tui.widgets.paged_list import PagedList


class ResultList(PagedList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open"),
        Binding("slash", "screen.focus_search", "Search"),
        Binding("t", "screen.tags", "Tags"),
        Binding("y", "screen.copy_inject", "Copy inject"),
        Binding("c", "screen.copy", "Copy"),
        Binding("e", "screen.export", "Export"),
        Binding("s", "screen.summarize", "Summarize"),
        Binding("d", "screen.delete", "Delete"),
        Binding("m", "app.memories", "Memories"),
        Binding("q", "screen.back", "Quit"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(prompt=result_prompt, id=id)
