"""aimem doctor (check and repair) and aimem backup (a consistent copy while others write).

The damage is made by hand in the file, the way a crash, an old version or another
tool leaves it, and everything is checked through the real command line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from aimem.store import migrations
from conftest import dump_db, run_aimem

CONV = """User: how do I keep my sourdough starter alive?
Assistant: feed it flour and water every day, keep it warm
User: and the walrus in the harbour?
Assistant: it likes herring
"""


def doctor(db: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "doctor", "--json", *args)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()
    return proc.returncode, json.loads(proc.stdout)


def statuses(report: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {c["name"]: c["status"] for c in report["checks"]}


def problems(report: dict) -> set[str]:  # type: ignore[type-arg]
    return {c["name"] for c in report["checks"] if c["status"] == "problem"}


def fts5_tables(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE "
                                           "'CREATE VIRTUAL TABLE%USING fts5%'")}
    finally:
        conn.close()


def raw(db: Path) -> sqlite3.Connection:
    """A connection that does what aimem never does: foreign keys off."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    return conn


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    db = tmp_path / "data" / "aimem.db"
    db.parent.mkdir(mode=0o700)
    run_aimem("--db", str(db), "import", "-", "--tag", "bread", input=CONV.encode(), check=True)
    run_aimem("--db", str(db), "import", "-", input=b"User: second chat about tides\n"
              b"Assistant: the moon does it\n", check=True)
    run_aimem("--db", str(db), "remember", "the boat is called Walrus", "--tag", "boats",
              check=True)
    return db


def conv_ids(db: Path) -> list[str]:
    out = run_aimem("--db", str(db), "list", "--json", check=True)
    return [c["id"] for c in json.loads(out.stdout)]


# -- doctor -----------------------------------------------------------------------------


def test_healthy_database_checks_every_fts_index_it_finds(loaded: Path) -> None:
    code, report = doctor(loaded)
    assert code == 0 and report["healthy"] and report["problems"] == 0, report
    names = statuses(report)
    for t in fts5_tables(loaded):
        assert names[f"index {t}"] == "ok"
    for name in ("integrity", "schema", "orphans", "write-ahead log", "file mode",
                 "folder mode"):
        assert names[name] == "ok", (name, report)
    human = run_aimem("--db", str(loaded), "doctor")
    assert human.returncode == 0 and human.stdout.decode().rstrip().endswith("healthy")


def test_an_fts_index_added_later_is_discovered_and_rebuilt(loaded: Path) -> None:
    conn = raw(loaded)  # a new external-content index nobody filled: what a bad migration leaves
    conn.execute("CREATE VIRTUAL TABLE later_fts USING fts5(text, content='memories', "
                 "content_rowid='rowid')")
    conn.close()
    code, report = doctor(loaded)
    assert code == 1 and "index later_fts" in problems(report), report
    code, report = doctor(loaded, "--fix")
    assert code == 0 and report["healthy"], report
    assert "rebuilt the full-text index later_fts" in report["fixed"]
    conn = sqlite3.connect(loaded)
    assert conn.execute("SELECT count(*) FROM later_fts WHERE later_fts MATCH 'walrus'"
                        ).fetchone()[0] == 1
    conn.close()


def test_an_index_over_a_function_this_aimem_lacks_is_not_checked(loaded: Path) -> None:
    conn = raw(loaded)  # a view calling a function registered by a newer aimem
    conn.create_function("future_fold", 1, str.lower)
    conn.execute("CREATE VIEW future_content AS SELECT rowid AS mid, future_fold(text) AS text "
                 "FROM memories")
    conn.execute("CREATE VIRTUAL TABLE future_fts USING fts5(text, content='future_content', "
                 "content_rowid='mid')")
    conn.execute("INSERT INTO future_fts(future_fts) VALUES ('rebuild')")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DELETE FROM conversations WHERE rowid = (SELECT max(rowid) FROM conversations)")
    conn.close()
    code, report = doctor(loaded)
    check = next(c for c in report["checks"] if c["name"] == "index future_fts")
    assert check["status"] == "warning" and check["detail"].startswith("not checked"), check
    code, report = doctor(loaded, "--fix")  # the orphans go; that index is left alone
    assert code == 0 and report["healthy"], report
    assert not any("future_fts" in line for line in report["fixed"])


