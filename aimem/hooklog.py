"""The hook runs' log: one JSON line per run in ``<aimem home>/hooks.log``.

A hook must never write anything the agent could misread, so what went wrong (or
right) goes here instead; ``aimem hooks status`` shows the last entries. The file is
cut to its newer half once it passes MAX_BYTES.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

MAX_BYTES = 512 * 1024


def log_path() -> Path:
    from aimem.paths import home_dir

    return home_dir() / "hooks.log"


def write(level: str, event: str, tool: str | None, message: str, **extra: Any) -> None:
    """Append one entry; never raises (a hook that cannot log still exits 0)."""
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level,
                 "event": event, "tool": tool, "pid": os.getpid(), "message": message, **extra}
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size > MAX_BYTES:
            _trim(path)
    except Exception:  # noqa: BLE001 - logging is best effort by design
        pass


def _trim(path: Path) -> None:
    data = path.read_bytes()
    keep = data[len(data) // 2:]
    keep = keep[keep.find(b"\n") + 1:]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(keep)
    os.replace(tmp, path)


def read(limit: int = 50) -> list[dict[str, Any]]:
    """The last ``limit`` entries, oldest first (unreadable lines are skipped)."""
    try:
        lines = log_path().read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines[-limit:]:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out
