"""Sync between devices: one memory on every machine, never by copying the live database.

Design
======

Where. A *sync location* is a folder the user already keeps in step between machines
(Syncthing, Dropbox, iCloud Drive, OneDrive, an rclone mount, a network share) or a git
remote (``git+URL``: aimem keeps a clone next to its database and uses the system
``git``). Inside it, ``aimem-sync/<device id>/`` belongs to one device only::

    aimem-sync/
      3f9c0a1b2c3d4e5f/            one directory per device, written only by that device
        device.json                 {"id", "name", "created"}: written once, never changed
        log-000001.jsonl            change records, one JSON object a line, append-only
        log-000002.jsonl            a new file after 8 MB (or when the last one ended
                                    without a newline: a crash mid-append)
        snapshot-000002-81920.jsonl ``aimem sync compact``: the whole merged state as
                                    records (original clocks), covering logs <= 2; the
                                    name ends with its size (read only once all there)
        seen.json                   how far this device read the others' logs (replaced
                                    whole, atomically; only this device writes it)
      encryption.json               with --encrypt: scrypt salt and a check value

No file ever has two writers and log files are never rewritten, so a file-sync tool
cannot make a conflict copy and git can always rebase (no two devices touch the same
path). The live ``.db`` file is never in the sync location.

Records. Each line is ``{"op", "k" (conversation|memory), "id", "g" (generation),
"c" (hybrid logical clock), "d" (device id), ...payload}``:

- ``conversation``: the conversation as an aimem JSONL object (the exchange format stays
  one), without ``tags`` and ``summary``, which are their own field groups;
- ``summary``: ``text`` (null: none) and ``model``;
- ``memory``: text, kind, source, project, created_at, updated_at, extra, conversation;
- ``pin``: ``pinned``;
- ``tag``: ``tag`` and ``on`` (true: added, false: removed), on a conversation or memory;
- ``forget``: a tombstone, with the item's ``source``, ``source_id`` and ``content_hash``
  (for a memory its text hash), so that nobody needs the forgotten content to recognise it.

Clock. A hybrid logical clock: ``(milliseconds << 16) | counter``; a device ticks it for
each record it writes and moves it past every clock it reads, so a change made after
seeing another device's change always orders after it, whatever the wall clocks say.

Merge rule. Each item has field groups: a conversation ``body``, ``summary`` and one
``tag:<name>`` per tag; a memory ``body``, ``pin`` and ``tag:<name>``. Per group the record
with the greatest ``(generation, clock, device id)`` wins (last writer wins, ties broken by
the device id), so every device converges to the same state whatever order logs arrive in
and however often. Tags are an add/remove set with one winner per tag: two devices adding
different tags concurrently both keep theirs.

Delete vs update (what was chosen). Forget is forever: a tombstone beats every record of
its generation and older ones, whatever their clocks, including edits made on a device
that had not yet heard of the forget. A conversation has generation 0 (its id comes from
its source id), so a forgotten conversation never comes back, not from another device's
log and not from re-importing the original export (``import`` skips tombstoned items, and
``sync`` removes one that came back by any other path). A memory's generation is its
creation time in ms: saving the same text again *after* forgetting it (``aimem
remember``) makes a new generation, which the old tombstone does not cover, while the
original export (same creation time) stays forgotten. This is the issue's "an update
newer than a delete brings the item back only for memories the user edited after the
delete", made precise: only a new ``remember`` revives, an edit of the old copy does not.
A forget is a privacy act; silently undoing it because a stale laptop synced late is the
worse failure.

What to send: diff, not an outbox. Instead of hooking every writer (remember, update,
forget, tags, summaries, titles, imports, the memory tool, MCP, llm tasks), a sync
compares the database with ``sync_state`` (the winning record per item and group that
this device last wrote or applied, as a digest). Whatever differs is sent; an item in the
state that is gone from the database was forgotten here and gets a tombstone. This is
simpler and correct by construction: no write path can forget to log, and a crash between
a change and the sync loses nothing. The cost is a scan of ids and hashes per sync (no
message text is read unless a conversation changed), and clocks are taken when the change
is sent, not when it was made, so of two offline edits of the same field the one synced
last wins.

Applying. Logs are read incrementally: ``sync_positions`` keeps, per device and file, the
byte offset read up to. A file's new bytes are read up to the last newline; a last line
without one (a sync tool still copying) is left for the next run. Every line of the new
part is decoded first: a garbled one gets the file reported and skipped (position not
moved), never half-applied. The records of one file are applied in one transaction, with
the position. Applying is idempotent (a record that does not beat the state changes
nothing), so duplicated or reordered delivery is harmless. Local changes are sent before
others' records are applied, so the diff never mistakes an applied record for a local
change.

Compaction. ``aimem sync compact`` writes a snapshot and deletes this device's own log
files that every device present in the location has read (by their ``seen.json``). A
device with no read position for a device starts from that device's latest snapshot and
reads only the logs after it; a device that already reads the logs ignores snapshots.

Known limits: two different copies of one conversation imported on two devices before
they synced (a session file that grew in between) are one field group: the copy sent
last wins whole, where a local re-import would have kept the union of messages
(re-importing the longer copy anywhere restores it). A forget made before a sync location
was set leaves no tombstone. Two devices that ``remember`` the same text independently make two
generations of one memory id; the later creation wins whole (tags of the other are
dropped). An automatic tag arrives as a plain tag. Use counters stay per device.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimem import jsonio
from aimem.errors import AimemError
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

def identity(store: Store) -> tuple[str, str]:
    """(device id, name) of this database; made on first use."""
    cfg = sdb.config(store)
    if "device_id" in cfg:
        return cfg["device_id"], cfg.get("device_name", "")
    dev, name = uuid.uuid4().hex[:16], socket.gethostname() or "device"
    with store.transaction():
        sdb.set_config(store, "device_id", dev)
        sdb.set_config(store, "device_name", name)
    return dev, name


class Clock:
    """A hybrid logical clock kept in sync_config."""

    def __init__(self, store: Store):
        self.store = store
        self.last = int(sdb.config(store).get("hlc", "0"))

    def tick(self) -> int:
        self.last = max(int(time.time() * 1000) << 16, self.last + 1)
        return self.last

    def see(self, clock: int) -> None:
        self.last = max(self.last, clock)

    def save(self) -> None:
        sdb.set_config(self.store, "hlc", str(self.last))


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


def _refresh(store: Store, item: _Item) -> None:
    """Re-read an item's summary, pin and tags (after others' records were written)."""
    item.groups = {g: d for g, d in item.groups.items() if not g.startswith("tag:")}
    item.groups.update(("tag:" + t, "1") for t in _tag_names(store, item.kind, item.id))
    if item.kind == "conversation":
        row = sdb.summary_row(store, item.id)
        item.groups["summary"] = _h(row[0]) if row and row[0] else ""
    else:
        item.groups["pin"] = "1" if sdb.memory_pinned(store, item.id) else "0"


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


def _num(p: Path) -> int:
    try:
        return int(p.stem.split("-")[1])
    except (IndexError, ValueError):
        return -1


def _incoming(store: Store, root: Path, dev: str, clock: Clock, report: DeviceReport,
              dry_run: bool, crypt: _Crypt | None = None) -> None:
    if not root.is_dir():
        return
    pos = sdb.positions(store)
    for ddir in sorted(p for p in root.iterdir() if p.is_dir() and p.name != dev):
        name = None
        try:
            name = jsonio.loads((ddir / "device.json").read_bytes()).get("name")
        except (OSError, ValueError, AttributeError):
            pass
        logs = sorted(ddir.glob("log-*.jsonl"))
        snaps = sorted(ddir.glob("snapshot-*.jsonl"))
        snap = max(snaps, key=_num) if snaps else None
        if snap is not None and (ddir.name, snap.name) not in pos:
            # a snapshot not looked at yet: read when this device is new to that one, or
            # when part of a log it covers was never read here (dropped since); once it has
            # fully arrived (its name says its size)
            try:
                whole = snap.stat().st_size == int(snap.stem.split("-")[2])
            except (OSError, IndexError, ValueError):
                whole = False
            if not whole:
                report.waiting.append(str(snap))
                continue
            if not _read_file(store, snap, ddir.name, 0, name, clock, report, dry_run,
                              snapshot=True, crypt=crypt):
                continue
            pos = sdb.positions(store)
        for f in logs:
            _read_file(store, f, ddir.name, pos.get((ddir.name, f.name), 0), name, clock,
                       report, dry_run, crypt=crypt)
    if not dry_run:
        _publish_seen(store, root, dev)


def _read_file(store: Store, f: Path, device: str, off: int, name: str | None, clock: Clock,
               report: DeviceReport, dry_run: bool, *, snapshot: bool = False,
               crypt: _Crypt | None = None) -> bool:
    """Apply the complete new records of one file in one transaction; False on failure."""
    try:
        size = f.stat().st_size
        if size <= off:
            return True
        with open(f, "rb") as fh:
            fh.seek(off)
            data = fh.read(size - off)
    except OSError as e:
        report.errors.append({"path": str(f), "error": str(e)})
        return False
    end = data.rfind(b"\n")
    if end + 1 < len(data):
        report.waiting.append(str(f))
    if end < 0:
        return not snapshot
    records = []
    n = 0
    covers: dict[str, int] = {}
    try:
        lines = _plain_lines(data[:end + 1], device, crypt)
        if snapshot:
            covers = jsonio.loads(lines[0])["covers"] if lines else None
            if not isinstance(covers, dict):
                raise ValueError("a snapshot without the sizes of the logs it covers")
            lines = lines[1:]
        for line in lines:
            n += 1
            if line.strip():
                rec = _decode(line)
                if rec["d"] != device and not snapshot:
                    raise ValueError(f"a record of device {rec['d']!r}")
                records.append(rec)
    except ValueError as e:
        report.errors.append({"path": str(f), "error": f"garbled after byte {off} "
                              f"(line {n} of the new part: {e}); skipped"})
        return False
    advance: dict[str, int] = {}  # the logs it covers count as read once it is applied
    if snapshot:
        pos = sdb.positions(store)
        advance = {log: int(sz) for log, sz in covers.items()
                   if pos.get((device, log), 0) < int(sz)}
        if any(d == device for d, _ in pos) and not advance:
            records = []  # every log it covers was read here: nothing new in it
            with store.transaction(rollback=dry_run):
                sdb.set_position(store, device, f.name, size)
            return True
    report.files_read += 1
    report.received += len(records)
    try:
        with store.transaction(rollback=dry_run):
            for rec in records:
                clock.see(rec["c"])
                sdb.savepoint(store, "begin")
                try:
                    report.applied += _apply(store, rec, report)
                    sdb.savepoint(store, "release")
                except (AimemError, KeyError, TypeError, ValueError) as e:
                    sdb.savepoint(store, "rollback")
                    sdb.savepoint(store, "release")
                    report.errors.append({"path": str(f), "error": f"record {rec['id']}: {e}"})
            sdb.set_position(store, device, f.name, off + end + 1)
            for log, sz in advance.items():
                sdb.set_position(store, device, log, sz)
            sdb.saw_device(store, device, name, len(records))
            clock.save()
    except Exception as e:  # the whole file stays unread; the database as it was
        report.errors.append({"path": str(f), "error": f"not applied: {e}"})
        return False
    return True


def _publish_seen(store: Store, root: Path, dev: str) -> None:
    """Write how far this device read the others' logs (``seen.json``, only this device
    writes it), so that a device compacting its logs knows which files all have read."""
    seen: dict[str, dict[str, int]] = {}
    for (d, f), off in sdb.positions(store).items():
        seen.setdefault(d, {})[f] = off
    own = root / dev
    path = own / "seen.json"
    data = jsonio.dumps({"positions": seen}, sort_keys=True)
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    if not own.is_dir():
        own.mkdir(parents=True)
    tmp = own / ".seen.json.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, path)


# -- encryption -------------------------------------------------------------------------
# With --encrypt, the location gets aimem-sync/encryption.json (written once, by the first
# device: scrypt parameters, a random salt, and a check value sealed with the key) and every
# batch of records a device appends becomes one line "aimem-e1:" + base64(nonce + AES-256-GCM
# ciphertext), authenticated with the writing device's id (a line moved to another device's
# file fails). A wrong passphrase fails the check before anything is sent or applied; a
# tampered line fails authentication and its file is skipped, nothing of it applied. The
# file names, sizes, device.json (id, name) and seen.json (read positions) stay readable.

SEALED = b"aimem-e1:"
CHECK = b"aimem sync passphrase check"


class _Crypt:
    def __init__(self, key: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.aes = AESGCM(key)

    def seal(self, data: bytes, dev: str) -> bytes:
        import base64

        nonce = os.urandom(12)
        return SEALED + base64.b64encode(nonce + self.aes.encrypt(nonce, data, dev.encode())) \
            + b"\n"

    def open(self, line: bytes, dev: str) -> bytes:
        import base64

        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.b64decode(line[len(SEALED):].strip(), validate=True)
            return self.aes.decrypt(raw[:12], raw[12:], dev.encode())
        except (InvalidTag, ValueError):
            raise ValueError("an encrypted line fails authentication (tampered, or not "
                             "written with this location's key)") from None


def _plain_lines(data: bytes, device: str, crypt: _Crypt | None) -> list[bytes]:
    out: list[bytes] = []
    for line in data.splitlines():
        if crypt is None:
            if line.startswith(SEALED):
                raise ValueError("an encrypted line in a location that is not encrypted")
            out.append(line)
        elif line.strip():
            if not line.startswith(SEALED):
                raise ValueError("a line that is not encrypted in an encrypted location")
            out += crypt.open(line, device).splitlines()
    return out


def _passphrase() -> str:
    import sys

    env = os.environ.get("AIMEM_SYNC_PASSPHRASE")
    if env:
        return env
    if sys.stdin.isatty():
        import getpass

        got = getpass.getpass("sync passphrase: ")
        if got:
            return got
    raise AimemError("the sync location is encrypted: set AIMEM_SYNC_PASSPHRASE or run "
                     "aimem sync in a terminal to type the passphrase")


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    try:
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
    except ImportError:
        raise AimemError("encrypted sync needs the cryptography package: "
                         "pip install 'aimem[encrypt]'") from None
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _cipher(store: Store, root: Path) -> _Crypt | None:
    """The location's cipher (None: not encrypted); made on first use with --encrypt."""
    import base64

    meta = root / "encryption.json"
    want = sdb.config(store).get("encrypt") == "1"
    if not meta.exists():
        if not want:
            return None
        if root.is_dir() and any(root.glob("*/log-*.jsonl")):
            raise AimemError("this sync location already has unencrypted logs: use a new "
                             "folder (or git remote) for an encrypted sync")
        salt, n, r, p = os.urandom(16), 2 ** 15, 8, 1
        crypt = _Crypt(_derive(_passphrase(), salt, n, r, p))
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / ".encryption.json.tmp"
        tmp.write_bytes(jsonio.dumps({
            "cipher": "AES-256-GCM", "kdf": "scrypt", "n": n, "r": r, "p": p,
            "salt": base64.b64encode(salt).decode(),
            "check": crypt.seal(CHECK, "check").decode().strip()}))
        os.replace(tmp, meta)
        return crypt
    try:
        m = jsonio.loads(meta.read_bytes())
        salt = base64.b64decode(m["salt"])
        crypt = _Crypt(_derive(_passphrase(), salt, int(m["n"]), int(m["r"]), int(m["p"])))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise AimemError(f"{meta} is unreadable ({e})") from None
    try:
        ok = crypt.open(m["check"].encode(), "check") == CHECK
    except ValueError:
        ok = False
    if not ok:
        raise AimemError("wrong passphrase for this sync location: nothing was sent or applied")
    if not want:
        with store.transaction():
            sdb.set_config(store, "encrypt", "1")
    return crypt


