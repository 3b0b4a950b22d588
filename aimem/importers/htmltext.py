"""HTML to readable Markdown-ish plain text, for importers whose exports hold HTML.

Built on the standard library's lenient :mod:`html.parser`, so it needs no dependency and
never fails an import: headings become ``#``, lists ``-`` / ``1.``, tables ``| a | b |``,
``<pre>`` a fenced block (with its ``language-…`` class), links ``[text](url)``, bold and
italics ``**`` / ``*``; scripts and styles are dropped. :func:`html_to_text` takes a
string; :meth:`MarkdownWriter.render` takes parser events, for a caller that already
split a page (the Google Takeout activity page does).

(Not a library: html2text is GPL-3.0, which an MIT aimem cannot bundle; markdownify
needs BeautifulSoup, loads far slower, drops a code block's language and takes only a
string; on the six answers of the Takeout fixtures it gave the same text as this one,
html2text the same for five.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

Event = tuple[str, str, list[tuple[str, str | None]]]  # (kind, tag-or-text, attrs)

_SPACES = re.compile(r"\s+")


class MarkdownWriter:
    """Turns a stream of HTML events into readable Markdown-ish plain text."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.pending = 0  # newlines owed before the next text
        self.at_start = True  # nothing written yet
        self.last = "\n"
        self.lists: list[list[Any]] = []  # [kind, counter]
        self.quote = 0
        self.pre = 0
        self.fence = -1  # index of the opening ``` while inside <pre>
        self.skip = 0  # inside <script>/<style>/<head>
        self.links: list[tuple[int, str]] = []  # (out index, href)
        self.cell = 0  # inside <td>/<th>
        self.row_cells = 0
        self.rows = 0
        self.just_marked = False
        self.marks: dict[str, list[int]] = {}  # open inline marks: tag -> out indexes

    @classmethod
    def render(cls, events: Iterable[Event]) -> str:
        md = cls()
        for kind, value, attrs in events:
            if kind == "start":
                md.start(value, attrs)
            elif kind == "end":
                md.end(value)
            else:
                md.data(value)
        return md.result()

    # writing

    def _break(self, n: int) -> None:
        if self.at_start or self.just_marked or self.cell:
            return
        if self.lists:
            n = 1
        self.pending = max(self.pending, n)

    def _flush(self) -> None:
        if self.pending:
            prefix = "  " * max(0, len(self.lists) - 1) + "> " * self.quote
            self.out.append("\n" * self.pending + prefix)
            self.pending = 0
            self.last = " " if prefix else "\n"

    def _write(self, text: str) -> None:
        if not text:
            return
        self._flush()
        self.out.append(text)
        self.last = text[-1]
        self.at_start = False
        self.just_marked = False

    def _open(self, tag: str, mark: str) -> None:
        self._write(mark)
        self.marks.setdefault(tag, []).append(len(self.out) - 1)

    def _close(self, tag: str, mark: str) -> None:
        opened = self.marks.get(tag)
        if not opened:
            return
        at = opened.pop()
        if at == len(self.out) - 1:  # nothing inside: drop the opening mark
            self.out.pop()
            self.last = self.out[-1][-1] if self.out else "\n"
            self.at_start = not self.out
            return
        self._write(mark)

    def data(self, text: str) -> None:
        if self.skip:
            return
        if self.pre:
            self._write(text.replace("\r\n", "\n"))
            return
        text = _SPACES.sub(" ", text.replace("\xa0", " ").replace("\u202f", " "))
        if self.last in " \n" or self.pending or self.at_start or self.just_marked:
            text = text.lstrip(" ")
        self._write(text)

    # tags

    def start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title", "template"):
            self.skip += 1
            return
        if self.skip:
            return
        a = dict(attrs)
        if self.pre:
            if tag == "code" and self.fence >= 0:
                lang = re.search(r"language-([\w+#.-]+)", a.get("class") or "")
                if lang:
                    self.out[self.fence] = "```" + lang.group(1)
            elif tag == "br":
                self._write("\n")
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._break(2)
            self._write("#" * int(tag[1]) + " ")
            self.just_marked = True
        elif tag in ("p", "div", "section", "article", "header", "footer", "figure", "dl"):
            self._break(2)
        elif tag == "blockquote":
            self._break(2)
            self.quote += 1
        elif tag in ("ul", "ol"):
            self._break(2)
            self.lists.append([tag, 0])
        elif tag == "li":
            if self.lists:
                kind = self.lists[-1]
                kind[1] += 1
                self.pending = max(self.pending, 1) if not self.at_start else 0
                self._write(f"{kind[1]}. " if kind[0] == "ol" else "- ")
            else:
                self._break(1)
                self._write("- ")
            self.just_marked = True
        elif tag in ("dt", "dd"):
            self._break(1)
        elif tag == "br":
            if self.cell:
                self._write(" ")
            elif not self.at_start:
                self.pending = max(self.pending, 1)
        elif tag == "hr":
            self._break(2)
            self._write("---")
            self._break(2)
        elif tag == "pre":
            self._break(2)
            self._write("```")
            self.fence = len(self.out) - 1
            self._write("\n")
            self.pre += 1
        elif tag == "code":
            self._open(tag, "`")
        elif tag in ("b", "strong"):
            self._open(tag, "**")
        elif tag in ("i", "em"):
            self._open(tag, "*")
        elif tag == "a":
            self._flush()
            self.links.append((len(self.out), a.get("href") or ""))
        elif tag == "img":
            alt = (a.get("alt") or "").strip()
            self._write(f"[image: {alt}]" if alt else "[image]")
        elif tag == "table":
            self._break(2)
            self.rows = 0
        elif tag == "tr":
            self.pending = max(self.pending, 1) if not self.at_start else 0
            self.row_cells = 0
            self._write("|")
        elif tag in ("td", "th"):
            self._write(" ")
            self.cell += 1
            self.row_cells += 1

    def end(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title", "template"):
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if self.pre:
            if tag == "pre":
                self.pre -= 1
                if self.last != "\n":
                    self._write("\n")
                self._write("```")
                self.fence = -1
                self._break(2)
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "section", "article",
                   "header", "footer", "figure", "dl"):
            self.just_marked = False
            self._break(2)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._break(2)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.just_marked = False
            self._break(2)
        elif tag == "li":
            self.just_marked = False
        elif tag == "code":
            self._close(tag, "`")
        elif tag in ("b", "strong"):
            self._close(tag, "**")
        elif tag in ("i", "em"):
            self._close(tag, "*")
        elif tag == "a" and self.links:
            at, href = self.links.pop()
            text = "".join(self.out[at:]).strip()
            if href.startswith(("http://", "https://")) and href != text:
                if text:
                    self.out.insert(at, "[")
                    self._write(f"]({href})")
                else:
                    self._write(href)
        elif tag in ("td", "th"):
            self.cell = max(0, self.cell - 1)
            if self.last != " ":
                self._write(" ")
            self._write("|")
        elif tag == "tr":
            self.rows += 1
            if self.rows == 1 and self.row_cells:
                self.pending = 1
                self._write("|" + " --- |" * self.row_cells)
        elif tag == "table":
            self._break(2)

    def result(self) -> str:
        text = "".join(self.out)
        text = "\n".join(line.rstrip() for line in text.split("\n"))
        return re.sub(r"\n{3,}", "\n\n", text).strip()


class _Feed(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.md = MarkdownWriter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.md.start(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.md.end(tag)

    def handle_data(self, data: str) -> None:
        self.md.data(data)


def html_to_text(html: str) -> str:
    """An answer's HTML as Markdown-ish plain text (headings, lists, tables, code, links)."""
    feed = _Feed()
    try:
        feed.feed(html)
        feed.close()
    except Exception:  # html.parser is lenient; never let an odd answer fail an import
        return _SPACES.sub(" ", re.sub(r"<[^>]*>", " ", html)).strip()
    return feed.md.result()
