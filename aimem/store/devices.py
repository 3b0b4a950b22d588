"""SQL of sync between devices (see :mod:`aimem.services.devices` for the design)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from aimem.store.db import Store, _extra_json

StateRow = tuple[int, int, str, str, str | None]  # gen, clock, device, digest, value


def config(store: Store) -> dict[str, str]:
    return dict(store.conn.execute("SELECT key, value FROM sync_config"))


def set_config(store: Store, key: str, value: str | None) -> None:
    if value is None:
        store.conn.execute("DELETE FROM sync_config WHERE key = ?", (key,))
    else:
        store.conn.execute("INSERT INTO sync_config (key, value) VALUES (?, ?) ON CONFLICT (key) "
                           "DO UPDATE SET value = excluded.value", (key, value))


def state(store: Store) -> dict[tuple[str, str, str], StateRow]:
    return {(r[0], r[1], r[2]): r[3:] for r in store.conn.execute(
        "SELECT kind, id, grp, gen, clock, device, digest, value FROM sync_state")}


def state_of_item(store: Store, kind: str, item_id: str) -> dict[str, StateRow]:
    return {r[0]: r[1:] for r in store.conn.execute(
        "SELECT grp, gen, clock, device, digest, value FROM sync_state WHERE kind = ? AND id = ?",
        (kind, item_id))}


def put_state(store: Store, kind: str, item_id: str, grp: str, gen: int, clock: int,
              device: str, digest: str, value: str | None = None) -> None:
    store.conn.execute(
        "INSERT OR REPLACE INTO sync_state (kind, id, grp, gen, clock, device, digest, value) "
        "VALUES (?,?,?,?,?,?,?,?)", (kind, item_id, grp, gen, clock, device, digest, value))


def drop_state(store: Store, kind: str, item_id: str, max_gen: int) -> None:
    store.conn.execute("DELETE FROM sync_state WHERE kind = ? AND id = ? AND gen <= ?",
                       (kind, item_id, max_gen))


def tombstones(store: Store) -> dict[tuple[str, str], tuple[int, int, str]]:
    return {(r[0], r[1]): r[2:] for r in store.conn.execute(
        "SELECT kind, id, gen, clock, device FROM sync_tombstones")}


def tombstone(store: Store, kind: str, item_id: str) -> tuple[int, int, str] | None:
    return store.conn.execute("SELECT gen, clock, device FROM sync_tombstones WHERE kind = ? "
                              "AND id = ?", (kind, item_id)).fetchone()


def has_tombstones(store: Store) -> bool:
    try:
        return store.conn.execute("SELECT 1 FROM sync_tombstones LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:  # a database opened below m010 (migration tests)
        return False


def put_tombstone(store: Store, kind: str, item_id: str, gen: int, clock: int, device: str,
                  source: str | None, source_id: str | None, content_hash: str | None) -> None:
    store.conn.execute(
        "INSERT OR REPLACE INTO sync_tombstones (kind, id, gen, clock, device, source, "
        "source_id, content_hash) VALUES (?,?,?,?,?,?,?,?)",
        (kind, item_id, gen, clock, device, source, source_id, content_hash))


def note_forgotten(store: Store, kind: str, item_id: str, gen: int, source: str | None,
                   source_id: str | None, content_hash: str | None) -> None:
    """A forget on this device, when it syncs with others: a tombstone not yet sent
    (device ''); the next sync sends it. Without a sync location nothing is kept."""
    try:
        if store.conn.execute("SELECT 1 FROM sync_config WHERE key = 'target'"
                              ).fetchone() is None:
            return
    except sqlite3.OperationalError:  # a database opened below m010 (migration tests)
        return
    old = tombstone(store, kind, item_id)
    if old is None or old[0] < gen:
        put_tombstone(store, kind, item_id, gen, 0, "", source, source_id, content_hash)


def unsent_tombstones(store: Store) -> list[tuple[str, str, int, str | None, str | None,
                                                  str | None]]:
    return store.conn.execute(
        "SELECT kind, id, gen, source, source_id, content_hash FROM sync_tombstones "
        "WHERE device = ''").fetchall()


def count_tombstones(store: Store) -> int:
    return store.conn.execute("SELECT count(*) FROM sync_tombstones").fetchone()[0]


def positions(store: Store) -> dict[tuple[str, str], int]:
    return {(r[0], r[1]): r[2] for r in store.conn.execute(
        "SELECT device, file, offset FROM sync_positions")}


def set_position(store: Store, device: str, file: str, offset: int) -> None:
    store.conn.execute("INSERT OR REPLACE INTO sync_positions (device, file, offset) "
                       "VALUES (?,?,?)", (device, file, offset))


def saw_device(store: Store, device: str, name: str | None, records: int) -> None:
    now = time.time()
    store.conn.execute(
        "INSERT INTO sync_devices (id, name, first_seen, last_seen, records) VALUES (?,?,?,?,?) "
        "ON CONFLICT (id) DO UPDATE SET name = coalesce(excluded.name, name), "
        "last_seen = excluded.last_seen, records = records + excluded.records",
        (device, name, now, now, records))


def devices(store: Store) -> list[tuple[str, str | None, float, float, int]]:
    return store.conn.execute("SELECT id, name, first_seen, last_seen, records FROM sync_devices "
                              "ORDER BY id").fetchall()


# -- what the database holds now (the side of the diff that is not sync_state) --------

def conversation_digests(store: Store) -> list[tuple[str, str | None, str | None, str | None,
                                                    str | None, str | None]]:
    """(id, content_hash, title, summary text, source, source_id) of every conversation."""
    return store.conn.execute(
        "SELECT c.id, c.content_hash, c.title, s.text, c.source, c.source_id "
        "FROM conversations c LEFT JOIN summaries s ON s.conversation = c.rowid").fetchall()


def conversation_tag_pairs(store: Store) -> list[tuple[str, str]]:
    return store.conn.execute(
        "SELECT c.id, t.name FROM conversation_tags ct JOIN conversations c "
        "ON c.rowid = ct.conversation JOIN tags t ON t.rowid = ct.tag").fetchall()


def memory_rows(store: Store, mem_id: str | None = None) -> list[tuple[Any, ...]]:
    """(id, text, kind, source, project, created_at, updated_at, extra, pinned,
    conversation id, text_hash) of every memory (or of one)."""
    return store.conn.execute(
        "SELECT m.id, m.text, m.kind, m.source, m.project, m.created_at, m.updated_at, m.extra, "
        "m.pinned, c.id, m.text_hash FROM memories m LEFT JOIN conversations c "
        "ON c.rowid = m.conversation" + (" WHERE m.id = ?" if mem_id else ""),
        (mem_id,) if mem_id else ()).fetchall()


def memory_tag_pairs(store: Store) -> list[tuple[str, str]]:
    return store.conn.execute(
        "SELECT m.id, t.name FROM memory_tags mt JOIN memories m ON m.rowid = mt.memory "
        "JOIN tags t ON t.rowid = mt.tag").fetchall()


def memory_created(store: Store, mem_id: str) -> float | None:
    row = store.conn.execute("SELECT created_at FROM memories WHERE id = ?", (mem_id,)).fetchone()
    return row[0] if row else None


def put_memory(store: Store, mem_id: str, *, text: str, kind: str, source: str,
               project: str | None, created_at: float, updated_at: float,
               extra: dict[str, Any] | None, pinned: bool, conversation: str | None,
               text_hash: str) -> int:
    """Create or rewrite a memory exactly as given (its index row included); its rowid."""
    conv = store.conversation_rowid(conversation) if conversation else None
    rowid = store.memory_rowid(mem_id)
    other = store.memory_by_hash(text_hash)
    if other is not None and other[1] != mem_id:
        # another memory (another id) says the same: both stay, as on the sending device
        text_hash = f"{text_hash}:{mem_id}"
    if rowid is None:
        cur = store.conn.execute(
            "INSERT INTO memories (id, text, kind, source, text_hash, pinned, created_at, "
            "updated_at, extra, conversation, project) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (mem_id, text, kind, source, text_hash, int(pinned), created_at, updated_at,
             _extra_json(extra), conv, project))
        rowid = cur.lastrowid
        assert rowid is not None
    else:
        store.conn.execute("INSERT INTO memories_fts (memories_fts, rowid, text) "
                           "SELECT 'delete', rowid, text FROM memories WHERE rowid = ?", (rowid,))
        store.conn.execute(
            "UPDATE memories SET text=?, kind=?, source=?, text_hash=?, pinned=?, created_at=?, "
            "updated_at=?, extra=?, conversation=?, project=? WHERE rowid = ?",
            (text, kind, source, text_hash, int(pinned), created_at, updated_at,
             _extra_json(extra), conv, project, rowid))
    store.conn.execute("INSERT INTO memories_fts (rowid, text) VALUES (?, ?)", (rowid, text))
    return rowid


def set_pinned(store: Store, mem_id: str, pinned: bool) -> None:
    store.conn.execute("UPDATE memories SET pinned = ? WHERE id = ?", (int(pinned), mem_id))


def memory_tags_clear(store: Store, rowid: int, names: Iterable[str]) -> None:
    store.remove_tags("memory", rowid, names)


def summary_row(store: Store, conv_id: str) -> tuple[str, str | None] | None:
    """(text, model) of a conversation's summary, or None."""
    return store.conn.execute(
        "SELECT s.text, s.model FROM summaries s JOIN conversations c ON c.rowid = "
        "s.conversation WHERE c.id = ?", (conv_id,)).fetchone()


