"""What every MCP tool shares: the database, opened for one call at a time, the limits
that keep results small, and the ``tool`` decorator that records each tool (defined once,
in :mod:`aimem.mcp.tools`) for :func:`aimem.mcp.server.build_server`.

Every tool opens the database for the call (opening is cheap; tools run on worker threads
and a sqlite3 connection must not cross threads), calls one core method, and returns a
result model (:mod:`aimem.mcp.models`). Results stay well under 10,000 tokens: lists are
paginated (``offset`` / ``next_offset``) and long texts are cut with a marker that says
how to read on. aimem's own errors become tool errors (``ToolError``) with their one-line
message; the server never crashes on bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel

from aimem import jsonio
from aimem.errors import AimemError, NotFound
from aimem.mcp.args import Strs
from aimem.mcp.models import MemoryOut, MessageOut
from aimem.mcp.profiles import ALL
from aimem.services import Archive
from aimem.services.filters import make_filters
from aimem.snippets import MARK_CLOSE, MARK_OPEN

# Size limits. A tool result carries its JSON twice (structuredContent and a text copy),
# so a page of RESULT_CHARS JSON characters stays far below 10,000 tokens on the wire.
RESULT_CHARS = 8_000
EXPORT_CHARS = 6_000  # JSONL inside JSON: every quote is escaped, so a smaller page
LIST_TEXT_CHARS = 500  # a memory or message text inside a list or search result
MESSAGE_CHARS = 4_000  # default per message in get_conversation
READ_CHARS = 6_000  # default page of get_message
MAX_READ_CHARS = 6_000
MAX_BUDGET = 4_000  # inject_context's token budget (the block travels twice)
MAX_SKIPPED = 30

# the snippet markers of aimem's full-text search, as [brackets]
MARKS = str.maketrans({MARK_OPEN: "[", MARK_CLOSE: "]"})

# what a tool does, for the client (the detailed tools)
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
ADD = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                      open_world_hint=False)
CHANGE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True,
                         open_world_hint=False)
# the core profile's (shorter)
CORE_ADD = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
CORE_CHANGE = ToolAnnotations(read_only_hint=False, destructive_hint=True,
                              open_world_hint=False)


class UnknownId(ToolError):
    """An id or prefix that matches nothing (or several things)."""


class Backend:
    """The tools' shared state: where the database is, and whether writing is allowed.
    Every tool takes it as its first argument (build_server binds it, so clients never
    see it)."""

    def __init__(self, db: str | Path | None, *, read_only: bool = False):
        self.db = db
        self.read_only = read_only

    @contextmanager
    def archive(self) -> Iterator[Archive]:
        """One Archive (one sqlite3 connection) for one call, on the calling thread."""
        try:
            with Archive.open(self.db, create=not self.read_only) as arc:
                yield arc
        except NotFound as e:
            raise UnknownId(str(e)) from None
        except AimemError as e:  # bad filter, bad text, missing database, …
            raise ToolError(" ".join(str(e).split("\n"))) from None

    def filters(self, arc: Archive, source: Strs = None, tag: Strs = None,
                since: str | None = None, until: str | None = None,
                project: str | None = None) -> Any:
        return make_filters(arc, source=strs(source), tag=strs(tag), since=since, until=until,
                            project=project)

    def resolve(self, arc: Archive, prefix: str, want: str) -> str:
        kind, full = arc.resolve(prefix, ("conversation", "memory", "message"))
        if want == "memory" and kind != "memory":
            raise UnknownId(f"{prefix!r} is a {kind}, not a memory: use get_conversation")
        if want == "conversation" and kind == "memory":
            raise UnknownId(f"{prefix!r} is a memory, not a conversation: use get_memory")
        if want == "message" and kind != "message":
            raise UnknownId(f"{prefix!r} is a {kind}, not a message: use "
                            f"{'get_memory' if kind == 'memory' else 'get_conversation'}")
        return full


# -- the tool registry ------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])

# name -> (the function, its first parameter a Backend; mcp.tool's options)
TOOLS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {}


def tool(*, title: str, annotations: ToolAnnotations) -> Callable[[F], F]:
    """Record a tool. Its name is the function's, its description the docstring on one line
    (what the model reads), its input schema the parameters after the Backend."""
    def record(fn: F) -> F:
        assert fn.__name__ in ALL and fn.__name__ not in TOOLS, fn.__name__
        TOOLS[fn.__name__] = (fn, {"title": title, "annotations": annotations,
                                   "description": " ".join((fn.__doc__ or "").split())})
        return fn
    return record


# -- helpers ----------------------------------------------------------------------------------


def clip(text: str, limit: int, more: str) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters with a marker naming the call that reads on."""
    if len(text) <= limit:
        return text, False
    return f"{text[:limit]} […{len(text) - limit:,} more characters: {more}]", True


def size(obj: Any) -> int:
    """The length of ``obj`` (a model or plain data) as JSON."""
    return len(jsonio.dumps(obj.model_dump() if isinstance(obj, BaseModel) else obj))


T = TypeVar("T")


def fit(items: Sequence[T], measure: Callable[[T], int] = size,
        budget: int = RESULT_CHARS) -> list[T]:
    """The leading items whose JSON fits the budget (always at least one)."""
    out: list[T] = []
    used = 0
    for it in items:
        n = measure(it)
        if out and used + n > budget:
            break
        out.append(it)
        used += n
    return out


def after(offset: int, shown: Sequence[Any], fetched: Sequence[Any]) -> int | None:
    """The next page's offset when more was fetched than fits the page; None at the end."""
    return offset + len(shown) if len(fetched) > len(shown) else None


def strs(v: Strs) -> list[str] | None:
    if v is None:
        return None
    vals = [v] if isinstance(v, str) else list(v)
    return [s.strip() for s in vals if s.strip()] or None


def memory_out(d: dict[str, Any], limit: int | None = None) -> MemoryOut:
    d = dict(d)
    if limit is not None:
        d["text"], d["truncated"] = clip(d["text"], limit, f"get_memory(id={d['id']!r})")
    return MemoryOut.model_validate(d)


def message_out(m: dict[str, Any], limit: int) -> MessageOut:
    full = m["text"] or ""
    text, cut = clip(full, limit, f"get_message(id={m['id']!r}, offset={limit})")
    return MessageOut(id=m["id"], role=m["role"], author=m.get("author"),
                      created_at=m.get("created_at"), text=text, chars=len(full), truncated=cut)
