"""One line that always shows the scope and filters in force, and how many rows are shown."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from aimem.tui.search_state import SearchState

KEYS = {"scope": "^r", "source": "^s", "tag": "^t", "time": "^o", "mode": "^g"}


class FilterBar(Static):
    def show(self, state: SearchState, status: str = "") -> None:
        parts: list[str | tuple[str, str]] = []
        for label, value, active in state.describe():
            parts += [(f"{KEYS[label]} ", "$text-muted"), (f"{label}:", "$text-muted"),
                      (value, "bold $text-accent" if active else ""), "  "]
        if status:
            parts.append((status, "$text-muted"))
        self.update(Content.assemble(*parts))
