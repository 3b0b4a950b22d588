"""What the store's modules share: error tests, JSON columns, the filters as SQL."""

from __future__ import annotations

from typing import Any

from aimem import jsonio
from aimem.models import Filters

BUSY_TIMEOUT_MS = 30_000
_READONLY, _FULL = 8, 13  # SQLite's primary result codes


def is_busy(e: BaseException) -> bool:
    """Whether an sqlite3 error is SQLITE_BUSY / SQLITE_LOCKED ("database is locked")."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)
    return "locked" in str(e) or "busy" in str(e)


def _extra_json(extra: dict[str, Any] | None) -> str | None:
    return jsonio.dumps_str(extra) if extra else None


def _extra_load(raw: str | None) -> dict[str, Any] | None:
    return jsonio.loads(raw) if raw else None


def _json_safe(v: Any) -> Any:
    return {"$bytes": v.hex()} if isinstance(v, bytes) else v


def _json_unsafe(v: Any) -> Any:
    return bytes.fromhex(v["$bytes"]) if isinstance(v, dict) else v


def filter_sql(f: Filters | None, conv: str = "c", msg: str | None = "m") -> tuple[str, list[Any]]:
    """SQL conditions (joined with AND, or "1") and parameters for the common filters."""
    if f is None:
        return "1", []
    where: list[str] = []
    params: list[Any] = []
    if f.sources:
        where.append(f"{conv}.source IN ({','.join('?' * len(f.sources))})")
        params += f.sources
    if f.tags:
        where.append(
            f"{conv}.rowid IN (SELECT ct.conversation FROM conversation_tags ct "
            f"JOIN tags t ON t.rowid = ct.tag WHERE t.name IN ({','.join('?' * len(f.tags))}))")
        params += f.tags
    time_col = f"coalesce({msg}.created_at, {conv}.created_at)" if msg else f"{conv}.created_at"
    if f.since is not None:
        where.append(f"{time_col} >= ?")
        params.append(f.since)
    if f.until is not None:
        where.append(f"{time_col} < ?")
        params.append(f.until)
    if f.roles and msg:
        where.append(f"{msg}.role IN ({','.join('?' * len(f.roles))})")
        params += f.roles
    if f.conversation:
        where.append(f"{conv}.id = ?")
        params.append(f.conversation)
    if f.project:
        where.append(_project_sql(f"{conv}.project"))
        params += _project_params(f.project)
    return (" AND ".join(where) or "1"), params


def _project_sql(col: str) -> str:
    # the folder itself or any folder below it ('/' + 1 is '0'): a range the index can use
    return f"({col} = ? OR ({col} >= ? AND {col} < ?))"


def _project_params(project: str) -> list[str]:
    root = project.rstrip("/") or "/"
    base = root if root.endswith("/") else root + "/"
    return [root, base, base[:-1] + "0"]


def memory_filter_sql(f: Filters | None, mem: str = "mm") -> tuple[str, list[Any]]:
    """The filters as they apply to memories (source = who saved it, time = last update)."""
    if f is None:
        return "1", []
    where: list[str] = []
    params: list[Any] = []
    if f.sources:
        where.append(f"{mem}.source IN ({','.join('?' * len(f.sources))})")
        params += f.sources
    if f.tags:
        where.append(
            f"{mem}.rowid IN (SELECT mt.memory FROM memory_tags mt "
            f"JOIN tags t ON t.rowid = mt.tag WHERE t.name IN ({','.join('?' * len(f.tags))}))")
        params += f.tags
    if f.since is not None:
        where.append(f"{mem}.updated_at >= ?")
        params.append(f.since)
    if f.until is not None:
        where.append(f"{mem}.updated_at < ?")
        params.append(f.until)
    if f.project:
        where.append(_project_sql(f"{mem}.project"))
        params += _project_params(f.project)
    return (" AND ".join(where) or "1"), params
