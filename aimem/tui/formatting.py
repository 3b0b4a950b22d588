"""How aimem's dicts look on screen: result rows, memory rows, match highlights.

Everything here is a pure function from an Archive dict to Textual ``Content``, with theme
variables for colour, so rows follow the user's theme.
"""

from __future__ import annotations

import re
from typing import Any

from textual.content import Content

from aimem.snippets import MARK_CLOSE, MARK_OPEN

MATCH = "bold $text-warning"
DIM = "$text-muted"
KIND_STYLE = {"message": "$text-primary", "conversation": "$text-accent", "memory": "$text-success"}
KIND_LABEL = {"message": "msg", "conversation": "conv", "memory": "mem"}


def day(ts: str | None) -> str:
    return (ts or "")[:10] or "undated"


def when(ts: str | None) -> str:
    """``2025-03-02 09:15`` (UTC) or an empty string."""
    return (ts or "")[:16].replace("T", " ")


def one_line(text: str) -> str:
    return " ".join(text.split())


_MARKUP = re.compile(r"\*\*|__|`+|^#+ |(?<= )#+ ")


def marked(snippet: str, style: str = MATCH) -> Content:
    """A search snippet on one line, its match markers turned into highlighted spans.

    Markdown emphasis and code marks are dropped: the row shows the words.
    """
    parts: list[str | tuple[str, str]] = []
    head, *rest = _MARKUP.sub("", one_line(snippet)).split(MARK_OPEN)
    parts.append(head)
    for piece in rest:
        hit, _, after = piece.partition(MARK_CLOSE)
        parts += [(hit, style), after]
    return Content.assemble(*parts)


def title_of(row: dict[str, Any]) -> str:
    if row["kind"] == "memory":
        return f"memory · {row.get('memory_kind') or 'fact'}"
    return row.get("title") or "(untitled)"


def result_prompt(row: dict[str, Any]) -> Content:
    """Two lines: kind, date, source, title (and who said it); then the snippet."""
    kind = row["kind"]
    meta: list[str | tuple[str, str]] = [
        (f"{KIND_LABEL[kind]:<4} ", KIND_STYLE[kind]),
        (f"{day(row.get('created_at')):<10} ", DIM),
        (f"{(row.get('source') or '')[:9]:<9} ", DIM),
        (title_of(row), "bold"),
    ]
    if row.get("pinned"):
        meta.append(("  pinned", "$text-success"))
    if kind == "message" and row.get("role"):
        meta.append((f"  {row.get('author') or row['role']}", DIM))
    if "snippet" in row:
        second = marked(row["snippet"])
    elif kind == "memory":
        second = Content(one_line(row.get("text") or ""))
    else:
        second = _conversation_line(row)
    return Content.assemble(*meta, "\n     ", second)


def _conversation_line(row: dict[str, Any]) -> Content:
    n = row.get("messages", 0)
    parts: list[str | tuple[str, str]] = [(f"{n} message{'s' if n != 1 else ''}", DIM)]
    if row.get("model"):
        parts.append((f" · {row['model']}", DIM))
    if row.get("tags"):
        parts.append(("  " + " ".join(f"#{t}" for t in row["tags"]), "$text-secondary"))
    if row.get("summary"):
        parts.append(f"  {one_line(row['summary'])}")
    return Content.assemble(*parts)


def memory_prompt(mem: dict[str, Any]) -> Content:
    """A row of the memories view: kind, pin, date, tags; then the text."""
    head: list[str | tuple[str, str]] = [
        (f"{mem['kind']:<11} ", KIND_STYLE["memory"]),
        (f"{day(mem.get('updated_at'))} ", DIM),
        (f"{mem.get('source') or '':<8} ", DIM),
    ]
    if mem.get("pinned"):
        head.append(("pinned ", "bold $text-success"))
    if mem.get("tags"):
        head.append((" ".join(f"#{t}" for t in mem["tags"]), "$text-secondary"))
    if mem.get("use_count"):
        head.append((f"  recalled {mem['use_count']}×", DIM))
    return Content.assemble(*head, "\n  ", one_line(mem.get("text") or ""))
