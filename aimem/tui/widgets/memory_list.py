"""The memories view's list: every memory, newest first, a page at a time."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from aimem.tui.formatting import memory_prompt
from aimem.tui.widgets.paged_list import PagedList


class MemoryList(PagedList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "screen.add", "Add"),
        Binding("enter,e", "screen.edit", "Edit"),
        Binding("p", "screen.pin", "Pin"),
        Binding("d", "screen.delete", "Delete"),
        Binding("c", "screen.copy", "Copy"),
        Binding("q", "screen.back", "Back"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(prompt=memory_prompt, id=id)
