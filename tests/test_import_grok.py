"""Grok / xAI exports: Mongo dates, unordered responses, regenerations and edits."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from aimem.importers import chatgpt, detect, grok, input_from_bytes, input_from_path
from aimem.models import Conversation, Skipped
from conftest import FIXTURES, SHARED_FIXTURES, run_aimem

HERE = FIXTURES / "grok"
SHARED = SHARED_FIXTURES / "other" / "synthetic_grok_prod-grok-backend.json"
OWN = [SHARED, *sorted(HERE.glob("*.json"))]


def parse(path: Path) -> tuple[list[Conversation], list[Skipped]]:
    items = list(grok.parse(input_from_path(path)))
    return ([i for i in items if isinstance(i, Conversation)],
            [i for i in items if isinstance(i, Skipped)])


def texts(c: Conversation) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in c.messages]


def test_shared_fixture_regeneration_keeps_the_newest_answer() -> None:
    (conv,), skipped = parse(SHARED)
    assert skipped == []
    assert conv.source == "grok" and conv.source_id == "c7a1e2f0-0000-4000-8000-000000000001"
    assert conv.title == "Tide tables" and conv.model == "grok-4"
    assert texts(conv) == [
        ("user", "When is high tide in Brest tomorrow?"),
        ("assistant", "High tide: 06:41 and 19:06."),
    ]  # r-002 and r-003 answer the same prompt: r-003 is the newer regeneration
    assert [m.source_id for m in conv.messages] == ["r-001", "r-003"]
    assert [m.author for m in conv.messages] == [None, "grok-4"]
    assert [m.created_at for m in conv.messages] == [1775718694.833, 1775718760.0]
    assert conv.created_at == 1775718694.833912  # ISO with microseconds
    assert conv.updated_at == 1775718900.0
    assert conv.summary is None and conv.extra is None
    assert all("Check tide tables" not in m.text for m in conv.messages)  # thinking_trace


def test_unordered_unlinked_responses_and_an_edited_first_prompt() -> None:
    convs, skipped = parse(HERE / "edge_cases.json")
    assert [(s.where.rsplit(": ", 1)[-1], s.reason) for s in skipped] == [
        ("conversation g-linear, response 2", "not a response object"),
        ("conversation g-linear, response 4", "not a response object"),
        ("conversation g-empty", "no responses"),
    ]
    linear, edited = convs
    # no parent_response_id anywhere: one thread, sorted by the three kinds of $date
    assert texts(linear) == [
        ("user", "How do I keep a sourdough starter alive?"),
        ("assistant", "Feed it daily at room temperature."),
        ("user", "Draw me one."),
        ("assistant", "[image]"),
    ]
    assert [m.source_id for m in linear.messages] == ["s-1", "s-3", "s-4", "s-5"]
    assert [m.created_at for m in linear.messages] == [1738404005.0, 1738404010.0,
                                                       1738404030.0, 1738404040.0]
    assert [m.author for m in linear.messages] == [None, "grok-3", None, "grok-3"]
    assert linear.model == "grok-3"  # from a sender naming the model
    assert [m.extra for m in linear.messages] == [
        {"attachments": 1}, None, None, {"generated_images": 1, "status": "partial"}]
    # two roots: the edited first prompt is newer, its branch is the one shown
    assert texts(edited) == [("user", "Capital of New Zealand?"), ("assistant", "Wellington.")]
    assert edited.messages[1].extra == {"citations": ["https://example.org/nz"]}
    assert edited.summary == "Asked for a capital, then edited the question."
    assert edited.extra == {"starred": True}
    assert (edited.created_at, edited.updated_at) == (1740816000.0, 1740816300.0)


def test_bad_shapes_fail_with_a_reason() -> None:
    empty_account = b'{"conversations": [], "projects": [], "media_posts": [], "tasks": []}'
    assert grok.sniff(input_from_bytes("e.json", empty_account))
    assert list(grok.parse(input_from_bytes("e.json", empty_account))) == []
    bom = b"\xef\xbb\xbf" + SHARED.read_bytes()
    assert grok.sniff(input_from_bytes("bom.json", bom))
    assert len(list(grok.parse(input_from_bytes("bom.json", bom)))) == 1
    for data, why in [(b"", "empty file"), (b"[1, 2]", "expected a JSON object"),
                      (b'{"hello": "world"}', 'no "conversations" list'),
                      (b'{"conversations": [{"title": "x"}]}', "no entry has a conversation"),
                      (SHARED.read_bytes()[:1500], "truncated or malformed JSON")]:
        with pytest.raises(Exception) as e:
            list(grok.parse(input_from_bytes("bad.json", data)))
        assert str(e.value).startswith("bad.json: ") and why in str(e.value), (data, e.value)


def test_sniff_accepts_own_files_and_rejects_every_other_format() -> None:
    for path in OWN:
        assert grok.sniff(input_from_path(path)), path
        assert detect(input_from_path(path)) is grok, path
        assert not chatgpt.sniff(input_from_path(path)), path
    others = [p for root in (SHARED_FIXTURES, FIXTURES) for p in root.rglob("*")
              if p.is_file() and p not in OWN]
    assert len(others) > 20
    for path in others:
        assert not grok.sniff(input_from_path(path)), path
    for data in (b'{"conversations": []}', b'{"conversations": [{"mapping": {}}]}',
                 b'{"id": "x", "chat": {"history": {}}}'):
        assert not grok.sniff(input_from_bytes("x", data))


# --- through the real command line ---------------------------------------------------


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "import", *args, "--json", check=True)
    return json.loads(proc.stdout)


def test_cli_account_zip_detects_and_skips_account_data(db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "xai-export.zip"
    folder = "0f3c9a2e-1b4d-4c8e-9f00-1234567890ab"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(HERE / "edge_cases.json", f"{folder}/prod-grok-backend.json")
        z.writestr(f"{folder}/prod-mc-auth-mgmt-api.json", '{"user": {"email": "a@example.invalid"}}')
        z.writestr(f"{folder}/prod-mc-billing.json", '{"subscriptions": []}')
        z.writestr(f"{folder}/prod-mc-asset-server/asset-1/content", b"\x89PNG\r\n\x1a\n\x00")
    first = import_json(db, str(archive), str(SHARED))
    assert [f["format"] for f in first["files"]] == ["grok", "grok"]
    assert first["conversations_added"] == 3 and first["messages_added"] == 4 + 2 + 2
    skipped = {s["where"].rsplit("/", 1)[-1] for s in first["skipped"]}
    assert {"prod-mc-auth-mgmt-api.json", "prod-mc-billing.json"} <= skipped
    assert "content" not in skipped  # attachments under prod-mc-asset-server/: skipped silently
    assert not json.loads(run_aimem("--db", str(db), "search", "Canberra", "--json").stdout
                          or "[]")  # the abandoned first prompt's answer


def test_cli_newer_export_adds_exactly_the_new_message(db: Path, tmp_path: Path) -> None:
    import_json(db, str(SHARED))
    data = json.loads(SHARED.read_text())
    conv = data["conversations"][0]
    conv["responses"].append({"response": {
        "_id": "r-004", "conversation_id": conv["conversation"]["id"],
        "message": "Is a walrus safe on the beach at low tide?", "sender": "human",
        "create_time": {"$date": {"$numberLong": "1775718800000"}},
        "parent_response_id": "r-003"}, "share_link": None})
    newer = tmp_path / "prod-grok-backend.json"
    newer.write_text(json.dumps(data))
    report = import_json(db, str(newer))
    assert report["conversations_added"] == 0 and report["conversations_updated"] == 1
    assert report["messages_added"] == 1
    hits = json.loads(run_aimem("--db", str(db), "search", "walrus", "--json").stdout)
    hits = [h for h in hits if "walrus" in h["text"].lower()]  # not neighbours found by context
    assert [(h["source"], h["source_id"], h["role"]) for h in hits] == [
        ("grok", "r-004", "user")]


def _ids_export(*responses: dict) -> dict:  # type: ignore[type-arg]
    """An export whose ids are conversation_id / response_id (no id / _id anywhere)."""
    return {"conversations": [{"conversation": {
        "conversation_id": "conv-77", "title": "Tides", "create_time": "2025-03-01T10:00:00Z",
        "modify_time": "2025-03-01T10:05:00Z"},
        "responses": [{"response": r} for r in responses]}],
        "projects": [], "media_posts": [], "tasks": []}


def _resp(rid: str, parent: str, sender: str, text: str, ms: int) -> dict:  # type: ignore[type-arg]
    return {"response_id": rid, "conversation_id": "conv-77", "parent_response_id": parent,
            "sender": sender, "message": text,
            "create_time": {"$date": {"$numberLong": str(1740823200000 + ms)}}}


def test_cli_conversation_id_and_response_id_are_the_source_ids(db: Path, tmp_path: Path) -> None:
    q = _resp("r1", "", "human", "When is high tide in Porto?", 0)
    first = _resp("r2", "r1", "assistant", "At 09:10 and 21:30.", 1000)
    regen = _resp("r3", "r1", "assistant", "High tide in Porto is at 09:12.", 5000)
    old = tmp_path / "old" / "prod-grok-backend.json"
    old.parent.mkdir()
    old.write_text(json.dumps(_ids_export(q, first)))
    report = import_json(db, str(old))
    assert report["conversations_added"] == 1 and report["messages_added"] == 2
    follow = _resp("r4", "r3", "human", "And low tide?", 9000)
    new = tmp_path / "new" / "prod-grok-backend.json"
    new.parent.mkdir()
    new.write_text(json.dumps(_ids_export(q, first, regen, follow)))
    report = import_json(db, str(new))
    assert report["conversations_added"] == 0 and report["conversations_updated"] == 1
    out = [json.loads(line) for line in run_aimem("--db", str(db), "export",
                                                   check=True).stdout.splitlines()]
    assert len(out) == 1 and out[0]["source_id"] == "conv-77"
    # the regenerated answer replaced the first one on the visible thread
    assert [(m["source_id"], m["text"]) for m in out[0]["messages"]] == [
        ("r1", "When is high tide in Porto?"), ("r3", "High tide in Porto is at 09:12."),
        ("r4", "And low tide?")]
    again = import_json(db, str(new))
    assert again["conversations_unchanged"] == 1 and again["messages_added"] == 0
