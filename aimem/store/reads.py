"""Reading: conversations and memories by id, listings with filters, statistics, and
the candidates of the llm tasks."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from aimem.models import Conversation, Filters, MemoryItem, Message
from aimem.store.common import _extra_load, filter_sql, memory_filter_sql


class Reads:
    """The reads of :class:`aimem.store.db.Store`."""

    conn: sqlite3.Connection
    path: Path

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

    def conversation_rowid(self, conv_id: str) -> int | None:
        row = self.conn.execute("SELECT rowid FROM conversations WHERE id = ?",
                                (conv_id,)).fetchone()
        return row[0] if row else None

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

    def message_ids(self, conv_rowid: int) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT id FROM messages WHERE conversation = ?", (conv_rowid,))}

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

    def conversation_memory_texts(self, conv_rowid: int) -> list[str]:
        """The texts of the memories linked to a conversation (distilled from it), oldest first."""
        return [r[0] for r in self.conn.execute(
            "SELECT text FROM memories WHERE conversation = ? ORDER BY created_at, id",
            (conv_rowid,))]

    # -- statistics ------------------------------------------------------------------------

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


    # -- llm tasks -------------------------------------------------------------------------

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
