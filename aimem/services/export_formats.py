"""Exports for people and other tools: JSON, Markdown, HTML and CSV.

(aimem JSONL, the lossless exchange format, lives in :mod:`aimem.services.exporting`.)
Every writer streams: it yields text chunks, one conversation at a time, so exporting
a large database never holds it in memory. All honour the same filters as search.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aimem import jsonio
from aimem.models import Conversation, Filters
from aimem.services.exporting import conversation_dict, memory_dict
from aimem.store.db import Store
from aimem.timeutil import iso

FORMATS = ("jsonl", "json", "markdown", "html", "csv")
CSV_COLUMNS = ("conversation_id", "conversation_title", "source", "message_id", "position",
               "role", "author", "created_at", "text")


def _memories(store: Store, filters: Filters | None) -> Iterator[Any]:
    if filters is None or not filters.conversation_only:
        yield from store.iter_memories(filters)


# -- JSON --------------------------------------------------------------------------------


def json_chunks(store: Store, filters: Filters | None) -> Iterator[str]:
    """One JSON document: ``{"conversations": [...], "memories": [...]}``."""
    yield '{"conversations": ['
    for i, c in enumerate(store.iter_conversations(filters, with_branches=True)):
        yield ("," if i else "") + "\n  " + jsonio.dumps_str(conversation_dict(c))
    yield '\n], "memories": ['
    for i, m in enumerate(_memories(store, filters)):
        yield ("," if i else "") + "\n  " + jsonio.dumps_str(memory_dict(m))
    yield "\n]}\n"


# -- Markdown ----------------------------------------------------------------------------


def _yaml_str(value: str) -> str:
    return jsonio.dumps_str(value)  # a JSON string is a valid YAML scalar


def front_matter(c: Conversation) -> str:
    lines = ["---", f"title: {_yaml_str(c.title or 'Untitled')}",
             f"date: {iso(c.created_at) or ''}", f"updated: {iso(c.updated_at) or ''}",
             f"source: {c.source}", f"id: {c.id}"]
    if c.model:
        lines.append(f"model: {_yaml_str(c.model)}")
    lines.append("tags: [" + ", ".join(_yaml_str(t) for t in sorted(c.tags)) + "]")
    lines.append("---")
    return "\n".join(lines) + "\n"


def conversation_markdown(c: Conversation, *, heading: str = "#") -> str:
    out = [f"{heading} {c.title or 'Untitled'}", ""]
    meta = [c.source, (iso(c.created_at) or "")[:10], c.model or ""]
    out.append("*" + " · ".join(x for x in meta if x) + f" · `{c.id}`*")
    if c.tags:
        out.append("Tags: " + ", ".join(f"#{t}" for t in sorted(c.tags)))
    if c.summary:
        out += ["", f"> {c.summary}"]
    for m in c.messages:
        who = m.role + (f" ({m.author})" if m.author else "")
        when = (iso(m.created_at) or "")[:16].replace("T", " ")
        out += ["", f"{heading}# {who}" + (f" · {when}" if when else ""), "", m.text]
    return "\n".join(out) + "\n"


def markdown_chunks(store: Store, filters: Filters | None) -> Iterator[str]:
    """One Markdown document with every conversation, then the memories."""
    yield "# aimem export\n"
    for c in store.iter_conversations(filters):
        yield "\n---\n\n" + conversation_markdown(c, heading="##")
    mems = list(_memories(store, filters))
    if mems:
        yield "\n---\n\n## Memories\n\n"
        for m in mems:
            yield f"- **{m.kind}**{' (pinned)' if m.pinned else ''}: {m.text}  `{m.id}`\n"


def slug(text: str, limit: int = 60) -> str:
    s = re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-")
    return (s[:limit].rstrip("-") or "untitled")


def write_markdown_dir(store: Store, filters: Filters | None, folder: Path) -> int:
    """One ``.md`` file per conversation (with front matter) in ``folder``; returns the count."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for c in store.iter_conversations(filters):
        day = (iso(c.created_at) or "undated")[:10]
        name = f"{day}-{slug(c.title or 'untitled')}-{(c.id or '')[:8]}.md"
        (folder / name).write_text(front_matter(c) + "\n" + conversation_markdown(c),
                                   encoding="utf-8")
        n += 1
    return n


