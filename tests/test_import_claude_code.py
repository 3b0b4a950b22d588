"""Claude Code session logs: prompts vs injected lines, tools, split answers, sidechains, damage."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from aimem.errors import ImportFailed
from aimem.importers import claude_code, detect, input_from_bytes, input_from_path
from aimem.models import Conversation, Message, Skipped
from aimem.timeutil import to_epoch
from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

HERE = FIXTURES / "claude_code"
SHARED = SHARED_FIXTURES / "claude_code"
REAL = SHARED / "kiliman_test2_real_session_v1.0.57.jsonl"
REPR = SHARED / "claude-code-log_representative_messages.jsonl"
EDGE = SHARED / "claude-code-log_edge_cases.jsonl"
V2 = HERE / "session_v2.jsonl"
AGENT = HERE / "agent-a1b2c3d4.jsonl"
WARMUP = HERE / "agent-w9e8d7c6.jsonl"
RESUMED = HERE / "resumed_session.jsonl"
SNAPSHOTS = HERE / "snapshots_only.jsonl"
OURS = [REAL, REPR, EDGE, V2, AGENT, WARMUP, RESUMED, SNAPSHOTS]
S = "3f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"  # the session of session_v2.jsonl
KILIMAN = "5b539e53-47c8-4996-bc4e-3896a787c8ab"


def parse_inp(inp) -> tuple[list[Conversation], list[Skipped]]:  # type: ignore[no-untyped-def]
    items = list(claude_code.parse(inp))
    assert all(isinstance(i, Conversation | Skipped) for i in items)
    return ([i for i in items if isinstance(i, Conversation)],
            [i for i in items if isinstance(i, Skipped)])


def parse(path: Path) -> tuple[list[Conversation], list[Skipped]]:
    return parse_inp(input_from_path(path))


def rows(c: Conversation) -> list[tuple[str, str | None, str]]:
    return [(m.role, m.author, m.text) for m in c.messages]


def reasons(skipped: list[Skipped], path: Path) -> list[tuple[str, str]]:
    return [(s.where.removeprefix(str(path)), s.reason) for s in skipped]


def all_text(convs: list[Conversation]) -> str:
    return "\n".join(m.text for c in convs for m in c.messages)


# --- the shared fixtures -------------------------------------------------------------


def test_representative_session_with_summary_title_and_tools() -> None:
    (conv,), skipped = parse(REPR)
    assert skipped == []
    assert (conv.source, conv.source_id, conv.model, conv.project) == (
        "claude-code", "test_session", "claude-3-sonnet-20240229", "/tmp")
    assert conv.title == ("User learned about Python decorators, including basic decorators and "
                          "parameterized decorators. Created and ran examples showing how "
                          "decorators work with functions. User is now ready to implement their "
                          "own timing decorator.")
    assert [(m.role, m.author, m.source_id) for m in conv.messages] == [
        ("user", None, "msg_001"), ("assistant", None, "msg_002"), ("user", None, "msg_003"),
        ("tool", "Edit", "tool_001"), ("tool", "Edit", "tool_001/result"),
        ("assistant", None, "msg_006"), ("user", None, "msg_007"),
        ("tool", "Bash", "tool_002"), ("tool", "Bash", "tool_002/result"),
        ("assistant", None, "msg_010"), ("user", None, "msg_011")]
    msgs = conv.messages
    assert msgs[0].text == "Hello Claude! Can you help me understand how Python decorators work?"
    assert msgs[0].created_at == to_epoch("2025-06-14T10:00:00Z")
    assert msgs[1].text.startswith("I'd be happy to help you understand Python decorators!")
    assert msgs[3].text.startswith("file_path: /tmp/decorator_example.py\nold_string: \n"
                                   "new_string:\ndef repeat(times):\n")
    assert msgs[3].extra == {"kind": "tool_use"}
    assert msgs[4].text == "File created successfully at: /tmp/decorator_example.py"
    assert msgs[4].extra == {"kind": "tool_result", "tool_use_id": "tool_001"}
    assert msgs[7].text == ("# Run the decorator example to show output\n"
                            "$ python /tmp/decorator_example.py")
    assert msgs[8].text == "Hello, Alice!\nHello, Alice!\nHello, Alice!"
    assert msgs[8].created_at == to_epoch("2025-06-14T10:03:01Z")
    assert msgs[10].text.startswith("This is really helpful! Let me try to implement a timing")


def test_edge_cases_are_skipped_line_by_line_and_meta_lines_left_out() -> None:
    (conv,), skipped = parse(EDGE)
    assert reasons(skipped, EDGE) == [
        (": line 10", "the message has no content"),  # "contenst"
        (": line 11", "the message is not an object"),  # message: "error"
        (": line 13", "not a JSON object"),  # "massive error"
        (": line 14", "a record without a type"),  # {"silly": "this"}
        (": line 15", "not a JSON object"),  # 42
        (": line 16", "not a JSON object"),  # [1]
        (": line 18", "no readable content blocks"),  # content: ["wow error"]
    ]
    # The last record carrying a sessionId names the session; the stray line of another
    # session (line 17) is still part of this file's transcript.
    assert conv.source_id == "edge_cases"
    assert conv.title is not None and conv.title.startswith("Tested various edge cases")
    assert [(m.role, m.author, m.source_id) for m in conv.messages] == [
        ("user", None, "edge_001"), ("assistant", None, "edge_002"), ("user", None, "edge_003"),
        ("tool", "FailingTool", "tool_edge_001"), ("tool", "FailingTool", "tool_edge_001/result"),
        ("system", "command", "edge_007"), ("system", "command output", "edge_008"),
        ("assistant", None, "edge_009"), ("tool", "MultiEdit", "tool_edge_002"),
        ("user", None, "edge_011"), ("tool", "TodoWrite", "toolu_todowrite_002")]
    m = {x.source_id: x for x in conv.messages}
    assert m["tool_edge_001"].text == "test_param: This tool will fail to demonstrate error handling"
    assert m["tool_edge_001/result"].text == \
        "Error: Tool execution failed with error: Command not found"
    assert m["tool_edge_001/result"].extra == {"kind": "tool_result",
                                               "tool_use_id": "tool_edge_001", "is_error": True}
    assert m["edge_007"].text == "/test-command --verbose --output /tmp/test.log"
    assert m["edge_008"].text == ("Command output here:\nLine 1 of output\nLine 2 of output\n"
                                  "Some data: 12345\nStatus: SUCCESS\nTimestamp: 2025-06-14T11:02:20Z")
    assert m["edge_011"].text == ("Testing special characters: café, naïve, résumé, 中文, "
                                  "العربية, русский, 🎉 emojis 🚀 and symbols ∑∆√π∞")
    assert m["edge_011"].created_at == to_epoch("2025-06-14T11:03:30Z")  # not the "timesstamp" copy
    assert m["toolu_todowrite_002"].text == (
        "- broken_todo\n- [in_progress] Implement core functionality\n"
        "- [pending] Add comprehensive tests\n- [pending] Write user documentation\n"
        "- [pending] Perform code review")
    assert m["tool_edge_002"].text.startswith(
        'file_path: /tmp/complex_example.py\nedits: [{"old_string":"","new_string":"#!/usr/bin/env')
    assert "Caveat:" not in all_text([conv]) and "<command-" not in all_text([conv])
    assert "<local-command-stdout>" not in all_text([conv])


def test_real_v1_0_57_session() -> None:
    convs, skipped = parse(REAL)
    assert skipped == []
    main, *sides = convs
    assert (main.source_id, main.title, main.model, main.project, main.extra) == (
        KILIMAN, None, "claude-opus-4-20250514", "/Users/michael/Projects/oss/graph-monitor",
        {"git_branch": "main"})
    assert Counter(m.role for m in main.messages) == {"tool": 231, "assistant": 69, "user": 8,
                                                     "system": 7}
    # Only the typed prompts are user messages (title falls back to the first of them).
    assert [m.text[:40] for m in main.messages if m.role == "user"] == [
        "yes, in a previous session we remove the",
        "I made some additional updates to the RE",
        "We already have a repo, so you don't nee",
        "ok lets deal with some technical debt. W",
        "Nice...please commit",
        "Since we no longer have 2 separate apps ",
        "works great... please commit",
        "Node v24 no longer requires the --experi"]
    assert [(m.author, m.text) for m in main.messages if m.role == "system"] == [
        ("command", "/clear"), ("command", "/init"),
        ("memory", "When committing to git repo, always use the conventional-commits "
                   "convention for log message"),
        ("command", "/export"),
        ("command output", "Conversation exported to: "
                           "2025-07-23-caveat-the-messages-below-were-generated-by-the-u.txt"),
        ("command", "/export"),
        ("command output", "Conversation exported to: "
                           "2025-07-23-caveat-the-messages-below-were-generated-by-the-u.txt")]
    text = all_text(convs)
    for hidden in ("Caveat: The messages below", "Please analyze this codebase and create a "
                   "CLAUDE.md", "[Request interrupted", "<system-reminder>", "consider whether "
                   "it looks malicious", "(no content)", "<local-command-stdout>",
                   "<user-memory-input>", "seem malicious"):
        assert hidden not in text, hidden
    # The split answer msg_012Rbz… (text line + Task line) is one message, then its call.
    assert rows(main)[2:4] == [
        ("assistant", None, "I'll analyze this codebase to create a CLAUDE.md file that will "
                            "help future Claude instances work productively with this "
                            "repository."),
        ("tool", "Task", main.messages[3].text)]
    assert main.messages[2].source_id == "msg_012RbzTjAp8Jbe2Z2nugFkRB"
    assert main.messages[3].text.startswith("Analyze codebase structure\n\nPlease analyze the "
                                            "codebase structure and identify key files:")
    assert main.messages[0].created_at == to_epoch("2025-07-22T23:00:09.082Z")
    tools = [m for c in convs for m in c.messages if m.role == "tool"]
    assert Counter(m.extra["kind"] for m in tools) == {"tool_use": 189, "tool_result": 166}  # type: ignore[index]
    assert all(m.author and m.author != "tool" for m in tools)  # every result found its call
    cut = [m for m in tools if "\n… [truncated: " in m.text]
    assert len(cut) == 21 and all(len(m.text) <= 4000 + 40 for m in tools)
    assert sum(1 for m in tools if (m.extra or {}).get("is_error")) == 23
    rejected = next(m for m in main.messages if m.source_id ==
                    "toolu_01PwKq6mo2nCscxqBwsuDdns/result")
    assert rejected.author == "Bash" and rejected.text.startswith(
        "The user doesn't want to proceed with this tool use.")
    # No message id twice within a conversation; tool_result lines never became user turns.
    for c in convs:
        ids = [m.source_id for m in c.messages]
        assert len(ids) == len(set(ids)) and None not in ids
    # Four inlined sidechains, each its own conversation, none interleaved into main.
    assert [(c.source_id, c.title, len(c.messages)) for c in sides] == [
        (f"{KILIMAN}/sidechain/c34a44df-6f54-4928-9ae7-58da62989406",
         "Sub-agent: Analyze codebase structure", 38),
        (f"{KILIMAN}/sidechain/aa615a9a-f4b5-46bd-8079-9101f354eed7",
         "Sub-agent: Convert data-capture files to TypeScript", 57),
        (f"{KILIMAN}/sidechain/581dc86d-ec98-4253-a740-cb780d6149cd",
         "Sub-agent: Fix TypeScript imports", 33),
        (f"{KILIMAN}/sidechain/b205d533-695f-4f5f-8a7e-453eebb0457e",
         "Sub-agent: Fix logger imports", 36)]
    first = sides[0]
    assert first.extra == {"git_branch": "main", "sidechain": True, "session": KILIMAN,
                           "tool_use_id": "toolu_01F9xv6nRZPE7y9asWJHQRbD"}
    assert (first.messages[0].role, first.messages[0].author) == ("user", "main agent")
    assert first.messages[0].text.startswith("Please analyze the codebase structure")
    assert [c.messages[0].role for c in sides] == ["user"] * 4
    assert sum(1 for c in sides for m in c.messages if m.role == "user") == 4
    main_ids = {m.source_id for m in main.messages}
    assert not main_ids & {m.source_id for c in sides for m in c.messages}


# --- the synthetic fixtures ----------------------------------------------------------


def test_v2_session_everything_in_its_place() -> None:
    (conv,), skipped = parse(V2)
    assert reasons(skipped, V2) == [
        (": line 18", "not valid JSON"),
        (": line 41", "truncated last line (the session may still have been writing it)"),
        ("", "1 record of unknown type 'hologram' left out")]
    assert (conv.source_id, conv.title, conv.model, conv.project, conv.extra) == (
        S, "Walrus Tuesday deploys", "claude-sonnet-4-5-20250929", "/home/dev/walrus",
        {"git_branch": "main"})
    big = conv.messages[13]
    assert [(m.role, m.author, m.source_id, m.text if m is not big else m.text[-46:])
            for m in conv.messages] == [
        ("system", "command", "u-0001", "! kubectl get pods -n walrus"),
        ("system", "command output", "u-0002", "walrus-7d9f 1/1 Running 0 3d"),
        ("user", None, "u-0003", "Why does the walrus deploy fail on Tuesdays?\n\n[image]"),
        ("assistant", None, "msg_01A", "Let me check the cron schedule and the deploy manifest."),
        ("tool", "Bash", "toolu_01A1", "# List cron jobs\n$ kubectl get cronjobs -A"),
        ("tool", "Read", "toolu_01A2", "file_path: /home/dev/walrus/deploy.yaml"),
        ("tool", "Task", "toolu_01A3", "Find credential cron jobs\n\nFind every cron job in the "
                                       "repository that touches credentials and report their "
                                       "schedules."),
        ("tool", "Read", "toolu_01A2/result", '     1→apiVersion: batch/v1\n     2→kind: '
                                              'CronJob\n     3→schedule: "0 2 * * 2"'),
        ("tool", "Bash", "toolu_01A1/result", "NAMESPACE   NAME                 SCHEDULE\n"
                                              "ops         rotate-credentials   0 2 * * 2"),
        ("tool", "Task", "toolu_01A3/result", "One cron job touches credentials: "
                                              "ops/rotate-credentials, Tuesdays 02:00."),
        ("assistant", None, "msg_01B", "The rotate-credentials job runs at 02:00 on Tuesdays, "
                                       "right before the deploy, so the registry token is stale."),
        ("user", None, "u-0013", "Move the rotation to Wednesdays and show me the diff."),
        ("tool", "Edit", "toolu_01C1", "file_path: /home/dev/walrus/cron.yaml\nold_string: "
                                       "0 2 * * 2\nnew_string: 0 2 * * 3\nreplace_all: false"),
        ("tool", "Edit", "toolu_01C1/result", "ion\n@@ lin\n… [truncated: 2249 more characters]"),
        ("tool", "Bash", "toolu_01D1", "$ git push"),
        ("tool", "Bash", "toolu_01D1/result", "fatal: The current branch has no upstream branch."),
        ("system", "Claude Code", "msg_synthetic_01",
         'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":'
         '"Overloaded"}}'),
        ("system", "compact summary", "u-0020",
         "This session is being continued from a previous conversation that ran out of "
         "context. The conversation is summarized below:\nThe user traced the failing Tuesday "
         "walrus deploy to the rotate-credentials cron job and moved it to Wednesdays."),
        ("system", "command", "u-0021", "/model opus"),
        ("system", "command output", "u-0022", "Set model to opus (claude-opus-4-1-20250805)"),
        ("assistant", None, "msg_01E", "Done: the rotation now runs on Wednesdays."),
        ("tool", "TodoWrite", "toolu_01E1",
         "- [completed] Move rotation to Wednesday\n- [pending] Push the branch"),
        ("tool", "TodoWrite", "toolu_01E1/result", "Todos have been modified successfully."),
        ("tool", "tool", "toolu_01ZZ/result", "[image]"),  # its call is not in the file
    ]
    assert big.text.startswith("@@ line 0 @@ -0 2 * * 2 +0 2 * * 3 walrus rotation\n@@ line 1")
    assert len(big.text.split("\n… [truncated")[0]) == 4000
    m = {x.source_id: x for x in conv.messages}
    assert m["msg_01A"].created_at == to_epoch("2026-03-02T09:00:12Z")  # its first (thinking) line
    assert m["msg_01B"].extra == {"model": "claude-opus-4-1-20250805"}
    assert m["msg_01A"].extra is None
    assert m["toolu_01D1/result"].extra == {"kind": "tool_result", "tool_use_id": "toolu_01D1",
                                            "is_error": True}
    text = all_text([conv])
    for hidden in ("pangolin", "quokka", "ide_opened_file", "Caveat", "interrupted",
                   "task-notification", "Background command", "Base directory for this skill",
                   "malicious", "Fri", "and fridays", "<bash-stderr>", "NAMESPACE ..."):
        assert hidden not in text, hidden


def test_title_summary_of_this_file_then_first_prompt() -> None:
    lines = V2.read_text().splitlines(keepends=True)
    no_custom = "".join(line for line in lines if '"custom-title"' not in line)
    (conv,), _ = parse_inp(input_from_bytes("s.jsonl", no_custom.encode()))
    assert conv.title == "Walrus deploy fix"  # not the summary whose leaf is elsewhere
    neither = "".join(line for line in lines if '"custom-title"' not in line
                      and '"type":"summary"' not in line)
    (conv,), _ = parse_inp(input_from_bytes("s.jsonl", neither.encode()))
    assert conv.title is None  # the import service takes the first real prompt


def test_subagent_file_is_its_own_conversation() -> None:
    (conv,), skipped = parse(AGENT)
    assert skipped == []
    assert conv.source_id == f"{S}/sidechain/a1b2c3d4"  # never the session's own id
    assert conv.title == ("Sub-agent: Find every cron job in the repository that touches "
                          "credentials and report their…")
    assert conv.extra == {"git_branch": "main", "sidechain": True, "session": S,
                          "agent_id": "a1b2c3d4"}
    assert conv.model == "claude-haiku-4-5-20251001" and conv.project == "/home/dev/walrus"
    assert rows(conv) == [
        ("user", "main agent", "Find every cron job in the repository that touches credentials "
                               "and report their schedules."),
        ("assistant", None, "Searching for cron jobs that mention credentials."),
        ("tool", "Grep", "pattern: credentials\npath: /home/dev/walrus\n"
                         "output_mode: files_with_matches"),
        ("tool", "Grep", "Found 1 file\n/home/dev/walrus/cron.yaml"),
        ("assistant", None, "One cron job touches credentials: ops/rotate-credentials, "
                            "Tuesdays 02:00.")]
    assert [m.source_id for m in conv.messages] == ["s-0001", "msg_01S1", "toolu_01S1",
                                                    "toolu_01S1/result", "msg_01S2"]


def test_warmup_agent_and_snapshot_only_files_import_nothing() -> None:
    convs, skipped = parse(WARMUP)
    assert convs == []
    assert reasons(skipped, WARMUP) == [(": sub-agent w9e8d7c6",
                                         "a sub-agent warmup, not a conversation")]
    convs, skipped = parse(SNAPSHOTS)
    assert convs == []
    assert reasons(skipped, SNAPSHOTS) == [("", "no messages (only meta or bookkeeping records)")]


def test_resumed_session_dedupes_copied_lines() -> None:
    (conv,), skipped = parse(RESUMED)
    assert skipped == []
    assert conv.source_id == "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"  # its own, not the copies'
    assert conv.title == "Walrus deploy fix"
    assert [(m.role, m.source_id) for m in conv.messages] == [
        ("user", "u-0003"), ("assistant", "msg_01A"), ("assistant", "msg_01B"),
        ("user", "u-0101"), ("assistant", "msg_01F")]  # u-0003 is in the file twice
    # The copies give the same message ids as in the original session's file.
    (orig,), _ = parse(V2)
    by_id = {m.source_id: m for m in orig.messages}
    for m in conv.messages[:3]:
        assert m.text == by_id[m.source_id].text
    assert conv.messages[0].created_at == by_id["u-0003"].created_at


def test_duplicates_within_a_file_count_once() -> None:
    (conv,), _ = parse(V2)
    assert [m.source_id for m in conv.messages].count("u-0013") == 1
    assert sum(m.text.count("Done: the rotation") for m in conv.messages) == 1
    # The same line three times, and a split answer whose lines repeat the same tool call.
    line = REPR.read_text().splitlines()[0]
    call = ('{"type":"assistant","uuid":"a%d","sessionId":"s","isSidechain":false,"message":'
            '{"id":"msg_x","role":"assistant","model":"m","content":[{"type":"tool_use",'
            '"id":"toolu_x","name":"LS","input":{"path":"/"}}]}}')
    data = "\n".join([line, line, line, call % 1, call % 2]) + "\n"
    (conv,), _ = parse_inp(input_from_bytes("d.jsonl", data.encode()))
    assert rows(conv) == [
        ("user", None, "Hello Claude! Can you help me understand how Python decorators work?"),
        ("tool", "LS", "path: /")]


# --- helpers --------------------------------------------------------------------------


def test_render_input_and_clip() -> None:
    render = claude_code.render_input
    assert render("Bash", {"command": "ls -la"}) == "$ ls -la"
    assert render("Glob", {}) == "Glob"
    assert render("mcp__db__query", {"sql": "select 1", "limit": 5, "opts": {"a": [1]}}) == \
        'sql: select 1\nlimit: 5\nopts: {"a":[1]}'
    assert render("Write", {"file_path": "/a", "content": "x\ny"}) == "file_path: /a\ncontent:\nx\ny"
    assert render("Odd", "raw input") == "raw input"
    assert render("Odd", None) == "Odd"
    assert claude_code.clip("a" * 4000) == "a" * 4000
    assert claude_code.clip("a" * 4001) == "a" * 4000 + "\n… [truncated: 1 more characters]"
    long = render("Write", {"file_path": "/a", "content": "b" * 9000})
    assert long.startswith("file_path: /a\ncontent: bbb")
    assert long.endswith("b\n… [truncated: 5023 more characters]") and len(long) < 4100


@pytest.mark.parametrize("text, expected", [
    ("  Fix the build  ", ("user", None, "Fix the build")),
    ("<system-reminder>x</system-reminder>\nFix it", ("user", None, "Fix it")),
    ("<system-reminder>only this</system-reminder>", (None, None, "")),
    ("(no content)", (None, None, "")),
    ("[Request interrupted by user for tool use]", (None, None, "")),
    ("Caveat: The messages below were generated by the user", (None, None, "")),
    ("<command-message>init is analyzing…</command-message>\n<command-name>/init</command-name>",
     ("system", "command", "/init")),
    ("<command-name>review</command-name><command-args>PR 12</command-args>",
     ("system", "command", "/review PR 12")),
    ("<local-command-stdout></local-command-stdout>", (None, None, "")),
    ("<local-command-stderr>boom</local-command-stderr>", ("system", "command output", "boom")),
    ("<user-memory-input>Use tabs</user-memory-input>", ("system", "memory", "Use tabs")),
])
def test_classify_user_text(text: str, expected: tuple[str | None, str | None, str]) -> None:
    assert claude_code.classify(text) == expected


# --- detection and failures ----------------------------------------------------------


def test_sniff_claims_claude_code_files_and_nothing_else() -> None:
    for path in OURS:
        assert claude_code.sniff(input_from_path(path)), path
        assert detect(input_from_path(path)) is claude_code, path
    others = [p for p in [*SHARED_FIXTURES.rglob("*"), *FIXTURES.rglob("*")]
              if p.is_file() and p.parent.name != "claude_code" and "claude_code" not in p.parts]
    assert len(others) > 20
    for path in others:
        assert not claude_code.sniff(input_from_path(path)), path
    gemini_cli = (SHARED_FIXTURES / "gemini_cli" / "synthetic_session-2026-04-21T04-16-"
                  "7c2d9a10.jsonl").read_bytes()
    for data in [
        b"", b"   \n", b"\xff\xfe\x00garbage", b"[]", b"{}", b"hello\nworld\n",
        b'{"sessionId": "x", "projectHash": "y", "startTime": "2026-01-01T00:00:00Z"}\n',
        b'{"type": "conversation", "messages": [], "source": "claude-code"}\n',
        b'{"timestamp": "t", "type": "session_meta", "payload": {"id": "x"}}\n',
        b'{"type": "user", "text": "no session"}\n',
        b'{"uuid": "u", "sessionId": "s", "parentUuid": null}\n',  # no type
        b'{"sessionId": "s", "projectHash": "p", "startTime": "2026',  # cut, not Claude Code
        gemini_cli,
    ]:
        assert not claude_code.sniff(input_from_bytes("x.jsonl", data)), data


def test_sniff_a_first_record_longer_than_the_head() -> None:
    line = json.loads(REPR.read_text().splitlines()[0])
    line["message"]["content"][0]["text"] = "word " * 30000  # 150 KB
    data = (json.dumps(line) + "\n" + REPR.read_text()).encode()
    inp = input_from_bytes("big.jsonl", data)
    assert claude_code.sniff(inp)
    (conv,), _ = parse_inp(inp)
    # the normal copy of that line has the same uuid: the first (long) one counts
    assert len(conv.messages) == 11 and len(conv.messages[0].text) == 150000 - 1
    # A file cut inside its first record is recognised, then fails as unreadable.
    cut = input_from_bytes("cut.jsonl", REPR.read_bytes()[:300])
    assert claude_code.sniff(cut)
    with pytest.raises(ImportFailed) as e:
        list(claude_code.parse(cut))
    assert str(e.value) == ("cut.jsonl: no readable Claude Code record "
                            "(1 of 1 lines are not valid JSON)")


@pytest.mark.parametrize("data, why", [
    (b"", "empty file"),
    (b"\n\n", "empty file"),
    (b"garbage\nmore garbage\n", "no readable Claude Code record (2 of 2 lines are not valid JSON)"),
    (b'{"a": 1}\n[1, 2]\n', "not a Claude Code session log (no user, assistant or summary records)"),
    ((SHARED_FIXTURES / "codex_cli" / "claude-code-log_rollout-2026-01-02_synthetic.jsonl")
     .read_bytes(), "not a Claude Code session log (no user, assistant or summary records)"),
])
def test_input_with_no_claude_code_record_fails(data: bytes, why: str) -> None:
    with pytest.raises(ImportFailed) as e:
        list(claude_code.parse(input_from_bytes("x.jsonl", data)))
    assert str(e.value) == f"x.jsonl: {why}"


def test_odd_records_are_tolerated() -> None:
    data = b"\n".join([
        b'\xef\xbb\xbf{"type":"user","uuid":"a","sessionId":"s","message":{"role":"user",'
        b'"content":"first"},"timestamp":"2026-01-01T00:00:00+02:00"}',
        b'{"type":"user","uuid":"b","sessionId":"s","message":null}',
        b'{"type":"assistant","uuid":"c","sessionId":"s","message":{"id":"m1","content":'
        b'"plain string answer","model":"x"}}',
        b'{"type":"assistant","uuid":"d","sessionId":"s","message":{"id":"m2","content":'
        b'[{"type":"thinking","thinking":"secret"},{"type":"redacted_thinking","data":"zz"}]}}',
        b'{"type":"user","uuid":"e","sessionId":"s","message":{"content":[{"type":"document"},'
        b'{"type":"text","text":"see attached"}]}}',
        b'{"type":"user","uuid":"f","sessionId":"s","message":{"content":[{"type":"tool_result",'
        b'"tool_use_id":"t9","content":"","is_error":true},{"type":"tool_result",'
        b'"tool_use_id":"t8","content":[]}]}}',
        b'\xff\xfe not utf-8',
    ]) + b"\n"
    (conv,), skipped = parse_inp(input_from_bytes("o.jsonl", data))
    assert reasons(skipped, Path("o.jsonl")) == [(": line 2", "the message is not an object"),
                                                (": line 7", "not valid JSON")]
    assert [(m.role, m.author, m.source_id, m.text) for m in conv.messages] == [
        ("user", None, "a", "first"),
        ("assistant", None, "m1", "plain string answer"),  # m2 has thinking only: no message
        ("user", None, "e", "[document]\n\nsee attached"),
        ("tool", "tool", "t9/result", "[error]")]  # the empty successful result is left out
    assert conv.messages[0].created_at == to_epoch("2025-12-31T22:00:00Z")
    assert conv.source_id == "s" and conv.model == "x"
    assert isinstance(conv.messages[0], Message)


# --- through the import service and the CLI ------------------------------------------


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "import", *args, "--json", check=True)
    return json.loads(proc.stdout)


def search(db: Path, *args: str) -> list[dict]:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "search", *args, "--json", check=True)
    return json.loads(proc.stdout)


def test_auto_detection_titles_and_search(db: Path) -> None:
    paths = [str(REAL), str(REPR), str(EDGE), str(V2), str(AGENT)]
    first = import_json(db, *paths)
    assert [f["format"] for f in first["files"]] == ["claude_code"] * 5
    assert [f["conversations"] for f in first["files"]] == [5, 1, 1, 1, 1]
    assert first["conversations_added"] == 9
    assert first["messages_added"] == 315 + 38 + 57 + 33 + 36 + 11 + 11 + 24 + 5
    assert len(first["skipped"]) == 7 + 3
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", "--limit", "50",
                                  check=True).stdout)
    titles = {c["source_id"]: c["title"] for c in listed}
    assert titles[KILIMAN] == ("yes, in a previous session we remove the react web app in favor "
                               "of generating s…")  # the service's cut at 80 characters
    assert titles[f"{S}/sidechain/a1b2c3d4"].startswith("Sub-agent: Find every cron job")
    assert {c["source"] for c in listed} == {"claude-code"}
    # Tool output is searchable as role tool; prompts as user; hidden text not at all.
    hits = [h for h in search(db, "upstream") if "upstream" in h["text"]]  # (not by context)
    assert [(h["role"], h["author"], h["source_id"]) for h in hits] == [
        ("tool", "Bash", "toolu_01D1/result")]
    hits = search(db, "Wednesdays", "--role", "user")
    assert [h["source_id"] for h in hits if "Wednesdays" in h["text"]] == ["u-0013"]
    for word in ("pangolin", "quokka", "malicious", "Caveat", "Warmup"):
        assert [h for h in search(db, word) if word in h["text"]] == [], word


def test_newer_copy_adds_exactly_the_new_message(db: Path, tmp_path: Path) -> None:
    import_json(db, str(REPR))
    newer = tmp_path / "test_session.jsonl"
    extra = {"type": "user", "timestamp": "2025-06-14T10:05:00Z", "parentUuid": "msg_011",
             "isSidechain": False, "userType": "human", "cwd": "/tmp",
             "sessionId": "test_session", "version": "1.0.0", "uuid": "msg_012",
             "message": {"role": "user", "content": "Here is my timing decorator, is it right?"}}
    # (the shared file has no newline after its last line)
    newer.write_text(REPR.read_text().rstrip("\n") + "\n" + json.dumps(extra) + "\n")
    report = import_json(db, str(newer))
    assert report["conversations_updated"] == 1 and report["conversations_added"] == 0
    assert report["messages_added"] == 1
    assert [h["source_id"] for h in search(db, "timing decorator right")][:1] == ["msg_012"]
    # the older copy imported afterwards changes nothing
    report = import_json(db, str(REPR))
    assert report["conversations_unchanged"] == 1 and report["messages_added"] == 0


def test_a_live_file_with_a_cut_last_line_imports_with_a_warning(db: Path, tmp_path: Path) -> None:
    live = tmp_path / "live.jsonl"
    data = REPR.read_bytes()
    live.write_bytes(data[:data.rindex(b'{"type": "summary"') + 25])  # inside the summary line
    report = import_json(db, str(live))
    assert report["conversations_added"] == 1 and report["messages_added"] == 11
    assert report["skipped"] == [{"where": f"{live}: line 12", "reason":
                                  "truncated last line (the session may still have been "
                                  "writing it)"}]


@pytest.mark.parametrize("make, args, why", [
    (lambda p: p.write_bytes(REPR.read_bytes()[:300]), (),
     "no readable Claude Code record (1 of 1 lines are not valid JSON)"),
    (lambda p: p.write_bytes((SHARED_FIXTURES / "codex_cli" /
                              "claude-code-log_rollout-2026-01-02_synthetic.jsonl").read_bytes()),
     ("--format", "claude_code"),
     "not a Claude Code session log (no user, assistant or summary records)"),
    (lambda p: p.write_bytes(b"\x00\x01\x02 binary\n\x03\x04\n"), ("--format", "claude_code"),
     "no readable Claude Code record (2 of 2 lines are not valid JSON)"),
])
def test_unreadable_input_exits_1_and_leaves_the_database_as_it_was(  # type: ignore[no-untyped-def]
        db: Path, tmp_path: Path, make, args: tuple[str, ...], why: str) -> None:
    import_json(db, str(REPR))
    before = dump_db(db)
    bad = tmp_path / "bad.jsonl"
    make(bad)
    proc = run_aimem("--db", str(db), "import", *args, str(EDGE), str(bad))
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err == f"aimem: error: {bad}: {why}\n"
    assert proc.stdout == b""
    assert dump_db(db) == before


def test_projects_folder_with_subagent_files(db: Path, tmp_path: Path) -> None:
    """The layout `aimem sync` walks: a session, its sub-agents, leftovers; nothing fails."""
    project = tmp_path / "projects" / "-home-dev-walrus"
    (project / S / "subagents").mkdir(parents=True)
    shutil.copy(V2, project / f"{S}.jsonl")
    shutil.copy(AGENT, project / S / "subagents" / "agent-a1b2c3d4.jsonl")
    shutil.copy(WARMUP, project / S / "subagents" / "agent-w9e8d7c6.jsonl")
    shutil.copy(SNAPSHOTS, project / "0e0e0e0e-0000-4000-8000-000000000000.jsonl")
    (project / S / "subagents" / "agent-a1b2c3d4.meta.json").write_text('{"agentType": "x"}')
    report = import_json(db, str(tmp_path / "projects"))
    assert report["conversations_added"] == 2 and report["messages_added"] == 24 + 5
    assert sorted(s["reason"] for s in report["skipped"]) == [
        "1 record of unknown type 'hologram' left out", "a sub-agent warmup, not a conversation",
        "no messages (only meta or bookkeeping records)", "not a recognised export",
        "not valid JSON",
        "truncated last line (the session may still have been writing it)"]
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    assert sorted((c["source_id"], c["messages"]) for c in listed) == [
        (S, 24), (f"{S}/sidechain/a1b2c3d4", 5)]


def _slash_session(tmp_path: Path) -> Path:
    s = "9d1e0f2a-0000-4000-8000-00000000abcd"
    base = {"sessionId": s, "cwd": "/home/u/app", "version": "2.1.38", "isSidechain": False,
            "userType": "external"}
    lines = [
        {**base, "type": "user", "isMeta": True, "uuid": "u0", "parentUuid": None,
         "timestamp": "2026-02-10T10:00:00Z", "message": {"role": "user", "content":
         "<local-command-caveat>Caveat: The messages below were generated by the user while "
         "running local commands.</local-command-caveat>"}},
        {**base, "type": "user", "uuid": "u1", "parentUuid": "u0",
         "timestamp": "2026-02-10T10:00:01Z", "message": {"role": "user", "content":
         "<command-name>/review</command-name>\n<command-message>review</command-message>\n"
         "<command-args>PR 42 in the payments service</command-args>"}},
        {**base, "type": "assistant", "uuid": "a1", "parentUuid": "u1",
         "timestamp": "2026-02-10T10:00:09Z", "message": {
             "id": "msg_1", "role": "assistant", "model": "claude-opus-4-6",
             "content": [{"type": "text", "text": "The PR looks good; one race in retry()."}]}},
    ]
    path = tmp_path / f"{s}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_session_that_starts_with_a_slash_command_is_titled_by_it(db: Path,
                                                                  tmp_path: Path) -> None:
    path = _slash_session(tmp_path)
    import_json(db, str(path))
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    assert [c["title"] for c in listed] == ["/review PR 42 in the payments service"]
    assert import_json(db, str(path))["conversations_unchanged"] == 1


def test_real_session_cut_to_its_slash_command_is_titled_by_it(tmp_path: Path) -> None:
    src = SHARED_FIXTURES / "realworld" / "claude_code" / "spotter_tool_heavy.jsonl"
    if not src.exists():
        pytest.skip("../shared/fixtures/realworld is absent")
    lines = src.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "local-command-caveat" in line)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[start:start + 5]))  # caveat, /mcp, its output, 2 system lines
    (conv,), _ = parse(cut)
    assert conv.title == "/mcp"
    # a typed prompt still wins over a slash command
    from aimem.services.importing import normalise

    (whole,), _ = parse(src)
    assert normalise(whole).title == "start phoenix in background"
