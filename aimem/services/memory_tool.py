"""Anthropic's memory tool (``memory_20250818``) over aimem memories.

Claude's memory tool works on files under ``/memories``: ``view``, ``create``,
``str_replace``, ``insert``, ``delete`` and ``rename``. Here a file is one aimem memory
(source ``memory-tool``, its path in ``extra["memory_path"]``, its content the memory's
text), so what Claude saves this way is searchable, injectable and listed like any
other memory. Directories are only path prefixes: they exist while a file is under
them (``/memories`` always exists). Result and error strings follow the SDK's
reference backend (``BetaLocalFilesystemMemoryTool``) so the model sees what it knows.

Paths must be ``/memories`` or below, written plainly: ``..``, ``.``, empty segments,
backslashes, NUL and %-encoded characters are refused. ``create`` does not overwrite an
existing file (nothing is lost by a mistaken create; edit it with ``str_replace`` or
delete it first).

:class:`MemoryTool` is the backend; :func:`anthropic_tool` wraps it in the Anthropic
SDK's ``BetaAbstractMemoryTool`` when that SDK version is installed.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote

from aimem.errors import AimemError
from aimem.models import MemoryItem, make_id, memory_hash
from aimem.services import memories
from aimem.store.db import Store

ROOT = "/memories"
SOURCE = "memory-tool"
COMMANDS = ("view", "create", "str_replace", "insert", "delete", "rename")
SNIPPET_LINES = 4  # context lines around an edit in str_replace's answer


class MemoryToolError(AimemError):
    """A command the memory tool refuses; the message is what the model reads."""


def check_path(path: Any) -> str:
    """The path without a trailing slash, or MemoryToolError when it is not allowed."""
    if not isinstance(path, str) or not path:
        raise MemoryToolError(f"Path must start with {ROOT}, got: {path!r}")
    if "\x00" in path or "\\" in path or unquote(path) != path:
        raise MemoryToolError(f"Path {path} contains characters that are not allowed "
                              "(backslash, NUL or %-encoding)")
    p = path.rstrip("/") if path != "/" else path
    if not (p == ROOT or p.startswith(ROOT + "/")):
        raise MemoryToolError(f"Path must start with {ROOT}, got: {path}")
    parts = p.split("/")[2:]
    if ".." in parts:
        raise MemoryToolError(f"Path {path} would escape {ROOT} directory")
    if any(seg in ("", ".") for seg in parts):
        raise MemoryToolError(f"Path {path} is not a plain path (empty or '.' segment)")
    return p


def _size(n: int) -> str:
    if n < 1024:
        return f"{n}B"
    for unit, k in (("K", 1024), ("M", 1024 ** 2)):
        if n < k * 1024 or unit == "M":
            return f"{n / k:.1f}".rstrip("0").rstrip(".") + unit
    return f"{n}B"  # pragma: no cover


def _numbered(lines: list[str], start: int = 1) -> str:
    return "\n".join(f"{i:6d}\t{line}" for i, line in enumerate(lines, start))


class MemoryTool:
    """The six commands of Claude's memory tool, over the memories of one store."""

    def __init__(self, store: Store):
        self.store = store

    # -- the files --------------------------------------------------------------------

    def _files(self) -> dict[str, tuple[int, str, int]]:
        return {p: (rowid, mid, n) for rowid, mid, p, n in self.store.memory_files()}

    def _file(self, path: str) -> tuple[int, str, int] | None:
        return self._files().get(path)

    def _under(self, path: str) -> dict[str, tuple[int, str, int]]:
        return {p: v for p, v in self._files().items() if p.startswith(path + "/")}

    def _text(self, path: str) -> tuple[str, str]:
        f = self._file(path)
        if f is None:
            raise MemoryToolError(f"The path {path} does not exist. Please provide a valid path.")
        mem = memories.get(self.store, f[1])
        return f[1], mem.text

    def _save(self, mem_id: str, text: str) -> None:
        memories.update(self.store, mem_id, text=text)

    # -- commands ---------------------------------------------------------------------

    def call(self, command: str, **args: Any) -> str:
        """Run one command given as Claude sends it (``{"command": ..., ...}``)."""
        if command not in COMMANDS:
            raise MemoryToolError(f"Unknown command {command!r}: use one of "
                                  f"{', '.join(COMMANDS)}")
        try:
            if command == "view":
                return self.view(args["path"], args.get("view_range"))
            if command == "create":
                return self.create(args["path"], args["file_text"])
            if command == "str_replace":
                return self.str_replace(args["path"], args["old_str"], args["new_str"])
            if command == "insert":
                return self.insert(args["path"], args["insert_line"], args["insert_text"])
            if command == "delete":
                return self.delete(args["path"])
            return self.rename(args["old_path"], args["new_path"])
        except KeyError as e:
            raise MemoryToolError(f"{command} needs the parameter {e.args[0]}") from None

    def view(self, path: str, view_range: list[int] | tuple[int, int] | None = None) -> str:
        p = check_path(path)
        files = self._files()
        if p in files:
            text = memories.get(self.store, files[p][1]).text
            memories.record_use(self.store, "memory", [files[p][1]])  # a deliberate read
            lines = text.split("\n")
            start = 1
            if view_range:
                if len(view_range) != 2 or not all(isinstance(x, int) for x in view_range):
                    raise MemoryToolError("view_range must be two line numbers [start, end]")
                a, b = view_range
                b = len(lines) if b == -1 else b
                if a < 1 or a > len(lines) or b < a or b > len(lines):
                    raise MemoryToolError(f"Invalid view_range {list(view_range)}: the file has "
                                          f"{len(lines)} lines")
                lines, start = lines[a - 1:b], a
            return f"Here's the content of {p} with line numbers:\n{_numbered(lines, start)}"
        under = {q: v for q, v in files.items() if p == ROOT or q.startswith(p + "/")}
        if not under and p != ROOT:
            raise MemoryToolError(f"The path {p} does not exist. Please provide a valid path.")
        entries: dict[str, int] = {}  # path (directories end with /) -> size
        total = 0
        for q, (_, _, n) in under.items():
            rel = q[len(p) + 1:].split("/")
            if any(seg.startswith(".") for seg in rel):
                continue  # hidden items are not listed
            total += n
            for depth in range(1, min(len(rel), 2) + 1):
                is_dir = depth < len(rel)
                key = p + "/" + "/".join(rel[:depth]) + ("/" if is_dir else "")
                entries[key] = entries.get(key, 0) + n
        lines = [f"{_size(total)}\t{p}"] + [f"{_size(n)}\t{q}" for q, n in sorted(entries.items())]
        return (f"Here're the files and directories up to 2 levels deep in {p}, excluding "
                "hidden items:\n" + "\n".join(lines))

    def create(self, path: str, file_text: str) -> str:
        p = check_path(path)
        if p == ROOT or self._under(p):
            raise MemoryToolError(f"{p} is a directory: give a file path")
        if self._file(p) is not None:
            raise MemoryToolError(f"File {p} already exists")
        for parent in _parents(p):
            if self._file(parent) is not None:
                raise MemoryToolError(f"{parent} is a file, not a directory")
        text = memories._clean_text(file_text if isinstance(file_text, str) else "")
        h = memory_hash(text)
        now = time.time()
        with self.store.transaction():
            other = self.store.memory_by_hash(h)
            if other is not None:
                raise MemoryToolError(f"memory {other[1]} already says exactly that; "
                                      "write something else or view the existing memories")
            self.store.insert_memory(MemoryItem(
                text=text, kind="fact", id=make_id("memory", h), created_at=now, updated_at=now,
                source=SOURCE, extra={"memory_path": p}), h)
        return f"File created successfully at: {p}"

    def str_replace(self, path: str, old_str: str, new_str: str) -> str:
        p = check_path(path)
        mem_id, text = self._text(p)
        if not isinstance(old_str, str) or not old_str:
            raise MemoryToolError("old_str must be a non-empty string")
        count = text.count(old_str)
        if count == 0:
            raise MemoryToolError(f"No replacement was performed, old_str `{old_str}` did not "
                                  f"appear verbatim in {p}.")
        if count > 1:
            lines = [i for i, line in enumerate(text.split("\n"), 1) if old_str in line]
            raise MemoryToolError(f"No replacement was performed. Multiple occurrences of old_str "
                                  f"`{old_str}` in lines: {', '.join(map(str, lines))}. Please "
                                  "ensure it is unique")
        at = text.index(old_str)
        new = text[:at] + (new_str or "") + text[at + len(old_str):]
        self._save(mem_id, new)
        new = memories.get(self.store, mem_id).text
        first = text[:at].count("\n")
        last = first + (new_str or "").count("\n")
        lines = new.split("\n")
        a, b = max(0, first - SNIPPET_LINES), min(len(lines), last + SNIPPET_LINES + 1)
        return ("The memory file has been edited. Here is the snippet showing the change (with "
                f"line numbers):\n{_numbered(lines[a:b], a + 1)}")

    def insert(self, path: str, insert_line: int, insert_text: str) -> str:
        p = check_path(path)
        mem_id, text = self._text(p)
        lines = text.splitlines()
        if not isinstance(insert_line, int) or not 0 <= insert_line <= len(lines):
            raise MemoryToolError(f"Invalid `insert_line` parameter: {insert_line}. It should be "
                                  f"within the range [0, {len(lines)}].")
        new = lines[:insert_line] + (insert_text or "").splitlines() + lines[insert_line:]
        self._save(mem_id, "\n".join(new) + ("\n" if text.endswith("\n") else ""))
        return f"The file {p} has been edited."

    def delete(self, path: str) -> str:
        p = check_path(path)
        if p == ROOT:
            raise MemoryToolError(f"Cannot delete the {ROOT} directory itself")
        f = self._file(p)
        targets = [f[1]] if f is not None else [v[1] for v in self._under(p).values()]
        if not targets:
            raise MemoryToolError(f"The path {p} does not exist. Please provide a valid path.")
        memories.forget(self.store, [("memory", t) for t in targets])
        return f"Successfully deleted {p}"

    def rename(self, old_path: str, new_path: str) -> str:
        old, new = check_path(old_path), check_path(new_path)
        if ROOT in (old, new):
            raise MemoryToolError(f"Cannot rename the {ROOT} directory itself")
        files = self._files()
        moves: dict[str, str] = {}
        if old in files:
            moves[old] = new
        else:
            moves = {q: new + q[len(old):] for q in files if q.startswith(old + "/")}
            if moves and (new + "/").startswith(old + "/"):
                raise MemoryToolError(f"Cannot move {old} into itself")
        if not moves:
            raise MemoryToolError(f"The path {old} does not exist. Please provide a valid path.")
        if new in files or any(q.startswith(new + "/") for q in files):
            raise MemoryToolError(f"The destination {new} already exists")
        for parent in _parents(new):
            if parent in files:
                raise MemoryToolError(f"{parent} is a file, not a directory")
        with self.store.transaction():
            for src, dst in moves.items():
                rowid, mem_id, _ = files[src]
                mem = memories.get(self.store, mem_id)
                self.store.set_memory_extra(rowid, {**(mem.extra or {}), "memory_path": dst})
        return f"Successfully renamed {old} to {new}"

    def clear_all_memory(self) -> str:
        """Delete every file under /memories (the SDK's optional command)."""
        ids = [v[1] for v in self._files().values()]
        if ids:
            memories.forget(self.store, [("memory", i) for i in ids])
        return "All memory cleared"


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(3, len(parts))]


