"""Aider's .aider.chat.history.md and SpecStory's .specstory/history/*.md: real files,
detection by content, idempotent and incremental re-import, damage, JSONL round trip, sync."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from aimem import importers
from aimem.errors import ImportFailed
from aimem.importers import aider, detect, input_from_bytes, input_from_path, specstory
from aimem.models import Conversation, Skipped
from aimem.services import Archive
from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

REAL = SHARED_FIXTURES / "realworld"
MOZGOSLAV = REAL / "aider" / "mozgoslav_.aider.chat.history.md"
ZEN = REAL / "aider" / "zen-mcp-server_.aider.chat.history.md"
FENCED = FIXTURES / "aider" / "made_fenced.aider.chat.history.md"
RESOLVER = REAL / "cursor_specstory" / "agente-bsc-rag_2025-10-15_00-22Z-me-ajude-a-resolver.md"
LIBERAR = REAL / "cursor_specstory" / ("agente-bsc-rag_2025-10-14_22-48Z-liberar-arquivo-env-do-"
                                       "globalcursorignore.md")
CLI_REAL = FIXTURES / "specstory" / "getspecstory_2026-01-16_16-46-41Z.md"
CLI_MADE = FIXTURES / "specstory" / "claude_code_v2.1.0_made.md"
AIDER_FILES = [MOZGOSLAV, ZEN, FENCED]
SPECSTORY_FILES = [RESOLVER, LIBERAR, CLI_REAL, CLI_MADE]

needs_shared = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/fixtures/realworld is absent")


def items(module, path: Path) -> tuple[list[Conversation], list[Skipped]]:  # type: ignore[no-untyped-def]
    out = list(module.parse(input_from_path(path)))
    return ([i for i in out if isinstance(i, Conversation)],
            [i for i in out if isinstance(i, Skipped)])


def roles(convs: list[Conversation]) -> Counter[str]:
    return Counter(m.role for c in convs for m in c.messages)


# --- Aider: the real files, counted as SOURCES.md counts them ---------------------------


def sources_counts(path: Path) -> tuple[int, int, int]:
    """SOURCES.md's rule: sessions, runs of '#### ' lines, '> Tokens:' lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = sum(1 for i, line in enumerate(lines)
                 if line.startswith("#### ") and not (i and lines[i - 1].startswith("#### ")))
    return (sum(line.startswith("# aider chat started at") for line in lines), blocks,
            sum(line.startswith("> Tokens:") for line in lines))


@needs_shared
def test_aider_mozgoslav_matches_the_counts_of_sources_md() -> None:
    assert sources_counts(MOZGOSLAV) == (3, 21, 14)  # SOURCES.md: 3 sessions, 21, 14
    convs, skipped = items(aider, MOZGOSLAV)
    assert len(convs) == 3 and skipped == []
    r = roles(convs)
    assert r["user"] == 21
    # 14 replies end with a '> Tokens:' line; 2 more were cut by ^C before Aider printed
    # one (the rule counts Tokens lines, the importer keeps every reply)
    assert r["assistant"] == 16
    tokens = [m for c in convs for m in c.messages if m.role == "tool" and "Tokens:" in m.text]
    assert len(tokens) == 14
    assert {c.model for c in convs} == {"lm_studio/qwen3.6-35b-a3b-uncensored-hauhaucs-aggressive"}
    assert all(c.extra and c.extra["aider_version"] == "v0.86.2" for c in convs)
    first = convs[0]
    assert [m.role for m in first.messages] == ["user", "tool"]
    assert first.messages[0].text == "hi"
    assert "AuthenticationError" in first.messages[1].text
    assert first.messages[1].text.endswith("^C KeyboardInterrupt")
    assert first.created_at == datetime(2026, 4, 22, 22, 40, 12).astimezone().timestamp()
    # the long pasted prompt spread over consecutive #### lines is one message
    long = max((m for c in convs for m in c.messages if m.role == "user"), key=lambda m: len(m.text))
    assert long.text.count("\n") > 50 and "####" not in long.text
    assert first.project == str(MOZGOSLAV.resolve().parent)