# -- writing this device's log ----------------------------------------------------------

def _append(root: Path, dev: str, name: str, lines: list[bytes],
            crypt: _Crypt | None = None) -> None:
    d = root / dev
    d.mkdir(parents=True, exist_ok=True)
    info = d / "device.json"
    if not info.exists():
        tmp = d / ".device.json.tmp"
        tmp.write_bytes(jsonio.dumps({"id": dev, "name": name, "created": time.time()}))
        os.replace(tmp, info)
    files = sorted(d.glob("log-*.jsonl"))
    cur = files[-1] if files else None
    if cur is not None:
        size = cur.stat().st_size
        ends_clean = size == 0 or cur.read_bytes()[-1:] == b"\n" if size < ROLL_BYTES else False
        if size >= ROLL_BYTES or not ends_clean:
            cur = None
    if cur is None:
        n = int(files[-1].stem.split("-")[1]) + 1 if files else 1
        cur = d / f"log-{n:06d}.jsonl"
    with open(cur, "ab") as fh:
        fh.write(crypt.seal(b"".join(lines), dev) if crypt else b"".join(lines))
        fh.flush()
        os.fsync(fh.fileno())


# -- the sync itself --------------------------------------------------------------------

def target(store: Store) -> str | None:
    return sdb.config(store).get("target")