def test_stale_message_index_is_found_and_rebuilt(loaded: Path) -> None:
    conn = raw(loaded)  # drop one message from the index only
    cols = migrations.MESSAGE_FTS_COLUMNS
    conn.execute(f"INSERT INTO messages_fts (messages_fts, rowid, {cols}) "
                 f"SELECT 'delete', mid, {cols} FROM messages_fts_content "
                 "WHERE text LIKE '%herring%'")
    conn.close()
    search = run_aimem("--db", str(loaded), "search", "herring", "--json", check=True)
    assert not [h for h in json.loads(search.stdout) if "herring" in h["text"]]
    code, report = doctor(loaded)
    assert code == 1 and problems(report) == {"index messages_fts"}, report
    code, report = doctor(loaded, "--fix")
    assert code == 0 and report["fixed"] == ["rebuilt the full-text index messages_fts"]
    search = run_aimem("--db", str(loaded), "search", "herring", "--json", check=True)
    assert [h["text"] for h in json.loads(search.stdout)][0] == "it likes herring"


def test_orphan_rows_are_found_and_removed_in_one_go(loaded: Path) -> None:
    convs = json.loads(run_aimem("--db", str(loaded), "list", "--json", check=True).stdout)
    first = next(c["id"] for c in convs if c["messages"] == 4)  # sourdough: stays
    second = next(c["id"] for c in convs if c["messages"] == 2)  # tides: loses its row
    run_aimem("--db", str(loaded), "tag", "add", second, "tides", check=True)
    conn = raw(loaded)
    rowid = conn.execute("SELECT rowid FROM conversations WHERE id = ?", (second,)).fetchone()[0]
    conn.execute("INSERT INTO summaries (conversation, text, created_at) VALUES (?, 'moon', 0)",
                 (rowid,))
    conn.execute("UPDATE memories SET conversation = ?", (rowid,))
    conn.execute("INSERT INTO tags (name) VALUES ('nobody-uses-me')")
    conn.execute("DELETE FROM conversations WHERE rowid = ?", (rowid,))  # no cascade: orphans
    conn.close()
    code, report = doctor(loaded)
    assert code == 1
    assert problems(report) >= {"orphans messages", "orphans summaries",
                                "orphans conversation_tags", "orphans memories",
                                "orphans tags"}, report
    code, report = doctor(loaded, "--fix")
    assert code == 0 and report["healthy"], report
    fixed = "\n".join(report["fixed"])
    assert "removed 2 rows of messages" in fixed and "unlinked 1 rows of memories" in fixed
    assert "rebuilt the full-text index messages_fts" in fixed
    conn = sqlite3.connect(loaded)
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 4
    assert conn.execute("SELECT conversation FROM memories").fetchall() == [(None,)]  # kept
    assert sorted(r[0] for r in conn.execute("SELECT name FROM tags")) == ["boats", "bread"]
    conn.close()
    # what is left is whole: the first conversation, the memory, and search over both
    assert conv_ids(loaded) == [first]
    hits = json.loads(run_aimem("--db", str(loaded), "search", "moon walrus", "--json",
                                check=True).stdout)
    assert {h["kind"] for h in hits} == {"memory", "message"}
    assert all(h["conversation_id"] in (None, first) for h in hits)


def test_fix_leaves_a_database_from_a_newer_aimem_alone(loaded: Path) -> None:
    conn = raw(loaded)
    conn.execute("PRAGMA user_version = 999")
    conn.execute("CREATE VIRTUAL TABLE later_fts USING fts5(text, content='memories')")
    conn.close()
    before = dump_db(loaded)
    code, report = doctor(loaded, "--fix")
    assert code == 1 and {"schema", "index later_fts"} <= problems(report), report
    assert report["fixed"] == ["left the database as it is: its schema is not this aimem's"]
    assert dump_db(loaded) == before


def test_migrations_recorded_under_other_names_are_a_problem(loaded: Path) -> None:
    conn = raw(loaded)
    conn.execute("UPDATE _aimem_migrations SET name = 'm003_from_a_branch' WHERE id = 3")
    conn.close()
    code, report = doctor(loaded)
    assert code == 1 and problems(report) == {"schema"}
    schema = next(c for c in report["checks"] if c["name"] == "schema")
    assert "m003_from_a_branch" in schema["detail"] and not schema["fixable"]


def test_damaged_file_is_reported_and_left_as_it_is(loaded: Path) -> None:
    conn = sqlite3.connect(loaded)
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(loaded, "r+b") as fh:  # random bytes over page 2
        fh.seek(page)
        fh.write(os.urandom(page))
    before = loaded.read_bytes()
    for args in ((), ("--fix",)):
        code, report = doctor(loaded, *args)
        assert code == 1 and "integrity" in problems(report), report
    assert loaded.read_bytes() == before
    human = run_aimem("--db", str(loaded), "doctor", "--fix")
    assert human.returncode == 1 and b"restore a backup" in human.stdout
    assert b"--fix cannot repair" in human.stdout and human.stderr == b""


