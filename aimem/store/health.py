"""The SQL behind ``aimem doctor`` and ``aimem backup``: checks, repairs, online copies.

These work on the file as it is, without migrating it (a damaged database, or one from
a newer aimem, must still be inspectable and copyable), and they find the tables to
check in the schema itself (``sqlite_master``, ``PRAGMA foreign_key_list``) rather than
from a list written here: an FTS index or a table added by a later migration is checked
the day it exists.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aimem.store.common import BUSY_TIMEOUT_MS

_ERROR, _BUSY, _READONLY, _CORRUPT, _NOTADB = 1, 5, 8, 11, 26  # SQLite's primary codes


Connection = sqlite3.Connection


class Unreadable(Exception):
    """The file cannot be read as a database: damaged, or not SQLite at all (``notadb``)."""

    def __init__(self, why: str, notadb: bool):
        super().__init__(why)
        self.notadb = notadb


class NotChecked(Exception):
    """A check that could not run (a read-only file, a writer holding the lock): no verdict."""


def _code(e: Exception) -> int:
    return (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF


def _why(e: Exception) -> str:
    return " ".join(str(e).split())


def _unreadable(e: sqlite3.Error) -> Exception:
    """What a failure to read the file means; "busy" stays an sqlite3 error for the caller."""
    if _code(e) == _BUSY:
        return e
    return Unreadable(_why(e), _code(e) == _NOTADB)


@contextmanager
def unreadable_as_such() -> Iterator[None]:
    """Turn a damaged-file error inside the block into :class:`Unreadable`."""
    try:
        yield
    except sqlite3.DatabaseError as e:
        if _code(e) not in (_CORRUPT, _NOTADB):
            raise
        raise _unreadable(e) from None


def connect(path: Path) -> sqlite3.Connection:
    """A connection to an existing database that never creates one and never migrates.

    Read and write: FTS5's integrity check is an INSERT, refused on a read-only connection.
    """
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=rw", uri=True,
                               isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as e:
        raise _unreadable(e) from None
    _register_functions(conn)
    return conn


def _register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the content views of an index may call, as ``Store.open`` does.

    (The CJK indexes' views call ``aimem_cjk()``; their module registers it. Without it
    the check says "not checked" rather than failing.)"""
    import importlib

    for name in ("cjk",):
        try:
            module = importlib.import_module(f"aimem.store.{name}")
        except ModuleNotFoundError:
            continue
        register = getattr(module, "register", None)
        if register is not None:
            register(conn)


def _cannot_run(e: sqlite3.Error) -> bool:
    """A check that did not run (busy, read-only, or SQLITE_ERROR, such as a function the
    index's view calls that this aimem lacks): no verdict either way."""
    return _code(e) in (_BUSY, _READONLY, _ERROR)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- the file ---------------------------------------------------------------------------


def integrity_errors(conn: sqlite3.Connection, limit: int = 20) -> list[str]:
    """What ``PRAGMA integrity_check`` finds (empty: the file is sound)."""
    try:
        rows = [r[0] for r in conn.execute(f"PRAGMA integrity_check({int(limit)})")]
    except sqlite3.DatabaseError as e:
        raise _unreadable(e) from None
    if rows == ["ok"]:
        return []
    lines = [line.strip() for row in rows for line in str(row).splitlines()]
    return [line for line in lines if line and not line.startswith("*** in database")]


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def applied_migrations(conn: sqlite3.Connection) -> dict[int, str]:
    """Migration number -> name, as recorded when it ran (empty for a new file)."""
    if not table_exists(conn, "_aimem_migrations"):
        return {}
    return dict(conn.execute("SELECT id, name FROM _aimem_migrations"))


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') "
                        "AND name = ?", (name,)).fetchone() is not None


