"""The tools of the lean ``core`` profile (the default), ``related`` and Claude's ``memory``
tool.

Every tool definition is loaded into the model's context in every session, so the
default profile is small: ``core`` is six tools whose whole ``tools/list`` stays under
6,000 characters (tests/test_mcp_profiles.py holds it to that):

- ``search``: memories and conversations at once, ids and one-line snippets only;
- ``read``: an id from search, with progressive detail (a memory in full; a message with
  the messages around it; a conversation a page at a time; ``around=0`` a long message
  a page of characters at a time);
- ``remember`` / ``edit_memory`` / ``forget``: save, change, delete a memory;
- ``recall``: the token-budgeted context block of ``aimem inject``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from aimem.mcp.args import CoreIdArg, CoreProjectArg, Kind
from aimem.mcp.backend import CORE_ADD, CORE_CHANGE, MARKS, READ, Backend, clip, tool
from aimem.mcp.models import Context, Hit, Hits, Page, Result, Saved

SNIPPET_CHARS = 160  # one line of a search hit
WINDOW_CHARS = 1_200  # per message in a window around a hit
PAGE_CHARS = 6_000  # a page of read()


def _line(text: str, limit: int = SNIPPET_CHARS) -> str:
    one = " ".join((text or "").split())
    return one if len(one) <= limit else one[:limit - 1].rstrip() + "…"


def _msg_md(m: dict[str, Any], limit: int, mark: bool = False) -> str:
    who = m.get("author") or m["role"]
    head = f"### {who}" + (f" · {m['created_at']}" if m.get("created_at") else "")
    head += f" · {m['id']}" + (" ← hit" if mark else "")
    text, _ = clip(m["text"] or "", limit, f"read(id={m['id']!r}, around=0)")
    return f"{head}\n{text}"


@tool(title="Search memory", annotations=READ)
def search(
    b: Backend,
    query: Annotated[str, Field(description="Words to find; \"a phrase\", prefix*, "
                                            "-not work.", min_length=1, max_length=500)],
    limit: Annotated[int, Field(ge=1, le=30)] = 10,
    scope: Literal["all", "memories", "conversations"] = "all",
    project: CoreProjectArg = None,
    mode: Literal["auto", "lexical", "semantic", "hybrid"] = "auto",
) -> Hits:
    """Find saved memories and past conversation messages about something the user
    means; returns ids and one-line snippets, best first. Then read(id) the hits you
    need."""
    kinds = {"all": ("memory", "message", "conversation"), "memories": ("memory",),
             "conversations": ("message", "conversation")}[scope]
    with b.archive() as arc:
        filters = b.filters(arc, project=project) if project else None
        found = arc.search(query, filters, limit=limit, kinds=kinds,
                           mode=None if mode == "auto" else mode)
    hits = []
    for h in found:
        snip = (h.get("snippet") or h.get("text") or "").translate(MARKS)
        hits.append(Hit(id=h["id"] if h["kind"] != "conversation" else
                        h["conversation_id"], kind=h["kind"],
                        title=_line(h.get("title") or "", 80),
                        date=(h.get("created_at") or "")[:10],
                        snippet=_line(snip)))
    return Hits(hits=hits)


@tool(title="Read by id", annotations=READ)
def read(
    b: Backend,
    id: Annotated[str, Field(description="An id from search (memory, message or "
                                         "conversation).", min_length=1,
                             max_length=100)],
    around: Annotated[int, Field(ge=0, le=10, description="Messages shown before and "
                                                          "after a message; 0: that "
                                                          "message in full.")] = 2,
    offset: Annotated[int, Field(ge=0, description="next_offset of the previous "
                                                   "page.")] = 0,
) -> Page:
    """Read what an id points to: a memory in full, a message with the messages
    around it, a conversation a page at a time. Ask for more with next_offset."""
    with b.archive() as arc:
        kind, full = arc.resolve(id)
        d = arc.show(full)  # a deliberate read: counts as a use
    if kind == "memory":
        text = f"[{d['kind']}] {d['text']}" + (
            f"\ntags: {', '.join(d['tags'])}" if d.get("tags") else "")
        return Page(id=full, kind=kind, text=text)
    msgs = d["messages"]
    head = (f"# {d.get('title') or '(untitled)'}\n{d['source']} · "
            f"{d.get('created_at') or 'undated'} · {len(msgs)} messages · "
            f"conversation {d['id']}")
    if kind == "message" and around == 0:
        m = next(m for m in msgs if m["id"] == full)
        text = m["text"] or ""
        if offset > len(text):
            raise ToolError(f"offset {offset} is past the end ({len(text)} characters)")
        end = min(len(text), offset + PAGE_CHARS)
        return Page(id=full, kind=kind, text=text[offset:end],
                    next_offset=end if end < len(text) else None)
    if kind == "message":  # the hit and its neighbours, within one page
        i = next(i for i, m in enumerate(msgs) if m["id"] == full)
        first = max(0, i - around)
        window = msgs[first:i + around + 1]
        each = max(300, min(WINDOW_CHARS, PAGE_CHARS // len(window)))
        parts = [head, *(_msg_md(m, each, m["id"] == full) for m in window)]
        if first or first + len(window) < len(msgs):
            parts.append(f"[the whole conversation: read(id={d['id']!r}, "
                         f"offset={first})]")
        return Page(id=full, kind=kind, text="\n\n".join(parts))
    if offset > len(msgs):
        raise ToolError(f"offset {offset} is past the end ({len(msgs)} messages)")
    parts, used, n = [head], len(head), 0
    for m in msgs[offset:]:
        part = _msg_md(m, 2 * WINDOW_CHARS)
        if n and used + len(part) > PAGE_CHARS:
            break
        parts.append(part)
        used, n = used + len(part), n + 1
    end = offset + n
    if end < len(msgs):
        parts.append(f"[more: read(id={d['id']!r}, offset={end})]")
    return Page(id=d["id"], kind=kind, text="\n\n".join(parts),
                next_offset=end if end < len(msgs) else None)


@tool(title="Recall context for a topic", annotations=READ)
def recall(
    b: Backend,
    topic: Annotated[str, Field(description="What the task or question is about.",
                                min_length=1, max_length=500)],
    budget: Annotated[int, Field(ge=150, le=4000, description="Tokens.")] = 1500,
    project: CoreProjectArg = None,
) -> Annotated[CallToolResult, Context]:
    """Start here for a task about the user: one block with their profile, the most
    relevant memories and past-conversation excerpts, within a token budget."""
    from aimem.services.tokens import estimate

    with b.archive() as arc:
        filters = b.filters(arc, project=project) if project else None
        block = arc.inject(topic, filters, budget=budget)
    return CallToolResult(content=[TextContent(type="text", text=block)],
                          structured_content={"tokens": estimate(block),
                                              "context": block})


@tool(title="Save a memory", annotations=CORE_ADD)
def remember(
    b: Backend,
    text: Annotated[str, Field(description="One short standalone sentence.",
                               min_length=1, max_length=10_000)],
    kind: Kind = "fact",
) -> Saved:
    """Save a durable fact, preference or instruction the user states or asks you to
    remember. Saving it again is harmless (created: false)."""
    with b.archive() as arc:
        d = arc.remember(text, kind=kind, source="mcp")
    return Saved(id=d["id"], created=d["created"])


@tool(title="Change a memory", annotations=CORE_CHANGE)
def edit_memory(
    b: Backend,
    id: CoreIdArg,
    text: Annotated[str, Field(description="The corrected sentence.", min_length=1,
                               max_length=10_000)],
) -> Saved:
    """Replace the text of a saved memory that is outdated or wrong."""
    with b.archive() as arc:
        d = arc.update_memory(b.resolve(arc, id, "memory"), text=text)
    return Saved(id=d["id"], created=False)


@tool(title="Delete a memory", annotations=CORE_CHANGE)
def forget(b: Backend, id: CoreIdArg) -> Saved:
    """Delete a saved memory for good; only when the user asks to forget it."""
    with b.archive() as arc:
        done = arc.forget([b.resolve(arc, id, "memory")])
    return Saved(id=done[0]["id"], created=False)


@tool(title="Related conversations", annotations=READ)
def related(
    b: Backend,
    id: Annotated[str, Field(description="A conversation or memory id.", min_length=1,
                             max_length=100)],
    limit: Annotated[int, Field(ge=1, le=30)] = 10,
) -> Hits:
    """Conversations and memories about the same topics as one conversation or
    memory (by meaning when embeddings exist, else by distinctive words)."""
    with b.archive() as arc:
        found = arc.related(id, limit=limit)
    return Hits(hits=[Hit(id=h["id"], kind=h["kind"],
                          title=_line(h.get("title") or h.get("text") or "", 80),
                          date=(h.get("created_at") or "")[:10],
                          snippet=f"{h['by']} {h['score']:.3f}") for h in found])


@tool(title="Claude memory tool (/memories files)", annotations=CORE_CHANGE)
def memory(
    b: Backend,
    command: Literal["view", "create", "str_replace", "insert", "delete", "rename"],
    path: str | None = None,
    view_range: list[int] | None = None,
    file_text: str | None = None,
    old_str: str | None = None,
    new_str: str | None = None,
    insert_line: int | None = None,
    insert_text: str | None = None,
    old_path: str | None = None,
    new_path: str | None = None,
) -> Annotated[CallToolResult, Result]:
    """Anthropic's memory tool over aimem: files under /memories (view a directory or
    a file with line numbers, create, str_replace, insert, delete, rename). Check
    /memories at the start of a task; each file is a searchable aimem memory."""
    args = {k: v for k, v in dict(
        path=path, view_range=view_range, file_text=file_text, old_str=old_str,
        new_str=new_str, insert_line=insert_line, insert_text=insert_text,
        old_path=old_path, new_path=new_path).items() if v is not None}
    with b.archive() as arc:  # aimem's errors become tool errors with their message
        out = arc.memory_tool().call(command, **args)
    return CallToolResult(content=[TextContent(type="text", text=out)],
                          structured_content={"result": out})
