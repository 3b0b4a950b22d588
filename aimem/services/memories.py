"""Memories (short standalone facts, preferences, instructions), tags, forgetting, profile.

A memory's identity is its normalised text (:func:`~aimem.models.memory_hash`):
saving the same fact again, differently cased or spaced, refreshes the existing memory
(its time, kind, pin and tags) instead of storing a second copy.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from aimem.errors import AimemError, NotFound
from aimem.models import MEMORY_KINDS, Filters, MemoryItem, make_id, memory_hash
from aimem.services.exporting import memory_dict
from aimem.store import devices as sync_db
from aimem.store.db import Store

PROFILE_KINDS = ("preference", "instruction")
MAX_MEMORY_CHARS = 10_000


def check_kind(kind: str) -> str:
    k = kind.strip().lower()
    if k not in MEMORY_KINDS:
        raise AimemError(f"unknown memory kind {kind!r} (use {', '.join(MEMORY_KINDS)})")
    return k


def _clean_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise AimemError("a memory needs some text")
    if len(text) > MAX_MEMORY_CHARS:
        raise AimemError(f"a memory is at most {MAX_MEMORY_CHARS:,} characters; this one has "
                         f"{len(text):,} (save long text as a conversation: aimem import -)")
    from aimem.redact import redact  # its patterns compile on first use, not at start-up

    return redact(text)


def public(m: MemoryItem) -> dict[str, Any]:
    d = memory_dict(m, precise=False)
    d.pop("type")
    d["pinned"] = m.pinned
    d["use_count"] = m.use_count
    from aimem.timeutil import iso

    d["last_used_at"] = iso(m.last_used)
    d["project"] = m.project
    return d


def remember(store: Store, text: str, *, kind: str = "fact", tags: Sequence[str] = (),
             pin: bool = False, source: str = "manual", conversation_id: str | None = None,
             project: str | None = None) -> dict[str, Any]:
    """Save a memory (``project``: the project folder it belongs to; None: global)."""
    text = _clean_text(text)
    kind = check_kind(kind)
    now = time.time()
    h = memory_hash(text)
    with store.transaction():
        existing = store.memory_by_hash(h)
        if existing is not None:
            rowid, mem_id = existing
            old = store.get_memory(mem_id)
            assert old is not None
            store.update_memory(rowid, text=old.text, kind=kind if kind != "fact" else old.kind,
                                pinned=old.pinned or pin, text_hash=h, updated_at=now)
            created = False
        else:
            conv_rowid = store.conversation_rowid(conversation_id) if conversation_id else None
            mem_id = make_id("memory", h)
            if store.memory_rowid(mem_id) is not None:  # that memory was edited to other text
                mem_id = make_id("memory", h, repr(now))
            m = MemoryItem(text=text, kind=kind, id=mem_id, created_at=now,
                           updated_at=now, source=source, pinned=pin, conversation=conv_rowid,
                           project=project)
            rowid = store.insert_memory(m, h)
            mem_id = m.id  # type: ignore[assignment]
            created = True
        if tags:
            store.add_tags("memory", rowid, tags)
    mem = store.get_memory(mem_id)
    assert mem is not None
    return {**public(mem), "created": created}


def get(store: Store, mem_id: str) -> MemoryItem:
    mem = store.get_memory(mem_id)
    if mem is None:
        raise NotFound(f"no memory has the id {mem_id!r}")
    return mem


def update(store: Store, mem_id: str, *, text: str | None = None, kind: str | None = None,
           tags: Sequence[str] | None = None, pin: bool | None = None) -> dict[str, Any]:
    new_text = _clean_text(text) if text is not None else None
    with store.transaction():  # read under the write lock: no one changes it meanwhile
        mem = get(store, mem_id)
        rowid = store.memory_rowid(mem_id)
        assert rowid is not None
        new_text = mem.text if new_text is None else new_text
        h = memory_hash(new_text)
        other = store.memory_by_hash(h)
        if other is not None and other[0] != rowid:
            raise AimemError(f"memory {other[1]} already says that; forget one of the two")
        store.update_memory(rowid, text=new_text, kind=check_kind(kind) if kind else mem.kind,
                            pinned=mem.pinned if pin is None else pin, text_hash=h,
                            updated_at=time.time())
        if tags is not None:
            store.remove_tags("memory", rowid, [t for t in mem.tags if t not in tags])
            store.add_tags("memory", rowid, tags)
    return public(get(store, mem_id))


def forget(store: Store, items: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Delete (kind, id) pairs (conversations or memories) in one transaction."""
    out = []
    with store.transaction():
        for kind, item_id in items:
            if kind == "memory":
                mem = get(store, item_id)
                rowid = store.memory_rowid(item_id)
                assert rowid is not None
                store.delete_memory(rowid)
                sync_db.note_forgotten(store, "memory", item_id,
                                       int(round((mem.created_at or 0.0) * 1000)), mem.source,
                                       None, memory_hash(mem.text))
                out.append({"id": item_id, "kind": "memory", "title": mem.text[:80]})
            elif kind == "conversation":
                rowid = store.conversation_rowid(item_id)
                conv = store.get_conversation(item_id, with_messages=False)
                if rowid is None or conv is None:
                    raise NotFound(f"no conversation has the id {item_id!r}")
                chash = store.conversation_state(item_id)
                store.delete_conversation(rowid)
                sync_db.note_forgotten(store, "conversation", item_id, 0, conv.source,
                                       conv.source_id, chash[1] if chash else None)
                out.append({"id": item_id, "kind": "conversation", "title": conv.title})
            else:
                raise AimemError(f"{item_id} is a message; forget its conversation instead")
        from aimem.store import vectors

        vectors.zero_dead(store.conn)  # the forgotten items' embedding vectors too
    return out


