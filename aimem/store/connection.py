"""Opening the database, its pragmas, and the write lock taken fairly between processes."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from aimem.errors import AimemError, DatabaseMissing
from aimem.store import cjk, migrations
from aimem.store.common import _FULL, _READONLY, BUSY_TIMEOUT_MS, is_busy

# A process that took the write lock and finds others waiting for it (see Store.begin)
# pauses this long at most after a commit, so that they get their turn.
YIELD_S = 0.25


class Connection:
    """The connection of a :class:`aimem.store.db.Store`: opening, transactions, locking.

    Not thread-safe: open one Store per thread.
    """

    conn: sqlite3.Connection
    path: Path

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path
        self.recovered: list[Any] = []  # unfinished imports undone on open (runs.Undone)
        self._wait_fd: int | None = None
        self._children: list[tuple[str, str]] | None = None


    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True,
             busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Self:
        """Open (and migrate) the database at ``path``.

        With ``create=False`` a missing database is an error instead of a new file:
        read-only commands never create one. ``busy_timeout_ms``: how long to wait for
        another writer's lock (hooks wait less than commands).
        """
        path = Path(path)
        if not path.exists():
            if not create:
                raise DatabaseMissing(
                    f"no database at {path}: import something first (aimem import FILE), "
                    "or point --db at an existing one")
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        elif path.is_dir():
            raise AimemError(f"{path} is a directory, not a database file")
        try:
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cjk.register(conn)
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrations.apply(conn)
        except sqlite3.DatabaseError as e:
            from aimem.errors import database_error_message

            raise AimemError(database_error_message(e, path)) from None
        store = cls(conn, path)
        store.recover()
        return store

    def refresh(self) -> None:
        """What opening checks, again, for a connection kept open between calls: the
        schema version (another aimem may have migrated the file since) and imports whose
        process died meanwhile (undone). Two small reads when nothing changed."""
        try:
            migrations.apply(self.conn)
        except sqlite3.DatabaseError as e:
            from aimem.errors import database_error_message

            raise AimemError(database_error_message(e, self.path)) from None
        self.recover()

    def recover(self) -> None:
        """Undo the imports whose process died before finishing (see aimem.store.runs)."""
        from aimem.store import runs

        try:
            self.recovered += runs.recover(self)
        except sqlite3.OperationalError as e:
            if (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF not in (_READONLY, _FULL):
                raise
            # a read-only database or a full disk: reads still work, the next writer
            # that can write undoes the run

    def bulk_cache(self, megabytes: int = 64) -> None:
        """A bigger page cache for long writes (imports): FTS5 merges its index segments
        in it. SQLite's default (2 MB) makes an import of 250k messages ~15 % slower."""
        self.conn.execute(f"PRAGMA cache_size = {-1024 * int(megabytes)}")

    def flock_fds(self) -> list[int]:
        """The descriptors this connection holds flocks on (the fair lock's wait file). A
        forked child closes them: a flock belongs to the open file, which the child
        shares, so a child that kept them would hold the lock after this process died."""
        return [] if self._wait_fd is None else [self._wait_fd]

    def close(self) -> None:
        if self._wait_fd is not None:
            os.close(self._wait_fd)
            self._wait_fd = None
        self.conn.close()

    def abort_when(self, check: Callable[[], bool] | None, *, every: int = 10_000) -> None:
        """Stop the running statement (sqlite3 "interrupted") once ``check()`` is true."""
        if check is None:
            self.conn.set_progress_handler(None, 0)
        else:
            self.conn.set_progress_handler(lambda: 1 if check() else 0, every)

    @contextmanager
    def transaction(self, *, rollback: bool = False,
                    timeout: float | None = None) -> Iterator[None]:
        """One write transaction; rolled back on error (or always, with ``rollback``).

        ``timeout``: how long to wait for another process's write transaction (default
        30 s); past it, sqlite3.OperationalError "database is locked".
        """
        self.begin(timeout=timeout)
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        if rollback:
            self.rollback()
        else:
            self.commit()

    def begin(self, *, timeout: float | None = None) -> None:
        """BEGIN IMMEDIATE: take the write lock before reading anything.

        (A deferred transaction that reads then writes cannot wait for the lock in WAL
        mode: it fails at once with "database is locked". Every aimem write starts here.)

        When another process holds the lock, this one says so by holding a shared flock
        on the database's wait file while it waits; a long writer (an import) checks that
        file after each commit and lets the waiters in (:meth:`yield_to_waiters`). SQLite's
        busy handler alone is not fair: it sleeps and retries, and a process that commits
        and begins again at once would win nearly every time.
        """
        conn = self.conn
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as e:
            if not is_busy(e):
                raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        waiting = self._wait_file()
        if waiting is not None:
            try:
                fcntl.flock(waiting, fcntl.LOCK_SH)
            except OSError:
                pass
        try:
            if timeout is not None:
                conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            conn.execute("BEGIN IMMEDIATE")
        finally:
            if timeout is not None:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if waiting is not None:
                os.close(waiting)  # releases the shared lock

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def _wait_file(self) -> int | None:
        """A new descriptor of the wait file (a flock per descriptor), or None."""
        from aimem.store.runs import lock_dir

        try:
            folder = lock_dir(self.path)
            folder.mkdir(mode=0o700, exist_ok=True)
            return os.open(folder / "wait", os.O_CREAT | os.O_RDWR, 0o600)
        except OSError:
            return None  # a read-only folder: plain waiting, still correct

    def others_waiting(self) -> bool | None:
        """Whether another aimem process waits for the write lock now (it holds the wait
        file shared, see :meth:`begin`); None when that cannot be told (no wait file).
        Two system calls: cheap enough to ask after every conversation of an import."""
        if self._wait_fd is None:
            self._wait_fd = self._wait_file()
            if self._wait_fd is None:
                return None
        try:
            fcntl.flock(self._wait_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return None
        fcntl.flock(self._wait_fd, fcntl.LOCK_UN)
        return False

    def yield_to_waiters(self, max_wait: float = YIELD_S) -> bool:
        """Between two batches of a long write: if other processes wait for the write
        lock, pause (at most ``max_wait`` s) until they got it. True if one was waiting."""
        if self._wait_fd is None:
            self._wait_fd = self._wait_file()
            if self._wait_fd is None:
                return False
        deadline = time.monotonic() + max_wait
        waited = False
        while True:
            try:
                fcntl.flock(self._wait_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waited = True
                if time.monotonic() >= deadline:
                    return waited
                time.sleep(0.002)
                continue
            except OSError:
                return waited
            fcntl.flock(self._wait_fd, fcntl.LOCK_UN)
            return waited

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)
