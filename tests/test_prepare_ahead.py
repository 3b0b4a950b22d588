"""A large input is parsed and prepared in a forked child while the parent writes
(aimem.services.prepare_ahead). The result must be exactly that of preparing in one
process, and the child must never outlive what started it: an error, Ctrl-C, kill -9.

``AIMEM_IMPORT_FORK=always`` uses the child for any size, ``never`` for none.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from aimem.errors import AimemError, ImportFailed
from aimem.services import importing, prepare_ahead
from aimem.store.db import Store
from conftest import dump_db, run_aimem, wait_for

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (not Windows)")

SECRET = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 3


def chatgpt_export(path: Path, n: int, *, words: int = 30) -> Path:
    """A ChatGPT conversations.json of ``n`` conversations, a secret in every fifth."""
    convs = []
    for i in range(n):
        mapping: dict[str, Any] = {"root": {"id": "root", "message": None, "parent": None,
                                            "children": [f"c{i}-0"]}}
        parent = "root"
        for j in range(4):
            text = f"conversation {i} turn {j} " + " ".join(f"word{(i * 7 + j + k) % 997}"
                                                            for k in range(words))
            if i % 5 == 0 and j == 1:
                text += f"\nmy key is {SECRET}"
            node = f"c{i}-{j}"
            mapping[node] = {"id": node, "parent": parent, "children": [],
                             "message": {"id": node, "author": {"role": ("user", "assistant")[j % 2]},
                                         "create_time": 1_700_000_000 + i * 100 + j,
                                         "content": {"content_type": "text", "parts": [text]}}}
            mapping[parent]["children"] = [node]
            parent = node
        convs.append({"id": f"conv-{i}", "conversation_id": f"conv-{i}", "title": f"Chat {i}",
                      "create_time": 1_700_000_000 + i * 100,
                      "update_time": 1_700_000_000 + i * 100 + 50,
                      "mapping": mapping, "current_node": parent})
    path.write_text(json.dumps(convs))
    return path


def env(how: str, **more: str) -> dict[str, str]:
    return {"AIMEM_IMPORT_FORK": how, **more}


def children_of(pid: int) -> list[int]:
    p = Path(f"/proc/{pid}/task/{pid}/children")
    if not p.exists():
        pytest.skip("needs /proc/PID/task/PID/children (Linux)")
    return [int(x) for x in p.read_text().split()]


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_the_same_database_and_report_as_preparing_in_one_process(tmp_path: Path) -> None:
    export = chatgpt_export(tmp_path / "conversations.json", 450)  # several chunks
    results = {}
    for how in ("never", "always"):
        db = tmp_path / f"{how}.db"
        r = run_aimem("--db", str(db), "import", str(export), "--json", env=env(how), check=True)
        report = json.loads(r.stdout)
        results[how] = (report, dump_db(db))
    (one, db_one), (two, db_two) = results["never"], results["always"]
    assert one["conversations_added"] == two["conversations_added"] == 450
    assert one["redactions"] == two["redactions"] and sum(one["redactions"].values()) == 90

    def stable(d: dict[str, list[tuple]]) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
        # import times differ between the two runs; everything else must not
        return {k: v for k, v in d.items() if k not in ("conversations", "import_log",
                                                       "import_runs", "_aimem_migrations")}

    assert stable(db_one) == stable(db_two)
    conn = sqlite3.connect(tmp_path / "always.db")
    (sha,) = conn.execute("SELECT sha256 FROM import_log").fetchone()
    import hashlib

    assert sha == hashlib.sha256(export.read_bytes()).hexdigest()
    assert SECRET in export.read_text() and not conn.execute(
        "SELECT count(*) FROM messages WHERE text LIKE ?", (f"%{SECRET}%",)).fetchone()[0]


def test_an_error_in_the_child_is_the_same_one_line_and_writes_nothing(tmp_path: Path) -> None:
    export = chatgpt_export(tmp_path / "conversations.json", 300)
    cut = tmp_path / "cut.json"
    cut.write_bytes(export.read_bytes()[: export.stat().st_size * 2 // 3])
    lines = {}
    for how in ("never", "always"):
        db = tmp_path / f"{how}.db"
        run_aimem("--db", str(db), "remember", "already here", check=True)
        before = dump_db(db)
        r = run_aimem("--db", str(db), "import", str(cut), env=env(how))
        assert r.returncode == 1 and b"Traceback" not in r.stderr
        lines[how] = r.stderr.decode().strip()
        assert dump_db(db) == before
    assert lines["never"] == lines["always"] and "truncated" in lines["always"]
    assert len(lines["always"].splitlines()) == 1


def test_in_process_errors_keep_their_type_and_leave_no_child(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.setenv("AIMEM_IMPORT_FORK", "always")
    export = chatgpt_export(tmp_path / "conversations.json", 300)
    cut = tmp_path / "cut.json"
    cut.write_bytes(export.read_bytes()[:-200])
    store = Store.open(tmp_path / "a.db")
    try:
        with pytest.raises(ImportFailed) as e:  # its type survives the trip (sync needs .why)
            importing.import_paths(store, [str(cut)])
        assert "truncated" in e.value.why
        assert children_of(os.getpid()) == []

        # a bug in the importer: an unexpected exception, still one line
        from aimem.importers import chatgpt

        real = chatgpt.parse

        def broken(inp):  # type: ignore[no-untyped-def]
            for k, item in enumerate(real(inp)):
                if k == 250:
                    raise KeyError("mapping")
                yield item

        monkeypatch.setattr(chatgpt, "parse", broken)
        with pytest.raises(AimemError) as e2:
            importing.import_paths(store, [str(export)])
        assert "KeyError" in str(e2.value) and "\n" not in str(e2.value)
        # AIMEM_DEBUG=1 shows the chain: the child's own traceback is in a note
        notes = "\n".join(getattr(e2.value.__cause__, "__notes__", []))
        assert "in the process reading ahead" in notes and "broken" in notes
        assert children_of(os.getpid()) == []
        assert store.conn.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0
    finally:
        store.close()


def test_progress_follows_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMEM_IMPORT_FORK", "always")
    export = chatgpt_export(tmp_path / "conversations.json", 1200, words=80)  # 3 MB+
    assert export.stat().st_size > 3 << 20  # read in 1 MB pieces: progress in between
    seen: list[int] = []
    store = Store.open(tmp_path / "p.db")
    try:
        importing.import_paths(store, [str(export)],
                               progress=lambda done, total, n: seen.append(done))
    finally:
        store.close()
    size = export.stat().st_size
    assert seen[-1] == size and any(0 < d < size for d in seen) and seen == sorted(seen)


def _start(db: Path, export: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "aimem", "--db", str(db), "import", str(export)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        env={**os.environ, "AIMEM_IMPORT_FORK": "always", "AIMEM_TEST_IMPORT_DELAY": "0.01"})


@pytest.mark.parametrize("how", ["kill", "ctrl-c"])
def test_the_child_never_outlives_its_parent(tmp_path: Path, how: str) -> None:
    """kill -9 or Ctrl-C while the child is ahead (blocked on a full pipe): it goes too,
    and the next command finds the database as it was."""
    # 6 MB: more than the pipe holds, so the child is still there, waiting to write
    export = chatgpt_export(tmp_path / "conversations.json", 3000, words=200)
    db = tmp_path / "k.db"
    run_aimem("--db", str(db), "remember", "already here", check=True)
    before = dump_db(db)
    p = _start(db, export)
    try:
        wait_for(lambda: children_of(p.pid) or p.poll() is not None)
        assert p.poll() is None, p.stderr.read() if p.stderr else ""
        (child,) = children_of(p.pid)
        time.sleep(0.5)  # the parent is writing batches; the child waits on the pipe
        assert alive(child)
        if how == "kill":
            p.send_signal(signal.SIGKILL)
        else:
            os.killpg(p.pid, signal.SIGINT)  # what the terminal sends to the whole group
        p.wait(timeout=90)  # Ctrl-C undoes the batches committed so far
        wait_for(lambda: not alive(child))
    finally:
        if p.poll() is None:
            p.kill()
    if how == "ctrl-c":
        assert p.returncode != 0 and b"Traceback" not in p.stderr.read()  # type: ignore[union-attr]
    r = run_aimem("--db", str(db), "list", "--json")
    assert r.returncode == 0, r.stderr
    after = dump_db(db)
    assert {k: v for k, v in after.items() if k != "import_runs"} == {
        k: v for k, v in before.items() if k != "import_runs"}


def test_small_inputs_and_never_stay_in_one_process(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from aimem.importers.base import Input

    big = Input(name="x", opener=lambda: open(os.devnull, "rb"),  # noqa: SIM115
                size=prepare_ahead.MIN_BYTES)
    small = Input(name="y", opener=lambda: open(os.devnull, "rb"),  # noqa: SIM115
                  size=prepare_ahead.MIN_BYTES - 1)
    monkeypatch.delenv("AIMEM_IMPORT_FORK", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert prepare_ahead.wanted(big) and not prepare_ahead.wanted(small)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not prepare_ahead.wanted(big)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setenv("AIMEM_IMPORT_FORK", "never")
    assert not prepare_ahead.wanted(big)
    monkeypatch.setenv("AIMEM_IMPORT_FORK", "always")
    assert prepare_ahead.wanted(small)


def test_the_child_does_not_hold_the_parents_flocks(tmp_path: Path) -> None:
    """A flock belongs to the open file, shared with a forked child: the child closes the
    descriptors it is given, so a killed import's run lock is free once the parent dies."""
    import fcntl

    from aimem.importers import chatgpt, input_from_path
    from aimem.store.runs import owner_alive

    export = chatgpt_export(tmp_path / "conversations.json", 3000, words=200)
    lock = tmp_path / "run-lock"
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    ahead = prepare_ahead.Ahead(chatgpt, input_from_path(export), lambda c: "h", None,
                                close_in_child=[fd])
    items = ahead.items()
    try:
        next(items)
        assert ahead.pid is not None
        held = {os.readlink(f) for f in Path(f"/proc/{ahead.pid}/fd").iterdir()
                if os.path.exists(f)}
        assert str(lock) not in held
        os.close(fd)  # as a killed parent's descriptors are closed
        assert not owner_alive(str(lock))  # the child, still reading, does not hold it
    finally:
        items.close()
    assert ahead.pid is None


def test_messages_survive_pickling_with_every_field() -> None:
    import pickle

    from aimem.models import Conversation, Message

    m = Message(role="assistant", text="hé\x00", source_id="s", author="Ada", created_at=1.5,
                id="abc", extra={"k": [1, None]}, parent="p")
    c = Conversation(source="chatgpt", messages=[m, Message(role="user", text="x")],
                     branches=[m], tags=["t"], deleted=["d"])
    assert pickle.loads(pickle.dumps(c, pickle.HIGHEST_PROTOCOL)) == c
    assert pickle.loads(pickle.dumps(m)) == m