@needs_shared
def test_aider_zen_only_slash_commands_and_empty_sessions() -> None:
    assert sources_counts(ZEN) == (4, 8, 0)
    convs, skipped = items(aider, ZEN)
    # 4 sessions: 2 in which nothing was typed are reported, not imported
    assert len(convs) == 2 and len(skipped) == 2
    assert all(s.reason == "nothing was typed in this session" for s in skipped)
    assert roles(convs)["user"] == 8 and roles(convs)["assistant"] == 0
    add = convs[1].messages[0].text
    assert add.startswith("/add /home/dragonfsky/") and add.count("\n") == 7
    assert any("请你分析一下" in m.text for m in convs[1].messages)
    assert convs[0].model == "gemini/gemini-2.5-pro-preview-06-05"


def test_aider_code_fences_in_replies_and_separate_prompts() -> None:
    (conv,), _ = items(aider, FENCED)
    assert [(m.role, m.text.splitlines()[0]) for m in conv.messages] == [
        ("user", "show me a quoted reply in markdown"), ("assistant", "Here is an example:"),
        ("tool", "Tokens: 1.2k sent, 80 received. Cost: $0.0041 message, $0.0041 session."),
        ("user", "/clear"), ("user", "thanks"), ("assistant", "You're welcome."),
        ("tool", "Tokens: 1.3k sent, 4 received. Cost: $0.0033 message, $0.0074 session.")]
    assert conv.messages[0].text == "show me a quoted reply in markdown\nand a heading"
    assert "> a quote inside a code block\n#### a heading inside" in conv.messages[1].text
    assert conv.model == "gpt-4o"


