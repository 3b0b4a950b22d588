"""The importer registry: one module per format, detection by content, input expansion.

Importers are found through the entry point group ``aimem.importers`` (see
``docs/importers.md``), the built-in ones too: aimem's own entry point names the table
:data:`BUILTIN` below. To add a built-in format, write a module following
:mod:`aimem.importers.base` and add it to ``BUILTIN``; a format in another package
declares its own entry point. ``aimem import --format NAME`` and auto-detection pick
either up. The entry points are read the first time the table is needed (import, sync,
detection), never at start-up: ``IMPORTERS`` and ``TREE_SOURCES`` are computed then.
"""

from __future__ import annotations

import importlib
import io
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from aimem.errors import ImportFailed
from aimem.importers.base import Importer, Input, Item

# The built-in formats (modules of this package), in detection order: the first importer
# whose sniff() says yes wins, so the strictest recognisers come first. Importers from
# other packages are asked after these, except that the plain-text fallbacks (modules
# with FALLBACK = True: markdown) are always asked last.
BUILTIN = ("jsonl", "claude_code", "codex", "gemini_cli", "chatgpt", "deepseek", "claude",
           "openwebui", "grok", "gemini_takeout", "llm_logs", "aider", "specstory", "markdown")
ENTRY_POINT_GROUP = "aimem.importers"
BUILTIN_ENTRY_POINT = "aimem.importers:BUILTIN"  # what aimem's own entry point names

_table: dict[str, Importer] | None = None
_tree_sources: frozenset[str] | None = None


def _warn(message: str) -> None:
    sys.stderr.write(f"aimem: warning: {message}\n")


def _importers_in(value: Any, where: str) -> list[Any]:
    """What one entry point names: a table of module names (or importers), an importer
    module, an importer object, or a class to instantiate."""
    if isinstance(value, list | tuple):
        return [importlib.import_module(f"aimem.importers.{v}" if where == BUILTIN_ENTRY_POINT
                                        else v) if isinstance(v, str) else v for v in value]
    if isinstance(value, type):
        value = value()
    return [value]


def _valid(obj: Any) -> str | None:
    """Why ``obj`` does not follow the importer protocol, or None."""
    for attr in ("NAME", "SOURCE"):
        if not isinstance(getattr(obj, attr, None), str) or not getattr(obj, attr):
            return f"no {attr} string"
    for attr in ("sniff", "parse"):
        if not callable(getattr(obj, attr, None)):
            return f"no {attr}() function"
    return None


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    try:
        return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    except Exception as e:  # noqa: BLE001 - broken package metadata must not stop aimem
        _warn(f"cannot read the {ENTRY_POINT_GROUP} entry points ({e})")
        return []


def _load() -> dict[str, Importer]:
    builtin: list[Any] = []
    found: list[Any] = []
    for ep in _entry_points():
        if ep.value == BUILTIN_ENTRY_POINT:
            builtin = _importers_in(ep.load(), ep.value)  # a failure here is aimem's own bug
            continue
        try:
            objs = _importers_in(ep.load(), ep.value)
        except Exception as e:  # noqa: BLE001 - a broken plugin never breaks the built-ins
            _warn(f"importer {ep.name!r} ({ep.value}) not loaded: {type(e).__name__}: {e}"
                  .splitlines()[0])
            continue
        for obj in objs:
            why = _valid(obj)
            if why:
                _warn(f"importer {ep.name!r} ({ep.value}) not loaded: {why}")
            else:
                found.append(obj)
    if not builtin:  # running from a source tree whose package metadata is not installed
        builtin = _importers_in(BUILTIN, BUILTIN_ENTRY_POINT)
    table: dict[str, Importer] = {}
    fallbacks = [m for m in builtin if getattr(m, "FALLBACK", False)]
    for obj in [m for m in builtin if m not in fallbacks]:
        table[obj.NAME] = obj
    for obj in found:
        if obj.NAME in table:
            _warn(f"importer {obj.NAME!r} from {getattr(obj, '__name__', type(obj).__name__)} "
                  "not loaded: a format of that name exists")
            continue
        table[obj.NAME] = obj
    for obj in fallbacks:
        table[obj.NAME] = obj
    return table


def table() -> dict[str, Importer]:
    """Every importer by NAME, in detection order (entry points read on the first call)."""
    global _table
    if _table is None:
        _table = _load()
        globals()["IMPORTERS"] = _table  # later look-ups skip __getattr__
    return _table


def tree_sources() -> frozenset[str]:
    """Sources whose conversations are trees (TREE = True in the module): ``messages`` is
    the visible branch, so a message a later copy moves off it goes to ``branches``."""
    global _tree_sources
    if _tree_sources is None:
        _tree_sources = frozenset(m.SOURCE for m in table().values() if getattr(m, "TREE", False))
        globals()["TREE_SOURCES"] = _tree_sources
    return _tree_sources


def __getattr__(name: str) -> Any:
    # IMPORTERS and TREE_SOURCES are computed on first use, so that importing this package
    # (the CLI's start-up, aimem sync's file filter) never reads the entry points.
    if name == "IMPORTERS":
        return table()
    if name == "TREE_SOURCES":
        return tree_sources()
    try:
        return importlib.import_module(f"aimem.importers.{name}")  # importers.chatgpt
    except ModuleNotFoundError as e:
        if e.name != f"aimem.importers.{name}":
            raise
        raise AttributeError(f"module 'aimem.importers' has no attribute {name!r}") from None

