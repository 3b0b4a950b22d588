"""aimem JSONL, the exchange format (interface.md, "aimem JSONL").

One JSON object per line; ``type`` is ``conversation`` (the default) or ``memory``.
Only ``messages[].text`` and ``messages[].role`` are required. ``branches`` (optional)
holds the messages off the visible branch, each with ``parent``: the source id of the
message it follows. The format is strict:
a malformed line fails the whole import. Unknown fields are kept in ``extra`` and
written back on export, so an export re-imports losslessly.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterator
from typing import Any

from aimem import jsonio
from aimem.importers.base import Input, Item
from aimem.models import MEMORY_KINDS, Conversation, MemoryItem, Message
from aimem.timeutil import to_epoch

NAME = "jsonl"
SOURCE = "jsonl"
DESCRIPTION = "aimem JSONL: one conversation or memory object per line"

CONVERSATION_KEYS = {"type", "id", "source", "source_id", "title", "created_at", "updated_at",
                     "tags", "summary", "model", "project", "messages", "branches"}
MESSAGE_KEYS = {"id", "source_id", "role", "author", "text", "created_at"}
BRANCH_KEYS = MESSAGE_KEYS | {"parent"}  # an off-branch message names the one it follows
MEMORY_KEYS = {"type", "id", "text", "kind", "tags", "created_at", "updated_at", "source",
               "pinned"}
ROLE_ALIASES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant",
                "bot": "assistant", "model": "assistant", "system": "system", "tool": "tool",
                "function": "tool"}


def sniff(inp: Input) -> bool:
    for line in inp.text_head().splitlines()[:5]:
        line = line.strip()
        if not line:
            continue
        try:
            obj = jsonio.loads(line)
        except jsonio.JSONDecodeError:
            return False  # a first line longer than the head, or not JSON lines at all
        if not isinstance(obj, dict):
            return False
        kind = obj.get("type", "conversation")
        if kind == "memory":
            return isinstance(obj.get("text"), str)
        return kind == "conversation" and isinstance(obj.get("messages"), list)
    return False


def _extra(obj: dict[str, Any], known: set[str]) -> dict[str, Any] | None:
    extra = {k: v for k, v in obj.items() if k not in known}
    return extra or None


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _tags(value: Any, where: str, inp: Input) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise inp.fail(f"{where}: tags must be a list of strings")
    return [t for t in value if t.strip()]


def _message(obj: Any, where: str, inp: Input, branch: bool = False) -> Message:
    if not isinstance(obj, dict):
        raise inp.fail(f"{where} is not an object")
    text = obj.get("text")
    if not isinstance(text, str):
        raise inp.fail(f"{where} has no text")
    role = ROLE_ALIASES.get(obj["role"].lower() if isinstance(obj.get("role"), str) else "")
    if role is None:
        raise inp.fail(f"{where} has an unknown role {reprlib.repr(obj.get('role'))} "
                       "(use user, assistant, system or tool)")
    return Message(role=role, text=text, source_id=_str(obj.get("source_id")),
                   author=_str(obj.get("author")), created_at=to_epoch(obj.get("created_at")),
                   id=_str(obj.get("id")),
                   extra=_extra(obj, BRANCH_KEYS if branch else MESSAGE_KEYS),
                   parent=_str(obj.get("parent")) if branch else None)


def _conversation(obj: dict[str, Any], where: str, inp: Input) -> Conversation:
    messages = obj.get("messages")
    if not isinstance(messages, list):
        raise inp.fail(f"{where}: a conversation needs a messages list")
    msgs = [_message(m, f"{where}, message {i + 1}", inp) for i, m in enumerate(messages)]
    raw_branches = obj.get("branches")
    if raw_branches is not None and not isinstance(raw_branches, list):
        raise inp.fail(f"{where}: branches must be a list of messages")
    branches = [_message(m, f"{where}, branch message {i + 1}", inp, branch=True)
                for i, m in enumerate(raw_branches or [])]
    summary = obj.get("summary")
    return Conversation(
        source=_str(obj.get("source")) or SOURCE, messages=msgs,
        source_id=_str(obj.get("source_id")), id=_str(obj.get("id")),
        title=_str(obj.get("title")), created_at=to_epoch(obj.get("created_at")),
        updated_at=to_epoch(obj.get("updated_at")), model=_str(obj.get("model")),
        project=_str(obj.get("project")), tags=_tags(obj.get("tags"), where, inp),
        summary=summary if isinstance(summary, str) and summary.strip() else None,
        extra=_extra(obj, CONVERSATION_KEYS), branches=branches)


def _memory(obj: dict[str, Any], where: str, inp: Input) -> MemoryItem:
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise inp.fail(f"{where}: a memory needs a non-empty text")
    kind = str(obj.get("kind") or "fact").lower()
    return MemoryItem(
        text=text, kind=kind if kind in MEMORY_KINDS else "other", id=_str(obj.get("id")),
        tags=_tags(obj.get("tags"), where, inp), created_at=to_epoch(obj.get("created_at")),
        updated_at=to_epoch(obj.get("updated_at")), source=_str(obj.get("source")) or "manual",
        pinned=bool(obj.get("pinned", False)), extra=_extra(obj, MEMORY_KEYS))


def parse(inp: Input) -> Iterator[Item]:
    with inp.open() as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"line {lineno}"
            try:
                obj = jsonio.loads(raw)
            except jsonio.JSONDecodeError as e:
                raise inp.fail(f"{where} is not valid JSON ({e})") from None
            if not isinstance(obj, dict):
                raise inp.fail(f"{where} is not a JSON object")
            kind = obj.get("type", "conversation")
            if kind == "conversation":
                yield _conversation(obj, where, inp)
            elif kind == "memory":
                yield _memory(obj, where, inp)
            else:
                raise inp.fail(f"{where} has an unknown type {kind!r} (use conversation or memory)")
