"""Markdown rendered to styled lines, for a widget that draws a message in one piece.

Textual's ``Markdown`` widget mounts a widget per block (and per list item, cell…):
~140 widgets for an average assistant reply, so a 300-message conversation took 20 s
to open and a second per page to scroll. This renders the same Markdown (headings,
emphasis, lists, quotes, tables, code blocks highlighted with Textual's theme-aware
highlighter) as lines of ``Content``: blocks are parsed once, wrapped per width.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from textual.content import Content
from textual.highlight import highlight

CODE_GUTTER = "▏ "
QUOTE_GUTTER = "▌ "
INLINE_STYLES = {"strong": "bold", "em": "italic", "s": "strike", "link": "underline"}
HEADING_STYLES = {"h1": "bold underline $text-primary", "h2": "bold $text-primary"}


@dataclass(slots=True)
class Block:
    content: Content
    indent: int = 0  # columns of list/quote nesting
    prefix: str = ""  # bullet or number on the first line
    quote: int = 0  # blockquote depth
    code: bool = False
    gap: bool = True  # a blank line before it


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _inline(token: Token) -> Content:
    parts: list[str | tuple[str, str]] = []
    styles: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind.endswith("_open") and kind[:-5] in INLINE_STYLES:
            styles.append(INLINE_STYLES[kind[:-5]])
        elif kind.endswith("_close") and kind[:-6] in INLINE_STYLES:
            if styles:
                styles.pop()
        elif kind == "text" or kind == "html_inline":
            parts.append((child.content, " ".join(styles)))
        elif kind == "code_inline":
            parts.append((child.content, "$text-accent " + " ".join(styles)))
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "image":
            parts.append((f"[image: {child.content or 'no description'}]", "$text-muted"))
    return Content.assemble(*parts)


def _table(tokens: list[Token], start: int) -> tuple[Content, int]:
    """The table starting at ``tokens[start]``, as aligned text; and the index after it."""
    rows: list[list[Content]] = []
    head_rows = 0
    i = start
    in_head = False
    while i < len(tokens) and tokens[i].type != "table_close":
        t = tokens[i]
        if t.type == "thead_open":
            in_head = True
        elif t.type == "thead_close":
            in_head = False
        elif t.type == "tr_open":
            rows.append([])
            head_rows += in_head
        elif t.type == "inline" and rows:
            rows[-1].append(_inline(t))
        i += 1
    widths = [max((r[c].cell_length for r in rows if c < len(r)), default=0)
              for c in range(max((len(r) for r in rows), default=0))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.pad_right(widths[c] - cell.cell_length) for c, cell in enumerate(row)]
        line = Content(" │ ").join(cells)
        lines.append(line.stylize("bold") if n < head_rows else line)
        if n == head_rows - 1:
            lines.append(Content.styled("─┼─".join("─" * w for w in widths), "$text-muted"))
    return Content("\n").join(lines), i + 1


def parse(text: str) -> list[Block]:
    """The blocks of a Markdown text, in order."""
    tokens = _parser().parse(text)
    blocks: list[Block] = []
    lists: list[dict[str, Any]] = []  # open lists: indent, number, ordered, marker pending
    quote = 0
    heading: str | None = None
    i = 0

    def add(content: Content, *, code: bool = False, hidden: bool = False) -> None:
        indent = sum(lst["width"] for lst in lists)
        prefix = ""
        gap = bool(blocks)
        if lists:
            top = lists[-1]
            if top["pending"]:
                prefix = top["pending"]
                top["pending"] = ""
                indent -= top["width"]
                gap = gap and ((top["first"] and len(lists) == 1) or not hidden)
                top["first"] = False
            else:
                gap = gap and not hidden
        blocks.append(Block(content, indent=indent, prefix=prefix, quote=quote, code=code,
                            gap=gap))

    while i < len(tokens):
        t = tokens[i]
        kind = t.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            ordered = kind == "ordered_list_open"
            start = int(t.attrs.get("start", 1) or 1) if ordered else 1
            lists.append({"ordered": ordered, "number": start, "width": 2, "pending": "",
                          "first": True})
        elif kind in ("bullet_list_close", "ordered_list_close"):
            if lists:
                lists.pop()
        elif kind == "list_item_open" and lists:
            top = lists[-1]
            marker = f"{t.info or top['number']}. " if top["ordered"] else "• "
            top["number"] += 1
            top["width"] = len(marker)
            top["pending"] = marker
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote = max(0, quote - 1)
        elif kind == "heading_open":
            heading = t.tag
        elif kind == "heading_close":
            heading = None
        elif kind == "inline":
            content = _inline(t)
            if heading:
                content = content.stylize(HEADING_STYLES.get(heading, "bold"))
            add(content, hidden=tokens[i - 1].hidden if i else False)
        elif kind in ("fence", "code_block"):
            code = t.content.rstrip("\n")
            language = (t.info or "").split()[0] if t.info else None
            try:
                content = highlight(code, language=language) if language else Content(code)
            except Exception:  # an unknown lexer: plain text
                content = Content(code)
            add(content, code=True)
        elif kind == "hr":
            add(Content.styled("─" * 24, "$text-muted"))
        elif kind == "table_open":
            content, i = _table(tokens, i)
            add(content)
            continue
        elif kind == "html_block":
            add(Content(t.content.rstrip("\n")))
        i += 1
    return blocks


def layout(blocks: list[Block], width: int) -> list[Content]:
    """The blocks wrapped to ``width`` cells: one Content per screen line."""
    out: list[Content] = []
    width = max(width, 8)
    for b in blocks:
        if b.gap and out:
            out.append(Content(""))
        lead = Content.styled(QUOTE_GUTTER * b.quote, "$text-muted") if b.quote else Content("")
        room = max(4, width - lead.cell_length - b.indent - len(b.prefix))
        if b.code:
            gutter = Content.styled(CODE_GUTTER, "$text-muted")
            room = max(4, room - len(CODE_GUTTER))
            lines = [piece for line in b.content.split("\n", allow_blank=True)
                     for piece in (line.fold(room) if line.cell_length > room else [line])]
            pad = " " * (b.indent + len(b.prefix))
            out += [lead + pad + gutter + line for line in lines]
            continue
        lines = b.content.wrap(room)
        for n, line in enumerate(lines):
            first = " " * b.indent + (b.prefix if n == 0 else " " * len(b.prefix))
            out.append(lead + Content.styled(first, "$text-muted") + line)
    return out
