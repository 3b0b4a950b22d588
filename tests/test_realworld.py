"""Real files nobody on the project wrote: ../shared/fixtures/realworld/ (see its SOURCES.md).

Every file of a format aimem has an importer for is imported and checked against the
counts SOURCES.md gives (its counting script, ``count_visible.py``, is independent of
aimem), then: a second import changes nothing, the aimem JSONL export survives a round trip
into an empty database byte for byte, and no other importer's ``sniff`` claims the file.

SOURCES.md counts raw records; aimem imports what a person saw. Where the two rules differ
on purpose, the row says how the SOURCES.md figure maps onto aimem's (the importer's own
docstring is the reference for each rule).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from aimem.errors import ImportFailed
from aimem.importers import IMPORTERS, input_from_path
from aimem.services import Archive
from conftest import SHARED_FIXTURES, dump_db, run_aimem

REALWORLD = SHARED_FIXTURES / "realworld"
pytestmark = pytest.mark.skipif(not (REALWORLD / "SOURCES.md").exists(),
                                reason="../shared/fixtures/realworld is absent (shared reference "
                                       "material not checked out next to this worktree)")

# folder in realworld/ -> aimem importer NAME. aider/ and cursor_specstory/ get a line (and
# their rows below) when their importers land.
FORMAT_DIRS = {"chatgpt": "chatgpt", "claude_code": "claude_code", "codex_cli": "codex",
               "gemini_cli": "gemini_cli"}


@dataclass
class Row:
    path: str  # relative to realworld/
    conversations: int
    user: int = 0
    assistant: int = 0
    system: int = 0
    tool_use: int | None = None  # tool calls (extra.kind == "tool_use"), when SOURCES counts them
    tool: int | None = None  # every role "tool" message, when the rule fixes it
    fails: str | None = None  # the ImportFailed reason when the file holds nothing to import


ROWS = [
    # ChatGPT. SOURCES: 1 conversation, 31 visible = 8 user + 23 assistant, 11 of which are
    # code sent to python (recipient "python"). aimem hides every message whose recipient is
    # not "all" (docs/formats.md §1.6), so 23 - 11 = 12 assistant; the 11 execution_output
    # results are role "tool", which SOURCES never counts.
    Row("chatgpt/chatgpt2graph_conversations.json", 1, user=8, assistant=12, tool=11),
    # Claude Code. SOURCES "user prompts" = non-isMeta user records with text; aimem's user
    # turns are the typed prompts (see claude_code.py). SOURCES counts assistant records per
    # line; aimem joins the lines of one API message (message.id) and an answer with no text
    # gives no assistant message, so aimem's assistant count is SOURCES' "with text".
    Row("claude_code/codemie_4c2ddfdc-b619-4525-8d03-1950fb1b0257.jsonl", 1, user=3,
        assistant=4, tool_use=6),
    # "Warmup" sub-agents (a one-word Warmup prompt the CLI sends itself) are skipped by rule:
    # SOURCES' 1 user + 1 assistant are not a conversation anyone had.
    Row("claude_code/codemie_agent-36541525.jsonl", 0, fails="a sub-agent warmup"),
    Row("claude_code/codemie_agent-50243ee8.jsonl", 0, fails="a sub-agent warmup"),
    Row("claude_code/codemie_turn-2.jsonl", 1, user=1, assistant=5, tool_use=14),
    # A sub-agent: the task prompt is role user (author "main agent").
    Row("claude_code/spotter_agent-a2898e3.jsonl", 1, user=1, assistant=7, tool_use=33),
    # SOURCES' "14 user" counts records: 13 are isMeta <system-reminder> hook context, which
    # its own script (user_text_records = 1) and aimem both leave out; 1 is the prompt.
    Row("claude_code/spotter_agent-acompact-70d8e7.jsonl", 1, user=1, assistant=1),
    # SOURCES: 2 typed prompts, 2 interrupt markers, 1 slash command (its script's
    # user_text_records = 5). aimem: the 2 prompts
    # are user, "[Request interrupted by user]" is left out, /mcp and its local output are
    # role system (author "command" / "command output"); 1 of 4 message ids has text.
    Row("claude_code/spotter_tool_heavy.jsonl", 1, user=2, assistant=1, system=2, tool_use=6),
    Row("claude_code/agentcmd_full-session-five.jsonl", 1, user=1, assistant=3, tool_use=5),
    # Codex. aimem's prompts/answers are the response_item messages without the context
    # Codex injects (AGENTS.md, <environment_context>), which is what SOURCES' user_message /
    # agent_message events count. Tool calls: function_call + custom_tool_call (+ the
    # web_search_call items, which SOURCES does not count: 3 in the first file).
    Row("codex_cli/codemie_rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl",
        1, user=2, assistant=13, tool_use=99 + 3 + 3),
    # Codex Desktop 0.128: prompts exist only as user_message events, answers only as
    # response_item messages (before this test, aimem lost the 3 prompts).
    Row("codex_cli/codemie_rollout-2026-05-11T13-28-45-019e1695-0522-7c83-8b39-0dd379793f80.jsonl",
        1, user=3, assistant=3, tool_use=38),
    Row("codex_cli/codemie_rollout-2026-01-02T18-39-45-019b7f94-51b4-7593-922e-ba12b5b73b52.jsonl",
        1, user=1, assistant=0, tool_use=3),
    Row("codex_cli/agentcmd_rollout-2025-09-25T15-12-14-019982b8-3422-79e0-8b3b-05abaf4f3c3e.jsonl",
        1, user=1, assistant=1, tool_use=34),
    # Gemini CLI. SOURCES: 10 non-empty user/gemini messages = 5 + 5; the 4 gemini messages
    # with empty content carry only toolCalls (14 in all: role tool, call + result each).
    Row("gemini_cli/codemie_session-2026-01-16T11-01-file-ops-37b7abef.json", 1, user=5,
        assistant=5, tool_use=14, tool=28),
    # The per-project prompt log, not a session: nothing may claim it.
    Row("gemini_cli/codemie_logs.json", 0, fails="not a recognised export"),
]
BY_PATH = {r.path: r for r in ROWS}


def importer_of(row: Row) -> str:
    return FORMAT_DIRS[row.path.split("/")[0]]


def test_every_real_file_of_a_known_format_has_a_row() -> None:
    files = {p.relative_to(REALWORLD).as_posix() for d in FORMAT_DIRS
             for p in (REALWORLD / d).iterdir() if p.is_file()}
    assert files == set(BY_PATH)


def _export(mem: Archive) -> bytes:
    return b"".join(mem.export_jsonl())


@pytest.mark.parametrize("row", ROWS, ids=[r.path for r in ROWS])
def test_real_file(row: Row, tmp_path: Path) -> None:
    path = REALWORLD / row.path
    name = importer_of(row)
    claims = [n for n, imp in IMPORTERS.items() if imp.sniff(input_from_path(path))]
    assert claims == ([] if row.fails == "not a recognised export" else [name])

    db = tmp_path / "real.db"
    with Archive.open(db) as mem:
        mem.import_paths([str(REALWORLD / "chatgpt" / "chatgpt2graph_conversations.json")]
                         if name != "chatgpt" else
                         [str(REALWORLD / "gemini_cli" / "codemie_session-2026-01-16T11-01-"
                              "file-ops-37b7abef.json")])  # something else already there
        before_rows = dump_db(db)
        if row.fails:
            with pytest.raises(ImportFailed, match=row.fails):
                mem.import_paths([str(path)])
            assert dump_db(db) == before_rows
            return
        first = mem.import_paths([str(path)])
        assert first.conversations_added == row.conversations
        assert first.conversations_updated == 0
        again = mem.import_paths([str(path)])
        assert (again.conversations_added, again.conversations_updated,
                again.messages_added) == (0, 0, 0)
        assert again.conversations_unchanged == row.conversations

        convs = [c for c in (mem.store.get_conversation(cid) for cid in
                             _ids(mem, name)) if c is not None]
        assert len(convs) == row.conversations
        roles = Counter(m.role for c in convs for m in c.messages)
        assert (roles["user"], roles["assistant"], roles["system"]) == (
            row.user, row.assistant, row.system)
        if row.tool_use is not None:
            kinds = Counter((m.extra or {}).get("kind") for c in convs for m in c.messages
                            if m.role == "tool")
            assert kinds["tool_use"] == row.tool_use
            # a result never comes without its call; quiet successes give no result message
            assert kinds["tool_result"] <= kinds["tool_use"]
        if row.tool is not None:
            assert roles["tool"] == row.tool
        assert all(m.text.strip() for c in convs for m in c.messages)
        exported = _export(mem)

    # the lossless JSONL round trip: export -> empty database -> export again, identical
    dump = tmp_path / "export.jsonl"
    dump.write_bytes(exported)
    with Archive.open(tmp_path / "copy.db") as copy:
        report = copy.import_paths([str(dump)])
        assert report.conversations_added == row.conversations + 1
        assert _export(copy) == exported


def _ids(mem: Archive, name: str) -> list[str]:
    source = IMPORTERS[name].SOURCE
    return [r[0] for r in mem.store.execute(
        "SELECT id FROM conversations WHERE source = ?", (source,))]


@pytest.mark.parametrize("folder", sorted(FORMAT_DIRS))
def test_real_folder_through_the_cli(folder: str, tmp_path: Path) -> None:
    """`aimem import <folder>` as a person runs it: exit 0, every conversation, warmups and
    the prompt log skipped with a reason."""
    db = tmp_path / "cli.db"
    proc = run_aimem("--db", str(db), "import", "--json", str(REALWORLD / folder))
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout)
    rows = [r for r in ROWS if r.path.startswith(folder + "/")]
    assert report["conversations_added"] == sum(r.conversations for r in rows)
    for r in rows:
        if r.fails:
            assert any(Path(r.path).name in s["where"] for s in report["skipped"]), r.path
