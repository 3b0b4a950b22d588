"""Writing conversations: their rows, messages, off-branch messages, summaries, the
full-text indexes kept in step, and the snapshots an import run restores.

The FTS5 indexes use external content (views over the tables), so they are kept in step
here, explicitly, on every insert and delete.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

from aimem import jsonio
from aimem.errors import AimemError
from aimem.models import Conversation, Message
from aimem.store import cjk, migrations
from aimem.store.common import _extra_json, _json_safe, _json_unsafe

if TYPE_CHECKING:
    from collections.abc import Sequence

_FTS_COLS = migrations.MESSAGE_FTS_COLUMNS


class ConversationWrites:
    """The conversation writes of :class:`aimem.store.db.Store`."""

    conn: sqlite3.Connection
    _children: list[tuple[str, str]] | None

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


    # -- import runs: a conversation's state, kept to put it back (aimem.store.runs) -------

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

    def vacuum(self) -> None:
        self.conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
        self.conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('optimize')")
        self.conn.execute("INSERT INTO conversations_fts(conversations_fts) VALUES ('optimize')")
        for table in ("messages_cjk", "memories_cjk", "conversations_cjk"):
            self.conn.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
        self.conn.execute("VACUUM")