def checkpoint(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """Copy the write-ahead log into the database and truncate it: (busy, pages, copied)."""
    row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return int(row[0]), int(row[1]), int(row[2])


# -- full-text indexes ----------------------------------------------------------------


@dataclass
class FtsTable:
    name: str
    content: str | None  # the external content table or view; None: the index keeps its own
    content_rowid: str
    contentless: bool  # content='': nothing to compare with, nothing to rebuild from


_OPTION = re.compile(r"""\b(content|content_rowid)\s*=\s*('(?:[^']|'')*'|"(?:[^"]|"")*"|[\w]+)""",
                     re.IGNORECASE)


def fts_tables(conn: sqlite3.Connection) -> list[FtsTable]:
    """Every FTS5 table in the database, with its external content if it has one."""
    out = []
    for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
            "AND sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"):
        if not re.search(r"\bUSING\s+fts5\b", sql or "", re.IGNORECASE):
            continue
        opts = {}
        for key, value in _OPTION.findall(sql):
            if value[:1] in ("'", '"'):
                value = value[1:-1].replace(value[0] * 2, value[0])
            opts[key.lower()] = value
        content = opts.get("content")
        out.append(FtsTable(name=name, content=content or None,
                            content_rowid=opts.get("content_rowid", "rowid"),
                            contentless=content == ""))
    return out


def fts_integrity_error(conn: sqlite3.Connection, t: FtsTable) -> str | None:
    """FTS5's own check of the index, against the external content when there is one.

    It changes nothing, but it is an INSERT: it waits for a writer in another process."""
    q = quote(t.name)
    sql = (f"INSERT INTO {q}({q}, rank) VALUES ('integrity-check', 1)" if t.content
           else f"INSERT INTO {q}({q}) VALUES ('integrity-check')")
    try:
        conn.execute(sql)
    except sqlite3.DatabaseError as e:
        if _cannot_run(e):
            raise NotChecked(_why(e)) from None
        if _code(e) != _CORRUPT:
            raise
        return _why(e)
    return None


def fts_counts(conn: sqlite3.Connection, t: FtsTable) -> tuple[int | None, int | None]:
    """(rows the index holds, rows of its external content); None where unknown."""
    indexed = content = None
    try:
        if table_exists(conn, f"{t.name}_docsize"):
            indexed = conn.execute(
                f"SELECT count(*) FROM {quote(t.name + '_docsize')}").fetchone()[0]
        if t.content and table_exists(conn, t.content):
            content = conn.execute(f"SELECT count(*) FROM {quote(t.content)}").fetchone()[0]
    except sqlite3.DatabaseError as e:
        if _cannot_run(e):
            raise NotChecked(_why(e)) from None
        raise
    return indexed, content


def fts_depends_on(conn: sqlite3.Connection, t: FtsTable, table: str) -> bool:
    """Whether the index's content is ``table`` or a view that reads it."""
    if t.content is None or t.contentless:
        return False
    if t.content == table:
        return True
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?",
                       (t.content,)).fetchone()
    return bool(row and re.search(rf"\b{re.escape(table)}\b", row[0] or "", re.IGNORECASE))


def fts_rebuild(conn: sqlite3.Connection, t: FtsTable) -> None:
    """Rebuild the index from its content (not possible for a contentless index)."""
    q = quote(t.name)
    conn.execute(f"INSERT INTO {q}({q}) VALUES ('rebuild')")


# -- rows whose parent is gone -----------------------------------------------------------


@dataclass
class ForeignKey:
    table: str
    column: str
    parent: str
    parent_column: str
    on_delete: str  # CASCADE, SET NULL, NO ACTION…


def foreign_keys(conn: sqlite3.Connection) -> list[ForeignKey]:
    """Every single-column foreign key declared in the schema."""
    out = []
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]
    for table in tables:
        keys: dict[int, list[tuple]] = {}  # type: ignore[type-arg]
        for row in conn.execute(f"PRAGMA foreign_key_list({quote(table)})"):
            keys.setdefault(row[0], []).append(row)
        for rows in keys.values():
            if len(rows) != 1:
                continue  # composite keys: none in aimem's schema
            _, _, parent, column, to, _, on_delete, _ = rows[0]
            out.append(ForeignKey(table, column, parent, to or _primary_key(conn, parent),
                                  on_delete.upper()))
    return out


def _primary_key(conn: sqlite3.Connection, table: str) -> str:
    pk = [r[1] for r in conn.execute(f"PRAGMA table_info({quote(table)})") if r[5]]
    return pk[0] if len(pk) == 1 else "rowid"


def _orphan_where(conn: sqlite3.Connection, fk: ForeignKey) -> str:
    col = quote(fk.column)
    if not table_exists(conn, fk.parent):
        return f"{col} IS NOT NULL"
    return (f"{col} IS NOT NULL AND {col} NOT IN "
            f"(SELECT {quote(fk.parent_column)} FROM {quote(fk.parent)})")


def orphan_count(conn: sqlite3.Connection, fk: ForeignKey) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {quote(fk.table)} "
                            f"WHERE {_orphan_where(conn, fk)}").fetchone()[0])


