"""One line that always shows the scope and filters in force, and how many rows are shown."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from aimem.tui.search_state import SearchState

KEYS = {"scope": "^r", "source": "^s", "tag": "^t", "time": "^o", "mode": "^g"}
WIDE = 100  # columns from which each filter shows its key too (the footer always does)


class FilterBar(Static):
    def show(self, state: SearchState, status: str = "") -> None:
        parts: list[str | tuple[str, str]] = []
        wide = (self.size.width or self.app.size.width) >= WIDE
        for label, value, active in state.describe():
            if wide:
                parts.append((f"{KEYS[label]} ", "$text-muted"))
            parts += [(f"{label}:", "$text-muted"), (value, "bold $text-accent" if active else ""),
                      "  "]
        if status:
            parts.append((status, "$text-muted"))
        # one line, always (search.tcss): no layout pass for the whole screen on each update
        self.update(Content.assemble(*parts), layout=False)
