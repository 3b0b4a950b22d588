"""The browser's way to the database: one Archive, used on one thread of its own.

SQLite connections must stay on the thread that opened them, and the UI thread must
never wait for a query. So every call goes to a single worker thread that owns the
:class:`~aimem.services.Archive`; the UI awaits the result. Search-as-you-type adds one
rule: a newer search makes the older one stale. A stale search that has not started is
skipped, and one that is running stops at its next check (``Archive.interruptible``), so
the newest keystroke never waits behind queries nobody will see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from aimem.errors import Interrupted
from aimem.services import Archive

T = TypeVar("T")


class Stale(Exception):
    """This search was overtaken by a newer one; its result would only be thrown away."""


class Database:
    def __init__(self, path: Path):
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aimem-db")
        self._mem: Archive | None = None
        self._search_gen = 0  # bumped on the UI thread, read on the database thread

    def _memory(self) -> Archive:  # on the database thread only
        if self._mem is None:
            self._mem = Archive.open(self.path, create=False)
        return self._mem

    async def call(self, fn: Callable[[Archive], T]) -> T:
        """``fn(memory)`` on the database thread."""
        return await asyncio.wrap_future(self._pool.submit(lambda: fn(self._memory())))

    async def search(self, fn: Callable[[Archive], T]) -> T:
        """Like :meth:`call` for a query a newer one replaces; raises :class:`Stale`."""
        self._search_gen += 1
        gen = self._search_gen

        def stale() -> bool:
            return gen != self._search_gen

        def job() -> T:
            if stale():
                raise Stale()
            mem = self._memory()
            try:
                with mem.interruptible(stale):
                    return fn(mem)
            except Interrupted:
                raise Stale() from None

        return await asyncio.wrap_future(self._pool.submit(job))

    def close(self) -> None:
        def _close() -> None:
            if self._mem is not None:
                self._mem.close()
                self._mem = None

        self._pool.submit(_close)
        self._pool.shutdown(wait=True, cancel_futures=False)
