"""Import batches grow while no other process waits for the write lock, and end at the
next conversation once one does; the redaction pre-check finds every trigger string."""

from __future__ import annotations

import fcntl
import os
import random
from pathlib import Path

import pytest
from test_concurrency import gen_jsonl, logical

from aimem import redact
from aimem.services import importing
from aimem.store.db import Store
from aimem.store.runs import lock_dir


def _commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = Store.commit

    def commit(self: Store) -> None:
        seen.append(self.conn.execute("SELECT count(*) FROM conversations").fetchone()[0])
        real(self)

    monkeypatch.setattr(Store, "commit", commit)
    return seen


def _short_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "BATCH_CONVERSATIONS", 5)
    monkeypatch.setattr(importing, "BATCH_SECONDS", 1000.0)  # batches end by count only
    monkeypatch.setattr(importing, "LONE_BATCH_FACTOR", 4)  # alone: up to 20


def test_batches_grow_while_nobody_waits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _short_batches(monkeypatch)
    commits = _commits(monkeypatch)
    s = Store.open(tmp_path / "a.db")
    try:
        report = importing.import_paths(s, [str(gen_jsonl(tmp_path / "a.jsonl", 50))])
    finally:
        s.close()
    assert report.conversations_added == 50
    assert commits == [20, 40, 50]


def test_a_waiting_process_ends_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    """Another process waiting for the write lock (it holds the wait file shared, as
    Store.begin does) makes the import commit at each short batch's end."""
    _short_batches(monkeypatch)
    monkeypatch.setattr("aimem.store.connection.YIELD_S", 0.01)
    commits = _commits(monkeypatch)
    db = tmp_path / "a.db"
    Store.open(db).close()
    folder = lock_dir(db)
    folder.mkdir(exist_ok=True)
    waiter = os.open(folder / "wait", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(waiter, fcntl.LOCK_SH)
    s = Store.open(db)
    try:
        assert s.others_waiting() is True
        importing.import_paths(s, [str(gen_jsonl(tmp_path / "a.jsonl", 50))])
        fcntl.flock(waiter, fcntl.LOCK_UN)
        assert s.others_waiting() is False
    finally:
        s.close()
        os.close(waiter)
    assert commits == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 50]


def test_a_long_batch_is_undone_like_short_ones(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after a grown batch was committed leaves the database as it was."""
    _short_batches(monkeypatch)
    db = tmp_path / "a.db"
    s = Store.open(db)
    try:
        importing.import_paths(s, [str(gen_jsonl(tmp_path / "a.jsonl", 10))])
    finally:
        s.close()
    before = logical(db)
    bad = gen_jsonl(tmp_path / "b.jsonl", 45, version=2, changed=range(0, 10, 2))
    with bad.open("a") as f:
        f.write("{not json\n")
    s = Store.open(db)
    try:
        with pytest.raises(Exception, match="line 46"):
            importing.import_paths(s, [str(bad)])
    finally:
        s.close()
    assert logical(db) == before


def test_the_redaction_precheck_finds_every_trigger() -> None:
    rng = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-:/.\n数"
    for trigger in redact._TRIGGERS:
        for _ in range(20):
            left = "".join(rng.choices(alphabet, k=rng.randint(0, 40)))
            right = "".join(rng.choices(alphabet, k=rng.randint(0, 40)))
            assert redact._may_hold_secret(left + trigger + right), trigger
    for _ in range(2000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 60)))
        assert redact._may_hold_secret(text) == any(t in text for t in redact._TRIGGERS)
