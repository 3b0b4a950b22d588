"""Every key binding, screen by screen, read from the bindings themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from aimem.tui.context import SUMMARIZE_HINT, ModelStatus

BEFORE = {
    "Search": [("type", "search as you type (an empty box lists the newest)"),
               ("↓ ↑ tab", "into the results"), ("esc", "to the results, then quit")],
}
AFTER = {
    "Results": [("other letters", "back to typing in the search box")],
    "Everywhere": [("ctrl+p", "command palette: themes, memories, keys"),
                   ("ctrl+q", "quit at once")],
}
KEY_NAMES = {"question_mark": "?", "slash": "/", "escape": "esc"}


def key_names(keys: str) -> str:
    return " ".join(KEY_NAMES.get(k, k) for k in keys.split(","))


def _bindings(bindings: Sequence[object]) -> list[Binding]:
    return [b for b in bindings if isinstance(b, Binding) and b.description]


def sections(app_bindings: Sequence[object],
             model: ModelStatus) -> list[tuple[str, list[tuple[str, str]]]]:
    """The help text: ``app_bindings`` are the app's own (the "Everywhere" keys)."""
    from aimem.tui.screens.conversation import ConversationScreen
    from aimem.tui.screens.search import SearchScreen
    from aimem.tui.widgets.memory_list import MemoryList
    from aimem.tui.widgets.result_list import ResultList

    groups: list[tuple[str, list[Any]]] = [
        ("Search", _bindings(SearchScreen.BINDINGS)), ("Results", _bindings(ResultList.BINDINGS)),
        ("Conversation", _bindings(ConversationScreen.BINDINGS)),
        ("Memories", _bindings(MemoryList.BINDINGS)), ("Everywhere", _bindings(app_bindings)),
    ]
    out = []
    for name, bindings in groups:
        rows = [(key_names(b.key),
                 b.description + (f" ({SUMMARIZE_HINT})" if b.action.endswith("summarize")
                                  and not model.ready else "")) for b in bindings]
        out.append((name, BEFORE.get(name, []) + rows + AFTER.get(name, [])))
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close"),
    ]

    def __init__(self, app_bindings: Sequence[object], model: ModelStatus) -> None:
        super().__init__(classes="dialog")
        self.app_bindings = app_bindings
        self.model = model

    def compose(self) -> ComposeResult:
        parts: list[str | tuple[str, str]] = []
        for name, rows in sections(self.app_bindings, self.model):
            parts += [(name, "bold $text-accent"), "\n"]
            for key, what in rows:
                parts += [(f"  {key:<14}", "bold"), f"{what}\n"]
            parts.append("\n")
        parts.append(("esc closes this", "$text-muted"))
        with VerticalScroll(classes="dialog-box help-box"):
            yield Static(Content.assemble(*parts), id="help-text")
