"""The log files: appending this device's records, reading the others' incrementally,
and publishing how far this device read (seen.json)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from aimem import jsonio
from aimem.errors import AimemError
from aimem.services.devices.apply import _apply, _decode
from aimem.services.devices.base import ROLL_BYTES, Clock, DeviceReport
from aimem.services.devices.crypt import _Crypt, _plain_lines
from aimem.store import devices as sdb
from aimem.store.db import Store


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
