"""The SQLite store: one open database, and every read and write aimem makes.

All SQL lives in ``aimem.store``. :class:`Store` is assembled from one part per concern:

- :mod:`aimem.store.connection`: opening, pragmas, transactions, the fair write lock;
- :mod:`aimem.store.conversations`: conversation, message, branch and summary writes,
  with the full-text indexes kept in step, and the snapshots an import run restores;
- :mod:`aimem.store.memories`: memories, tags, recall counters, profile, sync sources;
- :mod:`aimem.store.reads`: lookups, listings, statistics, llm task candidates;
- :mod:`aimem.store.common`: what they share (filters as SQL, JSON columns, error tests).
"""

from __future__ import annotations

from aimem.store.common import (
    _FULL,
    _READONLY,
    BUSY_TIMEOUT_MS,
    _extra_json,
    _extra_load,
    _json_safe,
    _json_unsafe,
    filter_sql,
    is_busy,
    memory_filter_sql,
)
from aimem.store.connection import YIELD_S, Connection
from aimem.store.conversations import ConversationWrites
from aimem.store.memories import USE_TIMEOUT_S, MemoryWrites
from aimem.store.reads import Reads

__all__ = ["BUSY_TIMEOUT_MS", "USE_TIMEOUT_S", "YIELD_S", "Store", "filter_sql", "is_busy",
           "memory_filter_sql", "_FULL", "_READONLY", "_extra_json", "_extra_load",
           "_json_safe", "_json_unsafe"]


class Store(Connection, ConversationWrites, MemoryWrites, Reads):
    """One open database. Not thread-safe: open one Store per thread."""
