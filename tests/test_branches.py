"""A message once imported is never silently gone (issue 12, item 6).

A re-import adds and updates; messages of the stored copy that a shorter or older copy
lacks are kept, unless the source itself says they were deleted (Codex
``thread_rolled_back``, Gemini CLI ``$rewindTo`` / a ``$set`` of messages). Tree-shaped
sources (ChatGPT, Claude.ai, Open WebUI) keep their other branches outside ``messages``:
``show --branches``, the JSONL ``branches`` field and the TUI show them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_FIXTURES, dump_db, run_aimem

REAL = SHARED_FIXTURES / "realworld"
CODEX = REAL / "codex_cli" / ("agentcmd_rollout-2025-09-25T15-12-14-"
                              "019982b8-3422-79e0-8b3b-05abaf4f3c3e.jsonl")
CLAUDE_CODE = REAL / "claude_code" / "codemie_4c2ddfdc-b619-4525-8d03-1950fb1b0257.jsonl"
GEMINI = REAL / "gemini_cli" / "codemie_session-2026-01-16T11-01-file-ops-37b7abef.json"
TREE = SHARED_FIXTURES / "chatgpt" / "librechat_chatgpt-tree.json"

needs_shared = pytest.mark.skipif(not SHARED_FIXTURES.is_dir(),
                                  reason="../shared/fixtures is not present")
pytestmark = needs_shared


def _strip_times(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_times(v) for k, v in obj.items()
                if k not in ("timestamp", "startTime", "lastUpdated")}
    if isinstance(obj, list):
        return [_strip_times(v) for v in obj]
    return obj


def codex_bare(fraction: float) -> bytes:
    """The real rollout rewritten in Codex's bare layout (≤ Sep 2025): items carry no
    timestamps. ``fraction`` keeps that share of the items (a copy cut short)."""
    recs = [json.loads(line) for line in CODEX.read_text().splitlines() if line.strip()]
    meta = next(r["payload"] for r in recs if r.get("type") == "session_meta")
    items = [r["payload"] for r in recs if r.get("type") == "response_item"]
    items = items[:int(len(items) * fraction)]
    header = {"id": meta["id"], "timestamp": meta["timestamp"], "instructions": None}
    return b"".join(json.dumps(x).encode() + b"\n" for x in [header, *items])


def claude_code_untimed(fraction: float) -> bytes:
    lines = [json.loads(x) for x in CLAUDE_CODE.read_text().splitlines() if x.strip()]
    lines = lines[:int(len(lines) * fraction)]
    return b"".join(json.dumps(_strip_times(x)).encode() + b"\n" for x in lines)


def gemini_untimed(fraction: float) -> bytes:
    session = _strip_times(json.loads(GEMINI.read_text()))
    session["messages"] = session["messages"][:int(len(session["messages"]) * fraction)]
    return json.dumps(session, indent=2).encode()


def imp(db: Path, path: Path, *extra: str) -> dict[str, Any]:
    proc = run_aimem("--db", str(db), "import", "--json", *extra, str(path), check=True)
    return json.loads(proc.stdout)


def shown(db: Path, *extra: str) -> dict[str, Any]:
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    assert len(listed) == 1
    return json.loads(run_aimem("--db", str(db), "show", listed[0]["id"], "--json", *extra,
                                check=True).stdout)


@pytest.mark.parametrize("make, fmt, suffix", [
    (codex_bare, "codex", ".jsonl"),
    (claude_code_untimed, "claude_code", ".jsonl"),
    (gemini_untimed, "gemini_cli", ".json"),
], ids=["codex", "claude_code", "gemini_cli"])
def test_a_shorter_copy_without_times_never_drops_messages(
        make: Any, fmt: str, suffix: str, db: Path, tmp_path: Path) -> None:
    full, half = tmp_path / f"full{suffix}", tmp_path / f"half{suffix}"
    full.write_bytes(make(1.0))
    half.write_bytes(make(0.5))
    first = imp(db, full, "--format", fmt)
    before = shown(db)["messages"]
    n_half = imp(tmp_path / "other.db", half, "--format", fmt)["messages_added"]
    assert 0 < n_half < len(before) == first["messages_added"]

    report = imp(db, half, "--format", fmt)
    assert shown(db)["messages"] == before  # same messages, same order, same ids
    assert report["messages_kept"] == len(before) - n_half
    assert report["conversations_unchanged"] == 1 and report["conversations_updated"] == 0
    text = run_aimem("--db", str(db), "import", "--format", fmt, str(half), check=True)
    assert f"messages kept: {len(before) - n_half}" in text.stdout.decode()

    # the other way round: the full copy completes the short one
    db2 = tmp_path / "2.db"
    imp(db2, half, "--format", fmt)
    grown = imp(db2, full, "--format", fmt)
    assert grown["conversations_updated"] == 1 and grown["messages_kept"] == 0
    assert grown["messages_added"] == len(before) - n_half
    assert shown(db2)["messages"] == before


def test_a_message_in_the_middle_missing_from_a_copy_stays_in_its_place(
        db: Path, tmp_path: Path) -> None:
    lines = codex_bare(1.0).splitlines(keepends=True)
    full, holed = tmp_path / "full.jsonl", tmp_path / "holed.jsonl"
    full.write_bytes(b"".join(lines))
    imp(db, full)
    before = shown(db)["messages"]
    # drop the item behind the 3rd stored message: Codex's positional ids stay put for the
    # ones before it, the ones after it shift (other ids): all of those are "new"
    holed.write_bytes(b"".join(lines[:3] + lines[4:]))
    report = imp(db, holed)
    after = shown(db)["messages"]
    assert report["messages_kept"] >= 1
    assert {m["id"] for m in before} <= {m["id"] for m in after}
    old_order = [m["id"] for m in after if m["id"] in {b["id"] for b in before}]
    assert old_order == [m["id"] for m in before]  # kept in their old relative order


def test_a_rewind_is_a_real_deletion_and_says_so(db: Path, tmp_path: Path) -> None:
    live = tmp_path / "session-2026-01-01T00-00-abcdef12.jsonl"
    meta = {"sessionId": "s-rw", "projectHash": "0" * 64, "startTime": "2026-01-01T00:00:00Z",
            "lastUpdated": "2026-01-01T00:05:00Z"}
    msgs = [{"id": f"m{i}", "timestamp": f"2026-01-01T00:0{i}:00Z",
             "type": "user" if i % 2 == 0 else "gemini", "content": f"turn number {i}"}
            for i in range(4)]
    live.write_text("".join(json.dumps(x) + "\n" for x in [meta, *msgs]))
    assert imp(db, live)["messages_added"] == 4
    with live.open("a") as f:
        f.write(json.dumps({"$rewindTo": "m2"}) + "\n")
    report = imp(db, live)
    assert report["messages_deleted"] == 2 and report["messages_kept"] == 0
    assert [m["text"] for m in shown(db)["messages"]] == ["turn number 0", "turn number 1"]
    assert shown(db, "--branches")["branches"] == []  # deleted means deleted


# -- tree-shaped sources: branches outside messages --------------------------------------


def chatgpt_copy(tmp_path: Path, name: str, current: str, drop: tuple[str, ...] = ()) -> Path:
    """The real tree fixture, as exported with ``current`` selected; ``drop`` removes
    subtrees (what did not exist yet when an older export was made)."""
    conv = copy.deepcopy(json.loads(TREE.read_text())[0])
    mapping = conv["mapping"]
    for node_id in drop:
        stack = [node_id]
        while stack:
            n = mapping.pop(stack.pop())
            stack += n["children"]
        for node in mapping.values():
            node["children"] = [c for c in node["children"] if c not in drop]
    conv["current_node"] = current
    out = tmp_path / name
    out.write_text(json.dumps([conv]))
    return out


STORY = "ada93f81-c4c5-4a8d-9c29-e65ad8f44b16"


def _node(prefix: str) -> str:
    return next(k for k in json.loads(TREE.read_text())[0]["mapping"] if k.startswith(prefix))


def test_chatgpt_reimport_after_an_edit_keeps_the_old_branch(db: Path, tmp_path: Path) -> None:
    story, hi_again = _node("ada93f81"), _node("aaa236a3")
    old = chatgpt_copy(tmp_path, "old.json", story, drop=(hi_again,))  # before the edit
    new = chatgpt_copy(tmp_path, "new.json", _node("f63b8e17"))  # the user edited "so cool bro"
    imp(db, old)
    old_texts = [m["text"] for m in shown(db)["messages"]]
    assert old_texts[2] == "so cool bro" and "tell me a story" in old_texts

    report = imp(db, new)
    assert report["conversations_updated"] == 1
    d = shown(db, "--branches")
    visible = [m["text"] for m in d["messages"]]
    assert visible[2:5] == ["hi again", "Hey! Welcome back. What's on your mind?",
                            "tell me a joke"]
    assert "so cool bro" not in visible  # the contract: messages are the visible branch
    off = {m["text"]: m for m in d["branches"]}
    assert set(old_texts) <= set(visible) | set(off)  # nothing of the old copy is gone
    # each off-branch message says what it follows
    assert off["so cool bro"]["parent_id"] == d["messages"][1]["id"]
    assert off["tell me a story"]["parent_id"] == off[
        "Thanks! What brings you here today?"]["id"]
    # show without --branches and the JSON of list/search never carry them
    assert "branches" not in shown(db)
    hits = json.loads(run_aimem("--db", str(db), "search", "village", "--json",
                                check=True).stdout)
    assert hits == []  # the story's text is only on the other branch: not searchable
    rich = run_aimem("--db", str(db), "show", d["id"], "--branches", check=True).stdout.decode()
    assert "other branches: 5 messages" in rich and "so cool bro" in rich
    md = run_aimem("--db", str(db), "show", d["id"], "--branches", "--markdown",
                   check=True).stdout.decode()
    assert "# Other branches (5 messages)" in md


def test_chatgpt_branch_switch_moves_messages_without_losing_any(
        db: Path, tmp_path: Path) -> None:
    story, joke = _node("ada93f81"), _node("f63b8e17")
    imp(db, chatgpt_copy(tmp_path, "a.json", joke))
    a = shown(db, "--branches")
    every = {m["id"] for m in a["messages"] + a["branches"]}
    assert len(a["messages"]) == 6 and len(a["branches"]) == 5

    report = imp(db, chatgpt_copy(tmp_path, "b.json", story))  # the user went back
    assert report["conversations_updated"] == 1 and report["messages_kept"] == 0
    b = shown(db, "--branches")
    assert [m["text"] for m in b["messages"]][2:4] == ["so cool bro",
                                                      "Thanks! What brings you here today?"]
    assert "hi again" in {m["text"] for m in b["branches"]}
    assert {m["id"] for m in b["messages"] + b["branches"]} == every
    assert not {m["id"] for m in b["messages"]} & {m["id"] for m in b["branches"]}
    # and a repeat of that import changes nothing
    assert imp(db, chatgpt_copy(tmp_path, "b2.json", story))["conversations_unchanged"] == 1


def test_jsonl_round_trip_keeps_branches(db: Path, tmp_path: Path) -> None:
    imp(db, TREE)
    first = tmp_path / "1.jsonl"
    run_aimem("--db", str(db), "export", "-o", str(first), check=True)
    line = json.loads(first.read_text().splitlines()[0])
    assert len(line["branches"]) == 5 and all("parent" in m for m in line["branches"])
    assert len(line["messages"]) == 6
    # unknown fields on a branch message are kept, never an error
    line["branches"][0]["rating"] = "thumbs-down"
    edited = tmp_path / "edited.jsonl"
    edited.write_text(json.dumps(line) + "\n")
    empty = tmp_path / "empty.db"
    imp(empty, edited)
    second = tmp_path / "2.jsonl"
    run_aimem("--db", str(empty), "export", "-o", str(second), check=True)
    assert json.loads(second.read_text()) == line
    # and the plain round trip is byte for byte
    again = tmp_path / "again.db"
    imp(again, first)
    third = tmp_path / "3.jsonl"
    run_aimem("--db", str(again), "export", "-o", str(third), check=True)
    assert third.read_bytes() == first.read_bytes()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**line, "branches": "nope"}) + "\n")
    proc = run_aimem("--db", str(tmp_path / "bad.db"), "import", str(bad))
    assert proc.returncode == 1 and b"branches must be a list" in proc.stderr


def test_forget_removes_the_branches(db: Path) -> None:
    imp(db, TREE)
    d = shown(db, "--branches")
    assert len(d["branches"]) == 5
    run_aimem("--db", str(db), "forget", d["id"], "--yes", check=True)
    rows = dump_db(db)
    assert rows["branch_messages"] == [] and rows["messages"] == []


def test_claude_ai_retries_are_kept_as_branches(db: Path, tmp_path: Path) -> None:
    def msg(uid: str, parent: str | None, sender: str, text: str, t: str) -> dict[str, Any]:
        return {"uuid": uid, "parent_message_uuid": parent, "sender": sender, "text": text,
                "content": [{"type": "text", "text": text}], "created_at": t}
    conv = {"uuid": "c-1", "name": "Retry", "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:10:00Z", "chat_messages": [
                msg("u1", "00000000-0000-4000-8000-000000000000", "human", "Name a colour",
                    "2025-01-01T00:00:00Z"),
                msg("a1", "u1", "assistant", "Red", "2025-01-01T00:01:00Z"),
                msg("a2", "u1", "assistant", "Blue", "2025-01-01T00:02:00Z")]}
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv]))
    imp(db, path)
    d = shown(db, "--branches")
    assert [m["text"] for m in d["messages"]] == ["Name a colour", "Blue"]
    assert [(m["text"], m["parent"]) for m in d["branches"]] == [("Red", "u1")]


def test_m006_applies_to_a_database_with_data(db: Path, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    from aimem.services import Archive
    from aimem.store import migrations

    names = [m.__name__ for m in migrations.MIGRATIONS]
    older = migrations.MIGRATIONS[:names.index("m006_branches")]
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", older)
        with Archive.open(db) as mem:  # the schema before m006, data written as it was then
            mem.store.execute(
                "INSERT INTO conversations (id, source, title, imported_at) "
                "VALUES ('c-old', 'jsonl', 'Before', 0)")
            mem.store.execute(
                "INSERT INTO messages (id, conversation, position, role, text) VALUES "
                "('m1', 1, 0, 'user', 'an old question'), "
                "('m2', 1, 1, 'assistant', 'an old answer')")
        assert "branch_messages" not in dump_db(db)
    report = imp(db, TREE)  # the current aimem migrates it, then imports
    assert report["conversations_added"] == 1
    rows = dump_db(db)
    assert len(rows["branch_messages"]) == 5 and len(rows["messages"]) == 2 + 6
    old = json.loads(run_aimem("--db", str(db), "show", "c-old", "--json", "--branches",
                               check=True).stdout)
    assert [m["text"] for m in old["messages"]] == ["an old question", "an old answer"]
    assert old["branches"] == []


def test_open_webui_regenerations_and_edits_are_kept_as_branches(db: Path) -> None:
    from conftest import FIXTURES

    imp(db, FIXTURES / "openwebui" / "branches.json")
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    by_title = {c["title"]: c["id"] for c in listed}
    d = json.loads(run_aimem("--db", str(db), "show", by_title["Packing for Iceland"],
                             "--json", "--branches", check=True).stdout)
    off = [(m["text"], m["parent"]) for m in d["branches"]]
    assert off == [("Layers and a good rain jacket.", "u1"), ("And for a week in Lisbon?", "a1")]
    visible = [m["text"] for m in d["messages"]]
    assert not {t for t, _ in off} & set(visible)
    # the edit follows the abandoned answer: its parent is that off-branch message
    assert d["branches"][1]["parent_id"] == d["branches"][0]["id"]
