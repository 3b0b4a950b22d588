"""Embedding vectors and settings: the SQL side of semantic search (schema: m009).

Vectors arrive here as bytes (int8, one per dimension, already quantised by
:mod:`aimem.services.semantic`); this module never imports numpy. A block holds up to
``BLOCK`` vectors of one model back to back; ``vectors`` maps (model, kind, item) to
its block and slot with the hash of the embedded text.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from aimem.models import Filters
from aimem.store.db import filter_sql, memory_filter_sql

BLOCK = 256
KIND_CODES = {"message": 0, "memory": 1, "conversation": 2}
DEAD = 255  # the kind byte of a deleted item's slot


# -- settings ---------------------------------------------------------------------------

def get_setting(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_setting(conn: sqlite3.Connection, key: str, value: str | None) -> None:
    if value is None:
        conn.execute("DELETE FROM settings WHERE key = ?", (key,))
    else:
        conn.execute("INSERT INTO settings VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                     "SET value = excluded.value", (key, value))


def all_settings(conn: sqlite3.Connection) -> dict[str, str]:
    """The user's settings (not aimem's own bookkeeping, like vectors-version)."""
    return dict(conn.execute("SELECT key, value FROM settings WHERE key NOT IN "
                             "('vectors-version', 'vectors-epoch') ORDER BY key"))


# -- what to embed ----------------------------------------------------------------------

def message_texts(conn: sqlite3.Connection, filters: Filters | None
                  ) -> Iterator[tuple[int, str, str | None, str | None]]:
    """(rowid, text, author, the message before) of every message the filters select."""
    where, params = filter_sql(filters)
    yield from conn.execute(
        "SELECT m.rowid, m.text, m.author, (SELECT substr(p.text, 1, 1000) FROM messages p "
        "WHERE p.conversation = m.conversation AND p.position = m.position - 1) "
        "FROM messages m JOIN conversations c ON c.rowid = m.conversation "
        f"WHERE {where} ORDER BY m.rowid", params)


def memory_texts(conn: sqlite3.Connection, filters: Filters | None
                 ) -> Iterator[tuple[int, str]]:
    where, params = memory_filter_sql(filters, "mm")
    yield from conn.execute(f"SELECT mm.rowid, mm.text FROM memories mm WHERE {where} "
                            "ORDER BY mm.rowid", params)


def conversation_texts(conn: sqlite3.Connection, filters: Filters | None
                       ) -> Iterator[tuple[int, str | None, str | None]]:
    """(rowid, title, summary) of the conversations the filters select."""
    where, params = filter_sql(filters, "c", None)
    yield from conn.execute(
        "SELECT c.rowid, c.title, (SELECT s.text FROM summaries s WHERE s.conversation = c.rowid) "
        f"FROM conversations c WHERE {where} ORDER BY c.rowid", params)


# -- storing ----------------------------------------------------------------------------

def stored_hashes(conn: sqlite3.Connection, model: str, kind: str) -> dict[int, str]:
    return dict(conn.execute("SELECT item, hash FROM vectors WHERE model = ? AND kind = ?",
                             (model, kind)))


def write(conn: sqlite3.Connection, model: str, dim: int,
          entries: Sequence[tuple[str, int, str, bytes]]) -> None:
    """Store (kind, item rowid, text hash, int8 vector bytes); replaces an item's old one."""
    if not entries:
        return
    conn.executemany("DELETE FROM vectors WHERE model = ? AND kind = ? AND item = ?",
                     [(model, k, i) for k, i, _, _ in entries])
    zero_dead(conn)
    row = conn.execute("SELECT rowid, count, data, items, kinds FROM vector_blocks "
                       "WHERE model = ? AND dim = ? AND count < ? ORDER BY rowid DESC LIMIT 1",
                       (model, dim, BLOCK)).fetchone()
    if row:
        block, count = row[0], row[1]
        data, items, kinds = bytearray(row[2]), bytearray(row[3]), bytearray(row[4])
    else:
        block, count, data, items, kinds = None, 0, bytearray(), bytearray(), bytearray()

    def flush() -> None:
        conn.execute("UPDATE vector_blocks SET count = ?, data = ?, items = ?, kinds = ? "
                     "WHERE rowid = ?", (count, bytes(data), bytes(items), bytes(kinds), block))

    rows = []
    for kind, item, text_hash, vec in entries:
        if len(vec) != dim:
            raise ValueError(f"a vector of {len(vec)} bytes for a {dim}-dimension model")
        if block is None or count >= BLOCK:
            if block is not None:
                flush()
            block = conn.execute("INSERT INTO vector_blocks (model, dim, count, data) "
                                 "VALUES (?, ?, 0, x'')", (model, dim)).lastrowid
            count, data, items, kinds = 0, bytearray(), bytearray(), bytearray()
        data += vec
        items += item.to_bytes(8, "little", signed=True)
        kinds.append(KIND_CODES[kind])
        rows.append((model, kind, item, text_hash, block, count))
        count += 1
    flush()
    conn.executemany("INSERT INTO vectors VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.execute("UPDATE settings SET value = value + 1 WHERE key = 'vectors-version'")
    # which database the version counts in (a vector file is only valid for its own one)
    conn.execute("INSERT OR IGNORE INTO settings VALUES ('vectors-epoch', ?)",
                 (secrets.token_hex(8),))


def zero_dead(conn: sqlite3.Connection) -> int:
    """Overwrite the slots of deleted items with zeros (nothing of them stays); how many."""
    dead: dict[int, list[int]] = {}
    for block, slot in conn.execute("SELECT block, slot FROM vector_dead"):
        dead.setdefault(block, []).append(slot)
    if not dead:
        return 0
    for block, slots in dead.items():
        row = conn.execute("SELECT dim, data, items, kinds FROM vector_blocks WHERE rowid = ?",
                           (block,)).fetchone()
        if row is None:
            continue
        dim, data, items, kinds = row[0], bytearray(row[1]), bytearray(row[2]), bytearray(row[3])
        for s in slots:
            data[s * dim:(s + 1) * dim] = bytes(dim)
            items[s * 8:(s + 1) * 8] = (-1).to_bytes(8, "little", signed=True)
            kinds[s] = DEAD
        conn.execute("UPDATE vector_blocks SET data = ?, items = ?, kinds = ? WHERE rowid = ?",
                     (bytes(data), bytes(items), bytes(kinds), block))
    conn.execute("DELETE FROM vector_dead")
    drop_files(conn)  # nothing of a forgotten item stays in a vector file either
    # blocks whose every slot is dead go
    conn.execute("DELETE FROM vector_blocks WHERE count >= ? AND rowid NOT IN "
                 "(SELECT DISTINCT block FROM vectors)", (BLOCK,))
    return sum(map(len, dead.values()))


def delete_model(conn: sqlite3.Connection, model: str) -> int:
    n = conn.execute("DELETE FROM vectors WHERE model = ?", (model,)).rowcount
    conn.execute("DELETE FROM vector_blocks WHERE model = ?", (model,))
    conn.execute("DELETE FROM vector_dead WHERE block NOT IN (SELECT rowid FROM vector_blocks)")
    drop_files(conn)
    return n


# -- loading ----------------------------------------------------------------------------

def blocks(conn: sqlite3.Connection, model: str) -> list[tuple[int, int, bytes, bytes, bytes]]:
    """(dim, count, vectors, item rowids as int64, kind codes) of a model's blocks."""
    return conn.execute("SELECT dim, count, data, items, kinds FROM vector_blocks "
                        "WHERE model = ? ORDER BY rowid", (model,)).fetchall()


def version(conn: sqlite3.Connection) -> Any:
    """Changes whenever any vector is written or deleted (for caches)."""
    return get_setting(conn, "vectors-version")


def counts(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(model, kind, how many vectors)."""
    return conn.execute("SELECT model, kind, count(*) FROM vectors GROUP BY model, kind "
                        "ORDER BY model, kind").fetchall()


def has_vectors(conn: sqlite3.Connection, model: str) -> bool:
    return conn.execute("SELECT 1 FROM vector_blocks WHERE model = ? LIMIT 1",
                        (model,)).fetchone() is not None


def message_rowids(conn: sqlite3.Connection, conv_rowid: int) -> list[int]:
    return [r[0] for r in conn.execute("SELECT rowid FROM messages WHERE conversation = ?",
                                       (conv_rowid,))]


def conversation_of_messages(conn: sqlite3.Connection, rowids: Sequence[int]) -> dict[int, int]:
    """message rowid -> its conversation's rowid."""
    if not rowids:
        return {}
    return dict(conn.execute(f"SELECT rowid, conversation FROM messages WHERE rowid IN "
                             f"({','.join('?' * len(rowids))})", list(rowids)))


# -- the vector file ----------------------------------------------------------------------
#
# Loading 250k vectors from their blocks takes ~0.8 s of CPU (reading 96 MB of BLOBs and
# joining them): every one-shot `aimem search` paid it. So the live vectors of a model are
# also written, once, to a plain file next to the database (``<db>-vectors-<model hash>``):
# a JSON header, then the int8 matrix, the item rowids (int64) and the kind codes (uint8),
# which :mod:`aimem.services.semantic` memory-maps (the page cache keeps it between runs).
# The file is derived data, never the source: its header holds the key below, and a file
# whose key differs from the database's is rebuilt from the blocks. Every write and every
# deletion changes the key (vectors-version, bumped by ``write`` and by the delete
# trigger); ``vectors-epoch`` (random, set on the first write) tells databases apart, so a
# restored backup or another database at the same path never reuses a file. ``forget``
# (zero_dead) and ``delete_model`` remove the files at once: nothing of a forgotten item
# lingers there. A backup copies the database only; the file is rebuilt where needed.

FILE_MAGIC = b"AIMEMVEC1\n"
FILE_HEADER = 4096  # the matrix starts here (page-aligned)


def file_path(conn: sqlite3.Connection, model: str) -> Path | None:
    """Where the vector file of ``model`` lives (None for an in-memory database)."""
    db = _db_file(conn)
    if db is None:
        return None
    tag = hashlib.blake2b(model.encode(), digest_size=6).hexdigest()
    return Path(f"{db}-vectors-{tag}")


def _db_file(conn: sqlite3.Connection) -> str | None:
    for _, name, path in conn.execute("PRAGMA database_list"):
        if name == "main":
            return path or None
    return None


def change_key(conn: sqlite3.Connection) -> str:
    """Changes whenever any vector is written or deleted, in this database or when it is
    replaced by another (a cheap check for a process that already holds the vectors)."""
    settings = dict(conn.execute("SELECT key, value FROM settings WHERE key IN "
                                 "('vectors-version', 'vectors-epoch')"))
    return f"{settings.get('vectors-epoch')}:{settings.get('vectors-version')}"


def file_key(conn: sqlite3.Connection, model: str) -> str | None:
    """What a valid vector file of ``model`` must say it holds (None: no vectors)."""
    nblocks, last, total, dim = conn.execute(
        "SELECT count(*), max(rowid), total(count), min(dim) FROM vector_blocks WHERE model = ?",
        (model,)).fetchone()
    if not nblocks:
        return None
    dead = conn.execute("SELECT count(*) FROM vector_dead").fetchone()[0]
    return f"{change_key(conn)}:{model}:{dim}:{nblocks}:{last}:{int(total)}:{dead}"


def read_file_header(f: Any) -> dict[str, Any] | None:
    """The header of an open vector file (``offset``: where the matrix starts), or None
    when it is not one or is cut short."""
    try:
        f.seek(0)
        if f.read(len(FILE_MAGIC)) != FILE_MAGIC:
            return None
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
        n, dim, offset = header["n"], header["dim"], header["offset"]
        if os.fstat(f.fileno()).st_size != offset + n * dim + n * 8 + n:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return header if isinstance(n, int) and isinstance(dim, int) and n > 0 else None


def live_vectors(conn: sqlite3.Connection, model: str
                 ) -> tuple[int, int, bytes, bytes, bytes] | None:
    """(dim, n, int8 matrix, item rowids int64, kind codes) of the model's live vectors:
    dead slots (zeroed, or deleted and not yet zeroed) left out."""
    rows = blocks_with_ids(conn, model)
    if not rows:
        return None
    dead: dict[int, set[int]] = {}
    for block, slot in conn.execute("SELECT block, slot FROM vector_dead"):
        dead.setdefault(block, set()).add(slot)
    dim = rows[0][1]
    data, items, kinds = bytearray(), bytearray(), bytearray()
    n = 0
    for block, _, count, d, it, kd in rows:
        gone = dead.get(block, ())
        if not gone and DEAD not in kd[:count]:
            data += d[:count * dim]
            items += it[:count * 8]
            kinds += kd[:count]
            n += count
            continue
        for s in range(count):
            if s in gone or kd[s] == DEAD:
                continue
            data += d[s * dim:(s + 1) * dim]
            items += it[s * 8:(s + 1) * 8]
            kinds.append(kd[s])
            n += 1
    return dim, n, bytes(data), bytes(items), bytes(kinds)


def blocks_with_ids(conn: sqlite3.Connection, model: str
                    ) -> list[tuple[int, int, int, bytes, bytes, bytes]]:
    """(block rowid, dim, count, vectors, items, kinds) of a model's blocks, in order."""
    return conn.execute("SELECT rowid, dim, count, data, items, kinds FROM vector_blocks "
                        "WHERE model = ? ORDER BY rowid", (model,)).fetchall()


def write_file(path: Path, key: str, dim: int, n: int, data: bytes, items: bytes,
               kinds: bytes) -> bool:
    """Write a vector file atomically (a temporary file renamed); False when the folder
    is not writable (the caller keeps the vectors in memory instead)."""
    body = json.dumps({"key": key, "dim": dim, "n": n, "offset": FILE_HEADER}).encode()
    room = FILE_HEADER - len(FILE_MAGIC) - 8
    if len(body) > room:
        return False
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(FILE_MAGIC + room.to_bytes(8, "little") + body.ljust(room))
            f.write(data)
            f.write(items)
            f.write(kinds)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        return False
    return True


def drop_files(conn: sqlite3.Connection) -> None:
    """Remove every vector file of this database (they are rebuilt when next needed)."""
    db = _db_file(conn)
    if db is None:
        return
    folder, name = os.path.split(db)
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return
    for entry in names:
        if entry.startswith(f"{name}-vectors-"):
            try:
                os.unlink(os.path.join(folder, entry))
            except OSError:
                pass
