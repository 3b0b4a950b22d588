"""The SQLite store: opening, transactions, and every read and write aimem makes.

All SQL lives in ``aimem.store``. The FTS5 indexes use external content (views over
the tables), so they are kept in step here, explicitly, on every insert and delete.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aimem import jsonio
from aimem.errors import AimemError, DatabaseMissing
from aimem.models import Conversation, Filters, MemoryItem, Message
from aimem.store import cjk, migrations

BUSY_TIMEOUT_MS = 30_000
_FTS_COLS = migrations.MESSAGE_FTS_COLUMNS
_READONLY, _FULL = 8, 13  # SQLite's primary result codes
# A process that took the write lock and finds others waiting for it (see Store.begin)
# pauses this long at most after a commit, so that they get their turn.
YIELD_S = 0.25
USE_TIMEOUT_S = 2.0  # a recall counter on a read path waits at most this long


def is_busy(e: BaseException) -> bool:
    """Whether an sqlite3 error is SQLITE_BUSY / SQLITE_LOCKED ("database is locked")."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)
    return "locked" in str(e) or "busy" in str(e)


def _extra_json(extra: dict[str, Any] | None) -> str | None:
    return jsonio.dumps_str(extra) if extra else None


def _extra_load(raw: str | None) -> dict[str, Any] | None:
    return jsonio.loads(raw) if raw else None


def _json_safe(v: Any) -> Any:
    return {"$bytes": v.hex()} if isinstance(v, bytes) else v


def _json_unsafe(v: Any) -> Any:
    return bytes.fromhex(v["$bytes"]) if isinstance(v, dict) else v


def filter_sql(f: Filters | None, conv: str = "c", msg: str | None = "m") -> tuple[str, list[Any]]:
    """SQL conditions (joined with AND, or "1") and parameters for the common filters."""
    if f is None:
        return "1", []
    where: list[str] = []
    params: list[Any] = []
    if f.sources:
        where.append(f"{conv}.source IN ({','.join('?' * len(f.sources))})")
        params += f.sources
    if f.tags:
        where.append(
            f"{conv}.rowid IN (SELECT ct.conversation FROM conversation_tags ct "
            f"JOIN tags t ON t.rowid = ct.tag WHERE t.name IN ({','.join('?' * len(f.tags))}))")
        params += f.tags
    time_col = f"coalesce({msg}.created_at, {conv}.created_at)" if msg else f"{conv}.created_at"
    if f.since is not None:
        where.append(f"{time_col} >= ?")
        params.append(f.since)
    if f.until is not None:
        where.append(f"{time_col} < ?")
        params.append(f.until)
    if f.roles and msg:
        where.append(f"{msg}.role IN ({','.join('?' * len(f.roles))})")
        params += f.roles
    if f.conversation:
        where.append(f"{conv}.id = ?")
        params.append(f.conversation)
    if f.project:
        where.append(_project_sql(f"{conv}.project"))
        params += _project_params(f.project)
    return (" AND ".join(where) or "1"), params


def _project_sql(col: str) -> str:
    # the folder itself or any folder below it ('/' + 1 is '0'): a range the index can use
    return f"({col} = ? OR ({col} >= ? AND {col} < ?))"


def _project_params(project: str) -> list[str]:
    root = project.rstrip("/") or "/"
    base = root if root.endswith("/") else root + "/"
    return [root, base, base[:-1] + "0"]


def memory_filter_sql(f: Filters | None, mem: str = "mm") -> tuple[str, list[Any]]:
    """The filters as they apply to memories (source = who saved it, time = last update)."""
    if f is None:
        return "1", []
    where: list[str] = []
    params: list[Any] = []
    if f.sources:
        where.append(f"{mem}.source IN ({','.join('?' * len(f.sources))})")
        params += f.sources
    if f.tags:
        where.append(
            f"{mem}.rowid IN (SELECT mt.memory FROM memory_tags mt "
            f"JOIN tags t ON t.rowid = mt.tag WHERE t.name IN ({','.join('?' * len(f.tags))}))")
        params += f.tags
    if f.since is not None:
        where.append(f"{mem}.updated_at >= ?")
        params.append(f.since)
    if f.until is not None:
        where.append(f"{mem}.updated_at < ?")
        params.append(f.until)
    if f.project:
        where.append(_project_sql(f"{mem}.project"))
        params += _project_params(f.project)
    return (" AND ".join(where) or "1"), params


