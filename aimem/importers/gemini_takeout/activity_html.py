"""The HTML variant of a Takeout activity file (``MyActivity.html``): the page is fed to
:mod:`html.parser` in chunks and each ``div.outer-cell`` becomes an :class:`Entry` (its
header, the prompt lines, the localized time, the answer as Markdown-ish text, the
conversation URL of its caption)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aimem.importers.base import Input, error_line
from aimem.importers.gemini_takeout.grouping import APP_URL, SPACES, Entry, is_gemini_product
from aimem.importers.gemini_takeout.localtime import parse_local_time
from aimem.importers.htmltext import Event, MarkdownWriter

_ATTACHED = re.compile(r"^\s*Attached \d+ files?\.?\s*$", re.I)
_AUDIO = re.compile(r"^\s*Audio included\.?\s*$", re.I)


class _ActivityPage(HTMLParser):
    """Collects the cells of each ``div.outer-cell`` of a My Activity page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.done: list[dict[str, Any]] = []  # finished entries, taken by the caller
        self.entries = 0
        self.closed = False  # saw </body> or </html>
        self._divs: list[str] = []  # the role of each open div ("" for none)
        self._entry: dict[str, Any] | None = None
        self._cell: str | None = None  # header / body / side / caption
        self._cell_depth = 0

    @property
    def open_entry(self) -> bool:
        return self._entry is not None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div":
            classes = set((dict(attrs).get("class") or "").split())
            role = ""
            if "outer-cell" in classes and self._entry is None:
                self.entries += 1
                self._entry = {"index": self.entries, "header": [], "body": [], "side": [],
                               "caption": []}
                role = "entry"
            elif self._entry is not None and self._cell is None:
                if "header-cell" in classes:
                    role = "header"
                elif "content-cell" in classes and "mdl-typography--caption" in classes:
                    role = "caption"
                elif "content-cell" in classes and "mdl-typography--text-right" in classes:
                    role = "side"
                elif "content-cell" in classes and not self._entry["body"]:
                    role = "body"
                if role:
                    self._cell, self._cell_depth = role, len(self._divs) + 1
                    self._divs.append(role)
                    return
            self._divs.append(role)
        if self._cell is not None and self._entry is not None:
            self._entry[self._cell].append(("start", tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("body", "html"):
            self.closed = True
        if tag == "div" and self._divs:
            depth = len(self._divs)
            role = self._divs.pop()
            if self._cell is not None and depth == self._cell_depth:
                self._cell = None
                return
            if role == "entry" and self._entry is not None:
                self.done.append(self._entry)
                self._entry = None
                self._cell = None
                return
        if self._cell is not None and self._entry is not None:
            self._entry[self._cell].append(("end", tag, []))

    def handle_data(self, data: str) -> None:
        if self._cell is not None and self._entry is not None:
            self._entry[self._cell].append(("data", data, []))


def html_entries(inp: Input) -> Iterator[Entry]:
    page = _ActivityPage()
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    try:
        with inp.open() as f:
            while chunk := f.read(1 << 20):
                page.feed(decoder.decode(chunk))
                yield from (_html_entry(raw) for raw in page.done)
                page.done.clear()
            page.feed(decoder.decode(b"", final=True))
        page.close()
    except (AssertionError, ValueError) as e:  # html.parser is lenient; this is rare
        raise inp.fail(f"unreadable HTML near byte {inp.bytes_read} ({error_line(e)})") from None
    yield from (_html_entry(raw) for raw in page.done)
    if page.entries == 0:
        raise inp.fail("not a My Activity page (no div.outer-cell entries)")
    if page.open_entry:
        raise inp.fail(f"truncated HTML: entry {page.entries} is not closed")
    if not page.closed:
        raise inp.fail("truncated HTML: the page has no closing </body> or </html>")


_BLOCKS = {"p", "div", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre",
           "blockquote", "hr", "section", "article", "dl", "figure", "header", "footer"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "source",
         "track", "embed", "param"}


@dataclass
class _Line:
    text: str = ""
    hrefs: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # the text of each link
    start: int = 0  # index of its first event
    end: int = 0  # index after its last event (its closing <br>)


def _split_lines(events: list[Event]) -> tuple[list[_Line], int]:
    """The ``<br>``-separated lines before the first block element, and where it starts."""
    lines = [_Line()]
    depth = 0
    link: list[str] | None = None
    for i, (kind, value, attrs) in enumerate(events):
        line = lines[-1]
        if kind == "start":
            if depth == 0 and value in _BLOCKS:
                line.end = i
                return lines, i
            if value == "br" and depth == 0:
                line.end = i + 1
                lines.append(_Line(start=i + 1))
                continue
            if value == "a":
                href = dict(attrs).get("href")
                if href:
                    line.hrefs.append(href)
                link = []
            if value not in _VOID:
                depth += 1
        elif kind == "end":
            if value == "a" and link is not None:
                line.links.append("".join(link).strip())
                link = None
            if value not in _VOID:
                depth = max(0, depth - 1)
        else:
            line.text += value
            if link is not None:
                link.append(value)
    lines[-1].end = len(events)
    return lines, len(events)


def _clean(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ").strip()


def _html_entry(raw: dict[str, Any]) -> Entry:
    header = SPACES.sub(" ", "".join(v for k, v, _ in raw["header"] if k == "data")).strip()
    body: list[Event] = raw["body"]
    lines, block = _split_lines(body)
    # The time line: the last readable time before the answer's first block (the first
    # one when the answer has no block), else the last plain line under the prompt.
    times = [(i, parse_local_time(ln.text)) for i, ln in enumerate(lines) if i > 0]
    readable = [(i, t) for i, t in times if t[0] is not None or t[1] is not None]
    t_index: int | None = None
    if readable:
        t_index = readable[-1][0] if block < len(body) else readable[0][0]
    else:
        plain = [i for i, ln in enumerate(lines) if i > 0 and _clean(ln.text)
                 and not ln.hrefs and not _meta_line(ln)]
        if plain and block < len(body):
            t_index = plain[-1]
    e = Entry(index=raw["index"], header=header, title="", gemini=is_gemini_product(header))
    prompt = [lines[0].text.replace("\xa0", " ").replace("\u202f", " ").strip()]
    urls = list(lines[0].hrefs)
    last_pre = t_index if t_index is not None else len(lines)
    for ln in lines[1:last_pre]:
        text = _clean(ln.text)
        urls += ln.hrefs
        if not text or _meta_line(ln):
            continue
        if ln.hrefs and text.lstrip("-– ").strip() in ln.links:  # "- <a>file.png</a>"
            if text.startswith(("-", "–")):
                e.attachments.append(text.lstrip("-– ").strip())
            continue
        if APP_URL.search(text) and SPACES.sub("", text) == text:  # a bare URL line
            urls.append(text)
            continue
        prompt.append(text)
    e.title = "\n".join(p for p in prompt if p)
    if t_index is not None:
        e.time_text = SPACES.sub(" ", _clean(lines[t_index].text)) or None
        e.utc, e.local = parse_local_time(lines[t_index].text)
        answer_events = body[lines[t_index].end:]
    else:
        answer_events = body[block:]
    answer = MarkdownWriter.render(answer_events)
    if answer:
        e.answers.append(answer)
    caption = raw["caption"]
    urls += [v for k, v, _ in caption if k == "data"]
    urls += [h for k, v, a in caption if k == "start" and v == "a" for n, h in a
             if n == "href" and h]
    e.url_id = next((m.group(1) for u in urls if (m := APP_URL.search(u))), None)
    return e


def _meta_line(ln: _Line) -> bool:
    return bool(_ATTACHED.match(_clean(ln.text)) or _AUDIO.match(_clean(ln.text)))
