"""Claude.ai exports: both layouts, the visible branch, blocks, memories, projects, re-import."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from aimem.errors import ImportFailed
from aimem.importers import claude, detect, input_from_bytes, input_from_path
from aimem.models import Conversation, MemoryItem, Skipped
from aimem.timeutil import to_epoch
from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

HERE = FIXTURES / "claude"
SHARED_CLAUDE = SHARED_FIXTURES / "claude_ai"
REAL = SHARED_CLAUDE / "simonw_claude-to-sqlite_artifacts_2024-10.json"
NEW = HERE / "conversations_2026.json"
PLACEHOLDERS = ("not supported on your current device", "isn\u2019t yet supported on mobile")


def parse_all(inp) -> tuple[list[Conversation], list[MemoryItem], list[Skipped]]:  # type: ignore[no-untyped-def]
    items = list(claude.parse(inp))
    return ([i for i in items if isinstance(i, Conversation)],
            [i for i in items if isinstance(i, MemoryItem)],
            [i for i in items if isinstance(i, Skipped)])


def parse(path: Path) -> tuple[list[Conversation], list[MemoryItem], list[Skipped]]:
    return parse_all(input_from_path(path))


def texts(c: Conversation) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in c.messages]


# --- the real 2024 export (old text-only layout) -------------------------------------


def test_real_2024_export_restores_order_and_keeps_artifacts_as_markers() -> None:
    (conv,), memories, skipped = parse(REAL)
    assert memories == [] and skipped == []
    assert conv.title == "LLM Pricing Calculator"
    assert conv.source == "claude" and conv.source_id == "91098bc8-f2c4-427b-b71b-1e25efa2e871"
    assert conv.created_at == to_epoch("2024-10-17T03:28:33.480257Z")
    assert conv.updated_at == to_epoch("2024-10-17T03:47:12.635369Z")
    assert conv.model is None and conv.project is None and conv.summary is None
    # Array order is not chronological; sorting by (created_at, human first) restores
    # strict alternation, starting with the first question.
    assert [m.source_id[:8] for m in conv.messages] == [  # type: ignore[index]
        "287b1868", "5e3e08cb", "f3d5450e", "7d4445e2", "dfa84b16", "5fd78d7e", "083850f6",
        "abcb904f", "6b8ffb4e", "4f0bbc81", "b5f146b3", "67427317", "963fbfff", "10f71281",
        "80de7d0d", "6ec5a54c", "6a0d78ef", "ee5c339f", "3efe0913", "f976a5e8"]
    assert [m.role for m in conv.messages] == ["user", "assistant"] * 10
    first, answer = conv.messages[:2]
    assert first.text.startswith("Built me an artifact with no react that is a pricing calculator")
    assert first.created_at == answer.created_at == to_epoch("2024-10-17T03:28:55.541307Z")
    # The leading space of old assistant text is gone; the artifact tag became a marker
    # followed by its code; the hidden <antThinking> reasoning is not imported.
    assert answer.text.startswith("Certainly! I'll create an HTML artifact with a pricing calculator")
    assert "\n\n[artifact: LLM Pricing Calculator]\n```html\n<!DOCTYPE html>" in answer.text
    assert "</html>\n```\n\nI've created an HTML artifact" in answer.text
    for m in conv.messages:
        assert "<antThinking>" not in m.text and "This request is suitable for an artifact" \
            not in m.text
        assert "<antArtifact" not in m.text and "</antArtifact>" not in m.text
    assert sum(m.text.count("[artifact: ") for m in conv.messages) == 10
    assert "[artifact: LLM Pricing Calculator with Responsive Layout and Refined Output]" in \
        conv.messages[-1].text
    # Screenshots are not in the export: five file markers after the question.
    presets = conv.messages[6]
    assert presets.text.startswith("Add a onkeyup event too")
    assert presets.text.endswith("ignore prompt caching prices\n\n" + "\n".join(
        f"[file: CleanShot 20241016 at 20.{t}2x.png]"
        for t in ("34.12", "34.33", "34.53", "35.23", "37.01")))


# --- the newer layout (synthetic) ----------------------------------------------------


def test_newer_layout_visible_branch_blocks_tools_and_attachments() -> None:
    convs, memories, skipped = parse(NEW)
    assert memories == []
    walrus = convs[0]
    assert walrus.title == "Walrus deploy on Tuesdays"
    assert walrus.source_id == "c0a10000-0000-4000-8000-000000000001"
    assert walrus.summary == ("**Conversation Overview**\n\nThe user traced a failing Tuesday "
                              "deploy to a credential-rotation cron job.")
    assert walrus.created_at == to_epoch("2026-03-02T09:00:00Z")
    assert walrus.updated_at == to_epoch("2026-03-02T09:16:00Z")
    assert texts(walrus) == [
        ("user", "Why does my walrus deploy fail on Tuesdays? Log attached.\n\n"
                 "[attachment: deploy.log]\n02:00 cron: rotate-credentials started\n"
                 "02:01 deploy: 401 Unauthorized from the registry\n\n[file: dashboard.png]"),
        ("assistant", "The log shows a 401 right after the credential-rotation cron job runs."),
        ("user", "How do I check which cron jobs run on Tuesday?"),  # the edit, not m3
        ("assistant", "Let me look that up.\n\n[tool: web_search: kubectl list cronjobs schedule]"
                      "\n\nRun `kubectl get cronjobs -A` and compare the schedules with Tuesday "
                      "02:00."),
        ("user", "Write me a script that moves the rotation to Wednesdays."),
        ("assistant", "[artifact: move-cron.sh]\n```bash\n#!/bin/sh\nkubectl patch cronjob "
                      "rotate-credentials -p '{\"spec\":{\"schedule\":\"0 2 * * 3\"}}'\n```\n\n"
                      "The script patches the schedule to Wednesday 02:00."),
        ("user", "Thanks!"),
        ("assistant", "You're welcome, and good luck with Wednesday's deploy!"),  # the retry
    ]
    prefix = "5a1d0000-0000-4000-8000-0000000000"
    assert [m.source_id for m in walrus.messages] == [
        f"{prefix}{n:02d}" for n in (1, 2, 5, 6, 7, 8, 9, 11)]
    assert [m.created_at for m in walrus.messages][:2] == [to_epoch("2026-03-02T09:00:00Z"),
                                                           to_epoch("2026-03-02T09:00:30Z")]
    assert [m.extra for m in walrus.messages] == [None] * 7 + [{"stop_reason": "user_canceled"}]
    for m in walrus.messages:
        assert "quokka" not in m.text and "Thinking it over" not in m.text  # thinking blocks
        assert "pangolin" not in m.text and "OK" not in m.text  # tool results
        assert not any(p in m.text for p in PLACEHOLDERS)
        assert "{'" not in m.text and "'type'" not in m.text  # no str(dict)
    assert "moon" not in " ".join(m.text for m in walrus.messages)  # abandoned branch
    assert [s.reason for s in skipped] == ["no messages (empty conversation)"]
    assert skipped[0].where == f"{NEW}: conversation c0a30000-0000-4000-8000-000000000003"


def test_content_blocks_without_parent_links() -> None:
    convs, _, _ = parse(NEW)
    feb = convs[1]
    assert feb.title is None  # name "" -> the import service falls back to the first question
    assert feb.summary is None  # summary ""
    assert texts(feb) == [
        ("user", "Translate 'good morning' into Japanese, using my notes.\n\n[attachment]\n"
                 "Keep it polite: -masu forms.\n\n[file]"),
        ("assistant", "おはようございます (ohayō gozaimasu)."),  # token_budget, document: left out
        ("user", "And good night?"),  # empty content: the text field
    ]  # the thinking-only answer (its text a placeholder) is dropped
    assert [m.created_at for m in feb.messages] == [
        to_epoch("2025-02-10T08:00:00.123456Z")] * 2 + [to_epoch("2025-02-10T08:01:00.654321Z")]
    assert len(convs) == 2


def test_single_conversation_object_follows_current_leaf() -> None:
    (conv,), _, skipped = parse(HERE / "single_conversation.json")
    assert skipped == []
    assert conv.title is None
    assert conv.model == "claude-sonnet-4-5" and conv.project == "Home lab"
    assert conv.extra == {"starred": True}
    # current_leaf_message_uuid names the older branch; the newer one (guest Wi-Fi) is
    # not what the user was looking at.
    assert texts(conv) == [
        ("user", "Which VLAN should the printer go on?"),
        ("assistant", "Put it on the IoT VLAN (30)."),
        ("user", "And the NAS?"),
        ("assistant", "The NAS belongs on the trusted VLAN (10)."),
    ]
    assert conv.messages[0].created_at == to_epoch("2026-04-01T10:00:00Z")


def test_without_current_leaf_the_newest_leaf_wins() -> None:
    data = json.loads((HERE / "single_conversation.json").read_text())
    del data["current_leaf_message_uuid"]
    del data["project"]
    (conv,), _, _ = parse_all(input_from_bytes("x.json", json.dumps(data).encode()))
    assert [m.text for m in conv.messages][2:] == ["What about the guest Wi-Fi?",
                                                   "Guests get VLAN 40 with client isolation."]
    assert conv.project == "9b0e0000-0000-4000-8000-000000000001"  # project_uuid only


def test_wrapper_and_old_inline_thinking() -> None:
    (conv,), _, _ = parse(HERE / "wrapped.json")
    assert conv.title == "Sourdough starter"
    assert texts(conv) == [
        ("user", "How often do I feed a sourdough starter?"),
        ("assistant", "Feed it equal weights of flour and water every 12 hours.\n\n"
                      "Keep it at about 24°C."),
    ]


def test_memories_json_becomes_one_memory_per_section() -> None:
    convs, memories, skipped = parse(HERE / "memories.json")
    assert convs == [] and skipped == []
    assert [(m.kind, m.source, m.text) for m in memories] == [
        ("fact", "claude", "**Work context**\n\nThe user runs a walrus deployment platform on "
                           "Kubernetes."),
        ("fact", "claude", "**Personal context**\n\nLives in Lisbon and checks tide tables "
                           "before surfing."),
        ("project", "claude", "**Purpose & context**\n\nA home-lab network with trusted, IoT and "
                              "guest VLANs."),
    ]  # the empty "Top of mind" section is not a memory
    assert memories[2].extra == {"scope": "project", "section": "Purpose & context",
                                 "project_uuid": "9b0e0000-0000-4000-8000-000000000001"}
    assert memories[0].extra == {"scope": "global", "section": "Work context"}
    plain = b'[{"conversations_memory": "Prefers metric units.", "project_memories": {}}]'
    (only,) = parse_all(input_from_bytes("m.json", plain))[1]
    assert only.text == "Prefers metric units." and only.extra == {"scope": "global"}


def test_projects_are_skipped_with_a_reason() -> None:
    convs, memories, skipped = parse(HERE / "projects.json")
    assert convs == [] and memories == []
    assert [(s.where, s.reason) for s in skipped] == [(
        str(HERE / "projects.json"),
        "Claude projects (Home lab, How to use Claude): the export does not say which "
        "conversations belong to a project, so nothing is imported from them")]
    # the 2026 layout: one projects/<uuid>.json object per project
    one = json.loads((HERE / "projects.json").read_text())[0]
    one.pop("prompt_template"), one.pop("is_starter_project")
    inp = input_from_bytes("projects/9b0e.json", json.dumps(one).encode())
    assert claude.sniff(inp)
    assert [s.reason.split(":")[0] for s in parse_all(inp)[2]] == ["Claude projects (Home lab)"]


def test_sniff_claims_claude_files_and_nothing_else() -> None:
    for path in [REAL, *HERE.glob("*.json")]:
        assert claude.sniff(input_from_path(path)), path
        assert detect(input_from_path(path)) is claude, path
    others = [p for p in [*SHARED_FIXTURES.rglob("*"), *FIXTURES.rglob("*")]
              if p.is_file() and p.parent.name not in ("claude_ai", "claude")]
    assert len(others) > 10
    for path in others:
        assert not claude.sniff(input_from_path(path)), path
    for data in [
        b'[{"uuid": "u1", "full_name": "A", "email_address": "a@example.invalid", '
        b'"verified_phone_number": null}]',  # users.json
        b'[{"title": "x", "mapping": {}, "create_time": 1.0, "uuid": "u"}]',  # ChatGPT-like
        b'[{"id": "x", "chat": {"history": {"messages": {}}}, "text": "\\"chat_messages\\": ["}]',
        b'', b'   ', b'[]', b'{}', b'\xff\xfe\x00garbage', b'[{"uuid": "x", "docs": []}]',
    ]:
        assert not claude.sniff(input_from_bytes("x.json", data)), data


@pytest.mark.parametrize("data, why", [
    (NEW.read_bytes()[:5000], "truncated or malformed JSON"),
    (b'[{"uuid": "x", "chat_messages": [}]', "truncated or malformed JSON"),
    (b'[{"uuid": "x", "chat_messages": [], "name": "\xff\xfe"}]', "invalid bytes in UTF8"),
    (b'', "empty file"),
    (b'"chat_messages"', "not a JSON array or object"),
    (b'[]', "not a Claude.ai export"),
    (b'[1, 2, {"id": "x"}]', "not a Claude.ai export"),
])
def test_unreadable_input_fails(data: bytes, why: str) -> None:
    with pytest.raises(ImportFailed) as e:
        list(claude.parse(input_from_bytes("cut.json", data)))
    assert str(e.value).startswith("cut.json: ") and why in str(e.value)
    assert "\n" not in str(e.value)


def test_odd_entries_are_skipped_not_fatal() -> None:
    data = (b'[1, {"uuid": "y", "chat_messages": "nope"}, {"foo": 1}, '
            b'{"uuid": "z", "chat_messages": [{"uuid": "m", "sender": "system", "text": "s"}]}]')
    convs, _, skipped = parse_all(input_from_bytes("odd.json", data))
    assert convs == []
    assert [s.reason for s in skipped] == [
        "not a conversation object", "no messages (chat_messages is not a list)",
        "not a Claude conversation (no chat_messages)", "unknown sender 'system'",
        "no messages (empty conversation)"]


# --- through the import service and the CLI ------------------------------------------


def import_json(db: Path, *args: str) -> dict:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "import", *args, "--json", check=True)
    return json.loads(proc.stdout)


def search(db: Path, query: str) -> list[dict]:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "search", query, "--json", check=True)
    return json.loads(proc.stdout)


def test_auto_detection_titles_and_search(db: Path) -> None:
    paths = [str(REAL), str(NEW), str(HERE / "single_conversation.json"),
             str(HERE / "wrapped.json")]
    first = import_json(db, *paths)
    assert [f["format"] for f in first["files"]] == ["claude"] * 4
    assert [f["conversations"] for f in first["files"]] == [1, 2, 1, 1]
    assert first["conversations_added"] == 5
    assert first["messages_added"] == 20 + 8 + 3 + 4 + 2
    listed = json.loads(run_aimem("--db", str(db), "list", "--json", check=True).stdout)
    titles = {c["source_id"]: c["title"] for c in listed}
    assert titles["c0a20000-0000-4000-8000-000000000002"] == \
        "Translate 'good morning' into Japanese, using my notes."  # name "" -> first question
    # Attachment text is searchable; thinking, tool results and placeholders are not.
    hits = search(db, "Unauthorized")
    assert hits[0]["source_id"] == "5a1d0000-0000-4000-8000-000000000001"
    assert "[attachment: deploy.log]" in hits[0]["text"]
    for word in ("quokka", "pangolin", '"current device"', "moon"):
        assert search(db, word) == [], word


def test_newer_export_adds_exactly_the_new_message(db: Path, tmp_path: Path) -> None:
    import_json(db, str(NEW))
    data = json.loads(NEW.read_text())
    conv = data[0]
    conv["chat_messages"].append({
        "uuid": "5a1d0000-0000-4000-8000-000000000012", "sender": "human",
        "text": "One more: does the rotation also run on Fridays?",
        "content": [{"type": "text", "text": "One more: does the rotation also run on Fridays?"}],
        "created_at": "2026-03-02T09:20:00.000000Z", "updated_at": "2026-03-02T09:20:00.000000Z",
        "attachments": [], "files": [],
        "parent_message_uuid": "5a1d0000-0000-4000-8000-000000000011"})
    conv["updated_at"] = "2026-03-02T09:20:00.000000Z"
    newer = tmp_path / "conversations.json"
    newer.write_text(json.dumps(data))
    report = import_json(db, str(newer))
    assert report["conversations_updated"] == 1 and report["conversations_unchanged"] == 1
    assert report["conversations_added"] == 0 and report["messages_added"] == 1
    assert search(db, "Fridays")[0]["source_id"] == "5a1d0000-0000-4000-8000-000000000012"
    # the older export imported again afterwards does not roll anything back
    report = import_json(db, str(NEW))
    assert report["conversations_unchanged"] == 2 and report["conversations_updated"] == 0
    assert [h["text"] for h in search(db, "Fridays") if "Fridays" in h["text"]] == [
        "One more: does the rotation also run on Fridays?"]


def test_zip_exports_with_memories_projects_and_account_files(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    batches = [str(folder / f"data-2026-04-02-10-00-00-batch-000{i}.zip") for i in (0, 1)]
    single = json.loads((HERE / "single_conversation.json").read_text())
    project = json.loads((HERE / "projects.json").read_text())[0]
    with zipfile.ZipFile(folder / "data-2026-04-02-10-00-00-batch-0000.zip", "w") as z:
        z.write(NEW, "conversations.json")
        z.write(HERE / "memories.json", "memories.json")
        z.write(HERE / "projects.json", "projects.json")
        z.writestr("users.json", '[{"uuid": "acc", "full_name": "Test User", '
                   '"email_address": "test@example.invalid", "verified_phone_number": null}]')
        z.writestr("__MACOSX/._conversations.json", b"\x00\x05\x16\x07")
    with zipfile.ZipFile(folder / "data-2026-04-02-10-00-00-batch-0001.zip", "w") as z:
        # a second batch: a new conversation plus one already in the first batch
        z.writestr("export/conversations.json",
                   json.dumps([single, json.loads(NEW.read_text())[1]]))
        z.writestr(f"export/projects/{project['uuid']}.json", json.dumps(project))
    report = import_json(db, *batches)
    assert report["conversations_added"] == 3 and report["conversations_unchanged"] == 1
    assert report["messages_added"] == 8 + 3 + 4
    assert report["memories_added"] == 3
    assert sorted(f["path"].split(":")[-1] for f in report["files"]) == [
        "conversations.json", "export/conversations.json",
        f"export/projects/{project['uuid']}.json", "memories.json", "projects.json"]
    assert {f["format"] for f in report["files"]} == {"claude"}
    reasons = {s["where"].split(".zip:")[-1]: s["reason"] for s in report["skipped"]}
    assert reasons["users.json"] == "account data, not conversations"
    assert reasons["projects.json"].startswith("Claude projects (Home lab, How to use Claude)")
    assert reasons[f"export/projects/{project['uuid']}.json"].startswith(
        "Claude projects (Home lab):")
    assert reasons["conversations.json: conversation c0a30000-0000-4000-8000-000000000003"] == \
        "no messages (empty conversation)"
    memories = json.loads(run_aimem("--db", str(db), "search", "Lisbon", "--json",
                                    check=True).stdout)
    assert [(h["kind"], h["text"]) for h in memories] == [
        ("memory", "**Personal context**\n\nLives in Lisbon and checks tide tables before "
                   "surfing.")]
    again = import_json(db, *batches)
    assert again["memories_added"] == 0 and again["memories_unchanged"] == 3
    assert again["conversations_unchanged"] == 4 and again["messages_added"] == 0


def test_projects_json_alone_imports_nothing_and_says_why(db: Path) -> None:
    # interface.md: input with nothing importable in it is exit 1, with the reason
    proc = run_aimem("--db", str(db), "import", str(HERE / "projects.json"))
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and "nothing importable in it (Claude projects (Home lab" in err


@pytest.mark.parametrize("make, why", [
    (lambda p: p.write_bytes(NEW.read_bytes()[:7000]), "truncated or malformed JSON"),
    (lambda p: p.write_bytes(NEW.read_bytes().replace(b'"sender":"human"', b'"sender":human', 1)),
     "truncated or malformed JSON"),
    (lambda p: p.write_bytes(b'[{"uuid": "x", "chat_messages": [{"uuid": "m", "text": "\xff"}]}]'),
     "invalid bytes in UTF8 string"),
])
def test_bad_input_exits_1_and_leaves_the_database_as_it_was(  # type: ignore[no-untyped-def]
        db: Path, tmp_path: Path, make, why: str) -> None:
    import_json(db, str(REAL))
    before = dump_db(db)
    bad = tmp_path / "conversations.json"
    make(bad)
    proc = run_aimem("--db", str(db), "import", str(HERE / "wrapped.json"), str(bad))
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and err.startswith(f"aimem: error: {bad}: ")
    assert why in err and "Traceback" not in err and proc.stdout == b""
    assert dump_db(db) == before


def test_forced_format(db: Path) -> None:
    report = import_json(db, "--format", "claude", str(HERE / "wrapped.json"))
    assert report["conversations_added"] == 1
    before = dump_db(db)
    chatgpt_file = SHARED_FIXTURES / "chatgpt" / "librechat_chatgpt-tree.json"
    proc = run_aimem("--db", str(db), "import", "--format", "claude", str(chatgpt_file))
    assert proc.returncode == 1
    assert proc.stderr.decode() == (f"aimem: error: {chatgpt_file}: not a Claude.ai export "
                                    "(no conversations, memories or projects in it)\n")
    assert dump_db(db) == before
