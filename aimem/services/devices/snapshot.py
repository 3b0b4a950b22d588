"""Compaction: a snapshot of the merged state, and dropping logs every device has read."""

from __future__ import annotations

import os
from typing import Any

from aimem import jsonio
from aimem.errors import AimemError
from aimem.services.devices.base import LOG_DIR, _local_items, identity
from aimem.services.devices.crypt import _cipher
from aimem.services.devices.diff import _payload
from aimem.services.devices.git import _git, _git_publish
from aimem.services.devices.logfiles import _num
from aimem.services.devices.run import _location, exchange
from aimem.store import devices as sdb
from aimem.store.db import Store

# -- compaction ---------------------------------------------------------------------------

_BODY_OP = {"conversation": "conversation", "memory": "memory"}


def _snapshot_lines(store: Store) -> list[bytes]:
    """The whole merged state as records, each with its original clock and device."""
    out = []
    for (kind, iid), (gen, clock, device) in sorted(sdb.tombstones(store).items()):
        row = sdb.tombstone_info(store, kind, iid)
        out.append(jsonio.dumps({"op": "forget", "k": kind, "id": iid, "g": gen, "c": clock,
                                 "d": device, "grp": "", "source": row[0],
                                 "source_id": row[1], "content_hash": row[2]}) + b"\n")
    local = _local_items(store)
    rows = sorted(sdb.state(store).items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                             kv[0][2] != "body", kv[0][2]))
    for (kind, iid, grp), (gen, clock, device, _digest, value) in rows:
        head = {"k": kind, "id": iid, "g": gen, "c": clock, "d": device, "grp": grp}
        if grp == "body":
            item = local.get((kind, iid))
            if item is None or item.gen != gen:
                continue
            payload = _payload(store, item, "body")
        else:
            payload = jsonio.loads(value) if value else {}
            payload["op"] = "summary" if grp == "summary" else "pin" if grp == "pin" else "tag"
        out.append(jsonio.dumps({"op": payload.pop("op"), **head, **payload}) + b"\n")
    return out


def compact(store: Store) -> dict[str, Any]:
    """Sync, then write this device's snapshot (the whole merged state) and drop its own
    log files that every device seen in the location has read (their ``seen.json``).

    A device new to the location starts from the latest snapshot of each device plus the
    logs written after it; devices that already read the logs never read the snapshot."""
    report = exchange(store)
    if report.errors:
        raise AimemError("not compacted: the sync had errors (" + report.errors[0]["error"]
                         + ")")
    dev, name = identity(store)
    repo, root = _location(store, report)
    crypt = _cipher(store, root, account=report.target)
    own = root / dev
    logs = sorted(own.glob("log-*.jsonl")) if own.is_dir() else []
    if not logs:
        return {"snapshot": None, "records": 0, "dropped": [], "kept": [], **report.to_dict()}
    n = _num(logs[-1])
    # every log ever written by this device up to here, dropped ones included: a device
    # that read part of one that is gone now learns that it needs this snapshot
    covers = {**jsonio.loads(sdb.config(store).get("covers", "{}")),
              **{f.name: f.stat().st_size for f in logs}}
    with store.transaction():
        sdb.set_config(store, "covers", jsonio.dumps_str(covers))
    lines = [jsonio.dumps({"covers": covers}) + b"\n", *_snapshot_lines(store)]
    data = crypt.seal(b"".join(lines), dev) if crypt else b"".join(lines)
    tmp = own / ".snapshot.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    # the size in the name: a reader knows when a sync tool has copied all of it
    snap = own / f"snapshot-{n:06d}-{len(data)}.jsonl"
    os.replace(tmp, snap)
    (own / f"log-{n + 1:06d}.jsonl").touch()  # later records go to a new file
    for old in own.glob("snapshot-*.jsonl"):
        if old != snap:
            old.unlink()
    others = [d for d in root.iterdir() if d.is_dir() and d.name != dev]
    seen: dict[str, dict[str, int] | None] = {}
    for d in others:
        try:
            seen[d.name] = jsonio.loads((d / "seen.json").read_bytes())["positions"].get(dev, {})
        except (OSError, ValueError, KeyError, TypeError):
            seen[d.name] = None  # a device that never said what it read: keep everything
    dropped, kept = [], []
    for f in logs:
        size = f.stat().st_size
        if all(s is not None and s.get(f.name, -1) >= size for s in seen.values()):
            f.unlink()
            dropped.append(f.name)
        else:
            kept.append(f.name)
    if repo is not None:
        _git(repo, "add", "-A", "--", f"{LOG_DIR}/{dev}")
        _git_publish(repo, dev, name, report)
    return {"snapshot": snap.name, "records": len(lines) - 1, "dropped": dropped, "kept": kept,
            **report.to_dict()}
