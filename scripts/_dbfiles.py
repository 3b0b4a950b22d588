"""Shared by the benchmark scripts: remove a scratch database and everything beside it."""

from __future__ import annotations

import shutil
from pathlib import Path


def remove_db(db: Path) -> None:
    """``db`` with its -wal/-shm files, its ``-locks`` folder and its vector files."""
    for p in db.parent.glob(db.name + "*"):
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()
