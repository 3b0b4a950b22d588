"""What every importer works with: an :class:`Input` to read and the protocol to follow.

An importer is a module with ``NAME``, ``SOURCE``, ``DESCRIPTION``, ``sniff(inp)`` and
``parse(inp)``. ``sniff`` looks at the content (never the file name) and says whether
the input is in its format; ``parse`` yields :class:`~aimem.models.Conversation`,
:class:`~aimem.models.MemoryItem` and :class:`~aimem.models.Skipped` objects, one at a
time, and raises :class:`~aimem.errors.ImportFailed` for input it cannot read.
Importers never touch the database.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from aimem import jsonio
from aimem.errors import ImportFailed
from aimem.models import Conversation, MemoryItem, Skipped

Item = Conversation | MemoryItem | Skipped

HEAD_SIZE = 64 * 1024
TOOL_TEXT_LIMIT = 4000  # tool calls and results are cut to this many characters


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
    _digest: str | None = field(default=None, repr=False)  # read by another process

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
        self._digest = None

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
        if self._digest is not None:
            return self._digest
        return self._sha.hexdigest() if self._sha is not None else None

    def adopt_digest(self, sha256: str | None) -> None:
        """The input was read in another process (:mod:`aimem.services.prepare_ahead`):
        take its digest as this one's."""
        self._digest = sha256

    def fail(self, why: str) -> ImportFailed:
        return ImportFailed(self.name, why)


class Importer(Protocol):
    NAME: str
    SOURCE: str
    DESCRIPTION: str

    def sniff(self, inp: Input) -> bool: ...

    def parse(self, inp: Input) -> Iterator[Item]: ...


def sniffer(fn: Callable[[Input], Any]) -> Callable[[Input], bool]:
    """Decorates an importer's ``sniff``: sniffing never raises, so any exception (an
    undecodable head, a shape the checks did not expect) means "not this format"."""

    @functools.wraps(fn)
    def sniff(inp: Input) -> bool:
        try:
            return bool(fn(inp))
        except Exception:  # noqa: BLE001 - sniffing never raises
            return False

    return sniff


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


def shaped_items(inp: Input, prefix: str, shaped: Callable[[Any], bool],
                 not_mine: str) -> Iterator[tuple[int, Any]]:
    """``(n, value)`` for the JSON values at ``prefix`` (n from 1), as :func:`json_items`;
    when there were values and none has the format's shape, fails with ``not_mine``
    (a JSON list of something else that got past sniffing)."""
    n = found = 0
    for n, value in enumerate(json_items(inp, prefix), 1):
        found += bool(shaped(value))
        yield n, value
    if n and not found:
        raise inp.fail(not_mine)


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


class LogReader:
    """The line loop the readers of agent session logs share (Claude Code, Codex): each
    line goes to :meth:`record` as an object, damaged lines become Skipped, and a file
    with no record the subclass counted in ``known`` fails with :attr:`NOT_MINE`."""

    WHAT = "session"  # "no readable <WHAT> record"
    NOT_MINE = "not a session log"

    def __init__(self, inp: Input):
        self.inp = inp
        self.unknown: Counter[str] = Counter()
        self.known = 0
        self.lines = 0
        self.bad = 0

    def line(self, obj: dict[str, Any], lineno: int, where: str) -> Iterator[Item]:
        raise NotImplementedError

    def read_lines(self) -> Iterator[Item]:
        with self.inp.open() as f:
            for lineno, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                self.lines += 1
                where = f"{self.inp.name}: line {lineno}"
                obj = log_record(raw, where)
                if isinstance(obj, Skipped):
                    self.bad += obj.reason != NOT_AN_OBJECT
                    yield obj
                else:
                    yield from self.line(obj, lineno, where)
        if not self.known:
            if not self.lines:
                raise self.inp.fail("empty file")
            if self.bad:
                raise self.inp.fail(f"no readable {self.WHAT} record ({self.bad} of "
                                    f"{self.lines} lines are not valid JSON)")
            raise self.inp.fail(self.NOT_MINE)

    def unknown_skipped(self) -> Iterator[Skipped]:
        for kind, n in sorted(self.unknown.items()):
            yield Skipped(self.inp.name, f"{n} record{'s' if n > 1 else ''} of unknown type "
                                         f"{kind!r} left out")


def read_errors(parse: Callable[[Input], Iterator[Item]]) -> Callable[[Input], Iterator[Item]]:
    """Decorates a ``parse`` that reads bytes as text: an undecodable byte or an I/O error
    fails the file with one line ("cannot read the file (…)")."""

    @functools.wraps(parse)
    def wrapped(inp: Input) -> Iterator[Item]:
        try:
            yield from parse(inp)
        except (UnicodeDecodeError, OSError) as e:
            raise inp.fail(f"cannot read the file ({e})") from None

    return wrapped


# --- text shared by several importers ---------------------------------------------------


def compact_json(value: Any) -> str:
    """A value as compact JSON (``str()`` for what JSON cannot hold)."""
    try:
        return jsonio.dumps_str(value)
    except TypeError:
        return str(value)


def clip(text: str, limit: int = TOOL_TEXT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters with a ``… [truncated: N more characters]`` mark."""
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()}\n… [truncated: {len(text) - limit} more characters]"


def first_line(text: str, limit: int = 80) -> str:
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def render_fields(data: dict[str, Any]) -> str:
    """A tool call's arguments, one ``key: value`` line each (a multi-line string value
    on the lines after its key)."""
    lines = []
    for key, value in data.items():
        if isinstance(value, str):
            lines.append(f"{key}:\n{value}" if "\n" in value else f"{key}: {value}")
        else:
            lines.append(f"{key}: {compact_json(value)}")
    return "\n".join(lines)


def render_args(name: str, data: Any) -> str:
    """A compact rendering of a tool call's arguments; the tool's name when there are none."""
    if isinstance(data, dict):
        return render_fields(data).strip() or name
    text = data if isinstance(data, str) else ("" if data is None else compact_json(data))
    return text.strip() or name
