"""Markdown / plain text: pasted conversations on stdin, headings, notes, the fallback rules."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from aimem.importers import detect, input_from_bytes, input_from_path, markdown
from aimem.models import Conversation
from aimem.services import Archive
from aimem.timeutil import iso, to_epoch
from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

HERE = FIXTURES / "markdown"

PASTE = b"""User: What is FTS5?
Assistant: SQLite's full-text search extension.

It answers MATCH queries.
User: Thanks!
"""


def parse_bytes(data: bytes, name: str = "<stdin>") -> Conversation:
    (conv,) = list(markdown.parse(input_from_bytes(name, data)))
    assert isinstance(conv, Conversation)
    return conv


def parse_file(path: Path) -> Conversation:
    (conv,) = list(markdown.parse(input_from_path(path)))
    assert isinstance(conv, Conversation)
    return conv


def texts(c: Conversation) -> list[tuple[str, str | None, str]]:
    return [(m.role, m.author, m.text) for m in c.messages]


def import_stdin(db: Path, data: bytes, *args: str) -> dict:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "import", "-", "--json", *args, input=data, check=True)
    return json.loads(proc.stdout)


def conversations(db: Path) -> list[dict]:  # type: ignore[type-arg]
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    return [json.loads(run_aimem("--db", str(db), "show", c["id"], "--json", check=True).stdout)
            for c in listed]


# --- through the CLI with stdin --------------------------------------------------------


def test_pasted_conversation_on_stdin(db: Path) -> None:
    report = import_stdin(db, PASTE)
    assert report["files"] == [{"path": "<stdin>", "format": "markdown", "conversations": 1,
                                "memories": 0}]
    assert (report["conversations_added"], report["messages_added"]) == (1, 3)
    (conv,) = conversations(db)
    assert conv["source"] == "markdown" and conv["source_id"] is None
    assert conv["title"] == "What is FTS5?"
    assert [(m["role"], m["text"]) for m in conv["messages"]] == [
        ("user", "What is FTS5?"),
        ("assistant", "SQLite's full-text search extension.\n\nIt answers MATCH queries."),
        ("user", "Thanks!"),
    ]


def test_pasting_the_same_text_again_changes_nothing(db: Path) -> None:
    import_stdin(db, PASTE)
    before = dump_db(db)
    report = import_stdin(db, PASTE)
    assert (report["conversations_added"], report["conversations_updated"],
            report["conversations_unchanged"], report["messages_added"]) == (0, 0, 1, 0)
    assert {k: v for k, v in dump_db(db).items() if k != "import_log"} == {
        k: v for k, v in before.items() if k != "import_log"}
    # CRLF line ends (a Windows clipboard) are the same text
    report = import_stdin(db, PASTE.replace(b"\n", b"\r\n"))
    assert report["conversations_unchanged"] == 1


def test_a_longer_paste_is_a_new_conversation(db: Path) -> None:
    """No source ids: the id comes from the content, so one more turn makes another one."""
    import_stdin(db, PASTE)
    report = import_stdin(db, PASTE + b"Assistant: You're welcome.\n")
    assert (report["conversations_added"], report["conversations_updated"],
            report["messages_added"]) == (1, 0, 4)
    assert sorted(len(c["messages"]) for c in conversations(db)) == [3, 4]


def test_text_without_turns_becomes_a_note(db: Path) -> None:
    report = import_stdin(db, b"Buy milk\nand call the walrus vet on Tuesday.\n")
    assert report["files"][0]["format"] == "markdown"
    (conv,) = conversations(db)
    assert conv["title"] == "Buy milk"
    assert [(m["role"], m["text"]) for m in conv["messages"]] == [
        ("user", "Buy milk\nand call the walrus vet on Tuesday.")]


def test_json_of_an_unknown_shape_is_not_taken_for_text(db: Path) -> None:
    for data in (b'{"hello": "world"}', b'  \n[1, 2, 3]'):
        proc = run_aimem("--db", str(db), "import", "-", input=data)
        assert proc.returncode == 1
        assert proc.stderr.decode().startswith("aimem: error: <stdin>: not a recognised export")


def test_html_binary_and_empty_input_are_not_text(db: Path) -> None:
    for data in (b"<!DOCTYPE html><html><body>User: hi</body></html>",
                 b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", bytes(range(1, 32)) * 20,
                 b"\xff\xfe\xfa garbage \xc3\x28", b"   \n\t\n"):
        proc = run_aimem("--db", str(db), "import", "-", input=data)
        assert proc.returncode == 1, data
        assert proc.stderr.decode().startswith("aimem: error: <stdin>: "), data
    assert not db.exists() or dump_db(db).get("conversations") == []


def test_invalid_utf8_past_the_sniffed_head_fails_and_writes_nothing(db: Path) -> None:
    import_stdin(db, PASTE)
    before = dump_db(db)
    data = b"User: hello\nAssistant: " + b"a" * 70_000 + b"\xff\xfe\n"
    proc = run_aimem("--db", str(db), "import", "-", input=data)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err == "aimem: error: <stdin>: not valid UTF-8 text (byte 70023)\n"
    assert dump_db(db) == before


def test_files_are_detected_by_content(db: Path) -> None:
    paths = [str(p) for p in sorted(HERE.glob("*")) if p.name != "SOURCES.md"]
    proc = run_aimem("--db", str(db), "import", *paths, "--json", check=True)
    report = json.loads(proc.stdout)
    assert [f["format"] for f in report["files"]] == ["markdown"] * 4
    assert report["conversations_added"] == 4
    report = json.loads(run_aimem("--db", str(db), "import", *paths, "--json",
                                  check=True).stdout)
    assert (report["conversations_unchanged"], report["messages_added"]) == (4, 0)


def test_inside_folders_and_zips_only_conversations_are_taken(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "README.md").write_bytes((HERE / "note.md").read_bytes())
    (folder / "chat.md").write_bytes((HERE / "claude_paste.md").read_bytes())
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as zf:
        zf.write(HERE / "note.md", "notes/todo.txt")
        zf.write(HERE / "chatgpt_copied.txt", "chats/copied.txt")
    proc = run_aimem("--db", str(db), "import", str(folder), str(tmp_path / "export.zip"),
                     "--json", check=True)
    report = json.loads(proc.stdout)
    def rel(p: str) -> str:
        return p.removeprefix(f"{tmp_path}/")

    assert [(rel(f["path"]), f["format"]) for f in report["files"]] == [
        ("export/chat.md", "markdown"), ("export.zip:chats/copied.txt", "markdown")]
    assert [(rel(s["where"]), s["reason"]) for s in report["skipped"]] == [
        ("export/README.md", "plain text, not a conversation"),
        ("export.zip:notes/todo.txt", "plain text, not a conversation")]
    # the same note named directly is imported
    report = json.loads(run_aimem("--db", str(db), "import", str(folder / "README.md"),
                                  "--json", check=True).stdout)
    assert report["conversations_added"] == 1


# --- the layouts -------------------------------------------------------------------------


def test_text_copied_from_chatgpt() -> None:
    conv = parse_file(HERE / "chatgpt_copied.txt")
    assert texts(conv) == [
        ("user", None, "How do I reverse a list in Python?"),
        ("assistant", "ChatGPT", "Use slicing or the method:\n\n```python\nitems[::-1]      "
         "# a new list\nitems.reverse()  # in place\nUser: this line is inside a code block, "
         "not a turn\n```"),
        ("user", None, "And a string?"),
        ("assistant", "ChatGPT", "`s[::-1]` works for strings too."),
    ]
    assert conv.title is None  # the import service titles it from the first user message
    assert conv.extra is None and all(m.source_id is None for m in conv.messages)


def test_headings_front_matter_and_title() -> None:
    conv = parse_file(HERE / "headings.md")
    assert conv.title == "Planning a walrus deploy"
    assert conv.created_at == to_epoch("2024-05-01T12:30:00Z")
    assert (conv.model, conv.tags) == ("gpt-4o", ["walrus", "deploy"])
    assert conv.extra == {"preamble": "Pasted from a chat window."}
    assert texts(conv) == [
        ("user", None, "Why does my walrus deploy fail on Tuesdays?"),
        ("assistant", None, "Probably the weekly cron job that rotates credentials."),
        ("user", None, "How do I check that?"),
        ("assistant", "ChatGPT", "Run `kubectl get cronjobs` and compare schedules."),
    ]


def test_bold_labels_from_a_claude_paste() -> None:
    conv = parse_file(HERE / "claude_paste.md")
    assert texts(conv) == [
        ("user", None, "Give me two names for a pet pelican."),
        ("assistant", None, "Percy and Pelagia.\n\nBoth suit a dignified bird."),
        ("user", None, "One more, please."),
        ("assistant", "Claude", "Gulliver."),
    ]


def test_a_note_keeps_its_text_whole() -> None:
    conv = parse_file(HERE / "note.md")
    assert conv.title == "Server checklist"
    assert conv.extra == {"note": True}
    (msg,) = conv.messages
    assert (msg.role, msg.extra) == ("user", {"note": True})
    assert msg.text == (HERE / "note.md").read_text().strip()  # "user: admin" is no turn


@pytest.mark.parametrize("text, expected", [
    ("Human: hi\nAI: hello", [("user", None, "hi"), ("assistant", None, "hello")]),
    ("me: hi\nGEMINI: hello", [("user", None, "hi"), ("assistant", "Gemini", "hello")]),
    ("## Prompt:\nhi\n## Response:\nhello", [("user", None, "hi"), ("assistant", None, "hello")]),
    ("# User\nhi\n# Claude\nhello", [("user", None, "hi"), ("assistant", "Claude", "hello")]),
    ("User:\n\nAssistant: hello\nUser: again\nAssistant:",  # empty turns are dropped
     [("assistant", None, "hello"), ("user", None, "again")]),
    ("User: a\n~~~\nAssistant: inside a tilde fence\n~~~\nAssistant: b",
     [("user", None, "a\n~~~\nAssistant: inside a tilde fence\n~~~"), ("assistant", None, "b")]),
])
def test_turn_markers(text: str, expected: list[tuple[str, str | None, str]]) -> None:
    assert texts(parse_bytes(text.encode())) == expected


def test_only_one_side_marked_is_a_note() -> None:
    conv = parse_bytes(b"User: what was the walrus vet's number?\nI forgot it.")
    assert conv.extra == {"note": True}
    assert conv.title == "User: what was the walrus vet's number?"
    assert texts(conv) == [("user", None, "User: what was the walrus vet's number?\n"
                                          "I forgot it.")]


def test_front_matter_title_wins_and_unclosed_front_matter_is_text() -> None:
    conv = parse_bytes(b'---\ntitle: "Tides: Lisbon"\ncreated: 2024-06-02\n---\n# Heading\n'
                       b"User: high tide?\nAssistant: 09:14")
    assert conv.title == "Tides: Lisbon"
    assert conv.created_at == to_epoch("2024-06-02")
    conv = parse_bytes(b"---\ntitle: never closed\nUser: hi\nAssistant: hello")
    assert conv.title is None
    assert conv.extra == {"preamble": "---\ntitle: never closed"}


def test_aimem_markdown_export_round_trips(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Archive.open(db) as mem:
        mem.import_paths([str(HERE / "headings.md")])
        assert mem.export_markdown_dir(tmp_path / "out") == 1
    (exported,) = (tmp_path / "out").glob("*.md")
    conv = parse_file(exported)
    original = parse_file(HERE / "headings.md")
    assert conv.title == original.title
    assert conv.created_at == original.created_at and conv.model == original.model
    assert [(m.role, m.text) for m in conv.messages] == [
        (m.role, m.text) for m in original.messages]
    assert [m.author for m in conv.messages] == [None, None, None, "ChatGPT"]


def test_aimem_export_of_tool_and_system_messages_round_trips(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Archive.open(db) as mem:
        mem.import_paths([str(FIXTURES / "llm_logs" / "tools_llm0.27.1.db")])
        assert mem.export_markdown_dir(tmp_path / "out") == 3
        originals = {c["title"]: mem.show(c["id"]) for c in mem.list_conversations(None)}
    for path in sorted((tmp_path / "out").glob("*.md")):
        conv = parse_file(path)
        original = originals[conv.title]
        assert [(m.role, m.author, m.text) for m in conv.messages] == [
            (m["role"], m["author"], m["text"]) for m in original["messages"]]
        assert [iso(m.created_at) for m in conv.messages] == [  # to the minute
            m["created_at"][:16] + ":00Z" for m in original["messages"]]


# --- detection -----------------------------------------------------------------------------


def test_sniff_accepts_text_fixtures() -> None:
    for path in HERE.glob("*"):
        assert markdown.sniff(input_from_path(path)), path
        assert detect(input_from_path(path)) is markdown, path


def test_sniff_rejects_every_other_format() -> None:
    others = [p for root in (SHARED_FIXTURES, FIXTURES) for p in root.rglob("*")
              if p.is_file() and p.suffix in (".json", ".jsonl", ".db", ".html", ".zip")]
    assert len(others) > 15
    for path in others:
        assert not markdown.sniff(input_from_path(path)), path
    assert not markdown.sniff(input_from_bytes("x", b""))
    assert not markdown.sniff(input_from_bytes("x", b'\xef\xbb\xbf  {"a": 1}'))
    assert not markdown.sniff(input_from_bytes("x", b"<?xml version='1.0'?><a/>"))
    assert not markdown.sniff(input_from_bytes("x", b"  <head></head><html>"))
    # a character cut at the end of the 64 KiB head is not "invalid UTF-8"
    big = "é" * 40_000
    assert markdown.sniff(input_from_bytes("x", f"User: {big}\nAssistant: ok".encode()))
