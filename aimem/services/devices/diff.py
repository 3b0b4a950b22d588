"""What to send: the database diffed against sync_state (see the package docstring)."""

from __future__ import annotations

from typing import Any

from aimem import jsonio
from aimem.services.devices.apply import _reapply
from aimem.services.devices.base import (
    Clock,
    DeviceReport,
    _delete_local,
    _h,
    _Item,
    _local_items,
    _tag_names,
)
from aimem.store import devices as sdb
from aimem.store.db import Store


def _payload(store: Store, item: _Item, grp: str) -> dict[str, Any]:
    """The record for one group of a local item (without op header fields)."""
    if item.kind == "conversation":
        if grp == "body":
            from aimem.services.exporting import conversation_dict

            conv = store.get_conversation(item.id, with_branches=True)
            assert conv is not None
            d = conversation_dict(conv)
            d.pop("tags", None)
            d.pop("summary", None)
            d.pop("type", None)
            return {"op": "conversation", "conversation": d}
        if grp == "summary":
            row = sdb.summary_row(store, item.id)
            return {"op": "summary", "text": row[0] if row else None,
                    "model": row[1] if row else None}
    else:
        if grp == "body":
            assert item.body is not None
            return {"op": "memory", "memory": item.body}
        if grp == "pin":
            return {"op": "pin", "pinned": item.groups["pin"] == "1"}
    name = grp[4:]
    return {"op": "tag", "tag": _tag_names(store, item.kind, item.id).get(name, name),
            "on": item.groups.get(grp) == "1"}


def _outgoing(store: Store, dev: str, clock: Clock, report: DeviceReport) -> list[bytes]:
    """Diff the database against sync_state: the records to send (state updated as if sent).

    Runs inside the caller's transaction."""
    out: list[bytes] = []
    for kind, iid, gen, source, source_id, chash in sdb.unsent_tombstones(store):
        c = clock.tick()  # forgotten here since the last sync (memories.forget noted it)
        out.append(jsonio.dumps({"op": "forget", "k": kind, "id": iid, "g": gen, "c": c,
                                 "d": dev, "grp": "", "source": source, "source_id": source_id,
                                 "content_hash": chash}) + b"\n")
        sdb.put_tombstone(store, kind, iid, gen, c, dev, source, source_id, chash)
        sdb.drop_state(store, kind, iid, gen)
    state = sdb.state(store)
    tombs = sdb.tombstones(store)
    local = _local_items(store)
    by_item: dict[tuple[str, str], dict[str, sdb.StateRow]] = {}
    for (kind, iid, grp), row in state.items():
        by_item.setdefault((kind, iid), {})[grp] = row

    def emit(kind: str, iid: str, gen: int, grp: str, payload: dict[str, Any],
             digest: str, value: str | None = None) -> None:
        c = clock.tick()
        op = payload.pop("op")
        rec = {"op": op, "k": kind, "id": iid, "g": gen, "c": c, "d": dev, "grp": grp,
               **payload}
        out.append(jsonio.dumps(rec) + b"\n")
        if grp != "body":
            value = jsonio.dumps_str(payload)
        sdb.put_state(store, kind, iid, grp, gen, c, dev, digest, value)

    def forget(kind: str, iid: str, gen: int, info: dict[str, Any]) -> None:
        c = clock.tick()
        out.append(jsonio.dumps({"op": "forget", "k": kind, "id": iid, "g": gen, "c": c,
                                 "d": dev, "grp": "", **info}) + b"\n")
        sdb.put_tombstone(store, kind, iid, gen, c, dev, info.get("source"),
                          info.get("source_id"), info.get("content_hash"))
        sdb.drop_state(store, kind, iid, gen)

    for key, item in local.items():
        kind, iid = key
        t = tombs.get(key)
        if t is not None and t[0] >= item.gen:  # forgotten elsewhere, back by an import
            _delete_local(store, kind, iid)
            report.forgotten += 1
            continue
        have = by_item.get(key, {})
        if _unchanged(item, have):  # the common case: sent or applied as it is now
            continue
        body = have.get("body")
        if body is not None and body[0] < item.gen:
            # forgotten here and saved again: the old generation is forgotten everywhere
            info = jsonio.loads(body[4]) if body[4] else {}
            forget(kind, iid, body[0], info)
            have = {}
        elif body is None and have:
            _reapply(store, kind, iid, item.gen, have)  # others' tags etc. that came first
            _refresh(store, item)
        info_json = jsonio.dumps_str(item.info)
        for grp in ["body"] + sorted(g for g in item.groups if g != "body"):
            digest = item.groups[grp]
            row = have.get(grp)
            if row is None or row[3] != digest or row[0] != item.gen:
                if row is None and ((grp == "summary" and digest == "")
                                    or (grp == "pin" and digest == "0")):
                    continue  # no summary / not pinned, never was: nothing to say
                emit(kind, iid, item.gen, grp, _payload(store, item, grp), digest,
                     info_json if grp == "body" else None)
        for grp, row in have.items():
            if grp.startswith("tag:") and grp not in item.groups and row[3] == "1" \
                    and row[0] == item.gen:
                name = jsonio.loads(row[4]).get("tag") if row[4] else None
                emit(kind, iid, item.gen, grp, {"op": "tag", "tag": name or grp[4:],
                                                "on": False}, "0")
    for key, groups in by_item.items():
        body = groups.get("body")
        if key not in local and body is not None:
            info = jsonio.loads(body[4]) if body[4] else {}
            forget(key[0], key[1], body[0], info)
    return out


def _unchanged(item: _Item, have: dict[str, sdb.StateRow]) -> bool:
    """Whether the state already holds every group of this item as the database has it
    (then the full comparison below would send nothing)."""
    for grp, digest in item.groups.items():
        row = have.get(grp)
        if row is None:
            if (grp == "summary" and digest == "") or (grp == "pin" and digest == "0"):
                continue
            return False
        if row[3] != digest or row[0] != item.gen:
            return False
    return not any(grp.startswith("tag:") and grp not in item.groups and row[3] == "1"
                   and row[0] == item.gen for grp, row in have.items())


def _refresh(store: Store, item: _Item) -> None:
    """Re-read an item's summary, pin and tags (after others' records were written)."""
    item.groups = {g: d for g, d in item.groups.items() if not g.startswith("tag:")}
    item.groups.update(("tag:" + t, "1") for t in _tag_names(store, item.kind, item.id))
    if item.kind == "conversation":
        row = sdb.summary_row(store, item.id)
        item.groups["summary"] = _h(row[0]) if row and row[0] else ""
    else:
        item.groups["pin"] = "1" if sdb.memory_pinned(store, item.id) else "0"