class Store:
    """One open database. Not thread-safe: open one Store per thread."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path
        self.recovered: list[Any] = []  # unfinished imports undone on open (runs.Undone)
        self._wait_fd: int | None = None
        self._children: list[tuple[str, str]] | None = None

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True,
             busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Store:
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

    # -- conversations: writes ---------------------------------------------------------

    def conversation_state(self, conv_id: str) -> tuple[int, str | None, float | None] | None:
        """(rowid, content_hash, updated_at) of a stored conversation, or None."""
        return self.conn.execute(
            "SELECT rowid, content_hash, updated_at FROM conversations WHERE id = ?", (conv_id,)
        ).fetchone()

    def _conversation_row(self, c: Conversation, content_hash: str, now: float) -> tuple[Any, ...]:
        return (c.source, c.source_id, c.title, c.created_at, c.updated_at, c.model, c.project,
                content_hash, now, _extra_json(c.extra))

    def insert_conversation(self, c: Conversation, content_hash: str, now: float) -> int:
        cur = self.conn.execute(
            "INSERT INTO conversations (id, source, source_id, title, created_at, updated_at, "
            "model, project, content_hash, imported_at, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (c.id, *self._conversation_row(c, content_hash, now)))
        rowid = cur.lastrowid
        assert rowid is not None
        self._index_conversation(rowid)
        return rowid

    def update_conversation(self, rowid: int, c: Conversation, content_hash: str,
                            now: float) -> None:
        self._unindex_conversation(rowid)
        self.conn.execute(
            "UPDATE conversations SET source=?, source_id=?, title=?, created_at=?, "
            "updated_at=?, model=?, project=?, content_hash=?, imported_at=?, extra=? "
            "WHERE rowid = ?", (*self._conversation_row(c, content_hash, now), rowid))
        self._index_conversation(rowid)

    def _index_conversation(self, rowid: int) -> None:
        self.conn.execute(
            "INSERT INTO conversations_fts (rowid, title, summary) "
            "SELECT cid, title, summary FROM conversations_fts_content WHERE cid = ?", (rowid,))
        self.conn.execute(
            "INSERT INTO conversations_cjk (rowid, title, summary) "
            "SELECT cid, title, summary FROM conversations_cjk_content WHERE cid = ?", (rowid,))

    def _unindex_conversation(self, rowid: int) -> None:
        self.conn.execute(
            "INSERT INTO conversations_fts (conversations_fts, rowid, title, summary) "
            "SELECT 'delete', cid, title, summary FROM conversations_fts_content WHERE cid = ?",
            (rowid,))
        if self._cjk_used("conversations_cjk"):
            self.conn.execute(
                "INSERT INTO conversations_cjk (conversations_cjk, rowid, title, summary) "
                "SELECT 'delete', cid, title, summary FROM conversations_cjk_content "
                "WHERE cid = ?", (rowid,))

    # The CJK indexes (aimem.store.cjk) hold only the rows with CJK letters; their content
    # views compute the indexed form, so inserting and deleting go through the views.

    def _cjk_used(self, table: str) -> bool:
        """Whether a CJK index holds any row (an English-only database skips the work)."""
        return self.conn.execute(f"SELECT 1 FROM {table}_docsize LIMIT 1").fetchone() is not None

    def _unindex_cjk_messages(self, conv_rowid: int) -> None:
        if self._cjk_used("messages_cjk"):
            self.conn.execute(
                "INSERT INTO messages_cjk (messages_cjk, rowid, text) "
                "SELECT 'delete', mid, text FROM messages_cjk_content "
                "WHERE mid IN (SELECT rowid FROM messages WHERE conversation = ?)", (conv_rowid,))

    def _unindex_cjk_memory(self, rowid: int) -> None:
        if self._cjk_used("memories_cjk"):
            self.conn.execute(
                "INSERT INTO memories_cjk (memories_cjk, rowid, text) "
                "SELECT 'delete', mid, text FROM memories_cjk_content WHERE mid = ?", (rowid,))

    def _index_cjk_memory(self, rowid: int, text: str) -> None:
        if cjk.has_cjk(text):
            self.conn.execute("INSERT INTO memories_cjk (rowid, text) VALUES (?, ?)",
                              (rowid, cjk.index_text(text)))

    def message_ids(self, conv_rowid: int) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT id FROM messages WHERE conversation = ?", (conv_rowid,))}

    def replace_messages(self, conv_rowid: int, messages: Sequence[Message]) -> None:
        """Make ``messages`` the conversation's messages, index included."""
        self.conn.execute(
            f"INSERT INTO messages_fts (messages_fts, rowid, {_FTS_COLS}) "
            f"SELECT 'delete', mid, {_FTS_COLS} FROM messages_fts_content "
            "WHERE mid IN (SELECT rowid FROM messages WHERE conversation = ?)", (conv_rowid,))
        self._unindex_cjk_messages(conv_rowid)
        self.conn.execute("DELETE FROM messages WHERE conversation = ?", (conv_rowid,))
        self.insert_messages(conv_rowid, messages)

    def insert_messages(self, conv_rowid: int, messages: Sequence[Message]) -> None:
        try:
            self.conn.executemany(
                "INSERT INTO messages (id, conversation, position, source_id, role, author, "
                "text, created_at, extra) VALUES (?,?,?,?,?,?,?,?,?)",
                [(m.id, conv_rowid, i, m.source_id, m.role, m.author, m.text, m.created_at,
                  _extra_json(m.extra)) for i, m in enumerate(messages)])
        except sqlite3.IntegrityError:
            dup = self._duplicate_message_id([m.id for m in messages if m.id])
            raise AimemError(f"message id {dup} appears in two conversations") from None
        self.conn.execute(
            f"INSERT INTO messages_fts (rowid, {_FTS_COLS}) "
            f"SELECT mid, {_FTS_COLS} FROM messages_fts_content "
            "WHERE mid IN (SELECT rowid FROM messages WHERE conversation = ?)", (conv_rowid,))
        if any(cjk.has_cjk(m.text) for m in messages):
            self.conn.execute(
                "INSERT INTO messages_cjk (rowid, text) SELECT mid, text FROM messages_cjk_content "
                "WHERE mid IN (SELECT rowid FROM messages WHERE conversation = ?)", (conv_rowid,))

    def stored_messages(self, conv_rowid: int) -> list[Message]:
        """A conversation's messages as stored, in order (for merging a re-import)."""
        return [Message(id=r[0], source_id=r[1], role=r[2], author=r[3], text=r[4],
                        created_at=r[5], extra=_extra_load(r[6]))
                for r in self.conn.execute(
                    "SELECT id, source_id, role, author, text, created_at, extra FROM messages "
                    "WHERE conversation = ? ORDER BY position", (conv_rowid,))]

    def branch_messages(self, conv_rowid: int) -> list[Message]:
        """A conversation's off-branch messages (never part of ``messages``), in order."""
        return [Message(id=r[0], source_id=r[1], role=r[2], author=r[3], text=r[4],
                        created_at=r[5], extra=_extra_load(r[6]), parent=r[7])
                for r in self.conn.execute(
                    "SELECT id, source_id, role, author, text, created_at, extra, parent "
                    "FROM branch_messages WHERE conversation = ? ORDER BY position",
                    (conv_rowid,))]

    def has_branches(self, conv_rowid: int) -> bool:
        return self.conn.execute("SELECT 1 FROM branch_messages WHERE conversation = ? LIMIT 1",
                                 (conv_rowid,)).fetchone() is not None

    def branch_counts(self, conv_ids: Sequence[str]) -> dict[str, int]:
        if not conv_ids:
            return {}
        return dict(self.conn.execute(
            "SELECT c.id, count(*) FROM branch_messages b JOIN conversations c "
            f"ON c.rowid = b.conversation WHERE c.id IN ({','.join('?' * len(conv_ids))}) "
            "GROUP BY c.id", list(conv_ids)).fetchall())

    def insert_branches(self, conv_rowid: int, messages: Sequence[Message]) -> None:
        if not messages:
            return
        try:
            self.conn.executemany(
                "INSERT INTO branch_messages (id, conversation, position, parent, source_id, "
                "role, author, text, created_at, extra) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(m.id, conv_rowid, i, m.parent, m.source_id, m.role, m.author, m.text,
                  m.created_at, _extra_json(m.extra)) for i, m in enumerate(messages)])
        except sqlite3.IntegrityError:
            raise AimemError("an off-branch message id appears in two conversations") from None

    def replace_branches(self, conv_rowid: int, messages: Sequence[Message]) -> None:
        self.conn.execute("DELETE FROM branch_messages WHERE conversation = ?", (conv_rowid,))
        self.insert_branches(conv_rowid, messages)

    def _duplicate_message_id(self, ids: list[str]) -> str:
        for i in ids:
            if self.conn.execute("SELECT 1 FROM messages WHERE id = ?", (i,)).fetchone():
                return i
        return "?"

    def add_tags(self, table: str, rowid: int, names: Iterable[str],
                 auto: bool = False) -> list[str]:
        """Attach tags to a conversation (``table="conversation"``) or a memory; returns
        the names that were not attached yet."""
        link, col = {"conversation": ("conversation_tags", "conversation"),
                     "memory": ("memory_tags", "memory")}[table]
        added = []
        for name in names:
            name = name.strip()
            if not name:
                continue
            self.conn.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (name,))
            cur = self.conn.execute(
                f"INSERT OR IGNORE INTO {link} ({col}, tag, auto) "
                "SELECT ?, rowid, ? FROM tags WHERE name = ?", (rowid, int(auto), name))
            if cur.rowcount > 0:
                added.append(name)
        return added

    def set_summary(self, conv_rowid: int, text: str | None, model: str | None = None,
                    content_hash: str | None = None, now: float | None = None) -> None:
        self._unindex_conversation(conv_rowid)
        if text is None:
            self.conn.execute("DELETE FROM summaries WHERE conversation = ?", (conv_rowid,))
        else:
            self.conn.execute(
                "INSERT INTO summaries (conversation, text, model, created_at, content_hash) "
                "VALUES (?,?,?,?,?) ON CONFLICT (conversation) DO UPDATE SET text = excluded.text, "
                "model = excluded.model, created_at = excluded.created_at, "
                "content_hash = excluded.content_hash",
                (conv_rowid, text, model, time.time() if now is None else now, content_hash))
        self._index_conversation(conv_rowid)

    def summary_text(self, conv_rowid: int) -> str | None:
        row = self.conn.execute("SELECT text FROM summaries WHERE conversation = ?",
                                (conv_rowid,)).fetchone()
        return row[0] if row else None

    def log_import(self, started_at: float, path: str, fmt: str | None, size: int | None,
                   mtime: float | None, sha256: str | None, report: dict[str, Any],
                   run: int | None = None) -> None:
        self.conn.execute(
            "INSERT INTO import_log (started_at, finished_at, path, format, size, mtime, sha256, "
            "report, run) VALUES (?,?,?,?,?,?,?,?,?)",
            (started_at, time.time(), path, fmt, size, mtime, sha256, jsonio.dumps_str(report),
             run))

    def last_import(self, path: str) -> tuple[int | None, float | None, float | None] | None:
        """(size, mtime, finished_at) recorded by the latest import of ``path``, if any."""
        return self.conn.execute(
            "SELECT size, mtime, finished_at FROM import_log WHERE path = ? ORDER BY rowid DESC "
            "LIMIT 1", (path,)).fetchone()

    # -- sync sources ------------------------------------------------------------------

    def projects_of(self, sources: Sequence[str]) -> list[str]:
        """The projects (folders) that conversations from ``sources`` were held in."""
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT project FROM conversations WHERE project IS NOT NULL AND source IN "
            f"({','.join('?' * len(sources))}) ORDER BY project", list(sources))]

    def sync_sources(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT path FROM sync_sources ORDER BY path")]

    def add_sync_source(self, path: str) -> bool:
        cur = self.conn.execute("INSERT OR IGNORE INTO sync_sources (path, added_at) VALUES (?, ?)",
                                (path, time.time()))
        return cur.rowcount > 0

    def remove_sync_source(self, path: str) -> bool:
        return self.conn.execute("DELETE FROM sync_sources WHERE path = ?", (path,)).rowcount > 0

    # -- memories: writes --------------------------------------------------------------

    def memory_by_hash(self, text_hash: str) -> tuple[int, str] | None:
        return self.conn.execute("SELECT rowid, id FROM memories WHERE text_hash = ?",
                                 (text_hash,)).fetchone()

    def insert_memory(self, m: MemoryItem, text_hash: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO memories (id, text, kind, source, text_hash, pinned, created_at, "
            "updated_at, extra, conversation, project) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (m.id, m.text, m.kind, m.source, text_hash, int(m.pinned), m.created_at,
             m.updated_at, _extra_json(m.extra), m.conversation, m.project))
        rowid = cur.lastrowid
        assert rowid is not None
        self.conn.execute("INSERT INTO memories_fts (rowid, text) VALUES (?, ?)", (rowid, m.text))
        self._index_cjk_memory(rowid, m.text)
        return rowid

    def memory_rowid(self, mem_id: str) -> int | None:
        row = self.conn.execute("SELECT rowid FROM memories WHERE id = ?", (mem_id,)).fetchone()
        return row[0] if row else None

    def update_memory(self, rowid: int, *, text: str, kind: str, pinned: bool, text_hash: str,
                      updated_at: float) -> None:
        """Rewrite a memory (index included)."""
        self.conn.execute("INSERT INTO memories_fts (memories_fts, rowid, text) "
                          "SELECT 'delete', rowid, text FROM memories WHERE rowid = ?", (rowid,))
        self._unindex_cjk_memory(rowid)
        self.conn.execute("UPDATE memories SET text = ?, kind = ?, pinned = ?, text_hash = ?, "
                          "updated_at = ? WHERE rowid = ?",
                          (text, kind, int(pinned), text_hash, updated_at, rowid))
        self.conn.execute("INSERT INTO memories_fts (rowid, text) VALUES (?, ?)", (rowid, text))
        self._index_cjk_memory(rowid, text)

    def touch_memory(self, rowid: int, now: float) -> None:
        self.conn.execute("UPDATE memories SET updated_at = ? WHERE rowid = ?", (now, rowid))

    def memory_files(self) -> list[tuple[int, str, str, int]]:
        """(rowid, id, path, characters) of the memories the memory tool keeps as files
        (``extra.memory_path``), by path."""
        return self.conn.execute(
            "SELECT rowid, id, p, length(text) FROM (SELECT rowid, id, text, CASE WHEN "
            "json_valid(extra) THEN json_extract(extra, '$.memory_path') END AS p "
            "FROM memories) WHERE p IS NOT NULL ORDER BY p").fetchall()

    def set_memory_extra(self, rowid: int, extra: dict[str, Any] | None) -> None:
        self.conn.execute("UPDATE memories SET extra = ? WHERE rowid = ?",
                          (_extra_json(extra), rowid))

    def delete_memory(self, rowid: int, *, drop_unused_tags: bool = True) -> None:
        """A memory and everything derived from it: index rows, tag links, counters."""
        self.conn.execute("INSERT INTO memories_fts (memories_fts, rowid, text) "
                          "SELECT 'delete', rowid, text FROM memories WHERE rowid = ?", (rowid,))
        self._unindex_cjk_memory(rowid)
        self.conn.execute("DELETE FROM memories WHERE rowid = ?", (rowid,))
        if drop_unused_tags:
            self._drop_unused_tags()

    def memory_state(self, mem_id: str) -> tuple[int, str] | None:
        """(rowid, text_hash) of a stored memory, or None."""
        return self.conn.execute("SELECT rowid, text_hash FROM memories WHERE id = ?",
                                 (mem_id,)).fetchone()

    def delete_conversation(self, rowid: int, *, drop_unused_tags: bool = True) -> None:
        """A conversation and everything derived from it: messages, index rows, summary,
        tag links, counters. Memories distilled from it stay, unlinked."""
        self.conn.execute(
            f"INSERT INTO messages_fts (messages_fts, rowid, {_FTS_COLS}) "
            f"SELECT 'delete', mid, {_FTS_COLS} FROM messages_fts_content "
            "WHERE mid IN (SELECT rowid FROM messages WHERE conversation = ?)", (rowid,))
        self._unindex_cjk_messages(rowid)
        self._unindex_conversation(rowid)
        self.conn.execute("DELETE FROM messages WHERE conversation = ?", (rowid,))
        self.conn.execute("DELETE FROM branch_messages WHERE conversation = ?", (rowid,))
        self.conn.execute("DELETE FROM summaries WHERE conversation = ?", (rowid,))
        self.conn.execute("DELETE FROM conversations WHERE rowid = ?", (rowid,))
        if drop_unused_tags:
            self._drop_unused_tags()

    def drop_unused_tags(self) -> None:
        self._drop_unused_tags()

    def _drop_unused_tags(self) -> None:
        self.conn.execute(
            "DELETE FROM tags WHERE rowid NOT IN (SELECT tag FROM conversation_tags) "
            "AND rowid NOT IN (SELECT tag FROM memory_tags)")

    def remove_tags(self, table: str, rowid: int, names: Iterable[str], *,
                    drop_unused_tags: bool = True) -> None:
        link, col = {"conversation": ("conversation_tags", "conversation"),
                     "memory": ("memory_tags", "memory")}[table]
        for name in names:
            self.conn.execute(f"DELETE FROM {link} WHERE {col} = ? AND tag = "
                              "(SELECT rowid FROM tags WHERE name = ?)", (rowid, name.strip()))
        if drop_unused_tags:
            self._drop_unused_tags()

    # -- import runs: a conversation's state, kept to put it back (aimem.store.runs) -----

    _KNOWN_CHILDREN = {"messages", "summaries", "conversation_tags", "memories"}

    def _child_tables(self) -> list[tuple[str, str]]:
        """(table, column) of the other tables whose rows belong to a conversation (a
        foreign key to conversations): their rows are kept and restored as they are."""
        if self._children is None:
            self._children = [
                (t, c) for t, c in self.conn.execute(
                    "SELECT m.name, f.\"from\" FROM sqlite_master m, "
                    "pragma_foreign_key_list(m.name) f WHERE m.type = 'table' "
                    "AND f.\"table\" = 'conversations' ORDER BY m.name")
                if t not in self._KNOWN_CHILDREN]
        return self._children

    def conversation_snapshot(self, rowid: int) -> dict[str, Any]:
        """Everything an import may change about a stored conversation, as JSON-ready data."""
        row = self.conn.execute(
            "SELECT id, content_hash, imported_at FROM conversations WHERE rowid = ?",
            (rowid,)).fetchone()
        conv = self.get_conversation(row[0])
        assert conv is not None
        summary = self.conn.execute(
            "SELECT text, model, created_at, content_hash FROM summaries WHERE conversation = ?",
            (rowid,)).fetchone()
        children = {}
        for table, col in self._child_tables():
            cur = self.conn.execute(f'SELECT * FROM "{table}" WHERE "{col}" = ?', (rowid,))
            cols = [d[0] for d in cur.description]
            children[table] = {"column": col, "columns": cols,
                               "rows": [[_json_safe(v) for v in r] for r in cur]}
        return {
            "conversation": [conv.source, conv.source_id, conv.title, conv.created_at,
                             conv.updated_at, conv.model, conv.project, conv.extra],
            "content_hash": row[1], "imported_at": row[2],
            "messages": [[m.id, m.source_id, m.role, m.author, m.text, m.created_at, m.extra]
                         for m in conv.messages],
            "summary": list(summary) if summary else None,
            "children": children,
        }

    def restore_conversation(self, rowid: int, snap: dict[str, Any]) -> None:
        """Put a conversation back as :meth:`conversation_snapshot` saw it (indexes too)."""
        source, source_id, title, created, updated, model, project, extra = snap["conversation"]
        conv = Conversation(source=source, source_id=source_id, title=title, created_at=created,
                            updated_at=updated, model=model, project=project, extra=extra)
        self.update_conversation(rowid, conv, snap["content_hash"], snap["imported_at"])
        self.replace_messages(rowid, [
            Message(id=i, source_id=sid, role=role, author=author, text=text, created_at=at,
                    extra=mextra)
            for i, sid, role, author, text, at, mextra in snap["messages"]])
        summary = snap["summary"]
        if summary is None:
            self.set_summary(rowid, None)
        else:
            text, smodel, at, chash = summary
            self.set_summary(rowid, text, smodel, chash, at)
        for table, saved in snap.get("children", {}).items():
            col, cols = saved["column"], saved["columns"]
            self.conn.execute(f'DELETE FROM "{table}" WHERE "{col}" = ?', (rowid,))
            names = ",".join(f'"{c}"' for c in cols)
            self.conn.executemany(
                f'INSERT INTO "{table}" ({names}) VALUES ({",".join("?" * len(cols))})',
                [[_json_unsafe(v) for v in r] for r in saved["rows"]])

    def tag_counts(self) -> list[tuple[str, int, int]]:
        return self.conn.execute(
            "SELECT t.name, (SELECT count(*) FROM conversation_tags ct WHERE ct.tag = t.rowid), "
            "(SELECT count(*) FROM memory_tags mt WHERE mt.tag = t.rowid) FROM tags t "
            "ORDER BY t.name COLLATE NOCASE").fetchall()

    def record_use(self, table: str, ids: Sequence[str], now: float) -> None:
        """Count a recall (shown, injected, fetched by an MCP client) of these items."""
        if not ids:
            return
        tbl, count, last = {"conversation": ("conversations", "use_count", "last_used"),
                            "memory": ("memories", "access_count", "last_accessed")}[table]
        self.conn.executemany(f"UPDATE {tbl} SET {count} = {count} + 1, {last} = ? WHERE id = ?",
                              [(now, i) for i in ids])

    def bump_use(self, table: str, ids: Sequence[str], now: float,
                 timeout: float = USE_TIMEOUT_S) -> bool:
        """:meth:`record_use` in its own short transaction; False (and nothing written) when
        the database stayed busy for ``timeout`` seconds or cannot be written."""
        try:
            with self.transaction(timeout=timeout):
                self.record_use(table, ids, now)
        except sqlite3.OperationalError as e:
            code = (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF
            if is_busy(e) or code in (_READONLY, _FULL) or "readonly" in str(e):
                return False
            raise
        return True

    def use_stats(self, table: str, ids: Sequence[str]) -> dict[str, tuple[int, float | None]]:
        """id -> (use count, last use) for conversations or memories."""
        if not ids:
            return {}
        tbl, count, last = {"conversation": ("conversations", "use_count", "last_used"),
                            "memory": ("memories", "access_count", "last_accessed")}[table]
        marks = ",".join("?" * len(ids))
        return {r[0]: (r[1], r[2]) for r in self.conn.execute(
            f"SELECT id, {count}, {last} FROM {tbl} WHERE id IN ({marks})", list(ids))}

    def memory_touch_times(self, ids: Sequence[str]) -> dict[str, float]:
        marks = ",".join("?" * len(ids))
        return dict(self.conn.execute(
            f"SELECT id, updated_at FROM memories WHERE id IN ({marks})", list(ids)).fetchall())

    def set_profile(self, text: str, model: str | None, memories_hash: str | None,
                    now: float) -> None:
        self.conn.execute(
            "INSERT INTO profile (id, text, model, created_at, memories_hash) VALUES (1,?,?,?,?) "
            "ON CONFLICT (id) DO UPDATE SET text = excluded.text, model = excluded.model, "
            "created_at = excluded.created_at, memories_hash = excluded.memories_hash",
            (text, model, now, memories_hash))

    def get_profile(self) -> tuple[str, str | None, float, str | None] | None:
        return self.conn.execute(
            "SELECT text, model, created_at, memories_hash FROM profile WHERE id = 1").fetchone()

    def messages_window(self, message_id: str, before: int, after: int
                        ) -> list[tuple[str, int, str, str | None, str, float | None, str | None]]:
        """(id, position, role, author, text, created_at, source_id) around a message."""
        row = self.conn.execute("SELECT conversation, position FROM messages WHERE id = ?",
                                (message_id,)).fetchone()
        if row is None:
            return []
        conv, pos = row
        return self.conn.execute(
            "SELECT id, position, role, author, text, created_at, source_id FROM messages "
            "WHERE conversation = ? AND position BETWEEN ? AND ? ORDER BY position",
            (conv, pos - before, pos + after)).fetchall()

    def conversation_tail(self, conv_id: str, roles: Sequence[str], count: int
                          ) -> list[tuple[str, int, str, str | None, str, float | None, str | None]]:
        """The last ``count`` messages by these roles, in order (columns as messages_window)."""
        rows = self.conn.execute(
            "SELECT m.id, m.position, m.role, m.author, m.text, m.created_at, m.source_id "
            "FROM messages m JOIN conversations c ON c.rowid = m.conversation WHERE c.id = ? "
            f"AND m.role IN ({','.join('?' * len(roles))}) AND trim(m.text) != '' "
            "ORDER BY m.position DESC LIMIT ?", (conv_id, *roles, count)).fetchall()
        return rows[::-1]

    def conversation_rowid(self, conv_id: str) -> int | None:
        row = self.conn.execute("SELECT rowid FROM conversations WHERE id = ?",
                                (conv_id,)).fetchone()
        return row[0] if row else None

    def vacuum(self) -> None:
        self.conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
        self.conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('optimize')")
        self.conn.execute("INSERT INTO conversations_fts(conversations_fts) VALUES ('optimize')")
        for table in ("messages_cjk", "memories_cjk", "conversations_cjk"):
            self.conn.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
        self.conn.execute("VACUUM")

    # -- reads -------------------------------------------------------------------------

    def resolve(self, prefix: str) -> list[tuple[str, str]]:
        """(kind, id) of everything whose id starts with ``prefix``: git-style prefixes."""
        out: list[tuple[str, str]] = []
        for kind, table in (("conversation", "conversations"), ("memory", "memories"),
                            ("message", "messages")):
            rows = self.conn.execute(
                f"SELECT id FROM {table} WHERE id >= ? AND id < ? LIMIT 5",
                (prefix, prefix + "\U0010ffff")).fetchall()
            out += [(kind, r[0]) for r in rows]
        return out

    def conversation_for_message(self, message_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT c.id FROM messages m JOIN conversations c ON c.rowid = m.conversation "
            "WHERE m.id = ?", (message_id,)).fetchone()
        return row[0] if row else None

    def conversation_tags(self, rowids: Sequence[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {r: [] for r in rowids}
        if not rowids:
            return out
        for rowid, name in self.conn.execute(
                "SELECT ct.conversation, t.name FROM conversation_tags ct JOIN tags t "
                f"ON t.rowid = ct.tag WHERE ct.conversation IN ({','.join('?' * len(rowids))}) "
                "ORDER BY t.name", list(rowids)):
            out[rowid].append(name)
        return out

    def memory_tags(self, rowids: Sequence[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {r: [] for r in rowids}
        if not rowids:
            return out
        for rowid, name in self.conn.execute(
                "SELECT mt.memory, t.name FROM memory_tags mt JOIN tags t ON t.rowid = mt.tag "
                f"WHERE mt.memory IN ({','.join('?' * len(rowids))}) ORDER BY t.name",
                list(rowids)):
            out[rowid].append(name)
        return out

    _CONV_COLS = ("c.rowid, c.id, c.source, c.source_id, c.title, c.created_at, c.updated_at, "
                  "c.model, c.project, c.extra, s.text")

    def _conversation_from_row(self, row: tuple[Any, ...], with_messages: bool,
                               with_branches: bool = False) -> Conversation:
        rowid, cid, source, source_id, title, created, updated, model, project, extra, summ = row
        conv = Conversation(source=source, source_id=source_id, id=cid, title=title,
                            created_at=created, updated_at=updated, model=model, project=project,
                            summary=summ, extra=_extra_load(extra))
        if with_messages:
            conv.messages = [
                Message(id=r[0], source_id=r[1], role=r[2], author=r[3], text=r[4],
                        created_at=r[5], extra=_extra_load(r[6]))
                for r in self.conn.execute(
                    "SELECT id, source_id, role, author, text, created_at, extra FROM messages "
                    "WHERE conversation = ? ORDER BY position", (rowid,))]
        if with_branches:
            conv.branches = self.branch_messages(rowid)
        return conv

    def get_conversation(self, conv_id: str, with_messages: bool = True,
                         with_branches: bool = False) -> Conversation | None:
        row = self.conn.execute(
            f"SELECT {self._CONV_COLS} FROM conversations c LEFT JOIN summaries s "
            "ON s.conversation = c.rowid WHERE c.id = ?", (conv_id,)).fetchone()
        if row is None:
            return None
        conv = self._conversation_from_row(row, with_messages, with_branches)
        conv.tags = self.conversation_tags([row[0]])[row[0]]
        return conv

    def iter_conversations(self, filters: Filters | None = None, *, limit: int | None = None,
                           offset: int = 0, newest_first: bool = False,
                           with_messages: bool = True,
                           with_branches: bool = False) -> Iterator[Conversation]:
        """Conversations matching the filters (a message-level filter matches if any does)."""
        where, params = filter_sql(filters, "c", None)
        if filters and filters.roles:
            where += (f" AND c.rowid IN (SELECT conversation FROM messages WHERE role IN "
                      f"({','.join('?' * len(filters.roles))}))")
            params += filters.roles
        order = ("c.updated_at DESC, c.id" if newest_first
                 else "c.created_at IS NULL, c.created_at, c.id")
        sql = (f"SELECT {self._CONV_COLS} FROM conversations c LEFT JOIN summaries s "
               f"ON s.conversation = c.rowid WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?")
        rows = self.conn.execute(sql, [*params, -1 if limit is None else limit, offset])
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 200:
                yield from self._finish(batch, with_messages, with_branches)
                batch = []
        yield from self._finish(batch, with_messages, with_branches)

    def _finish(self, rows: list[tuple[Any, ...]], with_messages: bool,
                with_branches: bool = False) -> Iterator[Conversation]:
        tags = self.conversation_tags([r[0] for r in rows])
        for row in rows:
            conv = self._conversation_from_row(row, with_messages, with_branches)
            conv.tags = tags[row[0]]
            yield conv

    def message_counts(self, conv_ids: Sequence[str]) -> dict[str, int]:
        if not conv_ids:
            return {}
        return dict(self.conn.execute(
            "SELECT c.id, (SELECT count(*) FROM messages m WHERE m.conversation = c.rowid) "
            f"FROM conversations c WHERE c.id IN ({','.join('?' * len(conv_ids))})",
            list(conv_ids)).fetchall())

    def _memory_from_row(self, row: tuple[Any, ...]) -> MemoryItem:
        return MemoryItem(id=row[1], text=row[2], kind=row[3], source=row[4], pinned=bool(row[5]),
                          created_at=row[6], updated_at=row[7], extra=_extra_load(row[8]),
                          use_count=row[9], last_used=row[10], conversation=row[11],
                          project=row[12])

    _MEM_COLS = ("rowid, id, text, kind, source, pinned, created_at, updated_at, extra, "
                 "access_count, last_accessed, conversation, project")

    def get_memory(self, mem_id: str) -> MemoryItem | None:
        row = self.conn.execute(f"SELECT {self._MEM_COLS} FROM memories WHERE id = ?",
                                (mem_id,)).fetchone()
        if row is None:
            return None
        mem = self._memory_from_row(row)
        mem.tags = self.memory_tags([row[0]])[row[0]]
        return mem

    def iter_memories(self, filters: Filters | None = None, *, kinds: Sequence[str] = (),
                      pinned: bool | None = None, limit: int | None = None, offset: int = 0,
                      newest_first: bool = False, global_only: bool = False
                      ) -> Iterator[MemoryItem]:
        where, params = memory_filter_sql(filters, "mm")
        if global_only:
            where += " AND mm.project IS NULL"
        if kinds:
            where += f" AND mm.kind IN ({','.join('?' * len(kinds))})"
            params += list(kinds)
        if pinned is not None:
            where += " AND mm.pinned = ?"
            params.append(int(pinned))
        order = "mm.updated_at DESC, mm.id" if newest_first else "mm.created_at, mm.id"
        page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
        rows = self.conn.execute(
            f"SELECT {self._MEM_COLS.replace('rowid', 'mm.rowid', 1)} FROM memories mm "
            f"WHERE {where} ORDER BY {order}{page}", params).fetchall()
        tags = self.memory_tags([r[0] for r in rows])
        for row in rows:
            mem = self._memory_from_row(row)
            mem.tags = tags[row[0]]
            yield mem

    def stats(self) -> dict[str, Any]:
        q = self.conn.execute
        by_source = q("SELECT c.source, count(DISTINCT c.rowid), count(m.rowid) FROM conversations c "
                      "LEFT JOIN messages m ON m.conversation = c.rowid GROUP BY c.source "
                      "ORDER BY 2 DESC, 1").fetchall()
        by_role = q("SELECT role, count(*) FROM messages GROUP BY role ORDER BY 2 DESC").fetchall()
        by_month = q("SELECT strftime('%Y-%m', created_at, 'unixepoch') AS month, count(*) "
                     "FROM conversations WHERE created_at IS NOT NULL GROUP BY month "
                     "ORDER BY month").fetchall()
        first_last = q("SELECT min(created_at), max(coalesce(updated_at, created_at)) "
                       "FROM conversations").fetchone()
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal"))
                   if p.exists())
        return {
            "conversations": q("SELECT count(*) FROM conversations").fetchone()[0],
            "messages": q("SELECT count(*) FROM messages").fetchone()[0],
            "memories": q("SELECT count(*) FROM memories").fetchone()[0],
            "tags": q("SELECT count(*) FROM tags").fetchone()[0],
            "summaries": q("SELECT count(*) FROM summaries").fetchone()[0],
            "by_source": [{"source": s, "conversations": c, "messages": m} for s, c, m in by_source],
            "by_role": [{"role": r, "messages": n} for r, n in by_role],
            "by_month": [{"month": mo, "conversations": n} for mo, n in by_month],
            "first": first_last[0], "last": first_last[1],
            "imports": q("SELECT count(*) FROM import_log").fetchone()[0],
            "schema_version": q("PRAGMA user_version").fetchone()[0],
            "path": str(self.path), "size_bytes": size,
        }

    # -- llm tasks ---------------------------------------------------------------------

    _LLM_NEEDS = {
        # no summary, or one written by aimem for other content (a summary that came with
        # the source has no content hash: it stays until --force)
        "summary": "NOT EXISTS (SELECT 1 FROM summaries s WHERE s.conversation = c.rowid "
                   "AND (s.content_hash IS NULL OR s.content_hash IS c.content_hash))",
        "tags": "NOT EXISTS (SELECT 1 FROM conversation_tags ct WHERE ct.conversation = c.rowid "
                "AND ct.auto = 1)",
        # no memory distilled from it since it was last imported (or changed)
        "distill": "NOT EXISTS (SELECT 1 FROM memories mm WHERE mm.conversation = c.rowid "
                   "AND mm.source = 'distill' AND mm.updated_at >= c.imported_at)",
    }

    def llm_candidates(self, filters: Filters | None = None, *, ids: Sequence[str] = (),
                       need: str | None = None) -> list[tuple[int, str, str | None]]:
        """(rowid, id, content_hash) of the conversations an llm task works on, oldest first.

        ``ids`` (full ids) narrow the filters further; ``need`` ("summary", "tags",
        "distill") keeps only the conversations that task has not done yet.
        """
        where, params = filter_sql(filters, "c", None)
        if filters and filters.roles:
            where += (f" AND c.rowid IN (SELECT conversation FROM messages WHERE role IN "
                      f"({','.join('?' * len(filters.roles))}))")
            params += filters.roles
        if ids:
            where += f" AND c.id IN ({','.join('?' * len(ids))})"
            params += list(ids)
        if need is not None:
            where += " AND " + self._LLM_NEEDS[need]
        return self.conn.execute(
            f"SELECT c.rowid, c.id, c.content_hash FROM conversations c WHERE {where} "
            "ORDER BY c.created_at IS NULL, c.created_at, c.id", params).fetchall()

    def set_title(self, conv_rowid: int, title: str) -> None:
        """Give a conversation a title (one proposed by a model, where the source had none)."""
        self._unindex_conversation(conv_rowid)
        self.conn.execute("UPDATE conversations SET title = ? WHERE rowid = ?", (title, conv_rowid))
        self._index_conversation(conv_rowid)

    def clear_auto_tags(self, conv_rowid: int) -> None:
        """Drop a conversation's automatic tags (its manual ones stay)."""
        self.conn.execute("DELETE FROM conversation_tags WHERE conversation = ? AND auto = 1",
                          (conv_rowid,))
        self._drop_unused_tags()

    def conversation_memory_texts(self, conv_rowid: int) -> list[str]:
        """The texts of the memories linked to a conversation (distilled from it), oldest first."""
        return [r[0] for r in self.conn.execute(
            "SELECT text FROM memories WHERE conversation = ? ORDER BY created_at, id",
            (conv_rowid,))]
