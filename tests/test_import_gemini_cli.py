"""Gemini CLI sessions: legacy .json, append-only .jsonl ($set, $rewindTo, replace), sync."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from aimem.errors import ImportFailed
from aimem.importers import detect, gemini_cli, input_from_bytes, input_from_path
from aimem.models import Conversation, Skipped
from aimem.timeutil import to_epoch
from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

SHARED = SHARED_FIXTURES / "gemini_cli"
LEGACY = SHARED / "synthetic_session-2025-09-18T10-02-3b1f0c9e.json"
CURRENT = SHARED / "synthetic_session-2026-04-21T04-16-7c2d9a10.jsonl"
SUBAGENT = FIXTURES / "gemini_cli" / "session-2026-05-02T12-00-a9e4c1d2.jsonl"
OSPREY = FIXTURES / "gemini_cli" / "session-2026-06-10T08-30-b7c1d2e3.jsonl"
OURS = [LEGACY, CURRENT, SUBAGENT, OSPREY]


def parse_inp(inp) -> tuple[list[Conversation], list[Skipped]]:  # type: ignore[no-untyped-def]
    items = list(gemini_cli.parse(inp))
    assert all(isinstance(i, Conversation | Skipped) for i in items)
    return ([i for i in items if isinstance(i, Conversation)],
            [i for i in items if isinstance(i, Skipped)])


def parse(path: Path) -> tuple[list[Conversation], list[Skipped]]:
    return parse_inp(input_from_path(path))


def rows(c: Conversation) -> list[tuple[str, str | None, str | None, str]]:
    return [(m.role, m.author, m.source_id, m.text) for m in c.messages]


def test_legacy_json_session() -> None:
    (conv,), skipped = parse(LEGACY)
    assert skipped == []
    assert conv.source == "gemini-cli" and conv.source_id == "3b1f0c9e-5a1d-4c1e-9f47-1b2f7a6d9e01"
    assert conv.created_at == to_epoch("2025-09-18T10:02:50.057Z")
    assert conv.updated_at == to_epoch("2025-09-18T10:05:51.750Z")
    assert conv.model == "gemini-2.5-pro" and conv.title is None and conv.project is None
    assert conv.extra == {"project_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c"
                                          "d15d6c15b0f00a08"}
    assert rows(conv) == [
        ("user", None, "m-1", "Fix the typo in README and commit"),
        ("tool", "replace", "replace-1758189773302-1",
         "file_path: /home/u/proj/README.md\nold_string: teh\nnew_string: the"),
        ("tool", "replace", "replace-1758189773302-1/result",
         "Successfully modified file: /home/u/proj/README.md (1 replacements)."),
        ("assistant", None, "m-4", 'Fixed the typo ("teh" -> "the") in README.md.'),
    ]
    text = "\n".join(m.text for m in conv.messages)
    assert "Locating the typo" not in text and "Request cancelled" not in text  # thoughts, info


def test_current_jsonl_with_replace_set_and_rewind() -> None:
    (conv,), skipped = parse(CURRENT)
    assert skipped == []
    assert conv.source_id == "7c2d9a10-1111-4e2b-8a00-5c2b9d1e0f22"
    assert conv.title == "Listed project files"  # from the last $set
    assert conv.updated_at == to_epoch("2026-04-21T04:17:31Z")
    assert conv.model == "gemini-3.1-pro-preview"
    assert rows(conv) == [
        ("user", None, "u1", "list the files here"),
        ("tool", "list_directory", "t1", "dir_path: ."),  # g1's replacement filled them in
        ("tool", "list_directory", "t1/result", "README.md\nsrc/"),
        ("assistant", None, "g2", "There is README.md and a src/ directory."),
        ("user", None, "u3", "thanks"),  # u2 was rewound
    ]
    assert "wrong project" not in "\n".join(m.text for m in conv.messages)


def test_subagent_session_display_content_thoughts_errors() -> None:
    (conv,), skipped = parse(SUBAGENT)
    assert [(s.where, s.reason) for s in skipped] == [
        (f"{SUBAGENT}: line 5", "a $rewindTo to an unknown message 'no-such-message' "
                                "(nothing dropped)")]
    assert conv.project == "/home/dev/kestrel" and conv.model == "gemini-3-flash"
    assert conv.extra is not None and conv.extra["kind"] == "subagent"
    assert rows(conv) == [
        ("user", None, "p1", "Summarise @notes.md"),  # displayContent, not the expanded file
        ("assistant", None, "r1", "Reading the notes first."),
        ("tool", "read_file", "read_file-1", "absolute_path: /home/dev/kestrel/notes.md"),
        ("tool", "read_file", "read_file-1/result", "File not found: /home/dev/kestrel/notes.md"),
        ("tool", "run_shell_command", "run_shell_command-2", "$ ls docs"),
        ("tool", "run_shell_command", "run_shell_command-2/result",
         "Command: ls docs\nStdout: notes.md"),
        ("assistant", None, "r2",
         "The notes are in docs/notes.md: three TODOs about the kestrel parser."),
    ]
    assert conv.messages[3].extra == {"kind": "tool_result", "status": "error"}
    assert "SYNTHETIC" not in "\n".join(m.text for m in conv.messages)


def test_rewind_in_the_middle_set_messages_and_project_from_the_hash() -> None:
    (conv,), skipped = parse(OSPREY)
    assert skipped == []
    assert conv.source_id == "b7c1d2e3-4444-4a5b-8c6d-7e8f9a0b1c2d"
    assert conv.title == "Cached the osprey config"
    # no directories: the folder above a tool path whose SHA-256 is the projectHash
    assert conv.project == "/home/dev/osprey"
    assert conv.model == "gemini-3-pro"
    assert conv.updated_at == to_epoch("2026-06-10T08:32:31Z")
    assert rows(conv) == [
        ("user", None, "u1", "Why is app.py slow?"),
        ("tool", "read_file", "read_file-1749544205000-0",
         "absolute_path: /home/dev/osprey/src/app.py"),
        # the $set of messages rewrote the history with the tool output masked
        ("tool", "read_file", "read_file-1749544205000-0/result", "[tool output masked: 2 lines]"),
        ("assistant", None, "g2", "The loop in app.py re-reads the config on every row."),
        # u2, g3 and u3 were rewound
        ("user", None, "u4", "Just cache the config, please."),
        ("assistant", None, "g4", "Done: the config is now read once, before the loop."),
        ("assistant", None, "g5", "Anything else to speed up?"),  # appended after that $set
    ]
    assert [m.extra for m in conv.messages[-2:]] == [{"model": "gemini-3-flash"}] * 2
    assert "SYNTHETIC" not in "\n".join(m.text for m in conv.messages)


@pytest.mark.parametrize("meta, args, project", [
    ({"directories": ["/a", "/srv/osprey"]}, {}, "/srv/osprey"),  # the one with the hash
    ({"directories": ["/a", "/b"]}, {}, "/a"),  # none matches: the first
    ({}, {"file_path": "/srv/osprey/deep/x/y.py"}, "/srv/osprey"),
    ({}, {"paths": ["relative/y.py", "/srv/osprey/z"]}, "/srv/osprey"),
    ({}, {"file_path": "/elsewhere/y.py"}, None),
    ({}, {"file_path": "C:\\src\\osprey\\main.py"}, None),
])
def test_project_root(meta: dict, args: dict, project: str | None) -> None:  # type: ignore[type-arg]
    import hashlib
    meta = {"projectHash": hashlib.sha256(b"/srv/osprey").hexdigest(), **meta}
    records = [{"type": "gemini", "toolCalls": [{"name": "t", "args": args}]}]
    assert gemini_cli.project_root(meta, records) == project
    win = {"projectHash": hashlib.sha256(b"C:\\src\\osprey").hexdigest()}
    assert gemini_cli.project_root(win, [{"toolCalls": [{"args": {
        "file_path": "C:\\src\\osprey\\main.py"}}]}]) == "C:\\src\\osprey"


def test_first_line_session_id_and_a_one_line_metadata_with_messages() -> None:
    lines = [{"sessionId": "s1", "projectHash": "p", "messages": [
                 {"id": "a", "type": "user", "content": "hello"}]},
             {"$set": {"sessionId": "s2", "summary": "Greeting"}},
             {"id": "b", "type": "gemini", "content": "hi"}]
    data = "\n".join(json.dumps(x) for x in lines).encode() + b"\n"
    (conv,), skipped = parse_inp(input_from_bytes("x.jsonl", data))
    assert skipped == [] and conv.source_id == "s1" and conv.title == "Greeting"
    assert rows(conv) == [("user", None, "a", "hello"), ("assistant", None, "b", "hi")]


def test_damaged_jsonl_lines_are_skipped() -> None:
    lines = CURRENT.read_bytes().splitlines(keepends=True)
    data = lines[0] + b"{oops\n" + b"7\n" + b"".join(lines[1:6]) + lines[6][:30]
    (conv,), skipped = parse_inp(input_from_bytes("live.jsonl", data))
    assert [(s.where, s.reason) for s in skipped] == [
        ("live.jsonl: line 2", "not valid JSON"), ("live.jsonl: line 3", "not a JSON object"),
        ("live.jsonl: line 9",
         "truncated last line (the session may still have been writing it)")]
    assert [m.source_id for m in conv.messages] == ["u1", "t1", "t1/result", "g2"]


def test_sniff_claims_gemini_cli_files_and_nothing_else() -> None:
    for path in OURS:
        assert gemini_cli.sniff(input_from_path(path)), path
        assert detect(input_from_path(path)) is gemini_cli, path
    others = [p for p in [*SHARED_FIXTURES.rglob("*"), *FIXTURES.rglob("*")]
              if p.is_file() and "gemini_cli" not in p.parts]
    assert len(others) > 20
    for path in others:
        assert not gemini_cli.sniff(input_from_path(path)), path
    for data in [b"", b"{}", b"[]", b'{"sessionId": "s", "type": "user", "uuid": "u"}\n']:
        assert not gemini_cli.sniff(input_from_bytes("x.json", data)), data


@pytest.mark.parametrize("data, why", [
    (b"", "empty file"),
    (b'{\n  "sessionId": "s",\n  "projectHash": "p",\n  "messages": [\n',
     "not valid JSON (a truncated or damaged session file)"),
    (b'{"a": 1}\n', "not a Gemini CLI session (no sessionId / projectHash metadata)"),
])
def test_unreadable_sessions_fail(data: bytes, why: str) -> None:
    with pytest.raises(ImportFailed) as e:
        list(gemini_cli.parse(input_from_bytes("x.json", data)))
    assert str(e.value) == f"x.json: {why}"


# --- through the CLI --------------------------------------------------------------------


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(run_aimem("--db", str(db), "import", *args, "--json", check=True).stdout)


def test_auto_detection(db: Path) -> None:
    paths = [str(p) for p in OURS]
    first = import_json(db, *paths)
    assert [f["format"] for f in first["files"]] == ["gemini_cli"] * 4
    assert first["conversations_added"] == 4 and first["messages_added"] == 4 + 5 + 7 + 7


def test_an_appended_message_adds_exactly_one(db: Path, tmp_path: Path) -> None:
    grown = tmp_path / CURRENT.name
    shutil.copy(CURRENT, grown)
    import_json(db, str(grown))
    with grown.open("a") as f:
        f.write(json.dumps({"id": "g4", "timestamp": "2026-04-21T04:17:40.000Z",
                            "type": "gemini", "content": "You're welcome."}) + "\n")
    report = import_json(db, str(grown))
    assert report["conversations_updated"] == 1 and report["messages_added"] == 1


def test_a_rewind_appended_later_removes_the_messages(db: Path, tmp_path: Path) -> None:
    live = tmp_path / OSPREY.name
    shutil.copy(OSPREY, live)
    assert import_json(db, str(live))["messages_added"] == 7
    with live.open("a") as f:
        f.write(json.dumps({"$rewindTo": "u4"}) + "\n")
    report = import_json(db, str(live))
    assert report["conversations_updated"] == 1 and report["messages_added"] == 0
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    assert [c["messages"] for c in listed] == [4]


def test_a_jsonl_cut_inside_its_metadata_line_exits_1_and_leaves_the_database(
        db: Path, tmp_path: Path) -> None:
    import_json(db, str(CURRENT))
    before = dump_db(db)
    bad = tmp_path / "session-bad.jsonl"
    bad.write_bytes(CURRENT.read_bytes()[:120])  # (a cut legacy .json: test_import_roundtrip)
    proc = run_aimem("--db", str(db), "import", str(bad))
    assert proc.returncode == 1
    assert proc.stderr.decode() == (f"aimem: error: {bad}: not valid JSON (a truncated or "
                                    "damaged session file)\n")
    assert dump_db(db) == before


def test_sync_reads_the_gemini_tmp_folder(db: Path, tmp_path: Path) -> None:
    home = tmp_path / "h"
    chats = home / ".gemini" / "tmp" / "9f86d081" / "chats"
    chats.mkdir(parents=True)
    shutil.copy(CURRENT, chats / "session-2026-04-21T04-16-7c2d9a10.jsonl")
    env = {"HOME": str(home), "CODEX_HOME": "", "CLAUDE_CONFIG_DIR": "",
           "LLM_USER_PATH": str(home / "llm")}
    first = json.loads(run_aimem("--db", str(db), "sync", "--json", env=env, check=True).stdout)
    assert first["conversations_added"] == 1 and first["messages_added"] == 5
    assert [i["source"] for i in first["imported"]] == ["gemini-cli"]
    second = json.loads(run_aimem("--db", str(db), "sync", "--json", env=env, check=True).stdout)
    assert second["files_changed"] == 0 and second["conversations_added"] == 0
    assert second["messages_added"] == 0
