"""Reading llm's logs.db: one read-only snapshot of the tables the conversations are
built from (see :mod:`aimem.importers.llm_logs`). The file is opened with plain
``sqlite3`` as ``file:…?mode=ro`` and closed before anything is handed on."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimem.importers.base import Input

SQLITE_HEADER = b"SQLite format 3\x00"
# A fragment (a file or URL given with `llm -f`) is stored once by llm and may be sent
# with a hundred prompts; longer ones are not copied into every message.
FRAGMENT_LIMIT = 100_000


def probe(path: Path) -> bool:
    """True for an llm database, and for an SQLite file too damaged to tell (parse says why)."""
    try:
        conn = _connect(path)
    except sqlite3.Error:
        return True
    try:
        row = conn.execute("select 1 from sqlite_master where type = 'table' "
                           "and name = '_llm_migrations'").fetchone()
        return row is not None
    except sqlite3.DatabaseError:
        return True
    finally:
        conn.close()


@contextmanager
def on_disk(inp: Input, *, counted: bool) -> Iterator[Path]:
    """A path to the database: the file itself, or a temporary copy of a zip member/stdin."""
    if inp.path is not None:
        yield inp.path
        return
    with tempfile.TemporaryDirectory(prefix="aimem-llm-") as tmp:
        copy = Path(tmp) / "logs.db"
        with (inp.open() if counted else inp.opener()) as src, open(copy, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        yield copy


def _connect(path: Path) -> sqlite3.Connection:
    # mode=ro: never writes, never migrates. (immutable=1 would be unsafe while llm writes.)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                           isolation_level=None)
    conn.row_factory = sqlite3.Row
    # a damaged byte in one stored text is shown as U+FFFD, not a reason to lose the file
    conn.text_factory = lambda b: b.decode("utf-8", "replace")
    return conn


# -- reading -----------------------------------------------------------------------------


@dataclass(slots=True)
class Db:
    """Everything the conversations are built from, read in one snapshot."""

    tables: set[str]
    conversations: dict[str, sqlite3.Row] = field(default_factory=dict)
    responses: list[sqlite3.Row] = field(default_factory=list)
    prompt_fragments: dict[str, list[int]] = field(default_factory=dict)
    system_fragments: dict[str, list[int]] = field(default_factory=dict)
    tool_calls: dict[str, list[sqlite3.Row]] = field(default_factory=dict)
    tool_results: dict[str, list[sqlite3.Row]] = field(default_factory=dict)
    result_attachments: dict[int, list[str]] = field(default_factory=dict)
    prompt_attachments: dict[str, list[str]] = field(default_factory=dict)
    attachments: dict[str, str] = field(default_factory=dict)  # id -> label
    fragments: dict[int, str] = field(default_factory=dict)
    threads: dict[str, sqlite3.Row] = field(default_factory=dict)
    turns: list[sqlite3.Row] = field(default_factory=list)
    messages: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # parent, role
    parts: dict[str, list[sqlite3.Row]] = field(default_factory=dict)
    old_log_rows: int = 0


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f'pragma table_info("{table}")')}


def _grouped(rows: Any, key: str) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = {}
    for r in rows:
        out.setdefault(r[key], []).append(r)
    return out


def read_snapshot(path: Path) -> Db:
    conn = _connect(path)
    try:
        conn.execute("begin")  # one consistent snapshot, released as soon as we are done
        tables = {r[0] for r in conn.execute(
            "select name from sqlite_master where type in ('table', 'view')")}
        if "_llm_migrations" not in tables:
            raise NotLlm()
        db = Db(tables=tables)
        if "responses" in tables:
            _read_legacy(conn, db)
        if {"threads", "turns", "messages", "parts"} <= tables:
            _read_threads(conn, db)
        if "fragments" in tables:
            _read_fragments(conn, db)
        if "attachments" in tables:
            for r in conn.execute("select id, type, path, url from attachments"):
                db.attachments[r["id"]] = _attachment_label(r["path"], r["url"], r["type"])
        for old in ("log", "logs"):
            if old in tables and not db.responses and not db.turns:
                db.old_log_rows += conn.execute(f'select count(*) from "{old}"').fetchone()[0]
        return db
    finally:
        conn.close()


def _read_legacy(conn: sqlite3.Connection, db: Db) -> None:
    tables = db.tables
    cols = _columns(conn, "responses")
    wanted = ["id", "model", "prompt", "system", "response", "conversation_id",
              "datetime_utc", "duration_ms", "resolved_model"]
    select = ", ".join(c if c in cols else f"null as {c}" for c in wanted)
    db.responses = list(conn.execute(f"select {select} from responses"))
    if "conversations" in tables:
        db.conversations = {r["id"]: r for r in conn.execute(
            "select id, name, model from conversations")}
    for table, target in (("prompt_fragments", db.prompt_fragments),
                          ("system_fragments", db.system_fragments)):
        if table in tables:
            for r in conn.execute(f'select response_id, fragment_id from "{table}" '
                                  'order by response_id, "order"'):
                target.setdefault(r[0], []).append(r[1])
    if "tool_calls" in tables:
        db.tool_calls = _grouped(conn.execute(
            "select id, response_id, name, arguments, tool_call_id from tool_calls "
            "order by id"), "response_id")
    if "tool_results" in tables:
        exc = "exception" if "exception" in _columns(conn, "tool_results") else "null"
        db.tool_results = _grouped(conn.execute(
            f"select id, response_id, name, output, tool_call_id, {exc} as exception "
            "from tool_results order by id"), "response_id")
    if "tool_results_attachments" in tables:
        for r in conn.execute('select tool_result_id, attachment_id from '
                              'tool_results_attachments order by tool_result_id, "order"'):
            db.result_attachments.setdefault(r[0], []).append(r[1])
    if "prompt_attachments" in tables:
        for r in conn.execute('select response_id, attachment_id from prompt_attachments '
                              'order by response_id, "order"'):
            db.prompt_attachments.setdefault(r[0], []).append(r[1])


def _read_threads(conn: sqlite3.Connection, db: Db) -> None:
    tcols = _columns(conn, "threads")
    forked = "forked_from" if "forked_from" in tcols else "null as forked_from"
    db.threads = {r["id"]: r for r in conn.execute(f"select id, name, {forked} from threads")}
    cols = _columns(conn, "turns")
    wanted = ["id", "thread_id", "parent_message_hash", "tip_message_hash", "model",
              "resolved_model", "datetime_utc", "duration_ms"]
    select = ", ".join(c if c in cols else f"null as {c}" for c in wanted)
    db.turns = list(conn.execute(f"select {select} from turns"))
    db.messages = {r[0]: (r[1], r[2]) for r in conn.execute(
        "select hash, parent_hash, role from messages")}
    db.parts = _grouped(conn.execute(
        "select message_hash, position, type, tool_name, text, payload from parts "
        "order by message_hash, position"), "message_hash")


def _read_fragments(conn: sqlite3.Connection, db: Db) -> None:
    """Only the fragments that prompts use (the table can also hold unused big files)."""
    sources = [f'select fragment_id from "{t}"' for t in
               ("prompt_fragments", "system_fragments", "part_fragments") if t in db.tables]
    if not sources:
        return
    for r in conn.execute("select id, content, source from fragments where id in ("
                          + " union ".join(sources) + ")"):
        content = r["content"] or ""
        if len(content) > FRAGMENT_LIMIT:
            where = r["source"] or f"#{r['id']}"
            content = f"[fragment {where}: {len(content)} characters, not imported]"
        db.fragments[r["id"]] = content


def _attachment_label(path: Any, url: Any, type_: Any) -> str:
    where = path or url
    if where and type_:
        return f"[attachment: {where} ({type_})]"
    return f"[attachment: {where or type_ or 'unknown'}]"


class NotLlm(Exception):
    pass