def set_target(store: Store, where: str, *, encrypt: bool = False) -> str:
    if where.startswith("git+"):
        value = where
    else:
        p = Path(where).expanduser().resolve()
        if p.exists() and not p.is_dir():
            raise AimemError(f"{where} is a file: sync needs a folder")
        p.mkdir(parents=True, exist_ok=True)
        value = str(p)
    identity(store)
    with store.transaction():
        sdb.set_config(store, "target", value)
        if encrypt:
            sdb.set_config(store, "encrypt", "1")
    return value


def _location(store: Store, report: DeviceReport) -> tuple[Path | None, Path]:
    """(the git clone or None, the aimem-sync folder), pulled first for git."""
    where = report.target
    if where.startswith("git+"):
        repo = _git_prepare(store, where[4:], report)
        return repo, repo / LOG_DIR
    if not Path(where).is_dir():
        raise AimemError(f"the sync folder {where} is not there (unmounted?)")
    return None, Path(where) / LOG_DIR


def _start(store: Store, dry_run: bool) -> DeviceReport:
    where = target(store)
    if where is None:
        raise AimemError("no sync location yet: aimem sync --to FOLDER (or --to git+URL)")
    dev, _ = identity(store)
    return DeviceReport(target=where, device=dev, dry_run=dry_run)


