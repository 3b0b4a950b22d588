"""``aimem.search()`` keeps its database open between calls (aimem.services.kept): it must
still see every change, follow a replaced or removed file, and stay out of other threads'
and forked children's way."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest

import aimem
from aimem.errors import AimemError, DatabaseMissing
from aimem.services import Archive, kept


def _import(db: Path, tmp_path: Path, word: str, sid: str = "c1") -> None:
    src = tmp_path / f"{sid}-{word}.jsonl"
    src.write_text(json.dumps({"source": "chatgpt", "source_id": sid, "title": f"about {word}",
                               "messages": [{"role": "user", "text": f"tell me of the {word}"}]})
                   + "\n")
    with Archive.open(db) as mem:
        mem.import_paths([str(src)])


@pytest.fixture(autouse=True)
def _closed():  # type: ignore[no-untyped-def]
    yield
    aimem.close()


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths Archive.open is called with from here on."""
    calls: list[str] = []
    real = Archive.open.__func__  # type: ignore[attr-defined]

    def counting(cls, db=None, **kw):  # type: ignore[no-untyped-def]
        calls.append(str(db))
        return real(cls, db, **kw)

    monkeypatch.setattr(Archive, "open", classmethod(counting))
    return calls


def test_one_open_for_many_searches_that_still_see_new_data(tmp_path: Path,
                                                             opens: list[str]) -> None:
    db = tmp_path / "a.db"
    _import(db, tmp_path, "walrus")
    opens.clear()
    assert [h["text"] for h in aimem.search("walrus", db=db)] == ["tell me of the walrus"]
    assert aimem.search("narwhal", db=db) == []
    _import(db, tmp_path, "narwhal", "c2")  # another connection writes meanwhile
    opens.clear()
    assert [h["text"] for h in aimem.search("narwhal", db=db)] == ["tell me of the narwhal"]
    assert aimem.search("narwhal", db=str(db)) and opens == []  # the same file, kept


def test_a_replaced_file_is_opened_again(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _import(db, tmp_path, "walrus")
    assert aimem.search("walrus", db=db)
    other = tmp_path / "b.db"
    _import(other, tmp_path, "narwhal")
    os.replace(other, db)  # a restore: a new file at the same path
    for suffix in ("-wal", "-shm"):
        Path(f"{other}{suffix}").unlink(missing_ok=True)
    assert aimem.search("walrus", db=db) == []
    assert [h["text"] for h in aimem.search("narwhal", db=db)] == ["tell me of the narwhal"]


def test_a_removed_file_is_the_usual_error(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _import(db, tmp_path, "walrus")
    assert aimem.search("walrus", db=db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with pytest.raises(DatabaseMissing):
        aimem.search("walrus", db=db)
    assert not db.exists()  # a read never creates the database


def test_a_schema_from_a_newer_aimem_is_refused_on_the_next_call(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _import(db, tmp_path, "walrus")
    assert aimem.search("walrus", db=db)
    with sqlite3.connect(db) as conn:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        conn.execute(f"PRAGMA user_version = {version + 1}")
    with pytest.raises(AimemError, match="newer aimem"):
        aimem.search("walrus", db=db)


def test_each_thread_has_its_own_connection(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _import(db, tmp_path, "walrus")
    mine = kept.archive(db)
    seen: list[object] = []
    errors: list[BaseException] = []

    def other() -> None:
        try:
            seen.append(kept.archive(db))
            assert aimem.search("walrus", db=db)
            aimem.close()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert not errors and seen and seen[0] is not mine
    assert kept.archive(db) is mine and aimem.search("walrus", db=db)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_and_leaves_the_parents_alone(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _import(db, tmp_path, "walrus")
    parent = kept.archive(db)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a new connection; the inherited one is neither used nor closed
        try:
            ok = (kept.archive(db) is not parent and bool(aimem.search("walrus", db=db))
                  and parent in kept._inherited)
            aimem.close()
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    answer = os.read(r, 1)
    os.close(r)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert kept.archive(db) is parent and aimem.search("walrus", db=db)


def test_close_closes_and_the_next_call_reopens(tmp_path: Path, opens: list[str]) -> None:
    db = tmp_path / "a.db"
    _import(db, tmp_path, "walrus")
    opens.clear()
    first = kept.archive(db)
    aimem.close()
    with pytest.raises(sqlite3.ProgrammingError):
        first.store.conn.execute("SELECT 1")
    assert aimem.search("walrus", db=db) and len(opens) == 2


def test_an_import_that_died_meanwhile_is_undone_on_the_next_call(tmp_path: Path) -> None:
    """As opening does: the journal of a run whose process is gone is undone."""
    db = tmp_path / "a.db"
    _import(db, tmp_path, "walrus")
    assert aimem.search("walrus", db=db)
    _import(db, tmp_path, "narwhal", "c2")
    with sqlite3.connect(db, isolation_level=None) as conn:  # as if c2's import was killed
        cid, content = conn.execute("SELECT id, content_hash FROM conversations "
                                    "WHERE source_id = 'c2'").fetchone()
        run = conn.execute("INSERT INTO import_runs (started_at, lock, pid) VALUES (0, ?, 0)",
                           (str(tmp_path / "gone.lock"),)).lastrowid
        conn.execute("INSERT INTO import_run_changes (run, kind, item, after) "
                     "VALUES (?, 'conversation', ?, ?)", (run, cid, content))
    assert aimem.search("narwhal", db=db) == []
    assert aimem.search("walrus", db=db)
