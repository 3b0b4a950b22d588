"""The browser app: a thin shell that owns the database helper and the screens.

The app makes the :class:`~aimem.tui.context.Context` (database, llm model status) and
hands it to each screen it pushes; screens never reach into the app for it.

Behaviour lives in the screens (search, conversation, memories) and their dialogs;
styles in the ``.tcss`` files beside this module; the theme is the user's (Textual's
``TEXTUAL_THEME``, or the one last picked with ctrl+p).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from aimem.tui import settings
from aimem.tui.context import Context
from aimem.tui.db import Database
from aimem.tui.screens.search import SearchScreen

STYLES = ("app.tcss", "search.tcss", "conversation.tcss", "memories.tcss", "dialogs.tcss")


class BrowseApp(App[int]):
    TITLE = "aimem"
    CSS_PATH: ClassVar = [Path(__file__).parent / "styles" / name for name in STYLES]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Keys"),
        Binding("f2", "memories", "Memories", show=False),
    ]

    def __init__(self, db: Path, *, query: str = "") -> None:
        super().__init__()
        self.context = Context(Database(db))
        self.initial_query = query

    def get_default_screen(self) -> Screen[None]:
        return SearchScreen(self.context, self.initial_query)

    def on_mount(self) -> None:
        theme = settings.saved_theme()
        if theme and theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, lambda theme: settings.save_theme(theme.name))

    def on_unmount(self) -> None:
        self.context.db.close()

    def action_help(self) -> None:
        from aimem.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.BINDINGS, self.context.model))

    def action_memories(self) -> None:
        from aimem.tui.screens.memories import MemoriesScreen

        if isinstance(self.screen, MemoriesScreen):
            return
        self.push_screen(MemoriesScreen(self.context), self._memories_closed)

    def _memories_closed(self, changed: bool | None) -> None:
        if changed and isinstance(self.screen, SearchScreen):
            self.screen.reload()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Memories", "List, add, edit, pin and delete memories",
                            self.action_memories)
        yield SystemCommand("Keys", "Every key binding of the browser", self.action_help)
