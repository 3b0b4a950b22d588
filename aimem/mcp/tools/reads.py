"""The detailed tools that read (aimem 1.x's, in ``--tools all``): searches, lists and
pages of memories and conversations, the profile, statistics, tags and export."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from aimem import jsonio
from aimem.mcp.args import (
    HitsArg,
    IdArg,
    Kind,
    OffsetArg,
    PageArg,
    ProjectArg,
    QueryArg,
    SinceArg,
    SourceArg,
    TagArg,
    UntilArg,
)
from aimem.mcp.backend import (
    EXPORT_CHARS,
    LIST_TEXT_CHARS,
    MARKS,
    MAX_BUDGET,
    MAX_READ_CHARS,
    MESSAGE_CHARS,
    READ,
    READ_CHARS,
    RESULT_CHARS,
    Backend,
    after,
    clip,
    fit,
    memory_out,
    message_out,
    size,
    tool,
)
from aimem.mcp.models import (
    ConversationBrief,
    ConversationHit,
    ConversationList,
    ConversationOut,
    ConversationSearch,
    ExportPage,
    InjectResult,
    MemoryHit,
    MemoryList,
    MemoryOut,
    MemorySearch,
    MessageText,
    Profile,
    Stats,
    TagList,
    TagOut,
)


@tool(title="Search saved memories", annotations=READ)
def search_memory(
    b: Backend, query: QueryArg, limit: HitsArg = 10, source: SourceArg = None,
    tag: TagArg = None, since: SinceArg = None, until: UntilArg = None,
    project: ProjectArg = None,
) -> MemorySearch:
    """Full-text search over the user's saved memories (facts, preferences, instructions,
    projects, people), best match first. Use it before answering anything that depends
    on the user. For what was said in past conversations use search_conversations."""
    with b.archive() as arc:
        hits = arc.search(query, b.filters(arc, source, tag, since, until, project),
                          limit=limit, kinds=("memory",))
        out = []
        for h in hits:
            text, cut = clip(h["text"], LIST_TEXT_CHARS, f"get_memory(id={h['id']!r})")
            out.append(MemoryHit(id=h["id"], text=text, kind=h.get("memory_kind"),
                                 source=h["source"], updated_at=h["created_at"],
                                 score=h["score"], truncated=cut))
        out = fit(out)
        arc.record_use("memory", [h.id for h in out])  # the model read them in full
    return MemorySearch(query=query, hits=out)


@tool(title="Search past conversations", annotations=READ)
def search_conversations(
    b: Backend, query: QueryArg, limit: HitsArg = 10, source: SourceArg = None,
    tag: TagArg = None, since: SinceArg = None, until: UntilArg = None,
    project: ProjectArg = None,
) -> ConversationSearch:
    """Full-text search over the messages, titles and summaries of the user's past AI
    conversations (ChatGPT, Claude, Gemini, Claude Code, …), best match first. Each hit
    names its conversation; read around it with get_conversation(message_id)."""
    with b.archive() as arc:
        hits = arc.search(query, b.filters(arc, source, tag, since, until, project),
                          limit=limit, kinds=("message", "conversation"))
    out = []
    for h in hits:
        is_msg = h["kind"] == "message"
        more = (f"get_message(id={h['id']!r}, offset={LIST_TEXT_CHARS})" if is_msg
                else f"get_conversation(id={h['conversation_id']!r})")
        text, cut = clip(h["text"] or "", LIST_TEXT_CHARS, more)
        out.append(ConversationHit(
            kind="message" if is_msg else "conversation", conversation_id=h["conversation_id"],
            message_id=h["id"] if is_msg else None, title=h["title"], source=h["source"],
            role=h["role"], author=h["author"], created_at=h["created_at"], score=h["score"],
            snippet=(h["snippet"] or "").translate(MARKS), text=text, truncated=cut))
    return ConversationSearch(query=query, hits=fit(out))


@tool(title="Get a memory", annotations=READ)
def get_memory(b: Backend, id: IdArg) -> MemoryOut:
    """One saved memory with its full text, by id (or a unique id prefix)."""
    with b.archive() as arc:
        d = arc.show(b.resolve(arc, id, "memory"))  # counts as a recall
    return memory_out(d)


@tool(title="List saved memories", annotations=READ)
def list_memories(
    b: Backend, limit: PageArg = 20, offset: OffsetArg = 0, tag: TagArg = None,
    kind: Annotated[Kind | None, Field(description="Only memories of this kind.")] = None,
) -> MemoryList:
    """Saved memories, most recently updated first, one page at a time. Long texts are
    cut (truncated: true); get_memory has the full text."""
    with b.archive() as arc:
        rows = arc.list_memories(b.filters(arc, tag=tag), limit=limit + 1, offset=offset,
                                 kind=kind)
    items = fit([memory_out(r, LIST_TEXT_CHARS) for r in rows[:limit]])
    return MemoryList(memories=items, offset=offset, next_offset=after(offset, items, rows))


@tool(title="Read a conversation", annotations=READ)
def get_conversation(
    b: Backend,
    id: Annotated[str, Field(description="A conversation id, or a message id (then the page "
                                         "starts just before that message), or a unique "
                                         "prefix.", min_length=1, max_length=100)],
    max_messages: Annotated[int, Field(ge=1, le=100, description="Messages per page.")] = 20,
    offset: Annotated[int | None, Field(ge=0, description="Index of the first message "
                                                           "(next_offset of the previous "
                                                           "page).")] = None,
    max_chars_per_message: Annotated[int, Field(
        ge=200, le=MAX_READ_CHARS, description="Longer messages are cut; get_message reads "
                                               "the rest.")] = MESSAGE_CHARS,
) -> ConversationOut:
    """One past conversation: its title, source, dates, tags, summary and a page of its
    messages in order. Page on with offset=next_offset."""
    with b.archive() as arc:
        d = arc.show(b.resolve(arc, id, "conversation"))  # counts as a recall
    msgs = d["messages"]
    focus = d.get("focus")
    if offset is None:
        offset = 0
        if focus:  # a message id was given: start a little before that message
            idx = next((i for i, m in enumerate(msgs) if m["id"] == focus), 0)
            offset = max(0, idx - 2)
    if offset > len(msgs):
        raise ToolError(f"offset {offset} is past the end: the conversation has "
                        f"{len(msgs)} messages")
    head = {k: d.get(k) for k in ("id", "source", "source_id", "title", "created_at",
                                  "updated_at", "tags", "summary", "model", "project")}
    if head["summary"]:
        head["summary"], _ = clip(head["summary"], 2000, "aimem show")
    window = [message_out(m, max_chars_per_message) for m in msgs[offset:offset + max_messages]]
    window = fit(window, budget=RESULT_CHARS - size(head))
    end = offset + len(window)
    return ConversationOut(**head, message_count=len(msgs), focus=focus, offset=offset,
                           next_offset=end if end < len(msgs) else None, messages=window)


@tool(title="Read one message", annotations=READ)
def get_message(
    b: Backend, id: IdArg,
    offset: Annotated[int, Field(ge=0, description="Character offset to start at.")] = 0,
    max_chars: Annotated[int, Field(ge=200, le=MAX_READ_CHARS)] = READ_CHARS,
) -> MessageText:
    """The full text of one message, a page of characters at a time (for messages that
    get_conversation or search_conversations cut)."""
    with b.archive() as arc:
        full = b.resolve(arc, id, "message")
        d = arc.show(full)  # the conversation, focused on the message; counts as a recall
    m = next(m for m in d["messages"] if m["id"] == full)
    text = m["text"] or ""
    if offset > len(text):
        raise ToolError(f"offset {offset} is past the end: the message has {len(text)} "
                        "characters")
    end = min(len(text), offset + max_chars)
    return MessageText(id=full, conversation_id=d["id"], role=m["role"],
                       author=m.get("author"), created_at=m.get("created_at"),
                       text=text[offset:end], offset=offset, total_chars=len(text),
                       next_offset=end if end < len(text) else None)


@tool(title="List conversations", annotations=READ)
def list_conversations(
    b: Backend, limit: PageArg = 20, offset: OffsetArg = 0, source: SourceArg = None,
    tag: TagArg = None, since: SinceArg = None, until: UntilArg = None,
) -> ConversationList:
    """The user's past conversations, newest first, with titles, sources, dates, tags and
    message counts, one page at a time."""
    with b.archive() as arc:
        rows = arc.list_conversations(b.filters(arc, source, tag, since, until),
                                      limit=limit + 1, offset=offset)
    items = []
    for r in rows[:limit]:
        r = dict(r)
        if r.get("summary"):
            r["summary"], _ = clip(r["summary"], LIST_TEXT_CHARS,
                                   f"get_conversation(id={r['id']!r})")
        items.append(ConversationBrief.model_validate(r))
    items = fit(items)
    return ConversationList(conversations=items, offset=offset,
                            next_offset=after(offset, items, rows))


@tool(title="Recall context for a topic", annotations=READ)
def inject_context(
    b: Backend,
    query: Annotated[str, Field(description="What the conversation is about.",
                                min_length=1, max_length=1000)],
    budget: Annotated[int, Field(ge=150, le=MAX_BUDGET, description="Token budget of the "
                                                                     "block.")] = 1500,
    source: SourceArg = None, tag: TagArg = None, since: SinceArg = None,
    until: UntilArg = None,
) -> Annotated[CallToolResult, InjectResult]:
    """A compact context block for a topic: the user's profile, the most relevant saved
    memories and excerpts of past conversations, each with its date and source, within
    a token budget. The quickest way to catch up on a topic."""
    from aimem.services.tokens import estimate

    with b.archive() as arc:
        block = arc.inject(query, b.filters(arc, source, tag, since, until),
                           budget=budget)  # counts the recalled items as used
    res = InjectResult(query=query, budget=budget, tokens=estimate(block), context=block)
    # the model reads the block itself (Markdown), not the block escaped inside JSON
    return CallToolResult(content=[TextContent(type="text", text=res.context)],
                          structured_content=res.model_dump(mode="json"))


@tool(title="Get the user's profile", annotations=READ)
def get_user_profile(b: Backend) -> Profile:
    """The user's standing profile: pinned memories, preferences and instructions, and a
    synthesized paragraph about the user if one was made. Read it at the start of a task
    that should follow the user's preferences."""
    with b.archive() as arc:
        p = arc.profile()
    entries = [("pinned", m) for m in p["pinned"]]
    entries += [(k, m) for k, ms in p["kinds"].items() for m in ms]
    synth = p.get("synthesized")
    budget = RESULT_CHARS - (len(synth) if synth else 0)
    kept = fit([(k, memory_out(m, LIST_TEXT_CHARS)) for k, m in entries],
               lambda e: size(e[1]), budget)
    kinds: dict[str, list[MemoryOut]] = {}
    for k, m in kept:
        if k != "pinned":
            kinds.setdefault(k, []).append(m)
    return Profile(pinned=[m for k, m in kept if k == "pinned"], kinds=kinds,
                   synthesized=synth, more=len(entries) - len(kept))