def anthropic_tool(store: Store) -> Any:
    """An ``anthropic.lib.tools.BetaAbstractMemoryTool`` backed by aimem, for
    ``client.beta.messages.tool_runner(tools=[...])``. Needs an ``anthropic`` SDK that has
    that class (0.69 or later); with an older one this raises AimemError saying so."""
    try:
        from anthropic.lib.tools import BetaAbstractMemoryTool, ToolError  # type: ignore[attr-defined]
    except ImportError:
        try:
            import anthropic
            have = f"anthropic {anthropic.__version__} is installed"
        except ImportError:
            have = "anthropic is not installed"
        raise AimemError("the Anthropic SDK's memory tool interface (BetaAbstractMemoryTool) "
                         f"is not available: {have}; install a newer one (pip install -U "
                         "anthropic) or call aimem.services.memory_tool.MemoryTool directly"
                         ) from None

    backend = MemoryTool(store)

    def run(fn: Any, *args: Any) -> str:
        try:
            return fn(*args)
        except AimemError as e:
            raise ToolError(str(e)) from None

    class AimemMemoryTool(BetaAbstractMemoryTool):  # type: ignore[misc, valid-type]
        """Claude's memory tool, stored in aimem."""

        def view(self, command: Any) -> str:
            return run(backend.view, command.path, getattr(command, "view_range", None))

        def create(self, command: Any) -> str:
            return run(backend.create, command.path, command.file_text)

        def str_replace(self, command: Any) -> str:
            return run(backend.str_replace, command.path, command.old_str, command.new_str)

        def insert(self, command: Any) -> str:
            return run(backend.insert, command.path, command.insert_line, command.insert_text)

        def delete(self, command: Any) -> str:
            return run(backend.delete, command.path)

        def rename(self, command: Any) -> str:
            return run(backend.rename, command.old_path, command.new_path)

        def clear_all_memory(self) -> str:
            return run(backend.clear_all_memory)

    return AimemMemoryTool()