def conversation_is(store: Store, rowid: int | None, content_hash: str,
                    title: str | None) -> bool:
    """Whether the stored conversation has this content hash and title."""
    row = store.conn.execute("SELECT content_hash = ? AND title IS ? FROM conversations "
                             "WHERE rowid = ?", (content_hash, title, rowid)).fetchone()
    return bool(row and row[0])


def memory_pinned(store: Store, mem_id: str) -> bool:
    row = store.conn.execute("SELECT pinned FROM memories WHERE id = ?", (mem_id,)).fetchone()
    return bool(row and row[0])


def tombstone_info(store: Store, kind: str, item_id: str) -> tuple[str | None, str | None,
                                                                  str | None]:
    return store.conn.execute("SELECT source, source_id, content_hash FROM sync_tombstones "
                              "WHERE kind = ? AND id = ?", (kind, item_id)).fetchone()


def savepoint(store: Store, action: str) -> None:
    """SAVEPOINT / RELEASE / ROLLBACK TO one record's savepoint."""
    sql = {"begin": "SAVEPOINT rec", "release": "RELEASE rec",
           "rollback": "ROLLBACK TO rec"}[action]
    store.conn.execute(sql)


def forget_positions(store: Store) -> None:
    store.conn.execute("DELETE FROM sync_positions")
