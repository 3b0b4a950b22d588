"""Sync between devices (aimem.services.devices) with real databases and real files.

Three databases, each with its own view of the sync folder; a "network" copies each
device's log files into the others' views in random order and cut at random bytes (a
sync tool still copying), and read positions are sometimes lost (every record delivered
again). Whatever happens, once everything is delivered all three hold the same thing,
and nothing forgotten is back.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimem.errors import AimemError
from aimem.services import Archive
from aimem.services import devices as sync
from tests.conftest import run_aimem

TEXTS = [f"fact number {i} about tea" for i in range(6)]
NEW_TEXTS = [f"edited fact {i}" for i in range(6)]
TAGS = ["red", "green", "Blue"]


def _conv(i: int) -> dict:
    return {"type": "conversation", "source": "jsonl", "source_id": f"conv-{i}",
            "title": f"Talk {i}", "created_at": f"2024-01-0{i + 1}T10:00:00Z",
            "messages": [{"role": "user", "text": f"question {i} about kettles"},
                         {"role": "assistant", "text": f"answer {i}"}]}


class World:
    def __init__(self, root: Path, n: int = 3):
        self.root = root
        self.mems = []
        self.views = []
        for d in range(n):
            view = root / f"view{d}"
            view.mkdir(parents=True)
            mem = Archive.open(root / f"db{d}" / "aimem.db")
            mem.set_sync_target(str(view))
            self.mems.append(mem)
            self.views.append(view)
        self.ids = [sync.identity(m.store)[0] for m in self.mems]
        self.exports = root / "exports"
        self.exports.mkdir()
        for i in range(4):
            (self.exports / f"c{i}.jsonl").write_text(json.dumps(_conv(i)) + "\n")
        self.forgotten_convs: set[str] = set()
        self.forgotten_mems: set[tuple[str, str]] = set()  # (id, created_at)

    def close(self) -> None:
        for m in self.mems:
            m.close()

    def deliver(self, src: int, dst: int, frac: float) -> None:
        """Copy a prefix of src's log files into dst's view (never shrinking one)."""
        own = self.views[src] / sync.LOG_DIR / self.ids[src]
        if not own.is_dir() or src == dst:
            return
        to = self.views[dst] / sync.LOG_DIR / self.ids[src]
        to.mkdir(parents=True, exist_ok=True)
        for f in sorted(own.iterdir()):
            data = f.read_bytes()
            target = to / f.name
            have = target.stat().st_size if target.exists() else 0
            n = max(have, int(len(data) * frac))
            target.write_bytes(data[:n])

    def op(self, d: int, what: str, a: int, b: int) -> None:
        mem = self.mems[d]
        try:
            if what == "remember":
                mem.remember(TEXTS[a % len(TEXTS)], tags=[TAGS[b % len(TAGS)]] if b % 2 else ())
            elif what == "update":
                ms = mem.list_memories(limit=None)
                if ms:
                    m = ms[a % len(ms)]
                    if b % 2:
                        mem.update_memory(m["id"], pin=not m["pinned"])
                    else:
                        mem.update_memory(m["id"], text=NEW_TEXTS[b % len(NEW_TEXTS)])
            elif what == "forget":
                ms = mem.list_memories(limit=None)
                convs = mem.list_conversations(limit=None)
                if b % 2 and convs:
                    c = convs[a % len(convs)]
                    mem.forget([c["id"]])
                    self.forgotten_convs.add(c["id"])
                elif ms:
                    m = ms[a % len(ms)]
                    full = mem.store.get_memory(m["id"])
                    mem.forget([m["id"]])
                    self.forgotten_mems.add((m["id"], repr(full.created_at)))
            elif what in ("tag", "untag"):
                items = [m["id"] for m in mem.list_memories(limit=None)] + \
                        [c["id"] for c in mem.list_conversations(limit=None)]
                if items:
                    target = items[a % len(items)]
                    if what == "tag":
                        mem.add_tags(target, [TAGS[b % len(TAGS)]])
                    else:
                        mem.remove_tags(target, [TAGS[b % len(TAGS)]])
            elif what == "import":
                mem.import_paths([str(self.exports / f"c{a % 4}.jsonl")])
            elif what == "sync":
                r = mem.sync_devices()
                assert not r["errors"], r["errors"]
            elif what == "compact":
                sync.compact(mem.store)
            elif what == "reset":  # read positions lost: everything is read again
                with mem.store.transaction():
                    from aimem.store import devices as sdb

                    sdb.forget_positions(mem.store)
        except AimemError:
            pass  # e.g. an edit to a text another memory has: refused, nothing changed

    def settle(self) -> None:
        for _ in range(3):
            for d in range(len(self.mems)):
                r = self.mems[d].sync_devices()
                assert not r["errors"], r["errors"]
            for s in range(len(self.mems)):
                for d in range(len(self.mems)):
                    self.deliver(s, d, 1.0)
        for d in range(len(self.mems)):
            r = self.mems[d].sync_devices()
            assert not r["errors"], r["errors"]
            assert r["sent"] == 0, "still sending after everything settled"

    def dump(self, d: int) -> list[str]:
        return sorted(line.decode() for line in self.mems[d].export_jsonl())


OPS = st.tuples(st.integers(0, 2),
                st.sampled_from(["remember", "remember", "update", "forget", "tag", "untag",
                                 "import", "import", "sync", "sync", "deliver", "deliver",
                                 "reset", "compact"]),
                st.integers(0, 20), st.integers(0, 20), st.floats(0.0, 1.0))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=5, max_size=40))
def test_three_devices_converge(tmp_path_factory: pytest.TempPathFactory, ops: list) -> None:
    w = World(tmp_path_factory.mktemp("world"))
    try:
        for d, what, a, b, frac in ops:
            if what == "deliver":
                w.deliver(d, a % 3, frac)
            else:
                w.op(d, what, a, b)
        w.settle()
        dumps = [w.dump(d) for d in range(3)]
        assert dumps[0] == dumps[1] == dumps[2]
        for line in dumps[0]:
            obj = json.loads(line)
            if obj["type"] == "conversation":
                assert obj["id"] not in w.forgotten_convs, "a forgotten conversation is back"
        for m in w.mems[0].store.iter_memories():
            assert (m.id, repr(m.created_at)) not in w.forgotten_mems, "a forgotten memory"
        # re-importing the original exports everywhere brings nothing forgotten back
        for mem in w.mems:
            mem.import_paths([str(w.exports)])
            assert not {c["id"] for c in mem.list_conversations(limit=None)} & w.forgotten_convs
    finally:
        w.close()


def test_forget_travels_and_survives_reimport(tmp_path: Path) -> None:
    w = World(tmp_path, n=2)
    try:
        a, b = w.mems
        a.import_paths([str(w.exports / "c0.jsonl")])
        mem = a.remember("the wifi password is in the drawer", tags=["home"])
        a.sync_devices()
        w.deliver(0, 1, 1.0)
        r = b.sync_devices()
        assert r["applied"] >= 3 and not r["errors"]
        conv_id = b.list_conversations()[0]["id"]
        assert b.list_memories()[0]["tags"] == ["home"]
        b.forget([conv_id, mem["id"]])
        b.sync_devices()
        w.deliver(1, 0, 1.0)
        r = a.sync_devices()
        assert r["forgotten"] == 2
        assert a.list_conversations() == [] and a.list_memories() == []
        again = a.import_paths([str(w.exports / "c0.jsonl")])
        assert again.forgotten == 1 and a.list_conversations() == []
        # saving the same text again is a new memory, not the forgotten one
        a.remember("the wifi password is in the drawer")
        a.sync_devices()
        w.deliver(0, 1, 1.0)
        b.sync_devices()
        assert [m["text"] for m in b.list_memories()] == ["the wifi password is in the drawer"]
    finally:
        w.close()


def test_partial_and_garbled_files(tmp_path: Path) -> None:
    w = World(tmp_path, n=2)
    try:
        a, b = w.mems
        for t in TEXTS[:3]:
            a.remember(t)
        a.sync_devices()
        own = w.views[0] / sync.LOG_DIR / w.ids[0]
        log = next(own.glob("log-*.jsonl"))
        data = log.read_bytes()
        first_end = data.index(b"\n") + 1
        to = w.views[1] / sync.LOG_DIR / w.ids[0]
        to.mkdir(parents=True)
        (to / log.name).write_bytes(data[:first_end + 10])  # one record and a bit
        r = b.sync_devices()
        assert r["applied"] == 1 and r["waiting"] and len(b.list_memories()) == 1
        (to / log.name).write_bytes(data)
        r = b.sync_devices()
        assert r["applied"] == 2 and not r["waiting"] and len(b.list_memories()) == 3
        # a garbled file: reported, nothing of it applied, read position kept
        a.remember(TEXTS[4])
        a.remember(TEXTS[5])
        a.sync_devices()
        more = log.read_bytes()[len(data):]
        lines = more.splitlines(keepends=True)
        (to / log.name).write_bytes(data + lines[0] + b"{not json\n")
        before = b.devices()["devices"][0]["positions"]
        r = b.sync_devices()
        assert r["errors"] and "garbled" in r["errors"][0]["error"]
        assert r["applied"] == 0 and len(b.list_memories()) == 3
        assert b.devices()["devices"][0]["positions"] == before
        shutil.copy(log, to / log.name)
        r = b.sync_devices()
        assert not r["errors"] and len(b.list_memories()) == 5
    finally:
        w.close()


def test_cli_sync_to_folder_and_devices(tmp_path: Path) -> None:
    folder = tmp_path / "Sync"
    homes = [tmp_path / "a", tmp_path / "b"]
    envs = [{"AIMEM_HOME": str(h), "HOME": str(h / "user")} for h in homes]
    run_aimem("remember", "I prefer tabs", "--tag", "style", env=envs[0], check=True)
    out = run_aimem("sync", "--to", str(folder), "--json", env=envs[0], check=True)
    rep = json.loads(out.stdout)
    assert rep["devices"]["sent"] == 2 and rep["devices"]["target"] == str(folder)
    dry = run_aimem("sync", "--to", str(folder), "--dry-run", env=envs[1], check=True)
    assert "1 of 2 received would be applied" in dry.stdout.decode() or \
        "2 of 2 received would be applied" in dry.stdout.decode()
    assert "tabs" not in run_aimem("memories", env=envs[1]).stdout.decode()
    run_aimem("sync", env=envs[1], check=True)
    assert "I prefer tabs" in run_aimem("memories", env=envs[1], check=True).stdout.decode()
    dev = json.loads(run_aimem("devices", "--json", env=envs[1], check=True).stdout)
    assert dev["target"] == str(folder) and len(dev["devices"]) == 1
    assert dev["devices"][0]["records"] == 2
    idle = run_aimem("sync", "--json", env=envs[1], check=True)
    assert json.loads(idle.stdout)["devices"]["sent"] == 0
    comp = json.loads(run_aimem("sync", "compact", "--json", env=envs[0], check=True).stdout)
    assert comp["snapshot"].startswith("snapshot-000001-") and comp["dropped"] == [
        "log-000001.jsonl"]  # B had read it all
    bad = run_aimem("sync", "compress", env=envs[0])
    assert bad.returncode == 2


def test_sync_to_a_file_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    r = run_aimem("sync", "--to", str(f))
    assert r.returncode == 1 and b"Traceback" not in r.stderr
    assert r.stderr.decode().count("\n") == 1


@pytest.mark.requires_tool("git", why="the system git is needed for a git remote")
def test_git_remote_two_clones_with_a_rejected_push(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    url = f"git+file://{bare}"
    a = Archive.open(tmp_path / "a" / "aimem.db")
    b = Archive.open(tmp_path / "b" / "aimem.db")
    try:
        a.set_sync_target(url)
        b.set_sync_target(url)
        a.remember("the boiler code is 1234", tags=["home"])
        assert a.sync_devices()["git"] == "pushed"
        b.remember("tea at four")
        r = b.sync_devices()
        assert r["applied"] == 2 and r["git"] == "pushed"
        a.remember("coffee at nine")
        assert a.sync_devices()["applied"] == 1
        # B writes without having pulled A's last push: its push is rejected, it pulls
        # (no conflict: the files are A's) and pushes again
        b.remember("lunch at one")
        real_pull = sync._git_pull
        calls = []

        def late_pull(repo: Path) -> None:
            calls.append(repo)
            if len(calls) > 1:
                real_pull(repo)

        monkeypatch.setattr(sync, "_git_pull", late_pull)
        r = b.sync_devices()
        assert r["git"] == "pushed after 1 retries", r
        monkeypatch.setattr(sync, "_git_pull", real_pull)
        b.sync_devices()  # reads what the retry pulled in
        a.sync_devices()
        assert sorted(a.export_jsonl()) == sorted(b.export_jsonl())
        assert {m["text"] for m in a.list_memories()} == {
            "the boiler code is 1234", "tea at four", "coffee at nine", "lunch at one"}
        log = subprocess.run(["git", "--git-dir", str(bare), "log", "--name-only",
                              "--format=%s", "main"], capture_output=True, text=True, check=True)
        assert "aimem.db" not in log.stdout and "log-000001.jsonl" in log.stdout
    finally:
        a.close()
        b.close()


def test_compact_then_a_new_device_bootstraps(tmp_path: Path) -> None:
    folder = tmp_path / "Sync"
    mems = [Archive.open(tmp_path / n / "aimem.db") for n in "abc"]
    a, b, c = mems
    try:
        for m in (a, b):
            m.set_sync_target(str(folder))
        exports = tmp_path / "c.jsonl"
        exports.write_text(json.dumps(_conv(1)) + "\n" + json.dumps(_conv(2)) + "\n")
        a.import_paths([str(exports)])
        kept = a.remember("kept fact", tags=["x"])
        gone = a.remember("gone fact")
        a.sync_devices()
        b.sync_devices()  # B reads A's first records (and says so in its seen.json)
        a.forget([gone["id"]])
        a.add_tags(kept["id"], ["y"])
        a.remove_tags(kept["id"], ["x"])
        a.sync_devices()
        r = a.compact_sync()
        assert r["dropped"] == [] and r["kept"]  # B has not read A's logs yet
        b.sync_devices()
        b.remember("from b")
        b.sync_devices()
        r = a.compact_sync()
        assert r["dropped"] == ["log-000001.jsonl"], r
        own = folder / sync.LOG_DIR / sync.identity(a.store)[0]
        assert not (own / "log-000001.jsonl").exists() and (own / r["snapshot"]).exists()
        # C starts from A's snapshot and B's log, and ends up where A and B are
        c.set_sync_target(str(folder))
        rc = c.sync_devices()
        assert not rc["errors"]
        a.sync_devices()
        b.sync_devices()
        dumps = [sorted(m.export_jsonl()) for m in mems]
        assert dumps[0] == dumps[1] == dumps[2]
        assert [m["tags"] for m in c.list_memories() if m["text"] == "kept fact"] == [["y"]]
        assert "gone fact" not in {m["text"] for m in c.list_memories()}
        # the forgotten memory stays forgotten on C, even from the original record
        assert c.devices()["tombstones"] == 1
        # new changes after the compaction still travel
        a.remember("after compaction")
        a.sync_devices()
        c.sync_devices()
        assert "after compaction" in {m["text"] for m in c.list_memories()}
    finally:
        for m in mems:
            m.close()


def test_encrypted_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cryptography")
    from tests.conftest import dump_db

    folder = tmp_path / "Cloud"
    a = Archive.open(tmp_path / "a" / "aimem.db")
    b = Archive.open(tmp_path / "b" / "aimem.db")
    try:
        monkeypatch.setenv("AIMEM_SYNC_PASSPHRASE", "correct horse")
        a.set_sync_target(str(folder), encrypt=True)
        a.remember("my bank is the green one", tags=["money"])
        a.sync_devices()
        logs = list(folder.rglob("log-*.jsonl"))
        raw = b"".join(p.read_bytes() for p in logs)
        assert raw.startswith(sync.SEALED) and b"bank" not in raw and b"money" not in raw
        # a wrong passphrase: a clear error, and B's database is as it was
        b.set_sync_target(str(folder))
        before = dump_db(b.path)
        monkeypatch.setenv("AIMEM_SYNC_PASSPHRASE", "wrong horse")
        with pytest.raises(AimemError, match="wrong passphrase"):
            b.sync_devices()
        assert dump_db(b.path) == before
        monkeypatch.setenv("AIMEM_SYNC_PASSPHRASE", "correct horse")
        r = b.sync_devices()
        assert r["applied"] == 2 and not r["errors"]
        assert b.list_memories()[0]["text"] == "my bank is the green one"
        # B writes encrypted too, without having been told to
        b.remember("pin is 0000")
        b.sync_devices()
        b_logs = [p for p in folder.rglob("log-*.jsonl") if p not in logs]
        assert b_logs and b"pin is" not in b"".join(p.read_bytes() for p in b_logs)
        # a tampered line: authentication fails, nothing of that file is applied
        a.remember("third fact")
        a.sync_devices()
        log = logs[0]
        data = bytearray(log.read_bytes())
        last = data.rstrip(b"\n").rfind(b"\n") + 1
        data[last + 20] = ord("A") if data[last + 20] != ord("A") else ord("B")
        log.write_bytes(bytes(data))
        before = dump_db(b.path)
        r = b.sync_devices()
        assert r["errors"] and "authentication" in r["errors"][0]["error"]
        assert dump_db(b.path) == before
    finally:
        a.close()
        b.close()


def test_cli_wrong_passphrase_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    folder = tmp_path / "Cloud"
    env_a = {"AIMEM_HOME": str(tmp_path / "a"), "HOME": str(tmp_path / "ua"),
             "AIMEM_SYNC_PASSPHRASE": "s3cret"}
    run_aimem("remember", "x marks the spot", env=env_a, check=True)
    run_aimem("sync", "--to", str(folder), "--encrypt", env=env_a, check=True)
    env_b = {"AIMEM_HOME": str(tmp_path / "b"), "HOME": str(tmp_path / "ub"),
             "AIMEM_SYNC_PASSPHRASE": "nope"}
    r = run_aimem("sync", "--to", str(folder), env=env_b)
    assert r.returncode == 1 and b"wrong passphrase" in r.stderr and b"Traceback" not in r.stderr