def test_not_a_database_and_no_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(10_000))
    junk.chmod(0o600)
    code, report = doctor(junk)
    assert code == 1 and problems(report) == {"integrity"}
    assert "not an SQLite database" in json.dumps(report)
    missing = run_aimem("--db", str(tmp_path / "nope.db"), "doctor")
    assert missing.returncode == 1 and missing.stderr.decode().count("\n") == 1
    assert not (tmp_path / "nope.db").exists()  # doctor never creates a database


def test_file_and_folder_modes(tmp_path: Path) -> None:
    home = tmp_path / "home"  # AIMEM_HOME (conftest): aimem's own folder
    run_aimem("import", "-", input=CONV.encode(), check=True)
    db = home / "aimem.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    db.chmod(0o644)
    home.chmod(0o755)
    code, report = doctor(db)
    assert code == 1 and problems(report) == {"file mode", "folder mode"}, report
    code, report = doctor(db, "--fix")
    assert code == 0, report
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    # a folder of the user's own choosing is not changed, but world-writable is a problem
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    other = shared / "aimem.db"
    run_aimem("--db", str(other), "import", "-", input=CONV.encode(), check=True)
    code, report = doctor(other, "--fix")
    assert code == 1 and problems(report) == {"folder mode"}
    assert stat.S_IMODE(shared.stat().st_mode) == 0o777