def remove_orphans(conn: sqlite3.Connection, fk: ForeignKey) -> int:
    """Do what the key's ON DELETE says should have happened: unlink (SET NULL) or delete."""
    where = _orphan_where(conn, fk)
    if fk.on_delete == "SET NULL":
        cur = conn.execute(f"UPDATE {quote(fk.table)} SET {quote(fk.column)} = NULL WHERE {where}")
    else:
        cur = conn.execute(f"DELETE FROM {quote(fk.table)} WHERE {where}")
    return cur.rowcount


def _tag_links(conn: sqlite3.Connection) -> list[ForeignKey]:
    return [fk for fk in foreign_keys(conn) if fk.parent == "tags"]


def _unused_tags_where(conn: sqlite3.Connection) -> str | None:
    links = _tag_links(conn)
    if not table_exists(conn, "tags") or not links:
        return None
    return " AND ".join(f"rowid NOT IN (SELECT {quote(fk.column)} FROM {quote(fk.table)} "
                        f"WHERE {quote(fk.column)} IS NOT NULL)" for fk in links)


def unused_tag_count(conn: sqlite3.Connection) -> int:
    """Tags that nothing carries any more (aimem drops them as the last link goes)."""
    where = _unused_tags_where(conn)
    if where is None:
        return 0
    return int(conn.execute(f"SELECT count(*) FROM tags WHERE {where}").fetchone()[0])


def remove_unused_tags(conn: sqlite3.Connection) -> int:
    where = _unused_tags_where(conn)
    return 0 if where is None else conn.execute(f"DELETE FROM tags WHERE {where}").rowcount


