"""Open WebUI "Export chats": the visible branch, reasoning and tool blocks, old flat layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aimem.importers import chatgpt, detect, input_from_bytes, input_from_path, openwebui
from aimem.models import Conversation, Skipped
from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

HERE = FIXTURES / "openwebui"
SHARED = SHARED_FIXTURES / "other" / "librechat_openwebui-export.json"
OWN = [SHARED, *sorted(HERE.glob("*.json"))]


def parse(path: Path) -> tuple[list[Conversation], list[Skipped]]:
    items = list(openwebui.parse(input_from_path(path)))
    return ([i for i in items if isinstance(i, Conversation)],
            [i for i in items if isinstance(i, Skipped)])


def texts(c: Conversation) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in c.messages]


def test_shared_fixture_reasoning_hidden_tool_output_split() -> None:
    convs, skipped = parse(SHARED)
    assert skipped == []
    assert [(c.source, c.source_id, c.title, c.model) for c in convs] == [
        ("openwebui", "reasoning-chat", "Chat with reasoning", "deepseek-r1"),
        ("openwebui", "tool-chat", "Chat with tool call", "gpt-4o"),
        ("openwebui", "simple-chat", "Simple linear chat", "llama3.1:latest"),
    ]
    reasoning, tool, simple = convs
    assert texts(reasoning) == [("user", "What is 15 * 17?"), ("assistant", "255")]
    assert [m.source_id for m in reasoning.messages] == ["ra1", "ra2"]
    assert [m.created_at for m in reasoning.messages] == [1700000000.0, 1700000010.0]
    assert (reasoning.created_at, reasoning.updated_at) == (1700000000.0, 1700000010.0)
    assert texts(tool) == [
        ("user", "What's the weather in Paris?"),
        ("tool", "Paris: 18C, rain"),
        ("assistant", "The weather in Paris is 18C with rain."),
    ]
    assert [m.source_id for m in tool.messages] == ["ta1", "ta2#tool1", "ta2"]
    assert tool.messages[1].author == "get_weather"  # from the structured output[]
    assert tool.messages[1].extra == {"call_id": "call_1", "arguments": '{"city":"Paris"}'}
    assert texts(simple) == [("user", "Hello"), ("assistant", "Hi there!")]
    for c in convs:
        assert c.tags == [] and c.extra is None
        for m in c.messages:
            assert "<details" not in m.text and "Let me break" not in m.text and "15 * 10" not in m.text


def test_content_blocks_without_output_give_the_same_messages() -> None:
    """Older versions have no output[]: the <details> blocks in content are parsed instead."""
    data = json.loads(SHARED.read_text())
    for chat in data:
        for msg in chat["chat"]["history"]["messages"].values():
            msg.pop("output", None)
    items = list(openwebui.parse(input_from_bytes("old.json", json.dumps(data).encode())))
    by_id = {c.source_id: c for c in items if isinstance(c, Conversation)}
    assert texts(by_id["reasoning-chat"])[1] == ("assistant", "255")
    tool = by_id["tool-chat"]
    assert texts(tool) == [
        ("user", "What's the weather in Paris?"),
        ("tool", "Paris: 18C, rain"),  # the JSON-encoded body is decoded
        ("assistant", "The weather in Paris is 18C with rain."),
    ]
    assert [m.source_id for m in tool.messages] == ["ta1", "ta2#tool1", "ta2"]  # same ids
    assert tool.messages[1].author is None  # this hand-made block names no tool


def test_branches_follow_current_id_and_split_tool_calls() -> None:
    convs, skipped = parse(HERE / "branches.json")
    assert [(s.where.rsplit(": ", 1)[-1], s.reason) for s in skipped] == [
        ("chat owu-empty", "no messages"), ("chat owu-broken", "no chat object")]
    iceland, arithmetic = convs
    assert iceland.title == "Packing for Iceland" and iceland.model == "llama3.1:8b"
    assert texts(iceland) == [
        ("user", "What should I pack for Iceland in March?"),
        ("assistant", "Thermal base layers, wool socks and a windproof shell."),
        ("user", "Do I need crampons? My route is attached."),
        ("assistant", "Let me check the trail conditions."),
        ("tool", "Laugavegur: icy, closed until June"),
        ("assistant", "Yes: the Laugavegur trail is icy; bring microspikes or crampons."),
    ]  # the first answer, the Lisbon follow-up on its branch and the reasoning are gone
    assert [m.source_id for m in iceland.messages] == ["u1", "a1b", "u2b", "a2b", "a2b#tool1",
                                                       "a2b#2"]
    assert [m.created_at for m in iceland.messages] == [
        1710000000.0, 1710000100.0, 1710000300.0, 1710000320.0, 1710000320.0, 1710000320.0]
    assert iceland.messages[1].extra == {"model": "qwen2.5:14b"}
    assert iceland.messages[2].extra == {"files": ["itinerary.pdf"]}
    tool = iceland.messages[4]
    assert tool.author == "trail_status"
    assert tool.extra == {"call_id": "call_9", "arguments": '{"trail": "Laugavegur"}'}
    assert iceland.tags == ["travel", "iceland"] and iceland.extra == {"pinned": True}
    assert (iceland.created_at, iceland.updated_at) == (1710000000.0, 1710000320.0)

    # currentId names a node that is not there: the newest leaf (the regenerated answer)
    assert texts(arithmetic) == [
        ("user", "Here is a note:\n<details><summary>spoiler</summary>it is 4</details>\n"
                 "What is 2 + 2?"),  # a plain <details> written by the user stays
        ("tool", "```python\nprint(2 + 2)\n```\n4"),
        ("assistant", "The answer is 4."),
    ]
    assert arithmetic.messages[1].author == "code_interpreter"
    assert arithmetic.messages[2].source_id == "b-a1r"
    assert arithmetic.messages[2].extra == {"status": "in_progress"}  # done: false
    assert arithmetic.extra == {"archived": True}


def test_old_flat_layout() -> None:
    (conv,), skipped = parse(HERE / "flat_legacy.json")
    assert skipped == []
    assert conv.source_id == "legacy-1" and conv.title == "Old flat chat"
    assert conv.model == "mistral:7b" and conv.tags == ["math"]
    assert texts(conv) == [("user", "Name a prime above 100."), ("assistant", "101."),
                           ("user", "Another one?"), ("assistant", "103.")]  # <think> hidden
    assert [m.source_id for m in conv.messages] == ["m1", "m2", "m3", "m4"]
    assert [m.created_at for m in conv.messages] == [1700500000.0, 1700500004.0, 1700500010.0,
                                                     1700500012.0]


def test_a_single_chat_object_and_bad_shapes() -> None:
    data = json.loads(SHARED.read_text())[2]
    (conv,) = list(openwebui.parse(input_from_bytes("one.json", json.dumps(data).encode())))
    assert isinstance(conv, Conversation) and conv.source_id == "simple-chat"
    bom = b"\xef\xbb\xbf" + SHARED.read_bytes()
    assert openwebui.sniff(input_from_bytes("bom.json", bom))
    assert len(list(openwebui.parse(input_from_bytes("bom.json", bom)))) == 3
    for data, why in [(b"", "empty file"), (b'"text"', "expected a JSON list of chats"),
                      (b'[{"id": "x", "title": "no chat"}]', "no entry has a \"chat\" object"),
                      (SHARED.read_bytes()[:2000], "truncated or malformed JSON"),
                      (b'[{"id": "x", "chat": {"history": }}]', "truncated or malformed JSON")]:
        with pytest.raises(Exception) as e:
            list(openwebui.parse(input_from_bytes("bad.json", data)))
        assert str(e.value).startswith("bad.json: ") and why in str(e.value), (data, e.value)


def test_sniff_accepts_own_files_and_rejects_every_other_format() -> None:
    for path in OWN:
        assert openwebui.sniff(input_from_path(path)), path
        assert detect(input_from_path(path)) is openwebui, path
    others = [p for root in (SHARED_FIXTURES, FIXTURES) for p in root.rglob("*")
              if p.is_file() and p not in OWN]
    assert len(others) > 20
    for path in others:
        assert not openwebui.sniff(input_from_path(path)), path
    for data in (b"", b"\x00\x01garbage", b'[{"chat_messages": [], "uuid": "u"}]',
                 b'{"conversations": [{"conversation": {"id": "c"}, "responses": []}]}'):
        assert not openwebui.sniff(input_from_bytes("x", data))
    assert not chatgpt.sniff(input_from_path(SHARED))


# --- through the real command line ---------------------------------------------------


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "import", *args, "--json", check=True)
    return json.loads(proc.stdout)


def test_cli_detects_and_search(db: Path) -> None:
    first = import_json(db, str(SHARED), str(HERE / "branches.json"), str(HERE / "flat_legacy.json"))
    assert [f["format"] for f in first["files"]] == ["openwebui"] * 3
    assert first["conversations_added"] == 6 and first["messages_added"] == 7 + 9 + 4
    assert [s["reason"] for s in first["skipped"]] == ["no messages", "no chat object"]
    shown = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    assert {c["source"] for c in shown} == {"openwebui"}
    hits = json.loads(run_aimem("--db", str(db), "search", "crampons", "--json").stdout)
    assert hits and all(h["source"] == "openwebui" for h in hits)
    assert not json.loads(run_aimem("--db", str(db), "search", "Lisbon", "--json").stdout or "[]")


def test_cli_newer_export_adds_exactly_the_new_message(db: Path, tmp_path: Path) -> None:
    import_json(db, str(SHARED))
    data = json.loads(SHARED.read_text())
    history = data[2]["chat"]["history"]
    history["messages"]["sa2"]["childrenIds"] = ["sa3"]
    history["messages"]["sa3"] = {"id": "sa3", "parentId": "sa2", "childrenIds": [],
                                  "role": "user", "content": "Tell me a walrus fact.",
                                  "timestamp": 1700002100}
    history["currentId"] = "sa3"
    data[2]["updated_at"] = 1700002100
    newer = tmp_path / "chat-export-newer.json"
    newer.write_text(json.dumps(data))
    report = import_json(db, str(newer))
    assert report["conversations_added"] == 0
    assert report["conversations_updated"] == 1 and report["conversations_unchanged"] == 2
    assert report["messages_added"] == 1
    hits = json.loads(run_aimem("--db", str(db), "search", "walrus", "--json").stdout)
    hits = [h for h in hits if "walrus" in h["text"].lower()]  # not neighbours found by context
    assert [h["source_id"] for h in hits] == ["sa3"]


def test_cli_forced_format_on_another_format_fails(db: Path) -> None:
    other = SHARED_FIXTURES / "chatgpt" / "librechat_chatgpt-export.json"
    proc = run_aimem("--db", str(db), "import", "--format", "openwebui", str(other))
    assert proc.returncode == 1
    assert proc.stderr.decode() == (f"aimem: error: {other}: not an Open WebUI export "
                                    "(no entry has a \"chat\" object)\n")
    assert not db.exists() or dump_db(db).get("conversations") == []
