"""aimem's SQLite store: the only package with SQL (and the only one aimem's own database
is opened in). Services call it; front ends never import it (``make lint`` checks that).

- :mod:`aimem.store.db`: :class:`~aimem.store.db.Store`, the connection and its writes
- :mod:`aimem.store.migrations`: the numbered, append-only schema migrations
- :mod:`aimem.store.search`: full-text search (FTS5) and its snippets
- :mod:`aimem.store.cjk`, :mod:`aimem.store.vectors`, :mod:`aimem.store.runs`,
  :mod:`aimem.store.devices`, :mod:`aimem.store.health`: the rest

Importing this package loads nothing (its modules are imported by name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aimem.store.db import Store


@contextmanager
def interruptible(store: Store, check: Callable[[], bool], *,
                  every: int = 10_000) -> Iterator[None]:
    """Statements run in the block stop once ``check()`` is true, raising aimem's own
    :class:`~aimem.errors.Interrupted` (not ``sqlite3``'s error), so callers need not
    know SQLite. ``check`` runs on the store's thread every ``every`` SQLite steps."""
    import sqlite3

    from aimem.errors import Interrupted, is_interrupt

    store.abort_when(check, every=every)
    try:
        yield
    except sqlite3.OperationalError as e:
        if is_interrupt(e):
            raise Interrupted() from None
        raise
    finally:
        store.abort_when(None)


__all__ = ["interruptible"]
