"""Concurrency and faults: batched imports, their undo, and other processes writing meanwhile.

An import commits in batches as a journalled run (aimem.store.runs). These tests drive the
real command line in subprocesses: `kill -9` in the middle of an import, `remember` while
a large import runs, an llm task whose model call must not hold the write lock.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from aimem.services import Archive
from aimem.store import cjk
from aimem.store.db import Store
from conftest import run_aimem, wait_for

T0 = 1_700_000_000


def gen_jsonl(path: Path, n: int, *, version: int = 1, changed: range = range(0),
              start: int = 0, messages: int = 8, memories: int = 0) -> Path:
    """An aimem JSONL export of ``n`` conversations (ids c-START… ). Conversations in
    ``changed`` get a newer copy in version 2: a changed message, one more, a new summary."""
    lines = []
    for i in range(start, start + n):
        newer = version > 1 and i in changed
        msgs = [{"source_id": f"c{i}-m{j}", "role": "user" if j % 2 == 0 else "assistant",
                 "text": f"conversation {i} message {j} about kettles and teapots"
                         + (f" revised edition{version}" if newer and j == 1 else ""),
                 "created_at": T0 + i * 60 + j} for j in range(messages + (1 if newer else 0))]
        conv: dict[str, Any] = {
            "type": "conversation", "source": "claude", "source_id": f"c-{i}",
            "title": f"Conversation {i}" + (" (revised)" if newer else ""),
            "created_at": T0 + i * 60, "updated_at": T0 + i * 60 + (3600 if newer else 30),
            "messages": msgs}
        if i % 5 == 0:
            conv["summary"] = f"Summary of {i}" + (" revised" if newer else "")
        if i % 7 == 0:
            conv["tags"] = ["sevens"]
        lines.append(json.dumps(conv))
    for k in range(memories):
        lines.append(json.dumps({"type": "memory", "text": f"Imported fact {k} v{version}",
                                 "tags": ["imported"]}))
    path.write_text("\n".join(lines) + "\n")
    return path


def logical(db: Path, times: bool = True) -> dict[str, list[str]]:
    """The database's content, independent of rowids and of FTS segment layout (and, with
    ``times`` False, of when it was imported)."""
    conn = sqlite3.connect(db)
    try:
        def q(sql: str) -> list[str]:
            return sorted(map(repr, conn.execute(sql)))

        return {
            "conversations": q("SELECT id, source, source_id, title, created_at, updated_at, "
                               "model, project, content_hash, imported_at, extra, use_count, "
                               "last_used FROM conversations"),
            "messages": q("SELECT m.id, c.id, m.position, m.source_id, m.role, m.author, "
                          "m.text, m.created_at, m.extra FROM messages m JOIN conversations c "
                          "ON c.rowid = m.conversation"),
            "summaries": q(f"SELECT c.id, s.text, s.model, {'s.created_at' if times else 0}, "
                           "s.content_hash FROM summaries s JOIN conversations c "
                           "ON c.rowid = s.conversation"),
            "conversation_tags": q("SELECT c.id, t.name, ct.auto FROM conversation_tags ct "
                                   "JOIN conversations c ON c.rowid = ct.conversation "
                                   "JOIN tags t ON t.rowid = ct.tag"),
            "memories": q("SELECT id, text, kind, source, text_hash, pinned, created_at, "
                          "updated_at, access_count FROM memories"),
            "memory_tags": q("SELECT m.id, t.name FROM memory_tags mt JOIN memories m ON "
                             "m.rowid = mt.memory JOIN tags t ON t.rowid = mt.tag"),
            "tags": q("SELECT name FROM tags"),
            "import_log": q("SELECT path, format, size, mtime, report FROM import_log"),
            "runs": q("SELECT rowid FROM import_runs"),
            "journal": q("SELECT run FROM import_run_changes"),
        }
    finally:
        conn.close()


def fts_ok(db: Path) -> None:
    """integrity_check, and every fts5 index agrees with its (external) content."""
    conn = sqlite3.connect(db)
    cjk.register(conn)  # the CJK indexes' content views call aimem's functions
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%fts5%'")]
        assert {"messages_fts", "memories_fts", "conversations_fts"} <= set(tables)
        for t in tables:
            conn.execute(f"INSERT INTO {t}({t}, rank) VALUES('integrity-check', 1)")
    finally:
        conn.close()


def count(db: Path, sql: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return 0
    try:
        return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def start_import(db: Path, *args: str, delay: float = 0.004) -> subprocess.Popen[bytes]:
    """``aimem import`` in a subprocess, paced (AIMEM_TEST_IMPORT_DELAY seconds after each
    conversation) so that it lasts long enough to be killed or waited on however fast the
    machine is."""
    env = {**os.environ, "AIMEM_TEST_IMPORT_DELAY": str(delay)}
    return subprocess.Popen([sys.executable, "-m", "aimem", "--db", str(db), "import", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


# -- in one process ----------------------------------------------------------------------


def test_failed_import_undoes_committed_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    """A failure after several batches were committed leaves the database as it was."""
    from aimem.services import importing

    db = tmp_path / "a.db"
    base = gen_jsonl(tmp_path / "a.jsonl", 40, memories=3)
    with Archive.open(db) as m:
        m.import_paths([str(base)], tags=["first"])
        m.remember("typed by hand", tags=["mine"])
    before = logical(db)
    bad = gen_jsonl(tmp_path / "b.jsonl", 120, version=2, changed=range(0, 40, 3), memories=5)
    with bad.open("a") as f:
        f.write("{not json\n")
    monkeypatch.setattr(importing, "BATCH_CONVERSATIONS", 7)  # many committed batches
    monkeypatch.setattr(importing, "LONE_BATCH_FACTOR", 1)  # short batches only
    with Archive.open(db) as m, pytest.raises(Exception, match="line 126"):
        m.import_paths([str(bad)], tags=["second"])
    assert logical(db) == before
    fts_ok(db)
    with Archive.open(db) as m:  # the old text is findable again, the new one is not
        assert m.search("revised", kinds=["message", "conversation"]) == []
        assert m.search('"conversation 3 message 1"')
    assert not list((Path(f"{db.resolve()}-locks")).glob("run-*"))


def test_interrupted_import_undoes_what_it_committed(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from aimem.services import importing

    db = tmp_path / "a.db"
    with Archive.open(db) as m:
        m.remember("already here")
    before = logical(db)
    monkeypatch.setattr(importing, "BATCH_CONVERSATIONS", 5)
    monkeypatch.setattr(importing, "LONE_BATCH_FACTOR", 1)  # short batches only
    seen = []

    def progress(done: int, total: int, n: int) -> None:
        seen.append(n)
        if n >= 40:
            raise KeyboardInterrupt

    with Archive.open(db) as m, pytest.raises(KeyboardInterrupt):
        m.import_paths([str(gen_jsonl(tmp_path / "x.jsonl", 80))], progress=progress)
    assert seen and logical(db) == before
    fts_ok(db)


def test_dry_run_writes_nothing_and_counts_like_the_import(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """Across many (rolled back) batches, a dry run counts what the import then does, even
    when the same conversation comes twice in one import."""
    from aimem.services import importing

    db = tmp_path / "a.db"
    with Archive.open(db) as m:
        m.import_paths([str(gen_jsonl(tmp_path / "a.jsonl", 30, memories=2))])
    before = logical(db)
    v2 = gen_jsonl(tmp_path / "b.jsonl", 60, version=2, changed=range(0, 30, 4), memories=4)
    v1_again = gen_jsonl(tmp_path / "c.jsonl", 20)  # older copies, after v2: unchanged
    monkeypatch.setattr(importing, "BATCH_CONVERSATIONS", 6)
    monkeypatch.setattr(importing, "LONE_BATCH_FACTOR", 1)  # short batches only
    with Archive.open(db) as m:
        dry = m.import_paths([str(v2), str(v1_again)], dry_run=True).to_dict()
    assert logical(db) == before
    with Archive.open(db) as m:
        real = m.import_paths([str(v2), str(v1_again)]).to_dict()
    for key in ("conversations_added", "conversations_updated", "conversations_unchanged",
                "messages_added", "memories_added", "memories_unchanged"):
        assert dry[key] == real[key], key
    assert real["conversations_updated"] == 8 and real["conversations_unchanged"] == 42


def test_two_processes_opening_a_new_database_at_once(tmp_path: Path) -> None:
    """Both apply the migrations check under the write lock: neither fails."""
    db = tmp_path / "new.db"
    procs = [subprocess.Popen([sys.executable, "-m", "aimem", "--db", str(db), "remember",
                               f"fact {i}"], stderr=subprocess.PIPE) for i in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    assert count(db, "SELECT count(*) FROM memories") == 4


# -- kill -9 -------------------------------------------------------------------------------


def test_kill_during_import_is_undone_by_the_next_command(tmp_path: Path) -> None:
    """8 kill -9 at different points of an import that adds, updates and tags; after each,
    one command; the database is then exactly as before the import (FTS included); a final
    import completes it, to what a clean import gives."""
    db = tmp_path / "k.db"
    base = gen_jsonl(tmp_path / "v1.jsonl", 300, memories=3)
    v2 = gen_jsonl(tmp_path / "v2.jsonl", 900, version=2, changed=range(0, 300, 3),
                   memories=6)
    run_aimem("--db", str(db), "import", str(base), "--tag", "v1", check=True)
    run_aimem("--db", str(db), "remember", "typed by hand", "--tag", "mine", check=True)
    before = logical(db)
    rng = random.Random(12)
    kills = 0
    for i in range(8):
        p = start_import(db, str(v2), "--tag", "v2")
        if i % 2 == 0:  # after a few committed batches (the journal has rows)
            want = rng.randint(1, 600)
            wait_for(lambda p=p, want=want: p.poll() is not None or count(
                db, "SELECT count(*) FROM import_run_changes") >= want)
        else:  # at a random moment, maybe before the first commit
            time.sleep(rng.uniform(0.0, 1.5))
        if p.poll() is not None:
            pytest.fail(f"the import finished before kill {i + 1}: make the export bigger")
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
        r = run_aimem("--db", str(db), "list", "--json")
        assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr
        assert logical(db) == before, f"after kill {i + 1}"
        fts_ok(db)
    assert kills == 8
    r = run_aimem("--db", str(db), "import", str(v2), "--tag", "v2", "--json", check=True)
    assert json.loads(r.stdout)["conversations_updated"] == 100
    fts_ok(db)
    clean = tmp_path / "clean.db"
    run_aimem("--db", str(clean), "import", str(base), "--tag", "v1", check=True)
    run_aimem("--db", str(clean), "remember", "typed by hand", "--tag", "mine", check=True)
    run_aimem("--db", str(clean), "import", str(v2), "--tag", "v2", check=True)

    def content(d: dict[str, list[str]]) -> dict[str, list[str]]:  # times differ by run
        skip = {"conversations", "memories", "import_log"}
        return {k: v for k, v in d.items() if k not in skip}

    assert content(logical(db, times=False)) == content(logical(clean, times=False))
    with Archive.open(db) as m:
        assert m.stats()["conversations"] == 900


def test_a_live_import_is_not_undone_by_another_process(tmp_path: Path) -> None:
    """Commands run while an import is in the middle of it do not touch its run."""
    db = tmp_path / "l.db"
    big = gen_jsonl(tmp_path / "big.jsonl", 1500)
    p = start_import(db, str(big), "--json")
    wait_for(lambda: count(db, "SELECT count(*) FROM conversations") > 0 or p.poll() is not None)
    for _ in range(3):
        r = run_aimem("--db", str(db), "stats", "--json")
        assert r.returncode == 0 and b"undid" not in r.stderr
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err.decode()
    assert json.loads(out)["conversations_added"] == 1500
    assert count(db, "SELECT count(*) FROM conversations") == 1500


# -- writes by other processes while an import runs -----------------------------------------


def test_remember_completes_while_a_big_import_runs(tmp_path: Path) -> None:
    """`aimem remember` neither waits for the import to finish nor fails as locked."""
    db = tmp_path / "r.db"
    big = gen_jsonl(tmp_path / "big.jsonl", 2500, messages=10)
    p = start_import(db, str(big), "--json")
    wait_for(lambda: count(db, "SELECT count(*) FROM conversations") > 0 or p.poll() is not None)
    assert p.poll() is None, "the import finished before remember started"
    done = []
    for i in range(3):
        r = run_aimem("--db", str(db), "remember", f"saved during the import {i}", "--json")
        done.append(p.poll() is None)
        assert r.returncode == 0, r.stderr.decode()
        assert b"Traceback" not in r.stderr and b"locked" not in r.stderr
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err.decode()
    assert all(done), "remember waited for the import to finish"
    assert json.loads(out)["conversations_added"] == 2500
    with Archive.open(db) as m:
        texts = {x["text"] for x in m.list_memories(limit=None)}
    assert {f"saved during the import {i}" for i in range(3)} <= texts


def test_a_waiting_writer_gets_the_lock_between_batches(tmp_path: Path) -> None:
    """A writer that waits is let in at the next batch boundary (the import pauses for it),
    not after the import: measured as the number of batches committed while it waited."""
    db = tmp_path / "w.db"
    Store.open(db).close()
    big = gen_jsonl(tmp_path / "big.jsonl", 2500, messages=10)
    p = start_import(db, str(big))
    wait_for(lambda: count(db, "SELECT count(*) FROM conversations") > 0 or p.poll() is not None)
    s = Store.open(db)
    try:
        for i in range(5):
            with s.transaction():
                s.execute("INSERT INTO tags (name) VALUES (?)", (f"t{i}",))
            assert p.poll() is None
            time.sleep(0.1)
    finally:
        s.close()
    p.communicate(timeout=600)
    assert p.returncode == 0


def test_deferred_read_then_write_would_fail_but_aimem_begins_immediate(tmp_path: Path) -> None:
    """The SQLITE_BUSY trap busy_timeout cannot fix, shown once so the rule stays obvious:
    a deferred transaction that read before another process committed cannot upgrade."""
    db = tmp_path / "d.db"
    Store.open(db).close()
    a = sqlite3.connect(db, isolation_level=None, timeout=5)
    b = Store.open(db)
    a.execute("BEGIN")
    a.execute("SELECT count(*) FROM tags").fetchone()
    with b.transaction():
        b.execute("INSERT INTO tags (name) VALUES ('b')")
    t = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        a.execute("INSERT INTO tags (name) VALUES ('a')")
    assert time.monotonic() - t < 2  # at once, not after the 5 s timeout
    a.execute("ROLLBACK")
    with b.transaction():  # aimem's writes take the lock first: they wait, then succeed
        b.execute("INSERT INTO tags (name) VALUES ('c')")
    b.close()
    a.close()


def test_read_paths_do_not_fail_on_their_use_counter(tmp_path: Path) -> None:
    """show counts a recall; while another process holds the write lock it still answers."""
    db = tmp_path / "u.db"
    with Archive.open(db) as m:
        mid = m.remember("counted fact")["id"]
    holder = subprocess.Popen([sys.executable, "-c", f"""