@contextmanager
def _write(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def repair(conn: sqlite3.Connection, stale: set[str], skip: set[str] = frozenset()  # type: ignore[assignment]
           ) -> dict[str, list[tuple[str, int]]]:
    """Remove orphans and unused tags, rebuild the indexes that are ``stale`` or read a
    table that changed (except those in ``skip``): one transaction, all or nothing.

    Returns ``{"removed": [(table.column, n)], "unlinked": [...], "tags": [("tags", n)],
    "rebuilt": [(index, 0)]}``.
    """
    done: dict[str, list[tuple[str, int]]] = {"removed": [], "unlinked": [], "tags": [],
                                              "rebuilt": []}
    with _write(conn):
        changed: set[str] = set()
        for _ in range(5):  # removing a row can orphan the rows that pointed at it
            removed = 0
            for fk in foreign_keys(conn):
                n = remove_orphans(conn, fk)
                if n:
                    removed += n
                    changed.add(fk.table)
                    done["unlinked" if fk.on_delete == "SET NULL" else "removed"].append(
                        (f"{fk.table}.{fk.column}", n))
            if not removed:
                break
        n = remove_unused_tags(conn)
        if n:
            changed.add("tags")
            done["tags"].append(("tags", n))
        for t in fts_tables(conn):
            if not t.contentless and t.name not in skip and (t.name in stale or any(
                    fts_depends_on(conn, t, table) for table in changed)):
                fts_rebuild(conn, t)
                done["rebuilt"].append((t.name, 0))
    return done


def file_counts(path: Path) -> dict[str, int]:
    """Rows of the main tables of a closed database file (a backup), leaving no side files."""
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    try:
        return {t: int(conn.execute(f"SELECT count(*) FROM {quote(t)}").fetchone()[0])
                for t in ("conversations", "messages", "memories") if table_exists(conn, t)}
    finally:
        conn.close()


# -- backup -----------------------------------------------------------------------------


def backup(source: Path, target: Path, label: Path | None = None) -> None:
    """Copy the database at ``source`` into the (empty) file ``target``, online.

    ``label`` is the name errors give the copy (``target`` is a temporary name).

    SQLite's backup API in a single step: the whole copy is made inside one read
    transaction, so it is a consistent snapshot of what was committed when it began,
    and in WAL mode other processes keep writing meanwhile (they are neither blocked nor
    restarting the copy, as a page-by-page backup would be on every write).
    """
    src = connect(source)
    try:
        dst = sqlite3.connect(target, isolation_level=None)
        try:
            src.backup(dst)
            # the copy says "WAL" in its header like its source; fold anything the
            # destination wrote to its own log back into the one file that is copied back
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as e:
            if _code(e) == _BUSY:
                raise
            from aimem.errors import AimemError, database_error_message

            # a full disk, a read-only folder: say it of the copy, not of the database
            raise AimemError("the backup was not written: "
                             + database_error_message(e, label or target)) from None
        finally:
            dst.close()
    finally:
        src.close()


# -- embedding vectors (m009) ----------------------------------------------------------

_VECTOR_ITEMS = {"message": "messages", "memory": "memories", "conversation": "conversations"}


@dataclass
class VectorProblems:
    vectors: int = 0  # vectors stored, all models
    malformed: list[int] = field(default_factory=list)  # blocks whose sizes disagree
    gone: int = 0  # vectors of items that no longer exist
    misplaced: int = 0  # vectors pointing at a slot that holds something else

    @property
    def any(self) -> bool:
        return bool(self.malformed or self.gone or self.misplaced)


def _vectors_gone_where() -> str:
    return " OR ".join(f"(v.kind = '{k}' AND NOT EXISTS (SELECT 1 FROM {t} x "
                       "WHERE x.rowid = v.item))" for k, t in _VECTOR_ITEMS.items()) + (
        " OR v.kind NOT IN (" + ", ".join(f"'{k}'" for k in _VECTOR_ITEMS) + ")")


def _misplaced_vectors(conn: sqlite3.Connection, malformed: set[int]
                       ) -> list[tuple[str, str, int]]:
    """(model, kind, item) of the vectors whose block and slot do not hold that item."""
    from aimem.store.vectors import KIND_CODES

    blocks = {rowid: (model, count, items, kinds) for rowid, model, count, items, kinds
              in conn.execute("SELECT rowid, model, count, items, kinds FROM vector_blocks")}
    out = []
    for model, kind, item, block, slot in conn.execute(
            "SELECT model, kind, item, block, slot FROM vectors"):
        if block in malformed:
            continue
        b = blocks.get(block)
        if (b is None or b[0] != model or not 0 <= slot < b[1]
                or int.from_bytes(b[2][slot * 8:slot * 8 + 8], "little", signed=True) != item
                or b[3][slot] != KIND_CODES.get(kind)):
            out.append((model, kind, item))
    return out


def _malformed_blocks(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute(
        "SELECT rowid FROM vector_blocks WHERE length(data) != count * dim "
        "OR length(items) != count * 8 OR length(kinds) != count")]


def vector_problems(conn: sqlite3.Connection) -> VectorProblems | None:
    """What is wrong with the stored embedding vectors; None when there are none."""
    if not table_exists(conn, "vectors") or not table_exists(conn, "vector_blocks"):
        return None
    p = VectorProblems(vectors=int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0]))
    p.malformed = _malformed_blocks(conn)
    p.gone = int(conn.execute(
        f"SELECT count(*) FROM vectors v WHERE {_vectors_gone_where()}").fetchone()[0])
    p.misplaced = len(_misplaced_vectors(conn, set(p.malformed)))
    return p


def repair_vectors(conn: sqlite3.Connection) -> dict[str, int]:
    """Drop malformed blocks and every vector that is stale or misplaced (``aimem embed``
    makes them again), then zero the slots they held: one transaction."""
    from aimem.store import vectors

    done = {"blocks": 0, "vectors": 0}
    with _write(conn):
        for block in _malformed_blocks(conn):
            done["vectors"] += conn.execute("DELETE FROM vectors WHERE block = ?",
                                            (block,)).rowcount
            conn.execute("DELETE FROM vector_dead WHERE block = ?", (block,))
            conn.execute("DELETE FROM vector_blocks WHERE rowid = ?", (block,))
            done["blocks"] += 1
        done["vectors"] += conn.execute(
            f"DELETE FROM vectors AS v WHERE {_vectors_gone_where()}").rowcount
        for model, kind, item in _misplaced_vectors(conn, set()):
            done["vectors"] += conn.execute(
                "DELETE FROM vectors WHERE model = ? AND kind = ? AND item = ?",
                (model, kind, item)).rowcount
        # a misplaced vector pointed at a slot that may hold another item's good vector:
        # only slots nothing points at any more are zeroed
        conn.execute("DELETE FROM vector_dead WHERE EXISTS (SELECT 1 FROM vectors v "
                     "WHERE v.block = vector_dead.block AND v.slot = vector_dead.slot)")
        vectors.zero_dead(conn)
        vectors.drop_files(conn)
    return done
