"""Codex CLI rollouts: both layouts, injected context, tools, growth, damage, sync."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from aimem.errors import ImportFailed
from aimem.importers import codex, detect, input_from_bytes, input_from_path
from aimem.models import Conversation, Skipped
from aimem.timeutil import to_epoch
from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

HERE = FIXTURES / "codex"
SHARED = SHARED_FIXTURES / "codex_cli" / "claude-code-log_rollout-2026-01-02_synthetic.jsonl"
S = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
C = "0199b000-0000-7000-8000-00000000000c"
B = "5973b6c0-94b8-487b-a530-2aeb6098ae0e"
A = "0199c0de-0000-7000-8000-0000000000aa"
T = "7d1c5a0e-3b2f-4a6c-9e8d-1f2a3b4c5d6e"
ENVELOPE = HERE / f"rollout-2026-02-10T09-00-00-{S}.jsonl"
FORK = HERE / f"rollout-2026-02-11T08-00-00-{C}.jsonl"
BARE = HERE / f"rollout-2025-08-20T14-30-00-{B}.jsonl"
AGENT = HERE / f"rollout-2026-03-05T10-00-00-{A}.jsonl"
SINGLE = HERE / f"rollout-2025-04-18-{T}.json"
OURS = [SHARED, ENVELOPE, FORK, BARE, AGENT, SINGLE]


def parse_inp(inp) -> tuple[list[Conversation], list[Skipped]]:  # type: ignore[no-untyped-def]
    items = list(codex.parse(inp))
    assert all(isinstance(i, Conversation | Skipped) for i in items)
    return ([i for i in items if isinstance(i, Conversation)],
            [i for i in items if isinstance(i, Skipped)])


def parse(path: Path) -> tuple[list[Conversation], list[Skipped]]:
    return parse_inp(input_from_path(path))


def rows(c: Conversation) -> list[tuple[str, str | None, str | None, str]]:
    return [(m.role, m.author, m.source_id, m.text) for m in c.messages]


def test_shared_envelope_fixture() -> None:
    (conv,), skipped = parse(SHARED)
    assert conv.source == "codex" and conv.source_id == "11111111-1111-4111-8111-111111111111"
    assert conv.project == "/workspace/synthetic-project" and conv.model == "synthetic-model"
    assert conv.created_at == to_epoch("2026-01-02T03:04:05Z") and conv.title is None
    assert conv.extra == {"originator": "codex_cli_rs", "cli_version": "0.0.0-test",
                          "model_provider": "synthetic", "session_source": "cli"}
    # event_msg duplicates of the prompt and the answer are left out: one copy each
    assert rows(conv) == [
        ("user", None, "L4", "List the synthetic files."),
        ("tool", "exec_command", "call-structured-001", "$ find . -maxdepth 1 -type f"),
        ("tool", "exec_command", "call-structured-001/result", "./alpha.txt\n./beta.txt"),
        ("tool", "apply_patch", "call-custom-001",
         "*** Begin Patch\n*** Add File: gamma.txt\n+synthetic\n*** End Patch"),
        ("tool", "apply_patch", "call-custom-001/result", "Done!"),
        ("tool", "mcp__synthetic__lookup", "call-mcp-001", "query: fixture"),
        ("tool", "mcp__synthetic__lookup", "call-mcp-001/result", '{"status":"ok"}'),
        ("assistant", None, "L13", "The synthetic files are alpha.txt and beta.txt."),
    ]
    assert conv.messages[0].created_at == to_epoch("2026-01-02T03:04:07.001Z")
    assert [m.extra for m in conv.messages[1:3]] == [{"kind": "tool_use"}, {"kind": "tool_result"}]
    text = "\n".join(m.text for m in conv.messages)
    assert "inspect the synthetic directory" not in text  # reasoning summary
    assert "ENCRYPTED" not in text
    assert [(s.where, s.reason) for s in skipped] == [
        (str(SHARED), "1 record of unknown type 'future_synthetic_record' left out")]


def test_envelope_session_injected_context_tools_and_compaction() -> None:
    (conv,), skipped = parse(ENVELOPE)
    assert conv.source_id == S and conv.project == "/home/dev/heron"
    assert conv.model == "gpt-5.3-codex"
    assert conv.extra == {"originator": "codex_cli_rs", "cli_version": "0.98.0",
                          "model_provider": "openai", "session_source": "cli",
                          "git": {"branch": "main", "commit_hash": "abc123",
                                  "repository_url": "git@example.com:dev/heron.git"}}
    got = rows(conv)
    long_result = got[2]
    assert got[:2] == [("user", None, "L6", "Why does the heron build fail on CI?"),
                       ("tool", "shell", "call_shell_01", "# in /home/dev/heron\n$ make ci")]
    # old JSON-wrapped output: unwrapped, non-zero exit code kept, cut at 4000 characters
    assert long_result[:3] == ("tool", "shell", "call_shell_01/result")
    assert long_result[3].startswith("line 0000 of the build log\n")
    full = "\n".join(f"line {i:04d} of the build log" for i in range(300))
    assert long_result[3] == full[:4000] + f"\n… [truncated: {len(full) - 4000} more characters]"
    assert conv.messages[2].extra == {"kind": "tool_result", "exit_code": 2}
    assert got[3:] == [
        ("tool", "exec_command", "call_exec_02", "$ grep -n flaky tests/test_net.py"),
        ("tool", "exec_command", "call_exec_02/result", "12:@pytest.mark.flaky"),  # no header
        ("tool", "web_search", "L16", "pytest flaky marker CI timeout"),
        ("tool", "apply_patch", "call_patch_03", "*** Begin Patch\n*** Update File: "
         "tests/test_net.py\n@@\n-@pytest.mark.flaky\n+@pytest.mark.flaky(reruns=2)\n*** End Patch"),
        ("tool", "apply_patch", "call_patch_03/result",
         "Success. Updated the following files:\nM tests/test_net.py"),
        ("tool", "mcp__docs__search", "call_mcp_04", "query: heron ci"),  # no output: fine
        ("assistant", None, "L21", "The CI job fails because test_net.py is flaky; I added reruns."),
        ("system", "command", "L23/command", "git status --short"),
        ("system", "compact summary", "L24",
         "Summary: the heron CI failure was a flaky network test, fixed with reruns."),
        ("user", None, "L25", "Now add a CHANGELOG entry.\n\n[image]"),
        ("assistant", None, "L27", "Added a CHANGELOG entry under Unreleased."),
    ]
    text = "\n".join(m.text for m in conv.messages)
    for hidden in ("SYNTHETIC_", "AGENTS.md", "environment_context", "approval_policy",
                   "permissions", "gAAAA"):
        assert hidden not in text, hidden
    assert [s.reason for s in skipped] == ["1 record of unknown type 'hologram_record' left out"]


def test_fork_keeps_the_child_session_and_notes_the_parent() -> None:
    (conv,), skipped = parse(FORK)
    assert skipped == []
    assert conv.source_id == C and conv.extra is not None
    assert conv.extra["parent_session"] == "0199a000-0000-7000-8000-000000000001"
    assert conv.extra["cli_version"] == "0.98.0"  # the child's meta, not the parent's
    assert conv.model == "gpt-5.2" and conv.created_at == to_epoch("2026-02-11T08:00:00Z")
    assert [(m.role, m.text) for m in conv.messages] == [
        ("user", "What is the heron project?"), ("assistant", "A bird-watching log app."),
        ("user", "And who maintains it?"), ("assistant", "The MAINTAINERS file lists dev.")]


def test_bare_layout_with_cwd_from_environment_context() -> None:
    (conv,), skipped = parse(BARE)
    assert skipped == []
    assert conv.source_id == B and conv.project == "/Users/sam/egret" and conv.model is None
    assert conv.created_at == to_epoch("2025-08-20T14:30:00.123Z")
    assert conv.extra == {"git": {"branch": "feature/egret", "commit_hash": "def456",
                                  "repository_url": "https://example.com/egret.git"}}
    assert rows(conv) == [
        ("user", None, "L5", "Rename the egret module to wader."),
        ("tool", "shell", "call_bare_1", "$ git mv egret.py wader.py"),  # empty output: none
        ("tool", "local_shell", "call_bare_2", "$ ls -1"),
        ("tool", "local_shell", "call_bare_2/result", "wader.py\nREADME.md"),
        ("assistant", None, "msg_1", "Renamed egret.py to wader.py."),  # its vendor id
    ]
    assert all(m.created_at is None for m in conv.messages)
    assert "SYNTHETIC" not in "\n".join(m.text for m in conv.messages)


def test_subagent_rollout_ide_context_plan_exit_codes_rollback_and_title() -> None:
    (conv,), skipped = parse(AGENT)
    assert skipped == []  # world_state, compaction, inter-agent metadata: left out quietly
    assert conv.source_id == A and conv.title == "Plover module map"
    assert conv.project == "/home/dev/plover" and conv.model == "gpt-5.5"
    assert conv.created_at == to_epoch("2026-03-05T10:00:00Z")
    assert conv.updated_at == to_epoch("2026-03-05T10:03:03Z")  # the last line's time
    assert conv.extra == {"originator": "codex-tui", "cli_version": "0.140.0",
                          "model_provider": "openai", "session_source": "subagent",
                          "parent_session": "0199c000-0000-7000-8000-000000000001",
                          "agent_nickname": "scout", "agent_role": "explorer"}
    assert rows(conv) == [
        ("user", None, "L5", "Map the plover modules."),  # IDE context and collaboration mode cut
        ("assistant", None, "msg_a1", "Looking at the package layout first."),
        ("tool", "update_plan", "call_plan",
         "Two steps\n- [in_progress] List modules\n- [pending] Summarise"),
        ("tool", "update_plan", "call_plan/result", "Plan updated"),
        ("tool", "exec_command", "call_ls", "# in /home/dev/plover\n$ ls src"),
        ("tool", "exec_command", "call_ls/result", "plover.py\nnest.py"),
        ("tool", "exec_command", "call_chk", "$ python -m plover --check"),
        ("tool", "exec_command", "call_chk/result", "[exit code 1]"),  # empty, but it failed
        ("assistant", None, "msg_a2", "Two modules: plover.py and nest.py; the self-check fails."),
        ("user", None, "L18", "Draw the module diagram."),
        ("tool", "image_generation", "ig_1", "[image] A diagram of plover.py importing nest.py"),
        ("assistant", None, "msg_a3", "Here is the diagram."),
        # "Also list the tests." and its answer were rolled back (thread_rolled_back 1)
        ("user", None, "L24", "Skip the tests; what does nest.py do?"),
        ("assistant", None, "msg_a5", "nest.py stores nesting sites."),
    ]
    extras = {m.source_id: m.extra for m in conv.messages}
    assert extras["msg_a1"] == {"phase": "commentary"}
    assert extras["call_chk/result"] == {"kind": "tool_result", "exit_code": 1}
    assert extras["call_ls/result"] == {"kind": "tool_result"}  # exit code 0: not kept
    assert extras["msg_a2"] is None
    assert extras["msg_a3"] == extras["msg_a5"] == {"model": "gpt-5.5-mini"}  # a later model
    text = "\n".join(m.text for m in conv.messages)
    for hidden in ("SYNTHETIC", "Also list the tests", "iVBOR", "Active file"):
        assert hidden not in text, hidden


def test_typescript_era_single_object_rollout() -> None:
    (conv,), skipped = parse(SINGLE)
    assert skipped == []
    assert conv.source_id == T and conv.model is None and conv.project is None
    assert conv.created_at == conv.updated_at == to_epoch("2025-04-18T16:20:11.532Z")
    assert rows(conv) == [
        ("user", None, "I1", "Explain what sandpiper.sh does"),
        ("tool", "shell", "call_ts_1", "# in /Users/kim/sandpiper\n$ cat sandpiper.sh"),
        ("tool", "shell", "call_ts_1/result", "#!/bin/sh\nrsync -a data/ backup/"),
        ("assistant", None, "msg_ts_2", "It copies data/ to backup/ with rsync."),
    ]
    cut = input_from_bytes("rollout.json", SINGLE.read_bytes()[:400])
    assert codex.sniff(cut)
    with pytest.raises(ImportFailed) as e:
        list(codex.parse(cut))
    assert str(e.value) == "rollout.json: not valid JSON (a truncated or damaged rollout file)"


def envelope_file(*records: tuple[str, dict]) -> bytes:  # type: ignore[type-arg]
    lines = [{"timestamp": "2026-01-01T00:00:00Z", "type": "session_meta",
              "payload": {"id": "s1", "cwd": "/w"}}]
    lines += [{"timestamp": f"2026-01-01T00:00:{i:02d}Z", "type": kind, "payload": payload}
              for i, (kind, payload) in enumerate(records, 1)]
    return "\n".join(json.dumps(x) for x in lines).encode() + b"\n"


def prompt(text: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    return ("response_item", {"type": "message", "role": "user",
                              "content": [{"type": "input_text", "text": text}]})


def answer(text: str, mid: str | None = None) -> tuple[str, dict]:  # type: ignore[type-arg]
    return ("response_item", {"type": "message", "role": "assistant", "id": mid,
                              "content": [{"type": "output_text", "text": text}]})


def test_replayed_copies_count_once_and_reused_ids_fall_back_to_the_line() -> None:
    call = ("response_item", {"type": "function_call", "name": "shell", "call_id": "c1",
                              "arguments": '{"command": ["ls"]}'})
    output = ("response_item", {"type": "function_call_output", "call_id": "c1",
                                "output": "a.txt"})
    data = envelope_file(prompt("list"), call, output, answer("one file", "msg_1"),
                         call, output, answer("one file", "msg_1"),  # replayed history
                         prompt("list"), answer("still one file", "msg_1"))  # id reused
    (conv,), _ = parse_inp(input_from_bytes("r.jsonl", data))
    assert rows(conv) == [
        ("user", None, "L2", "list"), ("tool", "shell", "c1", "$ ls"),
        ("tool", "shell", "c1/result", "a.txt"), ("assistant", None, "msg_1", "one file"),
        ("user", None, "L9", "list"),  # no vendor id: a prompt typed twice is two prompts
        ("assistant", None, "L10", "still one file")]


@pytest.mark.parametrize("turns, kept", [
    (1, ["first", "answer 1", "second", "answer 2"]),
    (2, ["first", "answer 1"]),
    (9, []),  # more turns than there are: every turn goes
    (0, ["first", "answer 1", "second", "answer 2", "third", "answer 3"]),
])
def test_thread_rolled_back_drops_the_last_user_turns(turns: int, kept: list[str]) -> None:
    data = envelope_file(prompt("first"), answer("answer 1"), prompt("second"),
                         answer("answer 2"), prompt("third"), answer("answer 3"),
                         ("event_msg", {"type": "thread_rolled_back", "num_turns": turns}))
    convs, skipped = parse_inp(input_from_bytes("r.jsonl", data))
    assert [m.text for c in convs for m in c.messages] == kept
    if not kept:
        assert [s.reason for s in skipped] == ["no messages (only session metadata)"]


@pytest.mark.parametrize("text, expected", [
    ("Fix the bug", ("user", None, "Fix the bug")),
    ("  <environment_context>\n<cwd>/w</cwd>\n</environment_context>", (None, None, "")),
    ("# AGENTS.md instructions for /w\n\n<INSTRUCTIONS>be terse</INSTRUCTIONS>",
     (None, None, "")),
    ("<permissions instructions>\nsandbox\n</permissions instructions>", (None, None, "")),
    ("<skills_instructions>x</skills_instructions>", (None, None, "")),  # any such block
    ("<div>not a Codex tag</div>", ("user", None, "<div>not a Codex tag</div>")),
    ("<user_shell_command>\nls\n</user_shell_command>", ("system", "command", "ls")),
    ("# Context from my IDE setup:\n\n## Open tabs:\n- a.py\n\n## My request for Codex:\n"
     "why?", ("user", None, "why?")),
    ("# Context from my IDE setup:\n\n## Open tabs:\n- a.py", (None, None, "")),
])
def test_classify_user_text(text: str, expected: tuple[str | None, str | None, str]) -> None:
    assert codex.classify(text) == expected


@pytest.mark.parametrize("output, expected", [
    ("plain", ("plain", {})),
    ('{"output": "x\\n", "metadata": {"exit_code": 0}}', ("x\n", {})),
    ('{"output": "", "metadata": {"exit_code": 127}}', ("", {"exit_code": 127})),
    ("Exit code: 3\nWall time: 1 seconds\nTotal output lines: 1\nOutput:\nboom",
     ("boom", {"exit_code": 3})),
    ("Process running with session ID 7\nWall time: 1 seconds\nOutput:\nwaiting",
     ("waiting", {})),
    ("Output: this line is not a header", ("Output: this line is not a header", {})),
    ([{"type": "input_text", "text": "a"}, {"type": "input_image", "image_url": "x"}],
     ("a\n[image]", {})),
    ({"content": "done", "success": False}, ("done", {"is_error": True})),
    (None, ("", {})),
])
def test_output_text(output: object, expected: tuple[str, dict]) -> None:  # type: ignore[type-arg]
    assert codex.output_text(output) == expected


def test_event_messages_are_used_when_there_is_no_response_item_message() -> None:
    lines = [
        {"timestamp": "2026-01-01T00:00:00Z", "type": "session_meta", "payload": {"id": "e"}},
        {"timestamp": "2026-01-01T00:00:01Z", "type": "event_msg",
         "payload": {"type": "user_message", "message": "hello there"}},
        {"timestamp": "2026-01-01T00:00:02Z", "type": "event_msg",
         "payload": {"type": "agent_message", "message": "hi"}},
    ]
    data = "\n".join(json.dumps(x) for x in lines).encode() + b"\n"
    (conv,), _ = parse_inp(input_from_bytes("e.jsonl", data))
    assert rows(conv) == [("user", None, "L2", "hello there"), ("assistant", None, "L3", "hi")]


def test_damaged_lines_are_skipped_and_the_rest_imported() -> None:
    good = ENVELOPE.read_bytes().splitlines(keepends=True)
    data = b"".join(good[:6]) + b"not json\n" + b"[1]\n" + b"".join(good[6:21]) + good[21][:40]
    (conv,), skipped = parse_inp(input_from_bytes("live.jsonl", data))
    assert [(s.where, s.reason) for s in skipped] == [
        ("live.jsonl: line 7", "not valid JSON"), ("live.jsonl: line 8", "not a JSON object"),
        ("live.jsonl: line 24",
         "truncated last line (the session may still have been writing it)")]
    assert conv.messages[-1].text.startswith("The CI job fails")
    assert conv.messages[-1].source_id == "L23"  # two more lines before it now


def test_sniff_claims_codex_files_and_nothing_else() -> None:
    for path in OURS:
        assert codex.sniff(input_from_path(path)), path
        assert detect(input_from_path(path)) is codex, path
    others = [p for p in [*SHARED_FIXTURES.rglob("*"), *FIXTURES.rglob("*")]
              if p.is_file() and "codex" not in p.parts and "codex_cli" not in p.parts]
    assert len(others) > 20
    for path in others:
        assert not codex.sniff(input_from_path(path)), path
    for data in [b"", b"{}", b"[]", b"hello\n",
                 b'{"timestamp": "t", "type": "event_msg", "payload": {}}\n',
                 b'{"id": "x", "timestamp": "t"}\n',
                 b'{"sessionId": "s", "projectHash": "p", "startTime": "t"}\n']:
        assert not codex.sniff(input_from_bytes("x.jsonl", data)), data


def test_sniff_a_session_meta_longer_than_the_head() -> None:
    meta = {"timestamp": "2026-01-01T00:00:00Z", "type": "session_meta",
            "payload": {"id": "big", "base_instructions": {"text": "x" * 100_000}}}
    data = json.dumps(meta, separators=(",", ":")).encode() + b"\n" + SHARED.read_bytes()
    inp = input_from_bytes("big.jsonl", data)
    assert codex.sniff(inp)
    (conv,), _ = parse_inp(inp)
    assert conv.source_id == "big" and len(conv.messages) == 8


@pytest.mark.parametrize("data, why", [
    (b"", "empty file"),
    (b"garbage\n", "no readable Codex record (1 of 1 lines are not valid JSON)"),
    (b'{"a": 1}\n', "not a Codex CLI rollout (no session_meta or session header)"),
])
def test_input_with_no_codex_record_fails(data: bytes, why: str) -> None:
    with pytest.raises(ImportFailed) as e:
        list(codex.parse(input_from_bytes("x.jsonl", data)))
    assert str(e.value) == f"x.jsonl: {why}"


# --- through the CLI --------------------------------------------------------------------


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(run_aimem("--db", str(db), "import", *args, "--json", check=True).stdout)


def test_auto_detection_titles_and_search(db: Path) -> None:
    paths = [str(p) for p in OURS]
    first = import_json(db, *paths)
    assert [f["format"] for f in first["files"]] == ["codex"] * 6
    assert first["conversations_added"] == 6
    assert first["messages_added"] == 8 + 14 + 4 + 5 + 14 + 4
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    titles = {c["source_id"]: c["title"] for c in listed}
    assert titles[S] == "Why does the heron build fail on CI?"  # the service's: first prompt
    assert titles[A] == "Plover module map"  # thread_name_updated
    assert {c["source"] for c in listed} == {"codex"}
    hits = json.loads(run_aimem("--db", str(db), "search", "nesting", "--json",
                                check=True).stdout)
    assert [(h["role"], h["source_id"]) for h in hits if "nesting" in h["text"]] == [
        ("assistant", "msg_a5")]
    for hidden in ("SYNTHETIC_ROLLED_BACK_ANSWER", "SYNTHETIC_TS_REASONING", "gAAAA"):
        found = json.loads(run_aimem("--db", str(db), "search", f'"{hidden}"', "--json",
                                     check=True).stdout)
        assert found == [], hidden


def test_a_grown_rollout_adds_exactly_the_new_message(db: Path, tmp_path: Path) -> None:
    grown = tmp_path / ENVELOPE.name
    shutil.copy(ENVELOPE, grown)
    import_json(db, str(grown))
    extra = {"timestamp": "2026-02-10T09:05:00Z", "type": "response_item",
             "payload": {"type": "message", "role": "user",
                         "content": [{"type": "input_text", "text": "Thanks, ship it."}]}}
    with grown.open("a") as f:
        f.write(json.dumps(extra) + "\n")
    report = import_json(db, str(grown))
    assert report["conversations_updated"] == 1 and report["conversations_added"] == 0
    assert report["messages_added"] == 1


def test_a_rollback_appended_later_removes_the_turn_on_reimport(db: Path, tmp_path: Path) -> None:
    live = tmp_path / "rollout.jsonl"
    records = [prompt("first"), answer("answer 1"), prompt("second"), answer("answer 2")]
    live.write_bytes(envelope_file(*records))
    assert import_json(db, str(live))["messages_added"] == 4
    live.write_bytes(envelope_file(*records, ("event_msg", {"type": "thread_rolled_back",
                                                            "num_turns": 1})))
    report = import_json(db, str(live))
    assert report["conversations_updated"] == 1 and report["messages_added"] == 0
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    assert [(c["source_id"], c["messages"]) for c in listed] == [("s1", 2)]


@pytest.mark.parametrize("make, args, why", [
    (lambda p: p.write_bytes(SHARED.read_bytes()[:150]), (),  # cut inside its first line
     "no readable Codex record (1 of 1 lines are not valid JSON)"),
    (lambda p: p.write_bytes(SINGLE.read_bytes()[:-30]), (),
     "not valid JSON (a truncated or damaged rollout file)"),
    (lambda p: p.write_bytes(b"garbage\nmore\n"), ("--format", "codex"),
     "no readable Codex record (2 of 2 lines are not valid JSON)"),
    (lambda p: p.write_bytes(b'{"a": 1}\n'), ("--format", "codex"),
     "not a Codex CLI rollout (no session_meta or session header)"),
])
def test_unreadable_input_exits_1_and_leaves_the_database_as_it_was(  # type: ignore[no-untyped-def]
        db: Path, tmp_path: Path, make, args: tuple[str, ...], why: str) -> None:
    import_json(db, str(SHARED))
    before = dump_db(db)
    bad = tmp_path / "bad.jsonl"
    make(bad)
    proc = run_aimem("--db", str(db), "import", *args, str(FORK), str(bad))
    assert proc.returncode == 1
    assert proc.stderr.decode() == f"aimem: error: {bad}: {why}\n"
    assert dump_db(db) == before


def test_sync_reads_the_codex_sessions_folder(db: Path, tmp_path: Path) -> None:
    home = tmp_path / "h"
    day = home / ".codex" / "sessions" / "2026" / "02" / "10"
    day.mkdir(parents=True)
    shutil.copy(ENVELOPE, day / ENVELOPE.name)
    env = {"HOME": str(home), "CODEX_HOME": "", "CLAUDE_CONFIG_DIR": "",
           "LLM_USER_PATH": str(home / "llm")}
    first = json.loads(run_aimem("--db", str(db), "sync", "--json", env=env, check=True).stdout)
    assert first["conversations_added"] == 1 and first["messages_added"] == 14
    assert [i["source"] for i in first["imported"]] == ["codex"]
    second = json.loads(run_aimem("--db", str(db), "sync", "--json", env=env, check=True).stdout)
    assert second["files_changed"] == 0 and second["conversations_added"] == 0
    assert second["conversations_updated"] == 0 and second["messages_added"] == 0


@pytest.mark.parametrize("output, text, extra", [
    ({"output": "total 8\na.txt", "metadata": {"exit_code": 0, "duration_seconds": 0.1}},
     "total 8\na.txt", {}),
    ({"output": "ls: cannot access 'x'", "metadata": {"exit_code": 2, "duration_seconds": 0.1}},
     "ls: cannot access 'x'", {"exit_code": 2}),
    ({"content": None, "output": "a.txt", "success": True}, "a.txt", {}),
    ({"content": [{"type": "output_text", "text": "a.txt"}], "success": False}, "a.txt",
     {"is_error": True}),
    ({"stdout": "a.txt\n", "stderr": "", "exit_code": 1}, "a.txt", {"exit_code": 1}),
])
def test_object_tool_output_is_stored_as_its_text(db: Path, tmp_path: Path, output: dict,  # type: ignore[type-arg]
                                                  text: str, extra: dict) -> None:  # type: ignore[type-arg]
    call = ("response_item", {"type": "function_call", "name": "shell", "call_id": "c1",
                              "arguments": '{"command": ["ls"]}'})
    out = ("response_item", {"type": "function_call_output", "call_id": "c1", "output": output})
    src = tmp_path / "rollout-2026-01-01T00-00-00-s1.jsonl"
    src.write_bytes(envelope_file(prompt("list"), call, out, answer("one file", "m1")))
    import_json(db, str(src))
    (conv,) = [json.loads(line) for line in run_aimem("--db", str(db), "export",
                                                       check=True).stdout.splitlines()]
    (result,) = [m for m in conv["messages"] if m.get("kind") == "tool_result"]
    assert result["text"] == text
    assert {k: result[k] for k in ("exit_code", "is_error") if k in result} == extra
    assert import_json(db, str(src))["conversations_unchanged"] == 1


def test_desktop_rollout_with_prompts_only_as_events_keeps_them() -> None:
    """Codex Desktop 0.128 writes prompts only as event_msg user_message and answers only
    as response_item messages (real file: ../shared/fixtures/realworld/codex_cli/…13-28-45…)."""
    sid = "019e1695-0522-7c83-8b39-0dd379793f80"
    lines = [
        {"timestamp": "2026-05-11T13:28:45Z", "type": "session_meta",
         "payload": {"id": sid, "cwd": "/w", "originator": "Codex Desktop"}},
        {"timestamp": "2026-05-11T13:28:46Z", "type": "event_msg",
         "payload": {"type": "user_message", "message": "why is the build red?"}},
        {"timestamp": "2026-05-11T13:28:50Z", "type": "response_item",
         "payload": {"type": "message", "role": "assistant",
                     "content": [{"type": "output_text", "text": "A missing import."}]}},
        {"timestamp": "2026-05-11T13:29:00Z", "type": "event_msg",
         "payload": {"type": "user_message", "message": "fix it"}},
        {"timestamp": "2026-05-11T13:29:05Z", "type": "event_msg",
         "payload": {"type": "agent_message", "message": "A missing import."}},
        {"timestamp": "2026-05-11T13:29:09Z", "type": "response_item",
         "payload": {"type": "message", "role": "assistant",
                     "content": [{"type": "output_text", "text": "Fixed."}]}},
    ]
    data = "".join(json.dumps(r) + "\n" for r in lines).encode()
    (conv,) = [i for i in codex.parse(input_from_bytes("rollout.jsonl", data))
               if isinstance(i, Conversation)]
    # the agent_message event repeats an answer the response items already have: once only
    assert [(m.role, m.text) for m in conv.messages] == [
        ("user", "why is the build red?"), ("assistant", "A missing import."),
        ("user", "fix it"), ("assistant", "Fixed.")]
