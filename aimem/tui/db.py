"""The browser's way to the database: one Memory, used on one thread of its own.

SQLite connections must stay on the thread that opened them, and the UI thread must
never wait for a query. So every call goes to a single worker thread that owns the
:class:`~aimem.services.Memory`; the UI awaits the result. Search-as-you-type adds one
rule: a newer search makes the older one stale. A stale search that has not started is
skipped, and one that is running is interrupted (``Memory.interrupt``), so the newest
keystroke never waits behind queries nobody will see.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from aimem.services import Memory

T = TypeVar("T")


class Stale(Exception):
    """This search was overtaken by a newer one; its result would only be thrown away."""


class Database:
    def __init__(self, path: Path):
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aimem-db")
        self._mem: Memory | None = None
        self._lock = threading.Lock()
        self._search_gen = 0
        self._running: int | None = None  # generation of the search running now

    def _memory(self) -> Memory:  # on the database thread only
        if self._mem is None:
            self._mem = Memory.open(self.path, create=False)
        return self._mem

    async def call(self, fn: Callable[[Memory], T]) -> T:
        """``fn(memory)`` on the database thread."""
        return await asyncio.wrap_future(self._pool.submit(lambda: fn(self._memory())))

    async def search(self, fn: Callable[[Memory], T]) -> T:
        """Like :meth:`call` for a query a newer one replaces; raises :class:`Stale`."""
        with self._lock:
            self._search_gen += 1
            gen = self._search_gen
            if self._running is not None and self._mem is not None:
                self._mem.interrupt()  # the lock keeps the thread inside that stale search

        def job() -> T:
            with self._lock:
                if gen != self._search_gen:
                    raise Stale()
                self._running = gen
            try:
                mem = self._memory()
                try:
                    return fn(mem)
                except sqlite3.OperationalError as e:
                    if "interrupt" not in str(e):
                        raise
                    if gen != self._search_gen:
                        raise Stale() from None
                    return fn(mem)  # an interrupt meant for the search before: once more
            finally:
                with self._lock:
                    self._running = None

        return await asyncio.wrap_future(self._pool.submit(job))

    def close(self) -> None:
        def _close() -> None:
            if self._mem is not None:
                self._mem.close()
                self._mem = None

        self._pool.submit(_close)
        self._pool.shutdown(wait=True, cancel_futures=False)
