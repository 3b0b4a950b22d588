"""What every part of device sync shares: this device, its clock, the report, and the
database's items as field groups with digests (what a sync compares against sync_state)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from aimem import jsonio
from aimem.store import devices as sdb
from aimem.store.db import Store

LOG_DIR = "aimem-sync"
ROLL_BYTES = 8 * 1024 * 1024
GIT_BRANCH = "main"


def _h(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def _gen(created_at: float | None) -> int:
    return int(round((created_at or 0.0) * 1000))


# -- this device ----------------------------------------------------------------------

def identity(store: Store, *, save: bool = True) -> tuple[str, str]:
    """(device id, name) of this database; made on first use (``save=False``, a dry run:
    a provisional one, not kept)."""
    cfg = sdb.config(store)
    if "device_id" in cfg:
        return cfg["device_id"], cfg.get("device_name", "")
    import socket
    import uuid

    dev, name = uuid.uuid4().hex[:16], socket.gethostname() or "device"
    if not save:
        return dev, name
    with store.transaction():
        sdb.set_config(store, "device_id", dev)
        sdb.set_config(store, "device_name", name)
    return dev, name


class Clock:
    """A hybrid logical clock kept in sync_config."""

    def __init__(self, store: Store):
        self.store = store
        self.last = self.saved = int(sdb.config(store).get("hlc", "0"))

    def tick(self) -> int:
        self.last = max(int(time.time() * 1000) << 16, self.last + 1)
        return self.last

    def see(self, clock: int) -> None:
        self.last = max(self.last, clock)

    def save(self) -> None:
        if self.last != self.saved:  # a sync with nothing new writes nothing
            sdb.set_config(self.store, "hlc", str(self.last))
            self.saved = self.last


@dataclass(slots=True)
class DeviceReport:
    target: str = ""
    device: str = ""
    dry_run: bool = False
    sent: int = 0          # records written to this device's log
    received: int = 0      # records read from the other devices' logs
    applied: int = 0       # of those, the ones that changed this database
    forgotten: int = 0     # items removed here because another device forgot them
    files_read: int = 0
    waiting: list[str] = field(default_factory=list)  # files ending in a partial line
    errors: list[dict[str, str]] = field(default_factory=list)
    git: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


# -- the local side: what the database holds now ----------------------------------------

def _memory_body(row: tuple[Any, ...]) -> dict[str, Any]:
    mid, text, kind, source, project, created, updated, extra, _pinned, conv, _hash = row
    return {"text": text, "kind": kind, "source": source, "project": project,
            "created_at": created, "updated_at": updated,
            "extra": jsonio.loads(extra) if extra else None, "conversation": conv}


def _memory_digest(body: dict[str, Any]) -> str:
    return _h(jsonio.dumps(body, sort_keys=True))


def _conv_digest(content_hash: str | None, title: str | None) -> str:
    return _h(f"{content_hash}|{title}")


@dataclass(slots=True)
class _Item:
    kind: str
    id: str
    gen: int
    groups: dict[str, str]  # group -> digest
    info: dict[str, Any]    # for a tombstone: source, source_id, content_hash
    body: dict[str, Any] | None = None  # a memory's body record


def _local_items(store: Store) -> dict[tuple[str, str], _Item]:
    items: dict[tuple[str, str], _Item] = {}
    for cid, chash, title, summ, source, source_id in sdb.conversation_digests(store):
        items[("conversation", cid)] = _Item(
            "conversation", cid, 0,
            {"body": _conv_digest(chash, title), "summary": _h(summ) if summ else ""},
            {"source": source, "source_id": source_id, "content_hash": chash})
    for cid, tag in sdb.conversation_tag_pairs(store):
        items[("conversation", cid)].groups["tag:" + tag.lower()] = "1"
    for row in sdb.memory_rows(store):
        body = _memory_body(row)
        items[("memory", row[0])] = _Item(
            "memory", row[0], _gen(row[5]),
            {"body": _memory_digest(body), "pin": "1" if row[8] else "0"},
            {"source": row[3], "source_id": None, "content_hash": row[10]}, body)
    for mid, tag in sdb.memory_tag_pairs(store):
        items[("memory", mid)].groups["tag:" + tag.lower()] = "1"
    return items


def _tag_names(store: Store, kind: str, item_id: str) -> dict[str, str]:
    if kind == "conversation":
        conv = store.get_conversation(item_id, with_messages=False)
        return {t.lower(): t for t in (conv.tags if conv else [])}
    mem = store.get_memory(item_id)
    return {t.lower(): t for t in (mem.tags if mem else [])}


def _delete_local(store: Store, kind: str, iid: str) -> bool:
    if kind == "conversation":
        rowid = store.conversation_rowid(iid)
        if rowid is not None:
            store.delete_conversation(rowid)
            return True
        return False
    rowid = store.memory_rowid(iid)
    if rowid is not None:
        store.delete_memory(rowid)
        return True
    return False
