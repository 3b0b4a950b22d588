"""``aimem doctor`` and ``aimem backup``: is the database sound, and a safe copy of it.

Both work on the database file itself, not through :class:`aimem.services.Archive`:
``Archive.open`` migrates the file and refuses a damaged one or one from a newer aimem,
which are exactly the files these two must be able to look at and copy.

``diagnose()`` returns ``{"path", "healthy", "problems", "warnings", "checks": [...],
"fixed": [...]}``; each check is ``{"name", "status": "ok"|"warning"|"problem",
"detail", "fixable", "fix"}``. A problem makes the database unhealthy (``aimem doctor``
exits 1); a warning does not.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimem.errors import AimemError, DatabaseMissing
from aimem.paths import db_path, home_dir
from aimem.store import health as sql
from aimem.store import migrations

WAL_WARN_BYTES = 64 * 1024 * 1024  # a log this big means checkpoints were starved


@dataclass
class Check:
    name: str
    status: str  # ok, warning, problem
    detail: str
    fix: str | None = None  # what --fix does about it; None: it cannot

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail,
                "fixable": self.fix is not None, "fix": self.fix}


def _existing(db: str | os.PathLike[str] | None, what: str) -> Path:
    path = db_path(db)
    if not path.exists():
        raise DatabaseMissing(f"no database at {path}: nothing to {what} "
                              "(import something first, or point --db at one)")
    if path.is_dir():
        raise AimemError(f"{path} is a directory, not a database file")
    return path


def _side_files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


# -- checks -----------------------------------------------------------------------------


def _mode_checks(path: Path) -> list[Check]:
    if os.name != "posix":
        return []
    out = []
    loose = [(p, stat.S_IMODE(p.stat().st_mode)) for p in _side_files(path)]
    loose = [(p, m) for p, m in loose if m & 0o077]
    if loose:
        out.append(Check("file mode", "problem", "others can read your conversations: "
                         + ", ".join(f"{p.name} is {m:04o}" for p, m in loose),
                         "chmod 0600"))
    else:
        out.append(Check("file mode", "ok", "0600 (only you can read it)"))
    folder = path.parent.resolve()
    mode = stat.S_IMODE(folder.stat().st_mode)
    own = folder == home_dir().expanduser().resolve()
    if own and mode & 0o077:
        out.append(Check("folder mode", "problem", f"aimem's folder {folder} is {mode:04o}: "
                         "others can list or change it", "chmod 0700"))
    elif mode & 0o002 and not mode & stat.S_ISVTX:
        out.append(Check("folder mode", "problem", f"{folder} is {mode:04o}: anyone can delete "
                         "or replace the database (move it, or chmod o-w the folder)"))
    else:
        out.append(Check("folder mode", "ok", f"{folder} is {mode:04o}"))
    return out


def _schema_check(conn: sql.Connection) -> Check:
    version, known = sql.user_version(conn), len(migrations.MIGRATIONS)
    if version > known:
        return Check("schema", "problem", f"version {version}, written by a newer aimem (this "
                     f"one knows {known}): upgrade aimem; doctor --fix leaves it alone")
    if version < known:
        return Check("schema", "warning", f"version {version}, this aimem knows {known}: the "
                     "next aimem command upgrades it")
    names = [fn.__name__ for fn in migrations.MIGRATIONS]
    recorded = sql.applied_migrations(conn)
    wrong = [f"{n} is {recorded[n]} here, {names[n - 1]} in this aimem"
             for n in sorted(recorded) if 0 < n <= known and recorded[n] != names[n - 1]]
    if wrong:
        return Check("schema", "problem", "the migrations applied are not this aimem's: "
                     + "; ".join(wrong))
    return Check("schema", "ok", f"version {version} (current)")


def _fts_checks(conn: sql.Connection) -> list[Check]:
    out = []
    for t in sql.fts_tables(conn):
        name = f"index {t.name}"
        try:
            error = sql.fts_integrity_error(conn, t)
            indexed, content = sql.fts_counts(conn, t)
        except sql.NotChecked as e:
            out.append(Check(name, "warning", f"not checked: {e}"))
            continue
        fix = None if t.contentless else "rebuild it"
        if error:
            out.append(Check(name, "problem", f"does not match its content ({error})", fix))
        elif indexed is not None and content is not None and indexed != content:
            out.append(Check(name, "problem", f"{indexed:,} rows indexed, {content:,} in "
                             f"{t.content}", fix))
        else:
            rows = f"{indexed:,} rows, " if indexed is not None else ""
            out.append(Check(name, "ok", rows + "consistent"
                             + (f" with {t.content}" if t.content else "")))
    return out


def _orphan_checks(conn: sql.Connection) -> list[Check]:
    out = []
    keys = sql.foreign_keys(conn)
    for fk in keys:
        n = sql.orphan_count(conn, fk)
        if n:
            what = "unlink them" if fk.on_delete == "SET NULL" else "delete them"
            out.append(Check(f"orphans {fk.table}", "problem", f"{n:,} rows of {fk.table} whose "
                             f"{fk.column} is gone (no such row in {fk.parent})", what))
    tags = sql.unused_tag_count(conn)
    if tags:
        out.append(Check("orphans tags", "problem", f"{tags:,} tags nothing carries",
                         "delete them"))
    if not out:
        out.append(Check("orphans", "ok", f"none ({len(keys)} links between tables checked)"))
    return out


def _vector_check(conn: sql.Connection) -> list[Check]:
    p = sql.vector_problems(conn)
    if p is None:
        return []
    if not p.any:
        return [Check("vectors", "ok", f"{p.vectors:,} embedding vectors, each in its place")]
    what = []
    if p.malformed:
        what.append(f"{len(p.malformed):,} damaged blocks")
    if p.gone:
        what.append(f"{p.gone:,} vectors of items that are gone")
    if p.misplaced:
        what.append(f"{p.misplaced:,} vectors that point at the wrong slot")
    return [Check("vectors", "problem", ", ".join(what) + " (semantic search would show "
                  "wrong hits)", "remove them (aimem embed makes them again)")]


def _wal_check(path: Path) -> Check:
    wal = Path(f"{path}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    if size > WAL_WARN_BYTES:
        return Check("write-ahead log", "warning", f"{size / 1e6:,.0f} MB: a long reader kept "
                     "SQLite from folding it back into the database", "checkpoint it")
    return Check("write-ahead log", "ok", f"{size / 1e6:,.1f} MB")


def _unreadable(e: sql.Unreadable) -> Check:
    what = "not an SQLite database at all" if e.notadb else "the file is damaged"
    return Check("integrity", "problem", f"{what} ({e}): restore a backup, or salvage what is "
                 "left with sqlite3 FILE .recover")


def _checks(path: Path) -> list[Check]:
    checks = _mode_checks(path)
    try:
        conn = sql.connect(path)
    except sql.Unreadable as e:
        return [*checks, _unreadable(e)]
    try:
        try:
            errors = sql.integrity_errors(conn)
        except sql.Unreadable as e:
            return [*checks, _unreadable(e)]
        if errors:
            checks.append(Check("integrity", "problem", f"{len(errors)} error(s), such as: "
                                + "; ".join(errors[:3]) + " - the file is damaged: restore a "
                                "backup, or salvage it with sqlite3 FILE .recover"))
        else:
            checks.append(Check("integrity", "ok", "PRAGMA integrity_check: ok"))
        try:
            with sql.unreadable_as_such():
                checks.append(_schema_check(conn))
                if not errors:  # on a damaged file these would only repeat the damage
                    checks += _fts_checks(conn)
                    checks += _orphan_checks(conn)
                    checks += _vector_check(conn)
        except sql.Unreadable as e:
            checks.append(_unreadable(e))
        checks.append(_wal_check(path))
    finally:
        conn.close()
    return checks


# -- repairs ----------------------------------------------------------------------------


def _repair_database(path: Path, checks: list[Check]) -> list[str]:
    """Orphans out, unused tags out, stale indexes rebuilt: one transaction, all or nothing."""
    done: list[str] = []
    stale = {c.name.removeprefix("index ") for c in checks
             if c.name.startswith("index ") and c.status == "problem"}
    conn = sql.connect(path)
    try:
        unchecked = {c.name.removeprefix("index ") for c in checks
                     if c.name.startswith("index ") and c.status == "warning"}
        result = sql.repair(conn, stale, unchecked)
        for verb in ("removed", "unlinked"):
            for where, n in result[verb]:
                table, column = where.split(".", 1)
                done.append(f"{verb} {n:,} rows of {table} whose {column} was gone")
        for _, n in result["tags"]:
            done.append(f"removed {n:,} unused tags")
        for name, _ in result["rebuilt"]:
            done.append(f"rebuilt the full-text index {name}")
        if any(c.name == "vectors" and c.fix and c.status == "problem" for c in checks):
            v = sql.repair_vectors(conn)
            done.append(f"removed {v['vectors']:,} embedding vectors"
                        + (f" and {v['blocks']:,} damaged blocks" if v["blocks"] else "")
                        + " (aimem embed makes them again)")
        if any(c.name == "write-ahead log" and c.fix for c in checks):
            busy, _, _ = sql.checkpoint(conn)
            done.append("folded the write-ahead log back into the database" if not busy else
                        "could not fold the write-ahead log back: another process is reading")
    finally:
        conn.close()
    return done


def _repair(path: Path, checks: list[Check]) -> list[str]:
    done: list[str] = []
    by_name = {c.name: c for c in checks}
    integrity, schema = by_name.get("integrity"), by_name.get("schema")
    if integrity is not None and integrity.status == "problem":
        done.append("left the database as it is: the file itself is damaged, which doctor "
                    "cannot repair (restore a backup)")
    elif schema is not None and schema.status == "problem":
        done.append("left the database as it is: its schema is not this aimem's")
    else:
        done += _repair_database(path, checks)
    if by_name.get("file mode") and by_name["file mode"].fix:
        for p in _side_files(path):
            p.chmod(0o600)
        done.append(f"made {path.name} readable by you only (0600)")
    if by_name.get("folder mode") and by_name["folder mode"].fix:
        path.parent.chmod(0o700)
        done.append(f"made {path.parent} yours only (0700)")
    return done


def diagnose(db: str | os.PathLike[str] | None = None, *, fix: bool = False) -> dict[str, Any]:
    """Check the database (and with ``fix``, repair what can be repaired, then check again)."""
    path = _existing(db, "check")
    checks = _checks(path)
    fixed: list[str] = []
    if fix and any(c.fix and c.status != "ok" for c in checks):
        fixed = _repair(path, checks)
        checks = _checks(path)
    problems = sum(c.status == "problem" for c in checks)
    return {"path": str(path), "healthy": problems == 0, "problems": problems,
            "warnings": sum(c.status == "warning" for c in checks),
            "checks": [c.to_dict() for c in checks], "fixed": fixed}


# -- backup -----------------------------------------------------------------------------


def backup(dest: str | os.PathLike[str], db: str | os.PathLike[str] | None = None, *,
           force: bool = False) -> dict[str, Any]:
    """A consistent copy of the database at ``dest`` (a folder: a dated file in it).

    The copy is written beside its destination under a temporary name and renamed into
    place once complete, with mode 0600; an existing file is replaced only with ``force``.
    Returns ``{"path", "source", "bytes", "conversations", "messages", "memories"}``.
    """
    source = _existing(db, "back up")
    target = Path(dest).expanduser()
    if target.is_dir():
        target = target / time.strftime("aimem-%Y%m%d-%H%M%S.db")
    elif str(dest).endswith(("/", os.sep)):
        raise AimemError(f"no folder {target}: create it first")
    if not target.parent.is_dir():
        raise AimemError(f"no folder {target.parent}: create it first")
    if target.exists():
        if target.resolve() == source.resolve() or target.samefile(source):
            raise AimemError(f"{target} is the database itself: back it up somewhere else")
        if not force:
            raise AimemError(f"{target} exists: choose another name, or --force to replace it")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        sql.backup(source, tmp, target)
        os.chmod(tmp, 0o600)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # never replaces a file that appeared meanwhile
            except FileExistsError:
                raise AimemError(f"{target} exists: choose another name, or --force to "
                                 "replace it") from None
            except OSError:  # a file system without hard links
                if target.exists():
                    raise AimemError(f"{target} exists: choose another name, or --force to "
                                     "replace it") from None
                os.replace(tmp, target)
    finally:
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            p.unlink(missing_ok=True)
    return {"path": str(target), "source": str(source), "bytes": target.stat().st_size,
            **sql.file_counts(target)}
