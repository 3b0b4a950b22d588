"""A line that shows slow work in progress (summarizing), hidden the rest of the time."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, LoadingIndicator


class BusyLine(Horizontal):
    def compose(self) -> ComposeResult:
        yield LoadingIndicator()
        yield Label("", id="busy-text")

    def start(self, text: str) -> None:
        self.query_one("#busy-text", Label).update(text)
        self.add_class("-busy")

    def stop(self) -> None:
        self.remove_class("-busy")

    @property
    def busy(self) -> bool:
        return self.has_class("-busy")
