"""Where the database lives: --db > AIMEM_DB > $AIMEM_HOME/aimem.db > user data dir.

No I/O at import time; platformdirs is imported only when it is needed.
"""

from __future__ import annotations

import os
from pathlib import Path

DB_NAME = "aimem.db"


def home_dir() -> Path:
    """The folder aimem keeps its files in ($AIMEM_HOME or the user data dir)."""
    home = os.environ.get("AIMEM_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("aimem", appauthor=False))


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the database path, first match wins."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("AIMEM_DB")
    if env:
        return Path(env).expanduser()
    return home_dir() / DB_NAME