def test_large_write_ahead_log_is_a_warning_fix_folds_it_back(
        loaded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aimem.services import health

    monkeypatch.setattr(health, "WAL_WARN_BYTES", 1000)
    keeper = sqlite3.connect(loaded, isolation_level=None)  # keeps the log from going away
    keeper.execute("PRAGMA wal_autocheckpoint = 0")
    keeper.execute("UPDATE memories SET kind = kind")
    wal = Path(f"{loaded}-wal")
    try:
        assert wal.stat().st_size > 1000
        report = health.diagnose(loaded)
        assert report["healthy"] and statuses(report)["write-ahead log"] == "warning"
        report = health.diagnose(loaded, fix=True)
        assert "folded the write-ahead log back into the database" in report["fixed"]
        assert wal.stat().st_size == 0 and statuses(report)["write-ahead log"] == "ok"
    finally:
        keeper.close()


# -- backup -----------------------------------------------------------------------------

WRITER = r"""
import sys
from aimem.services import Archive
with Archive.open(sys.argv[1]) as mem:
    i = 0
    while True:
        mem.remember(f"memory number {i} about walruses")  # one transaction each
        print(i, flush=True)  # printed only once committed
        i += 1
"""


def test_backup_while_another_process_writes(loaded: Path, tmp_path: Path) -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(loaded)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    committed: list[int] = []
    reader = threading.Thread(target=lambda: [committed.append(int(line))
                                              for line in writer.stdout], daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while len(committed) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(committed) >= 30, writer.stderr.read() if writer.poll() is not None else ""
        before = len(committed)  # every one of these was committed before the backup began
        out = tmp_path / "backups"
        out.mkdir()
        proc = run_aimem("--db", str(loaded), "backup", str(out), "--json", check=True)
        time.sleep(0.3)
        assert writer.poll() is None, writer.stderr.read()  # the writer was never stopped
    finally:
        writer.terminate()
        writer.wait(timeout=30)
    result = json.loads(proc.stdout)
    copy = Path(result["path"])
    assert copy.parent == out and copy.name.startswith("aimem-") and copy.suffix == ".db"
    assert sorted(p.name for p in out.iterdir()) == [copy.name]  # no -wal, -shm or .part
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    conn = sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    texts = {r[0] for r in conn.execute("SELECT text FROM memories")}
    conn.close()
    assert {f"memory number {i} about walruses" for i in range(before)} <= texts
    assert result["memories"] == len(texts) >= before + 1  # + the fixture's own memory
    code, report = doctor(copy)  # the FTS indexes of the copy agree with its tables
    assert code == 0 and report["healthy"], report


def test_backup_is_a_snapshot_of_what_is_committed(loaded: Path, tmp_path: Path) -> None:
    holder = sqlite3.connect(loaded, isolation_level=None)  # a long import, say
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO tags (name) VALUES ('not-committed-yet')")
    try:
        start = time.monotonic()
        proc = run_aimem("--db", str(loaded), "backup", str(tmp_path / "b.db"), check=True)
        assert time.monotonic() - start < 20  # not waiting for the writer (30 s busy timeout)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert b"backed up" in proc.stderr and proc.stdout == b""
    conn = sqlite3.connect(tmp_path / "b.db")
    names = {r[0] for r in conn.execute("SELECT name FROM tags")}
    conn.close()
    assert names == {"bread", "boats"}


def test_backup_refuses_to_overwrite_and_restore_is_a_copy(loaded: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy.db"
    run_aimem("--db", str(loaded), "backup", str(dest), check=True)
    first = dest.read_bytes()
    mem_id = json.loads(run_aimem("--db", str(loaded), "memories", "--json",
                                  check=True).stdout)[0]["id"]
    run_aimem("--db", str(loaded), "forget", mem_id, "--yes", check=True)
    again = run_aimem("--db", str(loaded), "backup", str(dest))
    assert again.returncode == 1 and b"--force" in again.stderr
    assert again.stderr.count(b"\n") == 1 and dest.read_bytes() == first
    for bad in (str(loaded), str(tmp_path / "no-such-folder" / "x.db"),
                str(tmp_path / "no-such-folder") + "/"):
        proc = run_aimem("--db", str(loaded), "backup", bad, "--force")
        assert proc.returncode == 1 and proc.stderr.count(b"\n") == 1, (bad, proc.stderr)
    assert not (tmp_path / "no-such-folder").exists()
    # restore, as README and --help say: no aimem running, drop -wal/-shm, copy back
    for suffix in ("-wal", "-shm"):
        Path(f"{loaded}{suffix}").unlink(missing_ok=True)
    loaded.write_bytes(dest.read_bytes())
    hits = json.loads(run_aimem("--db", str(loaded), "search", "walrus", "--json",
                                check=True).stdout)
    assert mem_id in [h["id"] for h in hits]
    # --force replaces it
    run_aimem("--db", str(loaded), "remember", "after the restore", check=True)
    run_aimem("--db", str(loaded), "backup", str(dest), "--force", check=True)
    conn = sqlite3.connect(dest)
    assert conn.execute("SELECT count(*) FROM memories").fetchone()[0] == 2
    conn.close()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_backup_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    proc = run_aimem("--db", str(tmp_path / "none.db"), "backup", str(tmp_path / "b.db"))
    assert proc.returncode == 1 and proc.stderr.count(b"\n") == 1
    assert not [p for p in tmp_path.iterdir() if p.name != "home"]  # no copy, no .part, no db


def test_help_documents_restore_and_exit_codes() -> None:
    backup = run_aimem("backup", "--help", check=True).stdout.decode()
    assert "Restoring is copying the file back" in backup and "-wal" in backup
    doctor_help = run_aimem("doctor", "--help", check=True).stdout.decode()
    assert "0 healthy" in doctor_help and "1 problems remain" in doctor_help


def test_embedding_vectors_are_checked_and_bad_ones_removed(loaded: Path, llm_fakes) -> None:  # type: ignore[no-untyped-def]
    from aimem.services import Archive

    with Archive.open(loaded, create=False) as mem:
        mem.set_config("embed-model", "aimem-fake-embed")
        report = mem.embed()
    n = report["embedded"]
    assert n >= 5
    rc, out = doctor(loaded)
    assert rc == 0 and statuses(out)["vectors"] == "ok"
    conn = raw(loaded)
    try:
        # a vector of an item that never existed, one moved onto another item's slot
        conn.execute("INSERT INTO vectors SELECT model, 'message', 999999, hash, block, slot "
                     "FROM vectors LIMIT 1")
        model, kind, item, slot = conn.execute(
            "SELECT model, kind, item, slot FROM vectors WHERE item != 999999 "
            "ORDER BY slot DESC LIMIT 1").fetchone()
        conn.execute("UPDATE vectors SET slot = 0 WHERE model = ? AND kind = ? AND item = ?",
                     (model, kind, item))
    finally:
        conn.close()
    rc, out = doctor(loaded)
    check = next(c for c in out["checks"] if c["name"] == "vectors")
    assert rc == 1 and check["status"] == "problem"
    assert "1 vectors of items that are gone" in check["detail"]
    assert "vectors that point at the wrong slot" in check["detail"]
    rc, out = doctor(loaded, "--fix")
    assert rc == 0 and statuses(out)["vectors"] == "ok", out
    assert any("embedding vectors" in f for f in out["fixed"])
    with Archive.open(loaded, create=False) as mem:
        left = sum(s["vectors"] for s in mem.embedding_stats())
        assert left == n - 1  # the good ones stay, the moved one goes (slot 0's owner stays)
        again = mem.embed()
        assert again["embedded"] == 1  # the removed one is made again
        hits = mem.search("walrus herring", mode="semantic")
        assert hits and all(h["found_by"] == ["semantic"] for h in hits)
