"""A list of rows loaded a page at a time, the next page on demand.

Only the rows fetched so far are in the list (a page at a time); moving near the end,
or pressing ``end``, asks the screen for the next page with a :class:`NeedMore` message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

NEAR_END = 5
MIN_PAGE = 20
LINES_PER_ROW = 2  # every list's rows are two lines (formatting.result_prompt, memory_prompt)


class PagedList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("end", "last", "Last", show=False)]

    class NeedMore(Message):
        """The cursor is near the end of what is loaded, and more rows may exist."""

    def __init__(self, *, prompt: Callable[[dict[str, Any]], Content],
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[dict[str, Any]] = []
        self.more = False
        self._prompt = prompt
        self._asked = False

    def show_rows(self, rows: list[dict[str, Any]], *, more: bool, append: bool = False,
                  keep: str | None = None) -> None:
        """Replace (or extend) the rows; ``keep``: an id to keep the cursor on."""
        if append:
            seen = {r["id"] for r in self.rows}
            rows = [r for r in rows if r["id"] not in seen]
            self.rows += rows
            self.add_options(Option(self._prompt(r)) for r in rows)
        else:
            self.rows = list(rows)
            self.set_options(Option(self._prompt(r)) for r in self.rows)
            index = next((i for i, r in enumerate(self.rows) if r["id"] == keep), 0)
            self.highlighted = index if self.rows else None
        self.more = more
        self._asked = False

    def update_row(self, index: int, row: dict[str, Any]) -> None:
        self.rows[index] = row
        self.replace_option_prompt_at_index(index, self._prompt(row))

    def remove_row(self, index: int) -> None:
        del self.rows[index]
        self.remove_option_at_index(index)

    def page_size(self) -> int:
        """How many rows to load at a time: as many as the terminal can show, and NEAR_END
        more so the cursor can move before the next page is asked for (at least MIN_PAGE).

        Not a fixed 50: every row loaded is formatted and measured on each keystroke, shown
        or not (~0.2 ms a row), and on the M benchmark that made the slowest keystrokes
        pass 100 ms. The terminal's height, not the list's: known before the list is laid
        out, and the same for every page."""
        return max(MIN_PAGE, self.app.size.height // LINES_PER_ROW + NEAR_END)

    @property
    def current(self) -> dict[str, Any] | None:
        if self.highlighted is None or not 0 <= self.highlighted < len(self.rows):
            return None
        return self.rows[self.highlighted]

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if (highlighted is not None and self.more and not self._asked
                and highlighted >= len(self.rows) - NEAR_END):
            self._asked = True
            self.post_message(self.NeedMore())

    def on_resize(self) -> None:
        """A taller terminal shows more rows than were loaded: ask for the next page."""
        if self.more and not self._asked and len(self.rows) < self.page_size():
            self._asked = True
            self.post_message(self.NeedMore())

    def action_last(self) -> None:
        if self.more and not self._asked:
            self._asked = True
            self.post_message(self.NeedMore())
        super().action_last()
