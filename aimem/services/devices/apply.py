"""Applying other devices' records: the merge rule, one record at a time."""

from __future__ import annotations

import time
from typing import Any

from aimem import jsonio
from aimem.errors import AimemError
from aimem.services.devices.base import (
    DeviceReport,
    _conv_digest,
    _delete_local,
    _gen,
    _h,
    _memory_body,
    _memory_digest,
)
from aimem.store import devices as sdb
from aimem.store.db import Store

# -- applying others' records -----------------------------------------------------------

class _Where:
    def __init__(self, name: str):
        self.name = name

    def fail(self, why: str) -> AimemError:
        return AimemError(f"{self.name}: {why}")


def _write_body(store: Store, rec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Write a body record into the database: (its digest as the database now has it,
    what a tombstone of it keeps)."""
    kind, iid = rec["k"], rec["id"]
    if kind == "conversation":
        from aimem.importers import jsonl
        from aimem.services.importing import _content_hash

        obj = dict(rec["conversation"])
        obj["id"] = iid
        conv = jsonl._conversation(obj, f"record {iid}", _Where("sync log"))  # type: ignore[arg-type]
        conv.tags = []
        h = _content_hash(conv)
        now = time.time()
        rowid = store.conversation_rowid(iid)
        info = {"source": conv.source, "source_id": conv.source_id, "content_hash": h}
        if rowid is not None and sdb.conversation_is(store, rowid, h, conv.title):
            return _conv_digest(h, conv.title), info  # the same copy: nothing to rewrite
        if rowid is None:
            rowid = store.insert_conversation(conv, h, now)
            store.insert_messages(rowid, conv.messages)
            store.insert_branches(rowid, conv.branches)
        else:
            store.update_conversation(rowid, conv, h, now)
            store.replace_messages(rowid, conv.messages)
            store.replace_branches(rowid, conv.branches)
        return _conv_digest(h, conv.title), info
    from aimem.models import memory_hash

    m = rec["memory"]
    old = sdb.memory_created(store, iid)
    if old is not None and _gen(old) != rec["g"]:
        _delete_local(store, "memory", iid)  # another generation of the same id
    pinned = sdb.memory_pinned(store, iid)
    sdb.put_memory(store, iid, text=m["text"], kind=m["kind"], source=m["source"],
                   project=m.get("project"), created_at=m["created_at"],
                   updated_at=m["updated_at"], extra=m.get("extra"),
                   pinned=pinned,
                   conversation=m.get("conversation"), text_hash=memory_hash(m["text"]))
    row = sdb.memory_rows(store, iid)[0]
    return _memory_digest(_memory_body(row)), {"source": row[3], "source_id": None,
                                               "content_hash": row[10]}


def _write_group(store: Store, kind: str, iid: str, grp: str, payload: dict[str, Any]) -> None:
    if kind == "conversation":
        rowid = store.conversation_rowid(iid)
    else:
        rowid = store.memory_rowid(iid)
    if rowid is None:
        return
    if grp == "summary":
        store.set_summary(rowid, payload.get("text"), payload.get("model"))
    elif grp == "pin":
        sdb.set_pinned(store, iid, bool(payload.get("pinned")))
    elif payload.get("on"):
        store.add_tags(kind, rowid, [payload["tag"]])
    else:
        store.remove_tags(kind, rowid, [payload["tag"]])


def _group_digest(grp: str, payload: dict[str, Any]) -> str:
    if grp == "summary":
        return _h(payload["text"]) if payload.get("text") else ""
    if grp == "pin":
        return "1" if payload.get("pinned") else "0"
    return "1" if payload.get("on") else "0"


def _reapply(store: Store, kind: str, iid: str, gen: int,
             groups: dict[str, sdb.StateRow]) -> None:
    """Write the stored winners of an item's other groups (they came before its body)."""
    for grp, row in groups.items():
        if grp != "body" and row[0] == gen and row[4]:
            _write_group(store, kind, iid, grp, jsonio.loads(row[4]))


def _apply(store: Store, rec: dict[str, Any], report: DeviceReport) -> bool:
    """Apply one record; whether it changed anything."""
    op, kind, iid, gen, clock, device = (rec["op"], rec["k"], rec["id"], int(rec["g"]),
                                         int(rec["c"]), rec["d"])
    tomb = sdb.tombstone(store, kind, iid)
    if op == "forget":
        if tomb is not None and tomb[0] >= gen:
            return False
        sdb.put_tombstone(store, kind, iid, gen, clock, device, rec.get("source"),
                          rec.get("source_id"), rec.get("content_hash"))
        sdb.drop_state(store, kind, iid, gen)
        local_gen = 0 if kind == "conversation" else _gen(sdb.memory_created(store, iid))
        if local_gen <= gen and _delete_local(store, kind, iid):
            report.forgotten += 1
        return True
    if tomb is not None and tomb[0] >= gen:
        return False
    grp = rec["grp"]
    have = sdb.state_of_item(store, kind, iid)
    old = have.get(grp)
    if old is not None and (old[0], old[1], old[2]) >= (gen, clock, device):
        return False
    body = have.get("body")
    if grp == "body":
        if body is not None and body[0] < gen:
            sdb.drop_state(store, kind, iid, gen - 1)
            have = {g: r for g, r in have.items() if r[0] >= gen}
        digest, info = _write_body(store, rec)
        sdb.put_state(store, kind, iid, "body", gen, clock, device, digest,
                      jsonio.dumps_str(info))
        _reapply(store, kind, iid, gen, have)
        return True
    if body is not None and body[0] > gen:
        return False  # a group of an older generation of this item
    payload = {k: rec.get(k) for k in ("text", "model", "pinned", "tag", "on") if k in rec}
    sdb.put_state(store, kind, iid, grp, gen, clock, device, _group_digest(grp, payload),
                  jsonio.dumps_str(payload))
    local_gen = 0 if kind == "conversation" else _gen(sdb.memory_created(store, iid))
    if local_gen == gen:
        _write_group(store, kind, iid, grp, payload)
    return True


_REQUIRED = ("op", "k", "id", "g", "c", "d")


def _decode(line: bytes) -> dict[str, Any]:
    rec = jsonio.loads(line)
    if not isinstance(rec, dict) or any(k not in rec for k in _REQUIRED) or \
            rec["k"] not in ("conversation", "memory") or \
            rec["op"] not in ("conversation", "summary", "memory", "pin", "tag", "forget") or \
            not isinstance(rec["g"], int) or not isinstance(rec["c"], int):
        raise ValueError("not a sync record")
    if rec["op"] != "forget" and not isinstance(rec.get("grp"), str):
        raise ValueError("a record without its field group")
    return rec
