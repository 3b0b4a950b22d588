"""ChatGPT exports: the visible branch, the hiding rules, zips, split files, re-import."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from aimem.importers import chatgpt, detect, input_from_bytes, input_from_path
from aimem.models import Conversation, Skipped
from aimem.services import Archive
from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

HERE = FIXTURES / "chatgpt"
SHARED_CHATGPT = SHARED_FIXTURES / "chatgpt"


def parse(path: Path) -> tuple[list[Conversation], list[Skipped]]:
    items = list(chatgpt.parse(input_from_path(path)))
    return ([i for i in items if isinstance(i, Conversation)],
            [i for i in items if isinstance(i, Skipped)])


def texts(c: Conversation) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in c.messages]


def test_real_export_with_browsing_hides_tool_traffic_and_citations() -> None:
    convs, skipped = parse(SHARED_CHATGPT / "librechat_chatgpt-export.json")
    assert skipped == []
    assert [c.title for c in convs] == ["Conversation 1. Web Search", "Conversation 2"]
    web = convs[0]
    assert [m.role for m in web.messages] == ["user", "assistant"] * 3
    for m in web.messages:
        assert "【" not in m.text and "\ue200" not in m.text
        assert not m.text.startswith("search(")  # the browser tool call is hidden
    assert all(m.source_id for m in web.messages)
    assert web.source_id and web.created_at and web.model


def test_real_tree_follows_current_node_not_every_branch() -> None:
    (conv,), _ = parse(SHARED_CHATGPT / "librechat_chatgpt-tree.json")
    data = json.loads((SHARED_CHATGPT / "librechat_chatgpt-tree.json").read_text())[0]
    mapping = data["mapping"]
    # The imported path is exactly root -> current_node, in order.
    expected, node = [], data["current_node"]
    while node in mapping:
        msg = mapping[node]["message"]
        if msg and msg["author"]["role"] in ("user", "assistant") and "".join(
                p for p in msg["content"].get("parts", []) if isinstance(p, str)).strip():
            expected.append(msg["id"])
        node = mapping[node]["parent"]
    assert [m.source_id for m in conv.messages] == expected[::-1]
    # The interrupted abandoned branch is not on the visible path.
    assert all((m.extra or {}).get("status") != "in_progress" for m in conv.messages)
    assert conv.messages[-1].source_id == data["current_node"]


def test_modern_edge_cases() -> None:
    convs, skipped = parse(SHARED_CHATGPT / "synthetic_modern_edge_cases.json")
    assert [s.reason for s in skipped] == ["no messages (entry has no mapping)"]
    by_title = {c.title: c for c in convs}
    rev = by_title["Reverse a list"]
    assert texts(rev) == [
        ("user", "How do I reverse a list in Python?\nKeep it short."),
        ("assistant", "Use `lst[::-1]` or `lst.reverse()`."),
        ("user", "And for a string, without slicing?"),
        ("assistant", "Use `''.join(reversed(s))`."),
    ]  # custom instructions, thoughts, the recap, the old edit and regeneration are gone
    assert rev.project is None and rev.extra == {"gizmo_id": rev.extra["gizmo_id"]}
    pelican = by_title["Plot and pelican"]
    assert texts(pelican) == [
        ("user", "[image]\nPlot the numbers in this screenshot."),
        ("tool", "<<ImageDisplayed>>"),
        ("assistant", "Here is the plot."),
        ("user", "Now draw a pelican. Also remember I like pelicans."),
        ("tool", "[image: a pelican]"),
        ("assistant", "Here's your pelican."),
    ]  # the code call, the DALL-E call, and the bio memory tool are hidden
    assert [m.author for m in pelican.messages if m.role == "tool"] == ["python", "dalle.text2im"]
    untitled = by_title[None]  # title: null, current_node: null -> newest leaf
    assert texts(untitled) == [("user", "hello"), ("assistant", "Once upon a ti")]
    for c in convs:
        for m in c.messages:
            assert "{'" not in m.text and "content_type" not in m.text  # no str(dict)


def test_dangling_current_node_without_root_and_project_details() -> None:
    (dangling, project), _ = parse(HERE / "edge_cases.json")
    assert texts(dangling) == [
        ("user", "Why does my walrus deploy fail on Tuesdays?"),
        ("assistant", "Probably the weekly cron job that rotates credentials."),
        ("user", "How do I check that?"),
        ("assistant", "Run kubectl get cronjobs and compare schedules."),
    ]
    assert dangling.title is None
    assert project.project == "g-p-abc123"
    assert texts(project) == [
        ("user", "When is high tide in Lisbon tomorrow?"),
        ("assistant", "High tide is at 09:14  and 21:40."),
        ("user", "Thanks!\nAnd low tide?"),
        ("assistant", "Low tide is around 03:0"),
    ]
    assert project.messages[1].extra == {"model": "gpt-4o-mini"}
    assert project.messages[3].extra == {"status": "in_progress"}


def test_sniff_tells_chatgpt_from_other_formats() -> None:
    for path in [*SHARED_CHATGPT.glob("*.json"), HERE / "edge_cases.json", HERE / "wrapped.json"]:
        assert chatgpt.sniff(input_from_path(path)), path
    others = [p for p in SHARED_FIXTURES.rglob("*") if p.is_file() and p.parent.name != "chatgpt"
              and p.suffix in (".json", ".jsonl", ".db", ".html")]
    assert others
    for path in others:
        assert not chatgpt.sniff(input_from_path(path)), path
    assert not chatgpt.sniff(input_from_bytes("x", b'[{"mapping": {}, "inserted_at": "2025"}]'))


def test_wrapper_object_is_accepted() -> None:
    convs, _ = parse(HERE / "wrapped.json")
    assert [c.title for c in convs] == ["Tide tables"]


def test_truncated_file_fails_with_a_byte_position() -> None:
    data = (SHARED_CHATGPT / "librechat_chatgpt-tree.json").read_bytes()[:5000]
    with pytest.raises(Exception) as e:
        list(chatgpt.parse(input_from_bytes("cut.json", data)))
    assert "cut.json" in str(e.value) and "truncated or malformed JSON" in str(e.value)


# --- through the import service and the CLI -----------------------------------------


def stats(db: Path) -> dict:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "stats", "--json", check=True)
    return json.loads(proc.stdout)


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "import", *args, "--json", check=True)
    return json.loads(proc.stdout)


def test_every_shared_fixture_imports(db: Path) -> None:
    paths = [str(p) for p in sorted(SHARED_CHATGPT.glob("*.json"))]
    first = import_json(db, *paths)
    assert first["conversations_added"] == 6
    assert [f["format"] for f in first["files"]] == ["chatgpt"] * 3


def test_newer_export_adds_only_new_conversations_and_messages(db: Path, tmp_path: Path) -> None:
    src = json.loads((HERE / "edge_cases.json").read_text())
    old = tmp_path / "old.json"
    old.write_text(json.dumps(src[:1]))
    import_json(db, str(old))
    # A month later: the first conversation gained a turn, and a new one exists.
    conv = src[0]
    conv["mapping"]["d-a2"]["children"] = ["d-u3"]
    conv["mapping"]["d-u3"] = {"id": "d-u3", "parent": "d-a2", "children": [], "message": {
        "id": "d-u3", "author": {"role": "user"}, "create_time": 1700000900.0,
        "content": {"content_type": "text", "parts": ["And on Wednesdays?"]}, "recipient": "all"}}
    conv["current_node"] = "d-u3"
    conv["update_time"] = 1700000900.0
    new = tmp_path / "new.json"
    new.write_text(json.dumps(src))
    report = import_json(db, str(new))
    assert report["conversations_added"] == 1
    assert report["conversations_updated"] == 1
    assert report["messages_added"] == 1 + 4  # the new turn + the new conversation's messages
    # and the older export, imported again afterwards, does not roll anything back
    report = import_json(db, str(old))
    assert report["conversations_unchanged"] == 1 and report["conversations_updated"] == 0
    hits = json.loads(run_aimem("--db", str(db), "search", "Wednesdays", "--json").stdout)
    # once (the message before it may follow: its context holds the word)
    assert [h["text"] for h in hits if "Wednesdays" in h["text"]] == ["And on Wednesdays?"]


def test_zip_export_with_account_files_and_media(db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "0123abcd-2026-01-02-03-04-05-beef.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(SHARED_CHATGPT / "synthetic_modern_edge_cases.json", "conversations.json")
        z.writestr("user.json", '{"id": "user-1", "email": "a@example.invalid"}')
        z.writestr("message_feedback.json", "[]")
        z.writestr("dalle-generations/file-abc.webp", b"RIFF....WEBP")
        z.writestr("__MACOSX/._conversations.json", b"\x00\x05\x16\x07")
        z.writestr("chat.html", "<html></html>")
    report = import_json(db, str(archive))
    assert report["conversations_added"] == 3
    reasons = {s["where"].split(":")[-1]: s["reason"] for s in report["skipped"]}
    assert reasons["user.json"] == "account data, not conversations"
    assert "no messages" in reasons[" conversation 00000000-0000-4000-8000-00000000000d"]
    assert stats(db)["conversations"] == 3


def test_split_export_in_a_folder_and_in_a_zip(db: Path, tmp_path: Path) -> None:
    report = import_json(db, str(HERE / "split"))
    assert report["conversations_added"] == 2
    assert [Path(f["path"]).name for f in report["files"]] == ["conversations-000.json",
                                                              "conversations-001.json"]
    archive = tmp_path / "split.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in (HERE / "split").iterdir():
            z.write(p, f"export/{p.name}")
    again = import_json(db, str(archive))
    assert again["conversations_unchanged"] == 2 and again["conversations_added"] == 0


@pytest.mark.parametrize("make, why", [
    (lambda p: p.write_bytes((SHARED_CHATGPT / "librechat_chatgpt-tree.json").read_bytes()[:6000]),
     "truncated or malformed JSON"),
    (lambda p: p.write_text('{"hello": "world"}'), "not a recognised export"),
    (lambda p: p.write_bytes(bytes(range(256)) * 40), "not a recognised export"),
    (lambda p: p.write_bytes(b""), "empty file"),
])
def test_bad_input_exits_1_and_leaves_the_database_as_it_was(db: Path, tmp_path: Path, make,  # type: ignore[no-untyped-def]
                                                             why: str) -> None:
    import_json(db, str(SHARED_CHATGPT / "librechat_chatgpt-tree.json"))
    before = dump_db(db)
    bad = tmp_path / "conversations.json"
    make(bad)
    proc = run_aimem("--db", str(db), "import", str(SHARED_CHATGPT / "librechat_chatgpt-export.json"),
                     str(bad))
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("aimem: error: ")
    assert str(bad) in err and why in err
    assert "Traceback" not in err and proc.stdout == b""
    assert dump_db(db) == before


def test_zip_without_conversations_and_missing_path(db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("user.json", "{}")
        z.writestr("image.png", b"\x89PNG")
    for arg, why in [(str(archive), "no recognised export in it"),
                     (str(tmp_path / "nope.json"), "no such file or directory")]:
        proc = run_aimem("--db", str(db), "import", arg)
        assert proc.returncode == 1
        assert proc.stderr.decode() == f"aimem: error: {arg}: {why}\n"
    assert not db.exists() or dump_db(db).get("conversations") == []


def test_dry_run_reports_but_writes_nothing(db: Path, tmp_path: Path) -> None:
    import_json(db, str(HERE / "wrapped.json"))
    before = dump_db(db)
    report = import_json(db, str(HERE / "edge_cases.json"), "--dry-run")
    assert report["dry_run"] is True
    assert report["conversations_added"] == 1 and report["conversations_unchanged"] == 1
    assert dump_db(db) == before
    fresh = tmp_path / "fresh.db"
    report = import_json(fresh, str(HERE / "edge_cases.json"), "--dry-run")
    assert report["conversations_added"] == 2 and not fresh.exists()


def test_forced_format_and_detection(db: Path) -> None:
    assert detect(input_from_path(HERE / "edge_cases.json")) is chatgpt
    proc = run_aimem("--db", str(db), "import", "--format", "jsonl", str(HERE / "edge_cases.json"))
    assert proc.returncode == 1 and "line 1 is not valid JSON" in proc.stderr.decode()
    proc = run_aimem("--db", str(db), "import", "--format", "nosuch", str(HERE / "edge_cases.json"))
    assert proc.returncode == 1 and "unknown format 'nosuch'" in proc.stderr.decode()


def test_stdin_import(db: Path) -> None:
    data = (HERE / "wrapped.json").read_bytes()
    report = json.loads(run_aimem("--db", str(db), "import", "-", "--json", input=data,
                                  check=True).stdout)
    assert report["conversations_added"] == 1


def test_python_api_import(tmp_path: Path) -> None:
    shutil.copy(HERE / "edge_cases.json", tmp_path / "conversations.json")
    mem = Archive.open(tmp_path / "api.db")
    report = mem.import_paths([str(tmp_path / "conversations.json")])
    assert report.conversations_added == 2
    hits = mem.search("walrus")
    assert hits and hits[0]["title"] == "Why does my walrus deploy fail on Tuesdays?"


def test_byte_order_mark_is_tolerated(db: Path, tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + (HERE / "wrapped.json").read_bytes())
    assert import_json(db, str(bom))["conversations_added"] == 1


def test_zips_inside_a_folder_are_expanded(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    for name, src in (("batch-0000.zip", "edge_cases.json"), ("batch-0001.zip", "wrapped.json")):
        with zipfile.ZipFile(folder / name, "w") as z:
            z.write(HERE / src, "conversations.json")
    report = import_json(db, str(folder))
    assert len(report["files"]) == 2
    assert report["conversations_added"] == 2 and report["conversations_unchanged"] == 1


def _single_object() -> dict:  # type: ignore[type-arg]
    return json.loads((SHARED_CHATGPT / "librechat_chatgpt-tree.json").read_text())[0]


def test_single_conversation_object_is_detected_and_forced(db: Path, tmp_path: Path) -> None:
    """What browser exporters and the backend API save: one conversation, no list around it."""
    if not SHARED_CHATGPT.is_dir():
        pytest.skip("../shared/fixtures is absent")
    conv = _single_object()
    src = tmp_path / "one.json"
    src.write_text(json.dumps(conv, indent=2))
    (expected,), _ = parse(SHARED_CHATGPT / "librechat_chatgpt-tree.json")
    report = json.loads(run_aimem("--db", str(db), "import", str(src), "--json",
                                  check=True).stdout)
    assert report["files"][0]["format"] == "chatgpt"
    assert report["conversations_added"] == 1
    assert report["messages_added"] == len(expected.messages)
    # the same conversation inside a full export is the same conversation: nothing changes
    full = json.loads(run_aimem("--db", str(db), "import",
                                str(SHARED_CHATGPT / "librechat_chatgpt-tree.json"), "--json",
                                check=True).stdout)
    assert full["conversations_unchanged"] == 1 and full["messages_added"] == 0
    other = tmp_path / "forced.db"
    forced = json.loads(run_aimem("--db", str(other), "import", str(src), "--format", "chatgpt",
                                  "--json", check=True).stdout)
    assert forced["conversations_added"] == 1
    again = json.loads(run_aimem("--db", str(other), "import", str(src), "--json",
                                 check=True).stdout)
    assert again["conversations_unchanged"] == 1
    assert detect(input_from_path(src)) is chatgpt


def test_missing_current_node_and_children_that_are_not_in_the_mapping(db: Path,
                                                                       tmp_path: Path) -> None:
    """A cut export: current_node and the leaf's children are gone, the root too."""
    def node(nid: str, parent: str, children: list[str], role: str, text: str,
             t: float) -> dict:  # type: ignore[type-arg]
        return {"id": nid, "parent": parent, "children": children, "message": {
            "id": nid, "author": {"role": role}, "create_time": t,
            "content": {"content_type": "text", "parts": [text]}}}
    conv = {"title": "cut", "create_time": 1.0, "conversation_id": "cut-1",
            "current_node": "n9", "mapping": {
                "n1": node("n1", "n0", ["n2"], "user", "first question", 1.0),
                "n2": node("n2", "n1", ["n3", "n2b"], "assistant", "first answer", 2.0),
                "n3": node("n3", "n2", ["n9"], "user", "second question", 3.0),
                "n2b": node("n2b", "n2", [], "user", "older edit", 2.5)}}
    src = tmp_path / "conversations.json"
    src.write_text(json.dumps([conv]))
    proc = run_aimem("--db", str(db), "import", str(src), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    out = json.loads(run_aimem("--db", str(db), "export", check=True).stdout)
    assert [(m["role"], m["text"]) for m in out["messages"]] == [
        ("user", "first question"), ("assistant", "first answer"), ("user", "second question")]
    again = json.loads(run_aimem("--db", str(db), "import", str(src), "--json",
                                 check=True).stdout)
    assert again["conversations_unchanged"] == 1


def test_zip_with_only_a_readme_is_not_an_export(db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "This archive holds your data.\nThanks for using us.\n")
    proc = run_aimem("--db", str(db), "import", str(archive))
    assert proc.returncode == 1
    assert proc.stderr.decode() == f"aimem: error: {archive}: no recognised export in it\n"
    assert not db.exists() or dump_db(db).get("conversations") == []
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.md").write_text("# Notes\n\nJust some notes.\n")
    proc = run_aimem("--db", str(db), "import", str(folder))
    assert proc.returncode == 1
    # plain text with turn markers inside a zip is still a conversation
    chat = tmp_path / "chat.zip"
    with zipfile.ZipFile(chat, "w") as z:
        z.writestr("chat.md", "User: hello there\nAssistant: hi, how can I help?\n")
    report = json.loads(run_aimem("--db", str(db), "import", str(chat), "--json",
                                  check=True).stdout)
    assert report["conversations_added"] == 1


@pytest.mark.parametrize("cut", [40, 300, 2000])
def test_truncated_single_object_says_truncated(db: Path, tmp_path: Path, cut: int) -> None:
    if not SHARED_CHATGPT.is_dir():
        pytest.skip("../shared/fixtures is absent")
    src = tmp_path / "cut.json"
    src.write_bytes(json.dumps(_single_object(), indent=2).encode()[:cut])
    proc = run_aimem("--db", str(db), "import", str(src))
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err.startswith(f"aimem: error: {src}: truncated") and err.count("\n") == 1, err
