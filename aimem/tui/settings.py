"""What the browser remembers between runs: the theme picked in the command palette.

A ``TEXTUAL_THEME`` in the environment wins over it (the user's Textual-wide choice).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aimem.paths import home_dir


def _file() -> Path:
    return home_dir() / "browse.json"


def saved_theme() -> str | None:
    if os.environ.get("TEXTUAL_THEME"):
        return None
    try:
        theme = json.loads(_file().read_text(encoding="utf-8")).get("theme")
    except (OSError, ValueError, AttributeError):
        return None
    return theme if isinstance(theme, str) else None


def save_theme(theme: str) -> None:
    try:
        path = _file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"theme": theme}) + "\n", encoding="utf-8")
    except OSError:
        pass  # a read-only home: the theme is simply not remembered
