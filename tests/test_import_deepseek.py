"""DeepSeek exports: told apart from ChatGPT, fragments, the path to the newest leaf."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from aimem.importers import chatgpt, deepseek, detect, input_from_bytes, input_from_path
from aimem.models import Conversation, Skipped
from conftest import FIXTURES, SHARED_FIXTURES, run_aimem

HERE = FIXTURES / "deepseek"
SHARED = SHARED_FIXTURES / "other" / "synthetic_deepseek_conversations.json"
OWN = [SHARED, *sorted(HERE.glob("*.json"))]


def parse(path: Path) -> tuple[list[Conversation], list[Skipped]]:
    items = list(deepseek.parse(input_from_path(path)))
    return ([i for i in items if isinstance(i, Conversation)],
            [i for i in items if isinstance(i, Skipped)])


def texts(c: Conversation) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in c.messages]


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def test_shared_fixture_newest_leaf_path() -> None:
    (conv,), skipped = parse(SHARED)
    assert skipped == []
    assert conv.source == "deepseek" and conv.source_id == "74ae7ef3-306e-4002-976e-cd4604acd90f"
    assert conv.title == "Reverse a string"
    # root -> 1 -> 3 -> 4: the first answer (node 2, with its THINK) was regenerated
    assert texts(conv) == [
        ("user", "How do I reverse a string in Python?"),
        ("assistant", "`''.join(reversed(s))` also works."),
        ("user", "Thanks! See attached."),
    ]
    assert [m.source_id for m in conv.messages] == ["1", "3", "4"]
    assert conv.model == "deepseek-chat"  # the answer's model, not the request's
    assert [m.extra for m in conv.messages] == [None, None, {"files": ["notes.txt"]}]
    # +08:00 offsets normalised to UTC epoch seconds
    assert conv.created_at == ts("2025-04-29T03:59:11.635+00:00") == 1745899151.635
    assert conv.updated_at == 1745901851.402
    assert [m.created_at for m in conv.messages] == [1745899153.202, 1745901600.0, 1745901851.402]
    assert all("Slicing" not in m.text and "s[::-1]" not in m.text for m in conv.messages)


def test_request_and_response_in_one_node_search_and_skips() -> None:
    (conv,), skipped = parse(HERE / "edge_cases.json")
    assert [(s.where.rsplit(": ", 1)[-1], s.reason) for s in skipped] == [
        ("conversation ds-empty-0002", "no visible messages"),
        ("conversation ds-broken-0003", "no messages (entry has no mapping)"),
    ]
    assert conv.title == "Python 3.14 news" and conv.model == "deepseek-chat"
    assert texts(conv) == [
        ("user", "What's new in Python 3.14?"),
        ("assistant", "Python 3.14 adds template strings and deferred annotations."),
        ("user", "[file: scan.png]"),
        ("assistant", "That scan shows a receipt for 3 coffees."),
    ]  # citation badges stripped; THINK, SEARCH and the abandoned edit (node 4) left out
    assert [m.source_id for m in conv.messages] == ["1", "1#2", "2", "3"]
    assert [m.extra for m in conv.messages] == [
        None, {"sources": ["https://example.org/whatsnew"]}, {"files": ["scan.png"]},
        {"model": "deepseek-reasoner"}]
    assert conv.messages[0].created_at == conv.messages[1].created_at == ts(
        "2025-06-01T09:00:01+08:00")


def test_wrapper_old_message_shape_and_bad_shapes() -> None:
    data = {"conversations": [{"id": "w", "title": "Old", "inserted_at": "2025-01-01T00:00:00Z",
                               "mapping": {
                                   "root": {"id": "root", "parent": None, "children": ["a"],
                                            "message": None},
                                   "a": {"id": "a", "parent": "root", "children": ["b"],
                                         "message": {"role": "USER", "content": "hi",
                                                     "inserted_at": "2025-01-01T00:00:01Z"}},
                                   "b": {"id": "b", "parent": "a", "children": [],
                                         "message": {"role": "ASSISTANT", "content": "hello",
                                                     "thinking_content": "be nice",
                                                     "inserted_at": "2025-01-01T00:00:02Z"}}}}]}
    raw = json.dumps(data).encode()
    assert deepseek.sniff(input_from_bytes("w.json", raw))
    (conv,) = list(deepseek.parse(input_from_bytes("w.json", raw)))
    assert isinstance(conv, Conversation)
    assert texts(conv) == [("user", "hi"), ("assistant", "hello")]
    for data, why in [(b"", "empty file"), (b'"x"', "expected a JSON list"),
                      (b'[{"id": "x", "title": "no tree"}]', "no entry has a mapping"),
                      (SHARED.read_bytes()[:1200], "truncated or malformed JSON")]:
        with pytest.raises(Exception) as e:
            list(deepseek.parse(input_from_bytes("bad.json", data)))
        assert str(e.value).startswith("bad.json: ") and why in str(e.value), (data, e.value)


def test_told_apart_from_chatgpt_both_ways() -> None:
    for path in OWN:
        assert deepseek.sniff(input_from_path(path)), path
        assert not chatgpt.sniff(input_from_path(path)), path
        assert detect(input_from_path(path)) is deepseek, path
    chatgpt_files = [*(SHARED_FIXTURES / "chatgpt").glob("*.json"),
                     *(FIXTURES / "chatgpt").rglob("*.json")]
    assert len(chatgpt_files) >= 5
    for path in chatgpt_files:
        assert not deepseek.sniff(input_from_path(path)), path
    others = [p for root in (SHARED_FIXTURES, FIXTURES) for p in root.rglob("*")
              if p.is_file() and p not in OWN]
    for path in others:
        assert not deepseek.sniff(input_from_path(path)), path
    assert not deepseek.sniff(input_from_bytes("x", b'[{"mapping": {}, "create_time": 1.0}]'))
    assert deepseek.sniff(input_from_bytes("x", b'[{"mapping": {}, "inserted_at": "2025"}]'))


# --- through the real command line ---------------------------------------------------


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "import", *args, "--json", check=True)
    return json.loads(proc.stdout)


def test_cli_zip_detects_and_skips_account_data(db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "deepseek_data-2025-06-10.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(SHARED, "conversations.json")
        z.writestr("user.json", '{"mobile": "+00 000", "email": "a@example.invalid"}')
    first = import_json(db, str(archive), str(HERE / "edge_cases.json"))
    assert [f["format"] for f in first["files"]] == ["deepseek"] * 2
    assert first["conversations_added"] == 2 and first["messages_added"] == 3 + 4
    reasons = sorted(s["reason"] for s in first["skipped"])
    assert reasons == ["account data, not conversations", "no messages (entry has no mapping)",
                       "no visible messages"]
    assert not json.loads(run_aimem("--db", str(db), "search", "Slicing", "--json").stdout or "[]")


def test_cli_newer_export_adds_exactly_the_new_message(db: Path, tmp_path: Path) -> None:
    import_json(db, str(SHARED))
    data = json.loads(SHARED.read_text())
    mapping = data[0]["mapping"]
    mapping["4"]["children"] = ["5"]
    mapping["5"] = {"id": "5", "parent": "4", "children": [], "message": {
        "files": [], "model": "deepseek-chat", "inserted_at": "2025-04-29T12:45:00.000000+08:00",
        "fragments": [{"type": "THINK", "content": "Read the notes."},
                      {"type": "RESPONSE", "content": "Your notes mention a walrus."}]}}
    data[0]["updated_at"] = "2025-04-29T12:45:00.000000+08:00"
    newer = tmp_path / "conversations.json"
    newer.write_text(json.dumps(data))
    report = import_json(db, str(newer))
    assert report["conversations_added"] == 0 and report["conversations_updated"] == 1
    assert report["messages_added"] == 1
    hits = json.loads(run_aimem("--db", str(db), "search", "walrus", "--json").stdout)
    hits = [h for h in hits if "walrus" in h["text"].lower()]  # not neighbours found by context
    assert [(h["source"], h["source_id"], h["role"]) for h in hits] == [
        ("deepseek", "5", "assistant")]


