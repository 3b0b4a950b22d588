"""The store: file location and mode, WAL, migrations, and concurrent use."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from aimem import paths
from aimem.errors import AimemError, DatabaseMissing
from aimem.store import migrations
from aimem.store.db import Store


def test_db_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMEM_HOME", str(tmp_path / "home"))
    assert paths.db_path() == tmp_path / "home" / "aimem.db"
    monkeypatch.setenv("AIMEM_DB", str(tmp_path / "env.db"))
    assert paths.db_path() == tmp_path / "env.db"
    assert paths.db_path(tmp_path / "flag.db") == tmp_path / "flag.db"
    monkeypatch.delenv("AIMEM_DB")
    monkeypatch.delenv("AIMEM_HOME")
    assert paths.db_path().name == "aimem.db" and "aimem" in str(paths.db_path().parent)


def test_new_database_is_private_wal_and_migrated(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "aimem.db"
    store = Store.open(db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert store.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.execute("PRAGMA user_version").fetchone()[0] == len(migrations.MIGRATIONS)
    names = [r[0] for r in store.execute("SELECT name FROM _aimem_migrations ORDER BY id")]
    assert names == [m.__name__ for m in migrations.MIGRATIONS]
    tables = {r[0] for r in store.execute("SELECT name FROM sqlite_master")}
    assert {"conversations", "messages", "memories", "tags", "conversation_tags", "memory_tags",
            "summaries", "import_log", "messages_fts", "memories_fts",
            "conversations_fts"} <= tables
    store.close()
    assert Store.open(db).execute("PRAGMA user_version").fetchone()[0] == len(
        migrations.MIGRATIONS)


def test_read_only_open_never_creates(tmp_path: Path) -> None:
    with pytest.raises(DatabaseMissing):
        Store.open(tmp_path / "nope.db", create=False)
    assert not (tmp_path / "nope.db").exists()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {len(migrations.MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(AimemError, match="newer aimem"):
        Store.open(db)


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(AimemError, match="not a usable aimem database"):
        Store.open(bad)


def test_failed_migration_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def m999_broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, m999_broken])
    with pytest.raises(RuntimeError):
        Store.open(tmp_path / "a.db")
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations.MIGRATIONS) - 1
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name='half_done'").fetchone()


def test_reader_and_writer_in_two_processes(tmp_path: Path) -> None:
    """A long write transaction in one process does not make a reader fail as 'locked'."""
    db = tmp_path / "a.db"
    Store.open(db).close()
    writer = subprocess.Popen([sys.executable, "-c", f"""
import time
from aimem.store.db import Store
s = Store.open({str(db)!r})
with s.transaction():
    s.execute("INSERT INTO tags (name) VALUES ('held')")
    print('locked', flush=True)
    time.sleep(1.5)
"""], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
    reader = Store.open(db, create=False)
    assert reader.execute("SELECT count(*) FROM tags").fetchone()[0] == 0  # no lock error
    second_writer = Store.open(db)
    with second_writer.transaction():  # waits for the first writer (busy timeout) instead of failing
        second_writer.execute("INSERT INTO tags (name) VALUES ('second')")
    assert writer.wait(10) == 0
    names = {r[0] for r in reader.execute("SELECT name FROM tags")}
    assert names == {"held", "second"}