# -- HTML --------------------------------------------------------------------------------

_CSS = """body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
color:#1d1d1f;background:#fff}@media(prefers-color-scheme:dark){body{color:#e8e8e8;
background:#161618}a{color:#8ab4f8}.msg{border-color:#333}}nav li{margin:.15rem 0}
.meta{color:#777;font-size:.9em}.msg{border-left:3px solid #ddd;padding:.2rem .9rem;
margin:.8rem 0}.user{border-color:#4a7dff}.assistant{border-color:#2ea043}
.tool,.system{border-color:#999}.role{font-weight:600;font-size:.85em;text-transform:uppercase}
pre.text{white-space:pre-wrap;font:inherit;margin:.3rem 0}section{margin-top:3rem}"""


def html_chunks(store: Store, filters: Filters | None) -> Iterator[str]:
    """One self-contained page: a table of contents, then every conversation."""
    convs = list(store.iter_conversations(filters, with_messages=False))
    e = html.escape
    yield ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
           f"<title>aimem export</title><style>{_CSS}</style></head><body>\n"
           f"<h1>aimem export</h1><p class=\"meta\">{len(convs)} conversations</p>\n"
           "<nav><h2>Contents</h2><ol>\n")
    for c in convs:
        yield (f"<li><a href=\"#c-{e(c.id or '')}\">{e(c.title or 'Untitled')}</a> "
               f"<span class=\"meta\">{e(c.source)} · {(iso(c.created_at) or '')[:10]}</span></li>\n")
    yield "</ol></nav>\n"
    for stub in convs:
        c = store.get_conversation(stub.id or "")
        if c is None:
            continue
        yield (f"<section id=\"c-{e(c.id or '')}\"><h2>{e(c.title or 'Untitled')}</h2>"
               f"<p class=\"meta\">{e(c.source)} · {(iso(c.created_at) or '')[:10]}"
               + (f" · {e(c.model)}" if c.model else "")
               + "".join(f" · #{e(t)}" for t in sorted(c.tags)) + "</p>\n")
        if c.summary:
            yield f"<blockquote>{e(c.summary)}</blockquote>\n"
        for m in c.messages:
            who = m.role + (f" ({m.author})" if m.author else "")
            yield (f"<div class=\"msg {e(m.role)}\"><div class=\"role\">{e(who)} "
                   f"<span class=\"meta\">{(iso(m.created_at) or '')[:16].replace('T', ' ')}"
                   f"</span></div><pre class=\"text\">{e(m.text)}</pre></div>\n")
        yield "<p><a href=\"#\">↑ contents</a></p></section>\n"
    mems = list(_memories(store, filters))
    if mems:
        yield "<section><h2>Memories</h2><ul>\n"
        for m in mems:
            yield f"<li><span class=\"role\">{e(m.kind)}</span> {e(m.text)}</li>\n"
        yield "</ul></section>\n"
    yield "</body></html>\n"


# -- CSV ---------------------------------------------------------------------------------


def csv_chunks(store: Store, filters: Filters | None) -> Iterator[str]:
    """One row per message (with its conversation's id, title and source)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    roles = set(filters.roles) if filters and filters.roles else None
    for c in store.iter_conversations(filters):
        buf.seek(0)
        buf.truncate()
        for i, m in enumerate(c.messages):
            if roles and m.role not in roles:
                continue
            w.writerow((c.id, c.title or "", c.source, m.id, i, m.role, m.author or "",
                        iso(m.created_at) or "", m.text))
        yield buf.getvalue()


WRITERS = {"json": json_chunks, "markdown": markdown_chunks, "html": html_chunks,
           "csv": csv_chunks}