def list_memories(store: Store, filters: Filters | None = None, *, limit: int | None = 50,
                  offset: int = 0, kind: str | None = None, pinned: bool | None = None
                  ) -> list[dict[str, Any]]:
    kinds = [check_kind(kind)] if kind else []
    return [public(m) for m in store.iter_memories(filters, kinds=kinds, pinned=pinned,
                                                    limit=limit, offset=offset,
                                                    newest_first=True)]


def _target(store: Store, kind: str, item_id: str) -> tuple[str, int]:
    if kind == "memory":
        rowid = store.memory_rowid(item_id)
    elif kind == "conversation":
        rowid = store.conversation_rowid(item_id)
    else:
        raise AimemError(f"{item_id} is a message; tag its conversation instead")
    if rowid is None:
        raise NotFound(f"nothing has the id {item_id!r}")
    return kind, rowid


def _tags_of(store: Store, kind: str, rowid: int) -> list[str]:
    if kind == "memory":
        return store.memory_tags([rowid])[rowid]
    return store.conversation_tags([rowid])[rowid]


def add_tags(store: Store, kind: str, item_id: str, tags: Sequence[str]) -> list[str]:
    clean = [t.strip() for t in tags if t.strip()]
    if not clean:
        raise AimemError("no tag given")
    with store.transaction():  # the item may have been deleted since it was resolved
        kind, rowid = _target(store, kind, item_id)
        store.add_tags(kind, rowid, clean)
    return _tags_of(store, kind, rowid)


def remove_tags(store: Store, kind: str, item_id: str, tags: Sequence[str]) -> list[str]:
    with store.transaction():
        kind, rowid = _target(store, kind, item_id)
        store.remove_tags(kind, rowid, tags)
    return _tags_of(store, kind, rowid)


def list_tags(store: Store) -> list[dict[str, Any]]:
    return [{"name": n, "conversations": c, "memories": m} for n, c, m in store.tag_counts()]


def record_use(store: Store, kind: str, ids: Sequence[str]) -> None:
    """Count a recall. Best effort: a read (search, show, inject) never waits long or
    fails for its counter; when the database is busy or read-only the count is skipped."""
    if ids:
        store.bump_use(kind, list(dict.fromkeys(ids)), time.time())


def profile(store: Store) -> dict[str, Any]:
    """Pinned memories and preferences/instructions, grouped by kind, plus the synthesized
    paragraph once ``aimem profile --synthesize`` made one."""
    pinned = [public(m) for m in store.iter_memories(pinned=True, newest_first=True)]
    pinned_ids = {m["id"] for m in pinned}
    kinds: dict[str, list[dict[str, Any]]] = {}
    for m in store.iter_memories(kinds=PROFILE_KINDS, newest_first=True):
        if m.id not in pinned_ids:
            kinds.setdefault(m.kind, []).append(public(m))
    row = store.get_profile()
    from aimem.timeutil import iso

    return {"pinned": pinned, "kinds": {k: kinds[k] for k in PROFILE_KINDS if k in kinds},
            "synthesized": row[0] if row else None,
            "synthesized_model": row[1] if row else None,
            "synthesized_at": iso(row[2]) if row else None}
