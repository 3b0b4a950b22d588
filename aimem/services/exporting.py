"""Export: aimem JSONL, the lossless exchange format (interface.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aimem import jsonio
from aimem.models import Conversation, Filters, MemoryItem, Message
from aimem.store.db import Store
from aimem.timeutil import iso


def conversation_dict(c: Conversation, *, precise: bool = True) -> dict[str, Any]:
    """A conversation as aimem JSONL writes it: fixed key order, unknown fields after."""
    out: dict[str, Any] = {
        "type": "conversation", "id": c.id, "source": c.source, "source_id": c.source_id,
        "title": c.title, "created_at": iso(c.created_at, precise),
        "updated_at": iso(c.updated_at, precise), "tags": sorted(c.tags),
        "summary": c.summary, "model": c.model,
    }
    if c.project is not None:
        out["project"] = c.project
    for k, v in sorted((c.extra or {}).items()):
        out.setdefault(k, v)
    out["messages"] = [message_dict(m, precise=precise) for m in c.messages]
    if c.branches:  # only loaded when asked for (export, show --branches)
        out["branches"] = [message_dict(m, precise=precise, branch=True) for m in c.branches]
    return out


def message_dict(m: Message, *, precise: bool = True, branch: bool = False) -> dict[str, Any]:
    """A message as aimem JSONL writes it; an off-branch one says what it follows."""
    md: dict[str, Any] = {"id": m.id, "source_id": m.source_id, "role": m.role,
                          "author": m.author, "text": m.text,
                          "created_at": iso(m.created_at, precise)}
    if branch:
        md["parent"] = m.parent
    for k, v in sorted((m.extra or {}).items()):
        md.setdefault(k, v)
    return md


def memory_dict(m: MemoryItem, *, precise: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "memory", "id": m.id, "text": m.text, "kind": m.kind, "tags": sorted(m.tags),
        "created_at": iso(m.created_at, precise), "updated_at": iso(m.updated_at, precise),
        "source": m.source,
    }
    if m.pinned:
        out["pinned"] = True
    for k, v in sorted((m.extra or {}).items()):
        out.setdefault(k, v)
    return out


def jsonl_lines(store: Store, filters: Filters | None) -> Iterator[bytes]:
    """aimem JSONL, one line at a time: conversations (oldest first), then memories."""
    for c in store.iter_conversations(filters, with_branches=True):
        yield jsonio.dumps(conversation_dict(c)) + b"\n"
    if filters is None or not filters.conversation_only:
        for m in store.iter_memories(filters):
            yield jsonio.dumps(memory_dict(m)) + b"\n"
