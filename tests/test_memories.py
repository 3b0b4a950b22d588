"""Memories: saving, near-duplicates, updates, forgetting everything derived, heat, profile."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from aimem.errors import AimemError, NotFound
from aimem.services import Archive
from aimem.services.ranking import heat
from conftest import FIXTURES, run_aimem


@pytest.fixture
def mem(db: Path) -> Archive:
    m = Archive.open(db)
    m.import_paths([str(FIXTURES / "chatgpt" / "edge_cases.json")])
    return m


def test_remember_dedupes_near_exact_text_and_refreshes(mem: Archive) -> None:
    a = mem.remember("I prefer pytest over unittest", kind="preference", tags=["python"])
    assert a["created"] and a["kind"] == "preference" and a["tags"] == ["python"]
    time.sleep(0.01)
    b = mem.remember("  i PREFER pytest   over unittest. ", tags=["testing"])
    assert not b["created"] and b["id"] == a["id"]
    assert b["text"] == "I prefer pytest over unittest"  # the first wording is kept
    assert b["kind"] == "preference"  # a bare re-save does not demote the kind
    assert b["tags"] == ["python", "testing"]
    assert b["updated_at"] >= a["updated_at"]
    assert len(mem.list_memories()) == 1


def test_update_memory_text_kind_tags_and_pin(mem: Archive) -> None:
    m = mem.remember("Staging runs Postgres 15", kind="project", tags=["db", "staging"])
    up = mem.update_memory(m["id"][:6], text="Staging runs Postgres 16", tags=["db"], pin=True)
    assert up["id"] == m["id"] and up["text"] == "Staging runs Postgres 16"
    assert up["tags"] == ["db"] and up["pinned"] is True
    assert mem.search("Postgres 15", kinds=["memory"])[0]["text"] == "Staging runs Postgres 16"
    assert mem.search('"Postgres 15"', kinds=["memory"]) == []  # the old text left the index
    other = mem.remember("Production runs Postgres 16")
    with pytest.raises(AimemError, match="already says that"):
        mem.update_memory(other["id"], text="staging runs postgres 16")
    with pytest.raises(AimemError, match="unknown memory kind"):
        mem.update_memory(m["id"], kind="gossip")


def test_memories_show_up_in_search_with_kind_memory(mem: Archive) -> None:
    mem.remember("The walrus deploy pipeline runs on Tuesdays", kind="project")
    hits = mem.search("walrus tuesdays")
    kinds = {h["kind"] for h in hits}
    assert kinds == {"memory", "message"}
    m = next(h for h in hits if h["kind"] == "memory")
    assert m["conversation_id"] is None and m["role"] is None


def test_forget_removes_everything_derived(db: Path, mem: Archive) -> None:
    conv = next(c for c in mem.list_conversations() if "walrus" in (c["title"] or ""))
    mem.add_tags(conv["id"], ["ops"])
    m = mem.remember("walrus facts are private", tags=["secretstuff"])
    mem.show(conv["id"])  # a use counter exists now
    done = mem.forget([conv["id"][:8], m["id"]])
    assert {d["kind"] for d in done} == {"conversation", "memory"}
    assert mem.search("walrus") == []
    assert mem.list_tags() == []  # tags nobody carries any more are gone too
    conn = sqlite3.connect(db, isolation_level=None)
    for table, col in (("messages", "text"), ("memories", "text")):
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE {col} LIKE '%walrus%'"
                            ).fetchone()[0] == 0
    # the FTS indexes hold no trace: an integrity check passes and no term is left
    for fts in ("messages_fts", "memories_fts", "conversations_fts"):
        conn.execute(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)")
    conn.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, messages_fts, 'row')")
    assert conn.execute("SELECT count(*) FROM temp.v WHERE term = 'walru'").fetchone()[0] == 0
    conn.close()
    with pytest.raises(NotFound):
        mem.show(conv["id"])
    mem.vacuum()
    assert b"walrus" not in db.read_bytes()


def test_heat_formula_is_bounded_and_monotonic() -> None:
    now = 1_000_000_000.0
    assert heat(0, None, now) == 1.0
    assert heat(1, now, now) > heat(0, now, now) > heat(0, now - 90 * 86400, now) > 1.0
    assert heat(10**9, now, now) <= 1.5
    assert heat(3, now - 30 * 86400, now) == pytest.approx(1 + 0.1 * 1.3863 + 0.1, abs=1e-3)


def test_use_raises_rank_among_matches_but_never_adds_non_matches(mem: Archive) -> None:
    a = mem.remember("kettle descaling with lemon", kind="fact")  # same length: same BM25
    b = mem.remember("kettle descaling with vodka", kind="fact")
    before = [h["id"] for h in mem.search("kettle descaling", kinds=["memory"])]
    assert set(before) == {a["id"], b["id"]}
    loser = before[-1]
    for _ in range(5):
        mem.show(loser)
    after = [h["id"] for h in mem.search("kettle descaling", kinds=["memory"])]
    assert after[0] == loser
    assert set(after) == set(before)
    assert mem.search("teapot", kinds=["memory"]) == []


def test_profile_groups_pinned_and_preferences(mem: Archive) -> None:
    mem.remember("Answer with code first", kind="instruction", pin=True)
    mem.remember("Prefers metric units", kind="preference")
    mem.remember("Lives near a river", kind="fact")
    prof = mem.profile()
    assert [m["text"] for m in prof["pinned"]] == ["Answer with code first"]
    assert list(prof["kinds"]) == ["preference"]
    assert prof["synthesized"] is None


def test_cli_remember_forget_memories_tags(db: Path) -> None:
    out = run_aimem("--db", str(db), "remember", "Uses Postgres 16", "--kind", "fact",
                    "--tag", "db", check=True)
    mem_id = out.stdout.decode().strip()
    assert len(mem_id) == 16 and b"saved" in out.stderr
    again = run_aimem("--db", str(db), "remember", "-", input=b"uses postgres 16\n", check=True)
    assert again.stdout.decode().strip() == mem_id and b"already known" in again.stderr
    listed = json.loads(run_aimem("--db", str(db), "memories", "--json", check=True).stdout)
    assert [m["id"] for m in listed] == [mem_id]
    assert json.loads(run_aimem("--db", str(db), "list", "--memories", "--json",
                                check=True).stdout) == listed
    tags = json.loads(run_aimem("--db", str(db), "tag", "add", mem_id[:6], "infra", "--json",
                                check=True).stdout)
    assert tags["tags"] == ["db", "infra"]
    assert json.loads(run_aimem("--db", str(db), "tag", "list", "--json", check=True).stdout) == [
        {"name": "db", "conversations": 0, "memories": 1},
        {"name": "infra", "conversations": 0, "memories": 1}]
    upd = run_aimem("--db", str(db), "remember", "--update", mem_id, "--pin", "--json", check=True)
    assert json.loads(upd.stdout)["pinned"] is True
    no_yes = run_aimem("--db", str(db), "forget", mem_id)  # stdin is not a terminal
    assert no_yes.returncode == 1 and b"--yes" in no_yes.stderr
    gone = run_aimem("--db", str(db), "forget", mem_id, "--yes", "--vacuum", check=True)
    assert b"forgot memory" in gone.stdout
    assert run_aimem("--db", str(db), "show", mem_id).returncode == 1
    bad = run_aimem("--db", str(db), "remember", "x", "--kind", "gossip")
    assert bad.returncode == 1 and bad.stderr.startswith(b"aimem: error: unknown memory kind")
    empty = run_aimem("--db", str(db), "remember", "-", input=b"   ")
    assert empty.returncode == 1


def test_secrets_in_memories_are_redacted(mem: Archive) -> None:
    m = mem.remember("the staging password=Hunter2Hunter2 for db-stage")
    assert "Hunter2" not in m["text"] and "[REDACTED:password]" in m["text"]