# --- SpecStory --------------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("path", [RESOLVER, LIBERAR])
def test_specstory_cursor_files_match_sources_md(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    users = len(re.findall(r"^_\*\*User", text, re.M))
    assistants = len(re.findall(r"^_\*\*Assistant", text, re.M))
    assert (users, assistants) == ({RESOLVER: (4, 4), LIBERAR: (2, 2)}[path])
    (conv,), skipped = items(specstory, path)
    assert skipped == []
    assert roles([conv]) == Counter(user=users, assistant=assistants)
    assert conv.extra == {"agent": "cursor"}
    assert conv.source_id == {RESOLVER: "d64938f0-bf1a-406b-97ab-4bd63e7ca60d",
                              LIBERAR: "fad6cf4a-024e-4183-b3cb-d87f25e2628f"}[path]
    assert conv.title == {RESOLVER: "Me ajude a resolver",
                          LIBERAR: "Liberar arquivo .env do globalcursorignore"}[path]
    user = conv.messages[0]
    assert user.created_at == datetime(2025, 10, 14, 22, 25, tzinfo=None).timestamp() - \
        datetime(2025, 10, 14, 22, 25).astimezone().utcoffset().total_seconds()  # type: ignore[union-attr]
    assistant = conv.messages[1]
    assert assistant.author is None  # "(default)" is Cursor's model mode, not a model
    assert assistant.text.startswith("<think><details><summary>Thought Process</summary>")
    assert not any(m.text.rstrip().endswith("\n---") for m in conv.messages)


def test_specstory_cli_files() -> None:
    (real,), _ = items(specstory, CLI_REAL)
    assert roles([real]) == Counter(user=3)
    assert real.extra == {"agent": "Claude Code"}
    assert real.title is None  # the file's title is only its timestamp: derived instead
    (made,), _ = items(specstory, CLI_MADE)
    assert [m.role for m in made.messages] == ["user"] + ["assistant"] * 5 + ["user", "assistant"]
    side = [m for m in made.messages if m.extra == {"sidechain": True}]
    assert [m.author for m in side] == [None, "claude-haiku-4-5-20251001"]
    assert made.model == "claude-opus-4-5-20251101"
    # the headings inside the fenced tool output stay text of the tool-use turn
    assert "_**Assistant (default)**_" in made.messages[2].text
    assert made.messages[1].created_at == datetime.fromisoformat(
        "2026-02-03T09:15:06+00:00").timestamp()


def test_specstory_project_is_the_folder_holding_dot_specstory(tmp_path: Path) -> None:
    hist = tmp_path / "proj" / ".specstory" / "history"
    hist.mkdir(parents=True)
    shutil.copy(CLI_MADE, hist / CLI_MADE.name)
    (conv,), _ = items(specstory, hist / CLI_MADE.name)
    assert conv.project == str((tmp_path / "proj").resolve())
    (stdin,) = specstory.parse(input_from_bytes("<stdin>", CLI_MADE.read_bytes()))
    assert isinstance(stdin, Conversation) and stdin.project is None


# --- detection ------------------------------------------------------------------------


def test_detection_by_content_both_ways() -> None:
    ours = [p for p in [*AIDER_FILES, *SPECSTORY_FILES] if p.exists()]
    for p in ours:
        want = aider if p in AIDER_FILES else specstory
        assert detect(input_from_path(p)) is want, p
        # the content decides, not the name
        assert detect(input_from_bytes("notes.txt", p.read_bytes())) is want, p
    others = [p for p in [*SHARED_FIXTURES.rglob("*"), *FIXTURES.rglob("*")]
              if p.is_file() and p not in ours and p.name != "SOURCES.md"]
    assert len(others) > 20
    for p in others:
        inp = input_from_path(p)
        assert not aider.sniff(inp), p
        assert not specstory.sniff(inp), p
    for p in ours:  # every other importer's sniff says no to these files
        for name, module in importers.IMPORTERS.items():
            if module in (aider, specstory) or name == "markdown":
                continue
            assert not module.sniff(input_from_path(p)), (name, p)
    for data in [b"", b"\n\n", b"# aider chat started", b"hello\n# aider chat started at "
                 b"2025-01-01 10:00:00\n", b"_**User**_\n\nhi\n", b"\xff\xfe\x00\x01"]:
        assert not aider.sniff(input_from_bytes("x.md", data)), data
        assert not specstory.sniff(input_from_bytes("x.md", data)), data


@pytest.mark.parametrize("module,data,why", [
    (aider, b"\x00\x01binary", "binary data"),
    (aider, b"just some notes\n", "no '# aider chat started at' line"),
    (aider, b"\n# aider chat started at 2025-01-01 10:00:00\n\xff\xfe\n", "not valid UTF-8"),
    (specstory, b"<!-- Generated by SpecStory -->\n\n# Title\n", "no _**User**_"),
    (specstory, b"<!-- Generated by SpecStory -->\n\xc3\x28", "not valid UTF-8"),
])
def test_unreadable_input_fails_cleanly(module, data: bytes, why: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportFailed) as exc:
        list(module.parse(input_from_bytes("x.md", data)))
    assert why in str(exc.value)


# --- through the CLI ----------------------------------------------------------------------


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(run_aimem("--db", str(db), "import", *args, "--json", check=True).stdout)


@needs_shared
def test_cli_detects_every_aider_and_specstory_file(db: Path) -> None:
    paths = [str(p) for p in [*AIDER_FILES, *SPECSTORY_FILES]]
    first = import_json(db, *paths)
    assert [f["format"] for f in first["files"]] == ["aider"] * 3 + ["specstory"] * 4
    assert first["conversations_added"] == 3 + 2 + 1 + 4


@needs_shared
def test_a_grown_aider_history_adds_only_the_new_messages(db: Path, tmp_path: Path) -> None:
    text = MOZGOSLAV.read_text(encoding="utf-8")
    cut = text.index("\n#### Про что проект")  # second session, after its first reply
    live = tmp_path / ".aider.chat.history.md"
    live.write_text(text[:cut + 1], encoding="utf-8")  # the second session, cut after a reply
    first = import_json(db, str(live))
    assert first["conversations_added"] == 2
    with live.open("a", encoding="utf-8") as f:  # Aider appends the rest
        f.write(text[cut + 1:])
    grown = import_json(db, str(live))
    whole = roles(items(aider, live)[0])
    assert grown["conversations_added"] == 1 and grown["conversations_updated"] == 1
    assert first["messages_added"] + grown["messages_added"] == sum(whole.values())
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    assert sorted(c["messages"] for c in listed) == sorted(
        len(c.messages) for c in items(aider, live)[0])
    assert import_json(db, str(live))["conversations_unchanged"] == 3


def test_a_grown_specstory_chat_updates_its_conversation(db: Path, tmp_path: Path) -> None:
    text = CLI_MADE.read_text(encoding="utf-8")
    live = tmp_path / "chat.md"
    live.write_text(text[:text.index("_**User (2026-02-03 09:16:40Z)**_")], encoding="utf-8")
    assert import_json(db, str(live))["messages_added"] == 6
    live.write_text(text, encoding="utf-8")  # SpecStory rewrites the whole file
    grown = import_json(db, str(live))
    assert grown["conversations_updated"] == 1 and grown["messages_added"] == 2


@needs_shared
def test_damaged_files_exit_1_and_leave_the_database(db: Path, tmp_path: Path) -> None:
    import_json(db, str(ZEN))
    before = dump_db(db)
    for name, data in [("empty.md", b""), ("garbage.md", b"\x00\xff\x13garbage"),
                       ("a.aider.chat.history.md", b"\n# aider chat started at 2025-01-01 "
                        b"10:00:00\n\n\xff\xfe bad bytes\n")]:
        bad = tmp_path / name
        bad.write_bytes(data)
        proc = run_aimem("--db", str(db), "import", str(bad), "--format",
                         "aider" if "aider" in name else "auto")
        assert proc.returncode == 1, name
        err = proc.stderr.decode()
        assert err.startswith(f"aimem: error: {bad}") and "Traceback" not in err
        assert err.count("\n") == 1
        assert dump_db(db) == before
    # a truncated history (cut in the middle of a line) still imports what is there
    cut = tmp_path / "cut.md"
    cut.write_bytes(MOZGOSLAV.read_bytes()[:5000])
    assert import_json(db, str(cut))["conversations_added"] == 2


def test_jsonl_round_trip(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "a.db") as a:
        a.import_paths([str(FENCED), str(CLI_MADE), str(CLI_REAL)])
        first = b"".join(a.export_jsonl())
    exported = tmp_path / "export.jsonl"
    exported.write_bytes(first)
    with Archive.open(tmp_path / "b.db") as b:
        report = b.import_paths([str(exported)])
        second = b"".join(b.export_jsonl())
    assert report.conversations_added == 3
    assert first == second
    assert b'"source":"aider"' in first and b'"source":"specstory"' in first
    assert b'"sidechain":true' in first


def test_sync_finds_aider_and_specstory_histories_in_added_folders(db: Path,
                                                                  tmp_path: Path) -> None:
    proj = tmp_path / "work" / "proj"
    (proj / ".specstory" / "history").mkdir(parents=True)
    shutil.copy(FENCED, proj / ".aider.chat.history.md")
    shutil.copy(CLI_MADE, proj / ".specstory" / "history" / "2026-02-03_09-15-02Z-why.md")
    (proj / ".aider.input.history").write_text("# 2026-03-01 10:00:00.1\n+hi\n")
    home = tmp_path / "h"
    env = {"HOME": str(home), "CODEX_HOME": "", "CLAUDE_CONFIG_DIR": "",
           "LLM_USER_PATH": str(home / "llm")}
    first = json.loads(run_aimem("--db", str(db), "sync", "--add", str(tmp_path / "work"),
                                 "--json", env=env, check=True).stdout)
    assert first["conversations_added"] == 2, first
    assert first["errors"] == []
    with Archive.open(db) as mem:
        projects = {c.source: c.project for c in mem.store.iter_conversations()}  # type: ignore[attr-defined]
    assert projects == {"aider": str(proj.resolve()), "specstory": str(proj.resolve())}
    second = json.loads(run_aimem("--db", str(db), "sync", "--json", env=env, check=True).stdout)
    assert second["files_changed"] == 0 and second["conversations_added"] == 0
