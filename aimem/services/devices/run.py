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


def _normalize(where: str) -> str:
    """The location as it is kept: ``git+URL`` as given, a folder as an absolute path."""
    if where.startswith("git+"):
        return where
    p = Path(where).expanduser().resolve()
    if p.exists() and not p.is_dir():
        raise AimemError(f"{where} is a file: sync needs a folder")
    return str(p)


def set_target(store: Store, where: str, *, encrypt: bool = False) -> str:
    value = _normalize(where)
    if not value.startswith("git+"):
        Path(value).mkdir(parents=True, exist_ok=True)
    identity(store)
    with store.transaction():
        sdb.set_config(store, "target", value)
        if encrypt:
            sdb.set_config(store, "encrypt", "1")
    return value


def _location(store: Store, report: DeviceReport,
              scratch: Path | None = None) -> tuple[Path | None, Path]:
    """(the git clone or None, the aimem-sync folder), pulled first for git."""
    where = report.target
    if where.startswith("git+"):
        repo = _git_prepare(store, where[4:], report, scratch)
        return repo, repo / LOG_DIR
    if not Path(where).is_dir() and not report.dry_run:
        raise AimemError(f"the sync folder {where} is not there (unmounted?)")
    return None, Path(where) / LOG_DIR


def _start(store: Store, dry_run: bool, where: str | None = None) -> DeviceReport:
    where = _normalize(where) if where is not None else target(store)
    if where is None:
        raise AimemError("no sync location yet: aimem sync --to FOLDER (or --to git+URL)")
    dev, _ = identity(store, save=not dry_run)
    return DeviceReport(target=where, device=dev, dry_run=dry_run)


def exchange(store: Store, *, dry_run: bool = False, where: str | None = None) -> DeviceReport:
    """Send this device's changes to the sync location and apply the others'.

    ``where``: this location instead of the saved one (for a dry run of ``--to``: nothing
    is saved). A dry run changes nothing: not the database, not the location (no folder
    made, no log written, no key made), and with git only the clone is pulled (into a
    scratch folder, removed afterwards, when there is no clone yet)."""
    import shutil
    import tempfile

    report = _start(store, dry_run, where)
    dev, name = report.device, identity(store, save=not dry_run)[1]
    scratch = Path(tempfile.mkdtemp(prefix="aimem-dry-")) if dry_run and \
        report.target.startswith("git+") else None
    try:
        repo, root = _location(store, report, scratch)
        crypt = _cipher(store, root, dry_run, report.target)
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
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
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