# Files inside an export that hold no conversations: skipped with this reason.
ACCOUNT_FILES = {
    "user.json", "users.json", "message_feedback.json", "shared_conversations.json",
    "model_comparisons.json", "group_chats.json", "shopping.json", "sora.json", "chat.html",
    "prod-mc-auth-mgmt-api.json", "prod-mc-billing.json",  # Grok account data
}
# Folders inside exports that hold only attachments: skipped silently.
ASSET_FOLDERS = {"prod-mc-asset-server", "dalle-generations"}
# Media and binaries inside exports: never candidates, skipped silently.
MEDIA_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".webp", ".gif", ".svg", ".mp3", ".wav", ".m4a", ".ogg",
    ".mp4", ".webm", ".pdf", ".heic", ".DS_Store",
}


def get(name: str) -> Importer:
    """The importer called ``name`` (its NAME, or its SOURCE: claude-code = claude_code)."""
    importers = table()
    key = name.strip().lower().replace("-", "_")
    for importer in importers.values():
        if key in (importer.NAME, importer.SOURCE.replace("-", "_")):
            return importer
    try:
        return importers[name]
    except KeyError:
        known = ", ".join(importers)
        raise ImportFailed("--format", f"unknown format {name!r} (known: auto, {known})") from None


def detect(inp: Input) -> Importer | None:
    """The importer that recognises this input's content, or None."""
    for importer in table().values():
        if _sniff(importer, inp):
            return importer
    return None


def _sniff(importer: Importer, inp: Input) -> bool:
    if isinstance(importer, ModuleType) and importer.__name__.startswith("aimem.importers."):
        return importer.sniff(inp)  # the built-ins guard themselves (base.sniffer)
    try:  # an importer from another package: sniffing never raises either
        return bool(importer.sniff(inp))
    except OSError:
        raise  # the input cannot be read: every importer would fail alike
    except Exception as e:  # noqa: BLE001
        _warn(f"importer {importer.NAME!r}: sniff failed on {inp.name} "
              f"({type(e).__name__}: {e}); taken as not its format".splitlines()[0])
        return False


def input_from_path(path: Path) -> Input:
    st = path.stat()
    return Input(name=str(path), opener=lambda: open(path, "rb"), size=st.st_size, path=path,
                 mtime=st.st_mtime)


def input_from_bytes(name: str, data: bytes) -> Input:
    return Input(name=name, opener=lambda: io.BytesIO(data), size=len(data))


def input_from_stdin() -> Input:
    """Standard input, spooled (to disk past 64 MB) so it can be sniffed and then read."""
    spool = tempfile.SpooledTemporaryFile(max_size=64 << 20)
    src = sys.stdin.buffer
    while chunk := src.read(1 << 20):
        spool.write(chunk)
    size = spool.tell()

    def opener() -> io.BufferedIOBase:
        spool.seek(0)
        return _NoClose(spool)  # type: ignore[arg-type]

    return Input(name="<stdin>", opener=opener, size=size)  # type: ignore[arg-type]


class _NoClose(io.BufferedIOBase):
    def __init__(self, f):  # type: ignore[no-untyped-def]
        self._f = f

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._f.read(-1 if size is None else size)

    def close(self) -> None:  # the spool lives as long as the Input
        pass


def _skip_name(name: str) -> str | None:
    """Why a member of a zip or folder is not a candidate ('' = skip silently)."""
    base = os.path.basename(name)
    parts = name.split("/")
    if "__MACOSX" in parts or base.startswith("._") or base.startswith("."):
        return ""
    if ASSET_FOLDERS.intersection(parts[:-1]):
        return ""
    if base in ACCOUNT_FILES:
        return "account data, not conversations"
    if os.path.splitext(base)[1].lower() in MEDIA_SUFFIXES:
        return ""
    return None


def expand(path_arg: str) -> Iterator[Input | tuple[str, str]]:
    """The inputs behind one command-line argument.

    Yields :class:`Input` objects for candidates and ``(name, reason)`` pairs for
    members of a zip or folder that are skipped on sight.
    """
    if path_arg == "-":
        yield input_from_stdin()
        return
    path = Path(path_arg).expanduser()
    if not path.exists():
        raise ImportFailed(path_arg, "no such file or directory")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        for p in files:
            rel = p.relative_to(path).as_posix()
            why = _skip_name(rel)
            if why == "":
                continue
            if why:
                yield (str(p), why)
                continue
            if zipfile.is_zipfile(p):
                yield from _expand_zip(p)
            else:
                yield input_from_path(p)
        return
    if zipfile.is_zipfile(path):
        yield from _expand_zip(path)
        return
    yield input_from_path(path)


def _expand_zip(path: Path) -> Iterator[Input | tuple[str, str]]:
    try:
        zf = zipfile.ZipFile(path)
        infos = sorted((i for i in zf.infolist() if not i.is_dir()), key=lambda i: i.filename)
    except (zipfile.BadZipFile, OSError) as e:
        raise ImportFailed(str(path), f"cannot read the zip: {e}") from None
    for info in infos:
        name = f"{path}:{info.filename}"
        why = _skip_name(info.filename)
        if why == "":
            continue
        if why:
            yield (name, why)
            continue

        def opener(info: zipfile.ZipInfo = info) -> io.BufferedIOBase:
            return zf.open(info)  # type: ignore[return-value]

        yield Input(name=name, opener=opener, size=info.file_size)  # type: ignore[arg-type]


__all__ = ["BUILTIN", "IMPORTERS", "TREE_SOURCES", "Input", "Item", "detect", "expand", "get",
           "input_from_bytes", "input_from_path", "table", "tree_sources"]