import time
from aimem.store.db import Store
s = Store.open({str(db)!r})
with s.transaction():
    s.execute("INSERT INTO tags (name) VALUES ('held')")
    print('locked', flush=True)
    time.sleep(6)
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        t = time.monotonic()
        with Archive.open(db, create=False) as m:
            assert m.show(mid)["text"] == "counted fact"
        assert time.monotonic() - t < 5  # it gave up on the counter instead of waiting 30 s
    finally:
        holder.wait(20)
    with Archive.open(db) as m:
        assert m.show(mid)["use_count"] == 0  # the skipped recall, not a half-written one


def test_llm_call_holds_no_write_lock(tmp_path: Path, llm_fakes: Any) -> None:
    """While the model thinks (summarize, tag-auto, distill), another process can write at
    once: the write lock is never held around a model call."""
    db = tmp_path / "l.db"
    with Archive.open(db) as m:
        m.import_paths([str(gen_jsonl(tmp_path / "a.jsonl", 3))])
    writes: list[str] = []
    model = llm_fakes.fake
    execute = model.execute

    def probing_execute(prompt, stream, response, conversation):  # type: ignore[no-untyped-def]
        other = sqlite3.connect(db, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" at once if it is held
            other.execute("INSERT OR IGNORE INTO tags (name) VALUES ('elsewhere')")
            other.execute("COMMIT")
            writes.append("ok")
        finally:
            other.close()
        yield from execute(prompt, stream, response, conversation)

    model.execute = probing_execute
    with Archive.open(db) as m:
        for task in (m.summarize, m.auto_tag, m.distill):
            n = len(writes)
            report = task(model="aimem-fake")
            assert not report["failed"] and report["items"], report
            assert len(writes) > n  # the model was called, and another process wrote meanwhile


# -- the soak test, short ---------------------------------------------------------------------


@pytest.mark.slow
def test_soak_20_seconds(tmp_path: Path) -> None:
    """scripts/soak.py for 20 s: importer, sync --watch, two MCP clients, searches and
    remember in a loop, all at once: no error, no 'locked', no lost write."""
    pytest.importorskip("mcp")
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "scripts" / "soak.py"), "--seconds", "20",
                        "--work", str(tmp_path / "soak"), "--conversations", "600"],
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONPATH": str(root)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert out["errors"] == [] and out["locked"] == 0 and out["lost"] == 0
    assert out["remembered"] > 0 and out["mcp_saved"] > 0 and out["imports"] > 0
    assert out["searches"] > 0 and out["mcp_reads"] > 0



