"""Add or edit one memory: its text, kind, tags and pin. Returns the fields, or None."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, TextArea

from aimem.models import MEMORY_KINDS


def split_tags(text: str) -> list[str]:
    return list(dict.fromkeys(t.strip().lstrip("#") for t in text.replace(",", " ").split()
                              if t.strip().lstrip("#")))


class MemoryEditor(ModalScreen[dict[str, Any] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    def __init__(self, memory: dict[str, Any] | None = None) -> None:
        super().__init__(classes="dialog")
        self.memory = memory or {}

    def compose(self) -> ComposeResult:
        m = self.memory
        with Vertical(classes="dialog-box memory-editor"):
            yield Label("Edit memory" if m.get("id") else "New memory", classes="dialog-question")
            yield TextArea(m.get("text", ""), id="text", soft_wrap=True, show_line_numbers=False)
            with Horizontal(classes="memory-fields"):
                yield Select([(k, k) for k in MEMORY_KINDS], value=m.get("kind") or "fact",
                             allow_blank=False, id="kind")
                yield Checkbox("pinned", value=bool(m.get("pinned")), id="pinned")
            yield Input(" ".join(m.get("tags") or []), placeholder="tags, separated by spaces",
                        id="tags")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.notify("a memory needs some text", severity="warning")
            return
        self.dismiss({"text": text, "kind": str(self.query_one(Select).value),
                      "pin": self.query_one(Checkbox).value,
                      "tags": split_tags(self.query_one("#tags", Input).value)})

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
