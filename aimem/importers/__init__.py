"""The importer registry: one module per format, detection by content, input expansion.

To add a format, write a module following :mod:`aimem.importers.base` and add it
to ``MODULES`` below; ``aimem import --format NAME`` and auto-detection pick it up.
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

from aimem.errors import ImportFailed
from aimem.importers.base import Importer, Input, Item

# One module per format, in detection order: the first importer whose sniff() says
# yes wins, so the strictest recognisers come first and the plain-text fallback last.
MODULES = ("jsonl", "claude_code", "codex", "gemini_cli", "chatgpt", "deepseek", "claude",
           "openwebui", "grok", "gemini_takeout", "llm_logs", "aider", "specstory", "markdown")


def _load() -> dict[str, Importer]:
    table: dict[str, Importer] = {}
    for name in MODULES:
        try:
            module = importlib.import_module(f"aimem.importers.{name}")
        except ModuleNotFoundError as e:  # TODO(issue 3): remove once every module exists
            if e.name == f"aimem.importers.{name}":
                continue
            raise
        table[module.NAME] = module  # type: ignore[assignment]
    return table


IMPORTERS: dict[str, Importer] = _load()

# Sources whose conversations are trees (TREE = True in the module): ``messages`` is the
# visible branch, so a message a later copy moves off it goes to ``branches``.
TREE_SOURCES = frozenset(m.SOURCE for m in IMPORTERS.values() if getattr(m, "TREE", False))

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
    key = name.strip().lower().replace("-", "_")
    for importer in IMPORTERS.values():
        if key in (importer.NAME, importer.SOURCE.replace("-", "_")):
            return importer
    try:
        return IMPORTERS[name]
    except KeyError:
        known = ", ".join(IMPORTERS)
        raise ImportFailed("--format", f"unknown format {name!r} (known: auto, {known})") from None


def detect(inp: Input) -> Importer | None:
    """The importer that recognises this input's content, or None."""
    for importer in IMPORTERS.values():
        if importer.sniff(inp):
            return importer
    return None


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


__all__ = ["IMPORTERS", "Input", "Item", "detect", "expand", "get", "input_from_bytes",
           "input_from_path"]