@tool(title="Memory statistics", annotations=READ)
def get_stats(b: Backend) -> Stats:
    """Counts of conversations, messages and memories by source, role and month, the time
    span covered, and the database's location and size."""
    with b.archive() as arc:
        s = arc.stats()
    s["path"] = str(s.get("path") or arc.path)
    return Stats.model_validate(s)


@tool(title="List tags", annotations=READ)
def list_tags(
    b: Backend,
    limit: Annotated[int, Field(ge=1, le=500, description="Page size.")] = 100,
    offset: OffsetArg = 0,
) -> TagList:
    """Every tag with how many conversations and memories carry it."""
    with b.archive() as arc:
        tags = arc.list_tags()
    page = tags[offset:offset + limit]
    return TagList(tags=[TagOut.model_validate(t) for t in page], offset=offset,
                   next_offset=offset + len(page) if offset + len(page) < len(tags) else None)


@tool(title="Export data", annotations=READ)
def export_data(
    b: Backend,
    format: Annotated[Literal["jsonl", "json"], Field(
        description="jsonl: aimem's lossless exchange format as text; json: the same "
                    "objects, structured.")] = "jsonl",
    limit: Annotated[int, Field(ge=1, le=200, description="At most this many items.")] = 50,
    offset: OffsetArg = 0, source: SourceArg = None, tag: TagArg = None,
    since: SinceArg = None, until: UntilArg = None,
) -> ExportPage:
    """Export conversations (oldest first) and then memories, one page at a time, in aimem
    JSONL (importing it elsewhere reproduces the same items and ids). For a whole-database
    backup, `aimem export -o FILE` in a terminal is faster."""
    lines: list[bytes] = []
    more = False
    used = 0
    with b.archive() as arc:
        for i, line in enumerate(arc.export_jsonl(b.filters(arc, source, tag, since, until))):
            if i < offset:
                continue
            if len(line) > EXPORT_CHARS:  # one item too big for any page: say so instead
                obj = jsonio.loads(line)
                line = jsonio.dumps({
                    "type": obj.get("type", "conversation"), "id": obj.get("id"),
                    "title": obj.get("title"), "omitted": f"{len(line):,} characters, too "
                    "large for one result: read it with get_conversation, or export it in a "
                    "terminal: aimem export -o FILE"}) + b"\n"
            if len(lines) >= limit or (lines and used + len(line) > EXPORT_CHARS):
                more = True
                break
            lines.append(line)
            used += len(line)
    page = ExportPage(format=format, offset=offset, count=len(lines),
                      next_offset=offset + len(lines) if more else None)
    if format == "json":
        page.items = [jsonio.loads(line) for line in lines]
    else:
        page.text = b"".join(lines).decode("utf-8")
    return page
