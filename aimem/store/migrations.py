"""Numbered, append-only schema migrations.

Each migration is a function ``mNNN_name(conn)`` appended to ``MIGRATIONS`` with the
``@migration`` decorator. Never edit or reorder one that has shipped: add a new one.
The number of applied migrations is kept in ``PRAGMA user_version`` (cheap to read on
every open) and their names in ``_aimem_migrations``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []

TOKENIZER = "porter unicode61 remove_diacritics 2"
# bm25 weights of messages_fts's columns: text, author (the speaker's name), context (the
# message before), around (two before and the one after). A word in the message itself
# counts fully; in its neighbours it counts less the further away they are (0.5, 0.25):
# they tell what a short turn is about, but a turn that says it itself is the better hit.
MESSAGE_FTS_COLUMNS = "text, author, context, around"
MESSAGE_FTS_RANK = "bm25(1.0, 1.0, 0.5, 0.25)"


def run_script(conn: sqlite3.Connection, sql: str) -> None:
    """Run several statements inside the caller's transaction.

    (``Connection.executescript`` would COMMIT first, breaking the migration's atomicity.)
    """
    pending = ""
    for line in sql.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            conn.execute(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending[:60]!r}")


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial(conn: sqlite3.Connection) -> None:
    run_script(conn, f"""
    CREATE TABLE conversations (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        source_id TEXT,
        title TEXT,
        created_at REAL,
        updated_at REAL,
        model TEXT,
        project TEXT,
        content_hash TEXT,
        imported_at REAL NOT NULL,
        extra TEXT
    );
    CREATE INDEX conversations_created ON conversations(created_at);
    CREATE INDEX conversations_source ON conversations(source, source_id);

    CREATE TABLE messages (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        conversation INTEGER NOT NULL REFERENCES conversations(rowid) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        source_id TEXT,
        role TEXT NOT NULL,
        author TEXT,
        text TEXT NOT NULL,
        created_at REAL,
        extra TEXT
    );
    CREATE INDEX messages_conversation ON messages(conversation, position);

    -- What the message index sees: the text, the speaker, and the message before it
    -- (so a short reply is found by what it answers). External content: the index
    -- stores no copy of the text.
    CREATE VIEW messages_fts_content AS
        SELECT m.rowid AS mid, m.text AS text, m.author AS author,
               (SELECT substr(p.text, 1, 1000) FROM messages p
                 WHERE p.conversation = m.conversation AND p.position = m.position - 1)
               AS context
        FROM messages m;
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, author, context,
        content='messages_fts_content', content_rowid='mid', tokenize='{TOKENIZER}');

    CREATE TABLE summaries (
        conversation INTEGER PRIMARY KEY REFERENCES conversations(rowid) ON DELETE CASCADE,
        text TEXT NOT NULL,
        model TEXT,
        created_at REAL NOT NULL,
        content_hash TEXT
    );

    CREATE VIEW conversations_fts_content AS
        SELECT c.rowid AS cid, c.title AS title, s.text AS summary
        FROM conversations c LEFT JOIN summaries s ON s.conversation = c.rowid;
    CREATE VIRTUAL TABLE conversations_fts USING fts5(
        title, summary,
        content='conversations_fts_content', content_rowid='cid', tokenize='{TOKENIZER}');

    CREATE TABLE memories (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'fact',
        source TEXT NOT NULL DEFAULT 'manual',
        conversation INTEGER REFERENCES conversations(rowid) ON DELETE SET NULL,
        text_hash TEXT NOT NULL UNIQUE,
        pinned INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        access_count INTEGER NOT NULL DEFAULT 0,
        last_accessed REAL,
        extra TEXT
    );
    CREATE VIRTUAL TABLE memories_fts USING fts5(
        text, content='memories', content_rowid='rowid', tokenize='{TOKENIZER}');

    CREATE TABLE tags (
        rowid INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE
    );
    CREATE TABLE conversation_tags (
        conversation INTEGER NOT NULL REFERENCES conversations(rowid) ON DELETE CASCADE,
        tag INTEGER NOT NULL REFERENCES tags(rowid) ON DELETE CASCADE,
        auto INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (conversation, tag)
    ) WITHOUT ROWID;
    CREATE INDEX conversation_tags_tag ON conversation_tags(tag);
    CREATE TABLE memory_tags (
        memory INTEGER NOT NULL REFERENCES memories(rowid) ON DELETE CASCADE,
        tag INTEGER NOT NULL REFERENCES tags(rowid) ON DELETE CASCADE,
        auto INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (memory, tag)
    ) WITHOUT ROWID;
    CREATE INDEX memory_tags_tag ON memory_tags(tag);

    CREATE TABLE import_log (
        rowid INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,
        finished_at REAL,
        path TEXT,
        format TEXT,
        size INTEGER,
        mtime REAL,
        sha256 TEXT,
        report TEXT
    );
    CREATE INDEX import_log_path ON import_log(path);
    """)
    # bm25 column weights: text, author (the speaker's name), context (the message before).
    conn.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES('rank', 'bm25(1.0, 1.0, 0.4)')")
    conn.execute("INSERT INTO conversations_fts(conversations_fts, rank) VALUES('rank', 'bm25(1.0, 0.5)')")



@migration
def m002_sync_sources(conn: sqlite3.Connection) -> None:
    """Folders and files the user added to ``aimem sync`` (besides the known ones)."""
    run_script(conn, """
    CREATE TABLE sync_sources (
        path TEXT PRIMARY KEY,
        added_at REAL NOT NULL
    );
    """)


@migration
def m003_use_and_profile(conn: sqlite3.Connection) -> None:
    """Use counters on conversations (memories have theirs), and the synthesized profile."""
    run_script(conn, """
    ALTER TABLE conversations ADD COLUMN use_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN last_used REAL;
    CREATE TABLE profile (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        text TEXT NOT NULL,
        model TEXT,
        created_at REAL NOT NULL,
        memories_hash TEXT
    );
    CREATE INDEX memories_kind ON memories(kind);
    """)


@migration
def m004_import_runs(conn: sqlite3.Connection) -> None:
    """Imports commit in batches; each is a run, journalled so an unfinished one is undone.

    A run's row lives only while it runs (the last batch deletes it). ``lock`` is the file
    the importing process holds an flock on: a run whose lock is free belongs to a process
    that died (kill -9, a crash), and the next command undoes it. ``import_run_changes``
    says what to undo: a conversation or memory the run added (``before`` NULL), the state
    of a conversation before the run updated it (``before``, JSON), a tag link it added.
    ``after`` is the content hash the run wrote: an item someone changed since is left alone.
    """
    run_script(conn, """
    CREATE TABLE import_runs (
        rowid INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at REAL NOT NULL,
        lock TEXT NOT NULL,
        pid INTEGER,
        paths TEXT
    );
    CREATE TABLE import_run_changes (
        run INTEGER NOT NULL REFERENCES import_runs(rowid) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        item TEXT NOT NULL,
        tag TEXT NOT NULL DEFAULT '',
        after TEXT,
        before TEXT,
        PRIMARY KEY (run, kind, item, tag)
    );
    ALTER TABLE import_log ADD COLUMN run INTEGER;
    CREATE INDEX import_log_run ON import_log(run) WHERE run IS NOT NULL;
    """)


@migration
def m005_cjk_index(conn: sqlite3.Connection) -> None:
    """Word search inside Chinese, Japanese and Korean text (see ``aimem.store.cjk``).

    A second FTS5 index for messages, memories and conversation titles/summaries, over
    the rows that hold CJK letters only, with CJK runs cut into bigrams. External content
    over views that compute that form, so ``rebuild`` and ``integrity-check`` work.
    Existing rows are indexed here.
    """
    from aimem.store import cjk

    cjk.register(conn)
    run_script(conn, f"""
    CREATE VIEW messages_cjk_content AS
        SELECT rowid AS mid, aimem_cjk(text) AS text FROM messages WHERE aimem_has_cjk(text);
    CREATE VIRTUAL TABLE messages_cjk USING fts5(
        text, content='messages_cjk_content', content_rowid='mid', tokenize='{TOKENIZER}');

    CREATE VIEW memories_cjk_content AS
        SELECT rowid AS mid, aimem_cjk(text) AS text FROM memories WHERE aimem_has_cjk(text);
    CREATE VIRTUAL TABLE memories_cjk USING fts5(
        text, content='memories_cjk_content', content_rowid='mid', tokenize='{TOKENIZER}');

    CREATE VIEW conversations_cjk_content AS
        SELECT cid, aimem_cjk(title) AS title, aimem_cjk(summary) AS summary
        FROM conversations_fts_content WHERE aimem_has_cjk(title) OR aimem_has_cjk(summary);
    CREATE VIRTUAL TABLE conversations_cjk USING fts5(
        title, summary,
        content='conversations_cjk_content', content_rowid='cid', tokenize='{TOKENIZER}');
    """)
    conn.execute("INSERT INTO conversations_cjk(conversations_cjk, rank) "
                 "VALUES('rank', 'bm25(1.0, 0.5)')")
    for table in ("messages_cjk", "memories_cjk", "conversations_cjk"):
        conn.execute(f"INSERT INTO {table}({table}) VALUES('rebuild')")


@migration
def m006_branches(conn: sqlite3.Connection) -> None:
    """Messages off the visible branch of tree-shaped sources (ChatGPT edits and
    regenerations, Claude.ai retries, Open WebUI), and messages a later copy of a
    conversation no longer had. Kept outside ``messages`` (the contract: a conversation's
    messages are its visible branch), so search, inject, export ``messages`` and MCP never
    see them; ``show --branches``, the TUI and the JSONL ``branches`` field do. No index:
    they are superseded drafts and answers. Existing databases start with none (re-import
    an export to fill them in)."""
    run_script(conn, """
    CREATE TABLE branch_messages (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        conversation INTEGER NOT NULL REFERENCES conversations(rowid) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        parent TEXT,
        source_id TEXT,
        role TEXT NOT NULL,
        author TEXT,
        text TEXT NOT NULL,
        created_at REAL,
        extra TEXT
    );
    CREATE INDEX branch_messages_conversation ON branch_messages(conversation, position);
    """)

@migration
def m007_memory_project(conn: sqlite3.Connection) -> None:
    """Memories get a project (NULL: global); conversations' project gets an index.

    Existing memories stay global: which project a fact belongs to is not in the data.
    """
    run_script(conn, """
    ALTER TABLE memories ADD COLUMN project TEXT;
    CREATE INDEX memories_project ON memories(project);
    CREATE INDEX conversations_project ON conversations(project);
    """)


@migration
def m008_context_window(conn: sqlite3.Connection) -> None:
    """A wider context for the message index: the message before (as before) plus the one
    two back and the one after, at a lower weight.

    Why: in a chat a turn is often meaningless alone ("Yes, last Tuesday!"); the question
    it answers, the remark before that, and the follow-up after it say what it is about.
    The nearer a turn, the more it says about this one, so the weights fall off with
    distance (see ``MESSAGE_FTS_RANK``). Far context is cut shorter (300 characters) than
    the previous message (1,000): it adds most of the recall for a third of the index
    growth. Measured on the LoCoMo dev split (issue 17): R@10 70.7 -> 73.5 without other
    changes. The index is rebuilt once from the tables.
    """
    run_script(conn, f"""
    DROP TABLE messages_fts;
    DROP VIEW messages_fts_content;
    CREATE VIEW messages_fts_content AS
        SELECT m.rowid AS mid, m.text AS text, m.author AS author,
               (SELECT substr(p.text, 1, 1000) FROM messages p
                 WHERE p.conversation = m.conversation AND p.position = m.position - 1)
               AS context,
               coalesce((SELECT substr(p.text, 1, 300) FROM messages p
                 WHERE p.conversation = m.conversation AND p.position = m.position - 2), '')
               || ' ' ||
               coalesce((SELECT substr(n.text, 1, 300) FROM messages n
                 WHERE n.conversation = m.conversation AND n.position = m.position + 1), '')
               AS around
        FROM messages m;
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, author, context, around,
        content='messages_fts_content', content_rowid='mid', tokenize='{TOKENIZER}');
    """)
    conn.execute(f"INSERT INTO messages_fts(messages_fts, rank) VALUES('rank', '{MESSAGE_FTS_RANK}')")
    conn.execute("INSERT INTO messages_fts(messages_fts) VALUES('rebuild')")


@migration
def m009_embeddings(conn: sqlite3.Connection) -> None:
    """Embedding vectors for semantic search (``aimem embed``), and a small settings table.

    Vectors are stored compactly: unit vectors quantised to int8 (x127), 256 of them per
    row of ``vector_blocks`` (one BLOB, with the slots' item rowids as int64 and kinds as
    int8 in two more), so 250k vectors of 384 dimensions take 96 MB and load in one pass
    without a row per vector. ``settings['vectors-version']`` counts changes (caches).
    ``vectors`` says, per model and item (a message, memory or
    conversation rowid), which block and slot hold its vector and the hash of the text
    that was embedded: re-embedding skips what has not changed. Deleting an item (forget,
    re-import) deletes its ``vectors`` row by trigger and records the slot in
    ``vector_dead``; the next write (or ``forget``) zeroes those slots, so nothing derived
    from forgotten text lingers. ``settings``: aimem's per-database configuration (the
    embedding model), kept with the vectors it describes.
    """
    run_script(conn, """
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE vector_blocks (
        rowid INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        dim INTEGER NOT NULL,
        count INTEGER NOT NULL,
        data BLOB NOT NULL,
        items BLOB NOT NULL DEFAULT x'',
        kinds BLOB NOT NULL DEFAULT x''
    );
    CREATE INDEX vector_blocks_model ON vector_blocks(model);
    CREATE TABLE vectors (
        model TEXT NOT NULL,
        kind TEXT NOT NULL,
        item INTEGER NOT NULL,
        hash TEXT NOT NULL,
        block INTEGER NOT NULL,
        slot INTEGER NOT NULL,
        PRIMARY KEY (model, kind, item)
    ) WITHOUT ROWID;
    CREATE INDEX vectors_item ON vectors(kind, item);
    CREATE TABLE vector_dead (block INTEGER NOT NULL, slot INTEGER NOT NULL);
    INSERT INTO settings VALUES ('vectors-version', '0');
    CREATE TRIGGER vectors_deleted AFTER DELETE ON vectors BEGIN
        INSERT INTO vector_dead VALUES (old.block, old.slot);
        UPDATE settings SET value = value + 1 WHERE key = 'vectors-version';
    END;
    CREATE TRIGGER messages_vectors AFTER DELETE ON messages BEGIN
        DELETE FROM vectors WHERE kind = 'message' AND item = old.rowid;
    END;
    CREATE TRIGGER memories_vectors AFTER DELETE ON memories BEGIN
        DELETE FROM vectors WHERE kind = 'memory' AND item = old.rowid;
    END;
    CREATE TRIGGER conversations_vectors AFTER DELETE ON conversations BEGIN
        DELETE FROM vectors WHERE kind = 'conversation' AND item = old.rowid;
    END;
    """)


@migration
def m010_devices(conn: sqlite3.Connection) -> None:
    """Sync between devices (aimem/services/devices.py): this device's id, the devices
    whose logs were read and how far, the winning record per item and field group, and
    the tombstones of forgotten items. Existing data is sent on the first sync (the state
    table starts empty, so every item differs from it)."""
    run_script(conn, """
    CREATE TABLE sync_config (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE sync_devices (
        id TEXT PRIMARY KEY,
        name TEXT,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        records INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE sync_positions (
        device TEXT NOT NULL,
        file TEXT NOT NULL,
        offset INTEGER NOT NULL,
        PRIMARY KEY (device, file)
    ) WITHOUT ROWID;
    CREATE TABLE sync_state (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        grp TEXT NOT NULL,
        gen INTEGER NOT NULL,
        clock INTEGER NOT NULL,
        device TEXT NOT NULL,
        digest TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (kind, id, grp)
    ) WITHOUT ROWID;
    CREATE TABLE sync_tombstones (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        gen INTEGER NOT NULL,
        clock INTEGER NOT NULL,
        device TEXT NOT NULL,
        source TEXT,
        source_id TEXT,
        content_hash TEXT,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;
    """)


def apply(conn: sqlite3.Connection) -> int:
    """Apply the migrations this database lacks; return how many ran."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        from aimem.errors import AimemError

        raise AimemError(
            f"this database was written by a newer aimem (schema {current}, this version knows "
            f"{len(MIGRATIONS)}): upgrade aimem"
        )
    if current == len(MIGRATIONS):
        return 0
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _aimem_migrations "
        "(id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    ran = 0
    for number, fn in enumerate(MIGRATIONS[current:], current + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # another process opening the same database may have applied it meanwhile
            if conn.execute("PRAGMA user_version").fetchone()[0] >= number:
                conn.execute("ROLLBACK")
                continue
            fn(conn)
            ran += 1
            conn.execute("INSERT INTO _aimem_migrations VALUES (?, ?, ?)",
                         (number, fn.__name__, time.time()))
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite rolls back by itself after a full disk
                conn.execute("ROLLBACK")
            raise
    return ran
