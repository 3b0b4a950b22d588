"""Writing memories, tags, recall counters, the profile and the sync sources."""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

from aimem.models import MemoryItem
from aimem.store import cjk
from aimem.store.common import _FULL, _READONLY, _extra_json, is_busy

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

USE_TIMEOUT_S = 2.0  # a recall counter on a read path waits at most this long


class MemoryWrites:
    """The memory, tag and counter writes of :class:`aimem.store.db.Store`."""

    conn: sqlite3.Connection

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

    def _unindex_cjk_memory(self, rowid: int) -> None:
        if self._cjk_used("memories_cjk"):
            self.conn.execute(
                "INSERT INTO memories_cjk (memories_cjk, rowid, text) "
                "SELECT 'delete', mid, text FROM memories_cjk_content WHERE mid = ?", (rowid,))

    def _index_cjk_memory(self, rowid: int, text: str) -> None:
        if cjk.has_cjk(text):
            self.conn.execute("INSERT INTO memories_cjk (rowid, text) VALUES (?, ?)",
                              (rowid, cjk.index_text(text)))

    # -- tags ------------------------------------------------------------------------------

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

    def remove_tags(self, table: str, rowid: int, names: Iterable[str], *,
                    drop_unused_tags: bool = True) -> None:
        link, col = {"conversation": ("conversation_tags", "conversation"),
                     "memory": ("memory_tags", "memory")}[table]
        for name in names:
            self.conn.execute(f"DELETE FROM {link} WHERE {col} = ? AND tag = "
                              "(SELECT rowid FROM tags WHERE name = ?)", (rowid, name.strip()))
        if drop_unused_tags:
            self._drop_unused_tags()


    def drop_unused_tags(self) -> None:
        self._drop_unused_tags()

    def _drop_unused_tags(self) -> None:
        self.conn.execute(
            "DELETE FROM tags WHERE rowid NOT IN (SELECT tag FROM conversation_tags) "
            "AND rowid NOT IN (SELECT tag FROM memory_tags)")

    def tag_counts(self) -> list[tuple[str, int, int]]:
        return self.conn.execute(
            "SELECT t.name, (SELECT count(*) FROM conversation_tags ct WHERE ct.tag = t.rowid), "
            "(SELECT count(*) FROM memory_tags mt WHERE mt.tag = t.rowid) FROM tags t "
            "ORDER BY t.name COLLATE NOCASE").fetchall()

    # -- recall counters -------------------------------------------------------------------

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

    # -- profile ---------------------------------------------------------------------------

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

    # -- sync sources ----------------------------------------------------------------------

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