def test_run_lock_is_seen_alive_from_the_same_process(tmp_path: Path) -> None:
    """flock conflicts between two opens in one process (an MCP server importing on one
    thread and opening the database on another), and is free once released."""
    from aimem.store.runs import RunLock, owner_alive

    lock = RunLock(tmp_path / "x.db")
    assert owner_alive(str(lock.path))
    path = str(lock.path)
    lock.release()
    assert not owner_alive(path)


def test_m004_on_a_database_with_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database made before m004 (schema 3, data and an import log in it) opens, and
    imports (and undoes) as runs."""
    from aimem.store import migrations

    db = tmp_path / "old.db"
    upto = [f.__name__ for f in migrations.MIGRATIONS].index("m004_import_runs")
    conn = sqlite3.connect(db, isolation_level=None)
    with monkeypatch.context() as mp:
        mp.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:upto])
        migrations.apply(conn)
    conn.execute("INSERT INTO conversations (id, source, content_hash, imported_at) "
                 "VALUES ('old1', 'claude', 'h', 1)")
    conn.execute("INSERT INTO import_log (started_at, path) VALUES (1, '/x')")
    conn.close()
    with Archive.open(db) as m:
        r = m.import_paths([str(gen_jsonl(tmp_path / "b.jsonl", 8))])
        assert r.conversations_added == 8
        assert m.store.execute("SELECT path, run FROM import_log ORDER BY rowid").fetchall()[0] \
            == ("/x", None)
        assert m.stats()["conversations"] == 9


def test_an_undo_rebuilds_an_index_that_disagrees_with_its_tables(tmp_path: Path) -> None:
    """The safety net after an undo (aimem.store.runs.repair_indexes): a message index that
    lost one row's entries is found by FTS5's own check against the tables and rebuilt;
    a consistent one is left alone."""
    from aimem.store import migrations, runs

    db = tmp_path / "r.db"
    run_aimem("--db", str(db), "import", str(gen_jsonl(tmp_path / "a.jsonl", 20)), check=True)
    s = Store.open(db)
    try:
        with s.transaction():
            assert runs.repair_indexes(s) == []
        cols = migrations.MESSAGE_FTS_COLUMNS
        with s.transaction():  # a stale index: one message's entries gone
            s.execute(f"INSERT INTO messages_fts (messages_fts, rowid, {cols}) "
                      f"SELECT 'delete', mid, {cols} FROM messages_fts_content WHERE mid = 1")
        with s.transaction():
            assert runs.repair_indexes(s) == ["messages_fts"]
        with s.transaction():
            assert runs.repair_indexes(s) == []
    finally:
        s.close()
    fts_ok(db)
