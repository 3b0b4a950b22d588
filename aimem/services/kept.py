"""Archives kept open between calls of the one-call Python API (``aimem.search``).

A script or notebook that calls ``aimem.search()`` in a loop would otherwise open the
database for every call: SQLite parses the whole schema again (~0.3 ms: six full-text
indexes and their tables) and starts with an empty page cache, so every index page a
query reads comes from the OS again. At M (250k messages) that is 1.2–1.7 ms of a
4–6 ms search. The TUI and the MCP server already keep one Archive for their lifetime;
this gives the Python API the same.

What keeps it correct:
- one Archive per thread (a sqlite3 connection belongs to the thread that opened it)
  and per process (a forked child never touches its parent's connection: it opens its own
  and leaves the inherited one alone, unclosed);
- the file is checked on every call (device and inode): a database removed or replaced
  (a restore, a new file at the same path) is opened afresh;
- on every call the two checks opening makes are made again: the schema version (another
  aimem may have migrated it) and imports whose process died (undone, as on open);
- every query starts its own read transaction, so each call sees what other processes
  committed; an idle connection holds no lock and blocks no writer or checkpoint.

``aimem.close()`` closes them (they are also closed when the interpreter exits).
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import TYPE_CHECKING

from aimem.paths import db_path

if TYPE_CHECKING:
    from aimem.services import Archive

_local = threading.local()
_inherited: list[object] = []  # a parent's Archives in a forked child: never used or closed


def archive(db: str | os.PathLike[str] | None) -> Archive:
    """The open Archive for ``db`` in this thread (opened, read-only use, when needed)."""
    from aimem.services import Archive

    path = os.path.abspath(db_path(db))
    kept: dict[str, tuple[tuple[int, int, int] | None, Archive]] = (
        _local.__dict__.setdefault("kept", {}))
    key = _identity(path)
    entry = kept.get(path)
    if entry is not None and key is not None and entry[0] == key:
        entry[1].store.refresh()
        return entry[1]
    _drop(kept, path)
    mem = Archive.open(path, create=False)  # a missing file: the usual error
    kept[path] = (_identity(path), mem)
    return mem


def _identity(path: str) -> tuple[int, int, int] | None:
    """The file (device, inode) and this process; None when it cannot be looked at."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, os.getpid())


def _drop(kept: dict[str, tuple[tuple[int, int, int] | None, Archive]], path: str) -> None:
    entry = kept.pop(path, None)
    if entry is None:
        return
    if entry[0] is None or entry[0][2] == os.getpid():
        entry[1].close()
    else:
        _inherited.append(entry[1])


def close_all() -> None:
    """Close the Archives this thread keeps (each thread closes its own; at exit, those of
    threads still running are left to the operating system)."""
    kept = _local.__dict__.get("kept", {})
    for path in list(kept):
        _drop(kept, path)


def _at_exit() -> None:
    try:
        close_all()
    except Exception:  # noqa: BLE001 - leaving anyway; SQLite recovers an unclosed file
        pass


def _after_fork() -> None:
    # the child's copy of the forking thread's dict: keep the parent's Archives alive
    # (closing an inherited SQLite connection in a child can disturb the parent's locks)
    kept = _local.__dict__.get("kept", {})
    _inherited.extend(mem for _, mem in kept.values())
    kept.clear()


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
