"""The sync itself: the location, sending and applying, and ``aimem devices``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aimem.errors import AimemError
from aimem.services.devices.base import LOG_DIR, Clock, DeviceReport, identity
from aimem.services.devices.crypt import _cipher
from aimem.services.devices.diff import _outgoing
from aimem.services.devices.git import _git_prepare, _git_publish
from aimem.services.devices.logfiles import _append, _incoming
from aimem.store import devices as sdb
from aimem.store.db import Store

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
