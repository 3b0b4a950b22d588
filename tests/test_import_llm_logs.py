"""llm's logs.db: both schema generations, tools, fragments, read-only access, re-import."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from aimem.errors import ImportFailed
from aimem.importers import detect, input_from_bytes, input_from_path, llm_logs
from aimem.models import Conversation, Skipped
from aimem.timeutil import iso
from conftest import FIXTURES, SHARED_FIXTURES, run_aimem

HERE = FIXTURES / "llm_logs"
SHARED = SHARED_FIXTURES / "llm_logsdb"
LEGACY = SHARED / "logs_llm0.27.1.db"
NEW = SHARED / "logs_llm0.36.db"
TOOLS_OLD = HERE / "tools_llm0.27.1.db"
TOOLS_NEW = HERE / "tools_llm0.36.db"
MIXED = HERE / "mixed_llm0.27.1_then_0.36.db"
GROWN = HERE / "tools_llm0.36_grown.db"
ALL_DBS = [LEGACY, NEW, TOOLS_OLD, TOOLS_NEW, MIXED, GROWN]

DOC = "FTS5 tokenizes text into terms and builds an inverted index.\nQueries use MATCH."
TOOL_CHAIN = [
    ("user", None, "What time is it in Lisbon, and when is high tide?"),
    ("assistant", None, "Let me look that up."),
    ("tool", "lisbon_time", "lisbon_time({})"),
    ("tool", "tide_table", 'tide_table({"city":"Lisbon"})'),
    ("tool", "lisbon_time", "14:05"),
    ("tool", "tide_table", "Error: no tide data for Lisbon"),
    ("assistant", None, "It is 14:05 in Lisbon; no tide data."),
]
FRAGMENTS = [
    ("system", None, "You are a careful summariser.\n\nBe brief."),  # once, not per exchange
    ("user", None, DOC + "\nSummarise this file in a line"),  # the fragment, resolved
    ("assistant", None, "An inverted index queried with MATCH."),
    ("user", None, "Shorter, please"),
    ("assistant", None, "Inverted index, MATCH."),
]
PICTURE = [
    ("user", None, "What is in this picture?\n[attachment: image/png]"),
    ("assistant", None, "A single transparent pixel."),  # the reasoning part is left out
]
PORTO = [("user", None, "And in Porto?"),
         ("assistant", None, "Porto is in the same time zone: 14:05.")]


def parse(path: Path) -> tuple[list[Conversation], list[Skipped]]:
    items = list(llm_logs.parse(input_from_path(path)))
    return ([i for i in items if isinstance(i, Conversation)],
            [i for i in items if isinstance(i, Skipped)])


def texts(c: Conversation) -> list[tuple[str, str | None, str]]:
    return [(m.role, m.author, m.text) for m in c.messages]


def kinds(c: Conversation) -> list[str]:
    return [m.source_id.split("/", 1)[1] for m in c.messages]  # type: ignore[union-attr]


def exchange_ids(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute(f"SELECT id FROM {table} ORDER BY id")]
    finally:
        conn.close()


def copy(src: Path, tmp_path: Path, name: str = "logs.db") -> Path:
    dst = tmp_path / name
    shutil.copyfile(src, dst)
    return dst


# --- the shared fixtures ------------------------------------------------------------


@pytest.mark.parametrize("path, table", [(LEGACY, "responses"), (NEW, "turns")])
def test_shared_fixtures_give_the_same_three_exchanges(path: Path, table: str) -> None:
    convs, skipped = parse(path)
    assert skipped == []
    assert [c.title for c in convs] == ["Suggest a name for a pet pelican",
                                        "Summarise SQLite FTS5 in one se…"]
    pelican, fts = convs
    assert texts(pelican) == [
        ("user", None, "Suggest a name for a pet pelican"),
        ("assistant", None, "How about Percy? Pelicans suit a dignified name."),
        ("user", None, "Now one for a pet walrus"),
        ("assistant", None, "Wallace. It pairs nicely with Percy."),
    ]
    assert texts(fts) == [
        ("system", None, "Answer tersely."),
        ("user", None, "Summarise SQLite FTS5 in one sentence"),
        ("assistant", None, "FTS5 is SQLite's full-text search extension providing MATCH "
                            "queries over virtual tables."),
    ]
    assert all(c.source == "llm" and c.model == "scripted" for c in convs)
    assert all(m.extra is None for c in convs for m in c.messages)
    # ids: llm's conversation (thread) id, and "<response or turn id>/<part>"
    ids = exchange_ids(path, table)
    assert [m.source_id for m in pelican.messages] == [
        f"{ids[0]}/prompt", f"{ids[0]}/response", f"{ids[1]}/prompt", f"{ids[1]}/response"]
    assert [m.source_id for m in fts.messages] == [
        f"{ids[2]}/system", f"{ids[2]}/prompt", f"{ids[2]}/response"]
    conv_table = "conversations" if table == "responses" else "threads"
    assert [c.source_id for c in convs] == exchange_ids(path, conv_table)


def test_shared_fixture_times_are_the_exchange_times() -> None:
    (pelican, fts), _ = parse(LEGACY)
    assert [iso(m.created_at, precise=True) for m in pelican.messages] == [
        "2026-11-21T12:53:31.126809Z"] * 2 + ["2026-11-21T12:53:31.154792Z"] * 2
    (pelican, _fts), _ = parse(NEW)
    assert iso(pelican.messages[0].created_at, precise=True) == "2026-11-21T12:53:24.913640Z"
    assert iso(pelican.messages[-1].created_at, precise=True) == "2026-11-21T12:53:24.946831Z"


# --- tools, fragments, attachments, reasoning (both generations) ----------------------


@pytest.mark.parametrize("path, table", [(TOOLS_OLD, "responses"), (TOOLS_NEW, "turns")])
def test_tools_fragments_and_attachments(path: Path, table: str) -> None:
    convs, skipped = parse(path)
    assert skipped == []
    assert [c.title for c in convs] == ["What time is it in Lisbon, and …",
                                        "FTS5 tokenizes text into terms …",
                                        "What is in this picture?"]
    tools, fragments, picture = convs
    assert texts(tools) == TOOL_CHAIN
    assert texts(fragments) == FRAGMENTS
    assert texts(picture) == PICTURE
    ids = exchange_ids(path, table)
    assert [m.source_id.split("/")[0] for m in tools.messages] == [ids[0]] * 4 + [ids[1]] * 3
    assert kinds(tools) == ["prompt", "response", "tool_call/1", "tool_call/2",
                            "tool_result/1", "tool_result/2", "response"]
    assert kinds(fragments) == ["system", "prompt", "response", "prompt", "response"]
    assert [m.extra for m in tools.messages if m.role == "tool"] == [
        {"tool_call": True, "tool_call_id": "call_1"},
        {"tool_call": True, "tool_call_id": "call_2"},
        {"tool_result": True, "tool_call_id": "call_1"},
        {"tool_result": True, "tool_call_id": "call_2",
         "exception": "ValueError: no tide data for Lisbon"},
    ]
    everything = " ".join(m.text for c in convs for m in c.messages)
    assert "one pixel wide" not in everything  # reasoning (0.36 part) stays out


def test_the_two_generations_read_alike() -> None:
    old, _ = parse(TOOLS_OLD)
    new, _ = parse(TOOLS_NEW)
    assert [texts(c) for c in old] == [texts(c) for c in new]
    assert [kinds(c) for c in old] == [kinds(c) for c in new]


def test_both_generations_in_one_file_make_one_conversation() -> None:
    convs, skipped = parse(MIXED)
    assert skipped == []
    assert len(convs) == 3
    tools = convs[0]
    # the legacy rows, then the 0.36 turn; the legacy history that llm 0.36 re-wrote as
    # messages for that turn is not imported twice
    assert texts(tools) == TOOL_CHAIN + PORTO
    turn = exchange_ids(MIXED, "turns")
    assert [m.source_id for m in tools.messages[-2:]] == [f"{turn[0]}/prompt",
                                                          f"{turn[0]}/response"]
    assert tools.title == "What time is it in Lisbon, and …"  # not the new thread's name
    assert tools.source_id == exchange_ids(MIXED, "threads")[0]
    old, _ = parse(TOOLS_OLD)
    assert [m.source_id for m in old[0].messages] == [m.source_id for m in tools.messages[:-2]]


def test_dual_written_rows_are_read_once(tmp_path: Path) -> None:
    db = copy(TOOLS_NEW, tmp_path)
    turn_id = exchange_ids(db, "turns")[0]
    thread_id = exchange_ids(db, "threads")[0]
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO conversations (id, name, model) VALUES (?, 'dual', 'scripted')",
                 (thread_id,))
    conn.execute("INSERT INTO responses (id, model, prompt, response, conversation_id, "
                 "datetime_utc) VALUES (?, 'scripted', 'What time is it in Lisbon, and when is "
                 "high tide?', 'Let me look that up.', ?, '2026-12-03T11:31:51+00:00')",
                 (turn_id, thread_id))
    conn.commit()
    conn.close()
    convs, _ = parse(db)
    assert texts(convs[0]) == TOOL_CHAIN


def test_model_changes_inside_a_conversation_are_kept(tmp_path: Path) -> None:
    db = copy(TOOLS_OLD, tmp_path)
    rid = exchange_ids(db, "responses")[3]  # "Shorter, please"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE responses SET model = 'gpt-4o', resolved_model = 'gpt-4o-2024-08-06' "
                 "WHERE id = ?", (rid,))
    conn.commit()
    conn.close()
    _, fragments, _ = parse(db)[0]
    assert fragments.model == "scripted"
    assert [m.extra for m in fragments.messages] == [
        None, None, None, None, {"model": "gpt-4o", "resolved_model": "gpt-4o-2024-08-06"}]


def test_huge_fragments_are_not_copied_into_every_prompt(tmp_path: Path) -> None:
    db = copy(TOOLS_OLD, tmp_path)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE fragments SET content = ?, source = 'novel.txt' WHERE id = 1",
                 ("x" * (llm_logs.FRAGMENT_LIMIT + 1),))
    conn.commit()
    conn.close()
    _, fragments, _ = parse(db)[0]
    assert fragments.messages[1].text == (
        f"[fragment novel.txt: {llm_logs.FRAGMENT_LIMIT + 1} characters, not imported]\n"
        "Summarise this file in a line")


def test_odd_rows_are_skipped_with_reasons(tmp_path: Path) -> None:
    db = copy(TOOLS_NEW, tmp_path)
    conn = sqlite3.connect(db)
    tip = conn.execute("SELECT tip_message_hash FROM threads ORDER BY id").fetchone()[0]
    conn.execute("INSERT INTO threads (id, name, tip_message_hash, forked_from, datetime_utc) "
                 "VALUES ('01zzfork', 'a fork', ?, (SELECT min(id) FROM threads), "
                 "'2026-12-04 10:00:00+00:00')", (tip,))
    conn.execute("INSERT INTO parts (message_hash, position, type, text) "
                 "VALUES (?, 9, 'hologram', 'x')", (tip,))
    conn.commit()
    conn.close()
    convs, skipped = parse(db)
    assert len(convs) == 3
    assert [(s.where.split(": ", 1)[1], s.reason) for s in skipped] == [
        (f"message {tip}", "unknown part type 'hologram'"),
        ("conversation 01zzfork", "no exchanges in it"),
    ]


def test_pre_0_4_log_table_is_reported_not_guessed(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE _llm_migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    conn.execute("CREATE TABLE logs (id INTEGER PRIMARY KEY, model TEXT, prompt TEXT, "
                 "response TEXT)")
    conn.execute("INSERT INTO logs (model, prompt, response) VALUES ('gpt-3.5', 'hi', 'hello')")
    conn.commit()
    conn.close()
    convs, skipped = parse(db)
    assert convs == []
    assert [s.reason for s in skipped] == [
        "1 rows in the pre-0.4 llm 'logs' table are not supported"]


# --- detection ----------------------------------------------------------------------


def test_sniff_recognises_every_llm_database() -> None:
    for path in ALL_DBS:
        inp = input_from_path(path)
        assert llm_logs.sniff(inp), path
        assert detect(inp) is llm_logs, path


def test_sniff_rejects_every_other_format_and_other_sqlite_files(tmp_path: Path) -> None:
    others = [p for root in (SHARED_FIXTURES, FIXTURES) for p in root.rglob("*")
              if p.is_file() and p.suffix != ".db"]
    assert len(others) > 20
    for path in others:
        assert not llm_logs.sniff(input_from_path(path)), path
    aimem_db = tmp_path / "aimem.db"
    run_aimem("--db", str(aimem_db), "remember", "an SQLite file that is not llm's", check=True)
    assert aimem_db.read_bytes().startswith(b"SQLite format 3\x00")
    assert not llm_logs.sniff(input_from_path(aimem_db))
    assert not llm_logs.sniff(input_from_bytes("x", b"SQLite format 3"))
    assert not llm_logs.sniff(input_from_bytes("x", b""))


def test_a_damaged_database_is_claimed_so_that_parse_can_say_why(tmp_path: Path) -> None:
    cut = tmp_path / "cut.db"
    cut.write_bytes(LEGACY.read_bytes()[:50_000])
    assert llm_logs.sniff(input_from_path(cut))
    with pytest.raises(ImportFailed) as e:
        list(llm_logs.parse(input_from_path(cut)))
    assert str(e.value) == (f"{cut}: cannot read it as an llm logs.db "
                            "(database disk image is malformed)")


# --- read-only access ------------------------------------------------------------------


def test_import_never_writes_the_logs_db(tmp_path: Path) -> None:
    db = tmp_path / "aimem.db"
    for src in (LEGACY, NEW, MIXED):
        logs = copy(src, tmp_path, f"{src.stem}.db")
        os.utime(logs, (1_700_000_000, 1_700_000_000))
        before = logs.read_bytes()
        run_aimem("--db", str(db), "import", str(logs), check=True)
        assert logs.read_bytes() == before
        assert logs.stat().st_mtime == 1_700_000_000
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(src.stem)) == [
            logs.name]  # no journal, no -wal/-shm left behind (journal mode delete)


def test_reads_while_llm_is_writing(tmp_path: Path) -> None:
    logs = copy(LEGACY, tmp_path)
    writer = sqlite3.connect(logs, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # llm in the middle of logging a response
        writer.execute("INSERT INTO responses (id, model, prompt, response, conversation_id, "
                       "datetime_utc) VALUES ('01zznotyet', 'scripted', 'uncommitted', 'x', "
                       "'01m7z2phbpag73t0eg7mzhe6xb', '2026-11-22T00:00:00+00:00')")
        convs, _ = parse(logs)
        assert [len(c.messages) for c in convs] == [4, 3]  # the committed state only
        assert "uncommitted" not in {m.text for c in convs for m in c.messages}
        writer.execute("COMMIT")
    finally:
        writer.close()
    convs, _ = parse(logs)
    assert [len(c.messages) for c in convs] == [6, 3]


def test_wal_mode_database_with_writes_not_yet_checkpointed(tmp_path: Path) -> None:
    logs = copy(TOOLS_NEW, tmp_path)
    writer = sqlite3.connect(logs, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=wal")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("UPDATE threads SET name = 'renamed in the WAL' WHERE id = "
                       "(SELECT min(id) FROM threads)")
        main_before = logs.read_bytes()
        convs, _ = parse(logs)
        assert convs[0].title == "renamed in the WAL"  # what llm committed, WAL included
        assert logs.read_bytes() == main_before  # we never checkpoint or write
    finally:
        writer.close()


def test_zip_members_and_stdin_are_read_from_a_temporary_copy(tmp_path: Path) -> None:
    zpath = tmp_path / "backup.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(TOOLS_OLD, "llm/logs.db")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"TMPDIR": str(scratch)}
    db = tmp_path / "aimem.db"
    proc = run_aimem("--db", str(db), "import", str(zpath), "--json", env=env, check=True)
    report = json.loads(proc.stdout)
    assert report["files"] == [{"path": f"{zpath}:llm/logs.db", "format": "llm_logs",
                                "conversations": 3, "memories": 0}]
    proc = run_aimem("--db", str(db), "import", "-", "--json", input=MIXED.read_bytes(),
                     env=env, check=True)
    report = json.loads(proc.stdout)
    assert report["files"][0]["format"] == "llm_logs"
    assert (report["conversations_updated"], report["messages_added"]) == (1, 2)
    assert list(scratch.iterdir()) == []  # the copies are gone


# --- through the CLI -------------------------------------------------------------------


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "import", *args, "--json", check=True)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("first, newer", [(TOOLS_OLD, MIXED), (TOOLS_NEW, GROWN)])
def test_a_logs_db_that_gained_an_exchange(tmp_path: Path, first: Path,
                                                        newer: Path) -> None:
    db = tmp_path / "aimem.db"
    logs = copy(first, tmp_path)
    report = import_json(db, str(logs))
    assert report["files"] == [{"path": str(logs), "format": "llm_logs", "conversations": 3,
                                "memories": 0}]
    assert (report["conversations_added"], report["messages_added"]) == (3, 14)
    before = {m["id"]: m for m in _messages(db)}
    shutil.copyfile(newer, logs)  # llm logged one more exchange into the same file
    report = import_json(db, str(logs))
    assert (report["conversations_added"], report["conversations_updated"],
            report["conversations_unchanged"], report["messages_added"]) == (0, 1, 2, 2)
    after = {m["id"]: m for m in _messages(db)}
    assert set(before) < set(after)
    assert [(m["role"], m["text"]) for i, m in after.items() if i not in before] == [
        ("user", "And in Porto?"), ("assistant", "Porto is in the same time zone: 14:05.")]
    assert all(after[i] == m for i, m in before.items())


def _messages(db: Path) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for c in json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout):
        shown = json.loads(run_aimem("--db", str(db), "show", c["id"], "--json",
                                     check=True).stdout)
        out += shown["messages"]
    return out


def test_cli_auto_detects_and_search_finds_tool_output(tmp_path: Path) -> None:
    db = tmp_path / "aimem.db"
    report = import_json(db, str(LEGACY), str(NEW), str(TOOLS_NEW))
    assert [f["format"] for f in report["files"]] == ["llm_logs"] * 3
    assert report["conversations_added"] == 7
    hits = json.loads(run_aimem("--db", str(db), "search", "tide", "--json", check=True).stdout)
    assert {h["source"] for h in hits} == {"llm"}
    assert "Error: no tide data for Lisbon" in {h["text"] for h in hits}
    stats = json.loads(run_aimem("--db", str(db), "stats", "--json", check=True).stdout)
    assert "llm" in json.dumps(stats)


def test_an_empty_logs_db_and_a_foreign_sqlite_file_fail(tmp_path: Path) -> None:
    db = tmp_path / "aimem.db"
    empty = copy(NEW, tmp_path, "empty.db")
    conn = sqlite3.connect(empty)
    for table in ("turn_search", "turns", "parts", "messages", "threads"):
        conn.execute(f"DELETE FROM {table}")
    conn.commit()
    conn.close()
    proc = run_aimem("--db", str(db), "import", str(empty))
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith(f"aimem: error: {empty}: nothing importable")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    proc = run_aimem("--db", str(db), "import", str(other), "--format", "llm_logs")
    assert proc.returncode == 1
    assert proc.stderr.decode() == (f"aimem: error: {other}: an SQLite database, but not "
                                    "llm's logs.db (no _llm_migrations table)\n")
    proc = run_aimem("--db", str(db), "import", str(other))
    assert proc.returncode == 1 and b"not a recognised export" in proc.stderr