def exchange(store: Store, *, dry_run: bool = False) -> DeviceReport:
    """Send this device's changes to the sync location and apply the others'."""
    report = _start(store, dry_run)
    dev, name = identity(store)
    repo, root = _location(store, report)
    crypt = _cipher(store, root)
    clock = Clock(store)
    with store.transaction(rollback=dry_run):
        lines = _outgoing(store, dev, clock, report)
        report.sent = len(lines)
        if lines and not dry_run:
            _append(root, dev, name, lines, crypt)
        clock.save()
    _incoming(store, root, dev, clock, report, dry_run, crypt)
    if repo is not None and not dry_run:
        _git_publish(repo, dev, name, report)
    return report


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
    crypt = _cipher(store, root)
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


# -- git transport ----------------------------------------------------------------------

def _git(repo: Path | None, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = ["git", *(["-C", str(repo)] if repo else []), "-c", "user.name=aimem",
           "-c", "user.email=aimem@localhost", "-c", "commit.gpgsign=false", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError:
        raise AimemError("sync to a git remote needs git on the PATH") from None
    if check and proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise AimemError(f"git {args[0]} failed: {msg[-1] if msg else proc.returncode}")
    return proc


def _git_prepare(store: Store, url: str, report: DeviceReport) -> Path:
    repo = store.path.parent / "sync-git" / _h(url)
    if not (repo / ".git").is_dir():
        repo.parent.mkdir(parents=True, exist_ok=True)
        _git(None, "clone", "--quiet", url, str(repo))
        _git(repo, "symbolic-ref", "HEAD", f"refs/heads/{GIT_BRANCH}", check=False)
    _git_pull(repo)
    return repo


def _git_pull(repo: Path) -> None:
    if _git(repo, "ls-remote", "--exit-code", "origin", f"refs/heads/{GIT_BRANCH}",
            check=False).returncode == 0:
        _git(repo, "pull", "--quiet", "--rebase", "origin", GIT_BRANCH)


def _git_publish(repo: Path, dev: str, name: str, report: DeviceReport) -> None:
    if not (repo / LOG_DIR / dev).is_dir():
        report.git = "nothing to push"
        return
    _git(repo, "add", "--", f"{LOG_DIR}/{dev}")
    if _git(repo, "diff", "--cached", "--quiet", check=False).returncode != 0:
        _git(repo, "commit", "--quiet", "-m", f"aimem sync from {name} ({dev})")
    ahead = _git(repo, "rev-list", "--count", f"origin/{GIT_BRANCH}..HEAD", check=False)
    if ahead.returncode == 0 and ahead.stdout.strip() == "0":
        report.git = "up to date"
        return
    for attempt in range(5):
        push = _git(repo, "push", "--quiet", "origin", f"HEAD:{GIT_BRANCH}", check=False)
        if push.returncode == 0:
            report.git = "pushed" + (f" after {attempt} retries" if attempt else "")
            return
        _git_pull(repo)  # another device pushed first: take theirs (other files), retry
    raise AimemError("git push was rejected five times: try again later")


# -- devices ----------------------------------------------------------------------------

def devices(store: Store) -> dict[str, Any]:
    from aimem.timeutil import iso

    dev, name = identity(store)
    pos: dict[str, dict[str, int]] = {}
    for (d, f), off in sdb.positions(store).items():
        pos.setdefault(d, {})[f] = off
    return {"id": dev, "name": name, "target": target(store),
            "tombstones": sdb.count_tombstones(store),
            "devices": [{"id": d, "name": n, "first_seen": iso(first), "last_seen": iso(last),
                         "records": r, "positions": pos.get(d, {})}
                        for d, n, first, last, r in sdb.devices(store)]}
