"""What every importer works with: an :class:`Input` to read and the protocol to follow.

An importer is a module with ``NAME``, ``SOURCE``, ``DESCRIPTION``, ``sniff(inp)`` and
``parse(inp)``. ``sniff`` looks at the content (never the file name) and says whether
the input is in its format; ``parse`` yields :class:`~aimem.models.Conversation`,
:class:`~aimem.models.MemoryItem` and :class:`~aimem.models.Skipped` objects, one at a
time, and raises :class:`~aimem.errors.ImportFailed` for input it cannot read.
Importers never touch the database.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from aimem import jsonio
from aimem.errors import ImportFailed
from aimem.models import Conversation, MemoryItem, Skipped

Item = Conversation | MemoryItem | Skipped

HEAD_SIZE = 64 * 1024


class CountingReader(io.RawIOBase):
    """A read-only stream that counts (and hashes) the bytes that pass through it."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[bytes], None]):
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        data = self._raw.read(len(b))
        n = len(data)
        b[:n] = data
        if n:
            self._on_read(data)
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._on_read(data)
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass
class Input:
    """One readable unit: a file, a member of a zip, or standard input."""

    name: str  # what people see in messages: a path, "export.zip:conversations.json", "<stdin>"
    opener: Callable[[], BinaryIO]
    size: int | None = None
    path: Path | None = None  # the file on disk, when there is one
    mtime: float | None = None
    bytes_read: int = 0
    _head: bytes | None = field(default=None, repr=False)
    _asked: int = field(default=0, repr=False)
    _sha: hashlib._Hash | None = field(default=None, repr=False)  # type: ignore[name-defined]

    def head(self, size: int = HEAD_SIZE) -> bytes:
        """The first bytes of the input, for sniffing (read once, cached)."""
        if self._head is None or (len(self._head) < size and len(self._head) == self._asked):
            with self.opener() as f:
                self._head = f.read(size)
            self._asked = size
        return self._head[:size]

    def text_head(self, size: int = HEAD_SIZE) -> str:
        """The head decoded as UTF-8 (BOM and a cut last character tolerated)."""
        return self.head(size).decode("utf-8-sig", errors="ignore")

    def open(self) -> BinaryIO:
        """A fresh stream over the whole input that counts into ``bytes_read``."""
        self.bytes_read = 0
        self._sha = hashlib.sha256()

        def count(data: bytes) -> None:
            self.bytes_read += len(data)
            assert self._sha is not None
            self._sha.update(data)

        stream = io.BufferedReader(CountingReader(self.opener(), count), 1 << 20)
        if stream.peek(3)[:3] == b"\xef\xbb\xbf":  # a UTF-8 byte order mark: not content
            stream.read(3)
        return stream  # type: ignore[return-value]

    @property
    def sha256(self) -> str | None:
        return self._sha.hexdigest() if self._sha is not None else None

    def fail(self, why: str) -> ImportFailed:
        return ImportFailed(self.name, why)


class Importer(Protocol):
    NAME: str
    SOURCE: str
    DESCRIPTION: str

    def sniff(self, inp: Input) -> bool: ...

    def parse(self, inp: Input) -> Iterator[Item]: ...


def first_json_char(inp: Input) -> str:
    """The first non-blank character of the input ('' when it is empty)."""
    text = inp.text_head(4096).lstrip()
    return text[:1]


def json_items(inp: Input, prefix: str) -> Iterator[Any]:
    """Stream the JSON values at ``prefix`` (ijson's syntax: ``item``, ``conversations.item``,
    ``""`` for the whole document) one at a time; a parse error becomes ImportFailed."""
    import ijson

    with inp.open() as f:
        try:
            yield from ijson.items(f, prefix, use_float=True)
        except ijson.JSONError as e:
            raise inp.fail(f"truncated or malformed JSON near byte {inp.bytes_read} "
                           f"({error_line(e)})") from None
        except (UnicodeDecodeError, ValueError) as e:
            raise inp.fail(f"not a readable JSON file ({error_line(e)})") from None


def error_line(e: Exception) -> str:
    """A parser's message on one line: yajl draws a caret picture over several (some bytes)."""
    arg = e.args[0] if e.args else ""
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(e)
    return (text.strip().splitlines() or [type(e).__name__])[0].strip()


NOT_AN_OBJECT = "not a JSON object"


def log_record(raw: bytes, where: str) -> dict[str, Any] | Skipped:
    """One line of a JSON Lines log that a tool appends to while it runs (Claude Code,
    Codex, Gemini CLI): the object, or a Skipped saying why not. A last line without its
    newline is reported as cut, since the tool may still be writing it."""
    try:
        obj = jsonio.loads(raw)
    except jsonio.JSONDecodeError:
        if not raw.endswith(b"\n"):
            return Skipped(where, "truncated last line (the session may still have been "
                                  "writing it)")
        return Skipped(where, "not valid JSON")
    if not isinstance(obj, dict):
        return Skipped(where, NOT_AN_OBJECT)
    return obj
