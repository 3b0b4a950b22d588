"""Google Takeout, "My Activity › Gemini Apps": ``MyActivity.json`` or ``MyActivity.html``.

See ``docs/formats.md`` §3. Takeout has no conversations and no message ids: every
activity entry is one prompt (``Prompted …``) with its answer(s) as HTML, newest
first. We turn each prompt entry into a user message plus one assistant message per
answer (HTML converted to Markdown-ish text with :mod:`html.parser`), and skip every
other entry (``Created …``, ``Used …``, feedback, other Google products) with a reason.

Grouping into conversations:

* entries that carry a conversation URL (``https://gemini.google.com/app/<id>``, in
  JSON ``details`` or the HTML ``Details:`` caption / a link under the prompt) are
  grouped by that ``<id>``, which is also the conversation's ``source_id``;
* the others, taken in time order, form one conversation while each entry is **at
  most 30 minutes** after the previous one (:data:`GAP_SECONDS`); a longer gap starts
  a new conversation. Its ``source_id`` is the id of its first entry, so a newer
  Takeout (which only adds later entries) keeps it. An entry whose time cannot be
  read at all is a conversation of its own. ``extra["grouping"]`` says which rule
  made a conversation (``url``, ``time`` or ``single``).

Ids (§0.5): a message's ``source_id`` is ``hash("gemini", UTC time to the second,
prompt text with whitespace collapsed)``; answers add ``/a1``, ``/a2``…, and the
rare exact duplicate (same second, same prompt) gets ``~2``, ``~3``… in time order.
JSON times (UTC, milliseconds) and HTML times (localized local time with a zone
abbreviation, §0.4) both come down to whole UTC seconds, so the two variants of the
same history give the same ids. An HTML time that cannot be read (unknown month
names or zone) keeps the entry with ``created_at`` None and the raw text in
``extra["time_text"]``.

The JSON file is streamed with ``ijson``; the HTML file is fed to the parser in
chunks. Both keep only the small per-entry records in memory, since grouping needs
the whole (newest-first) file.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from aimem.importers.base import Input, Item, error_line, json_items
from aimem.models import Conversation, Message, Skipped
from aimem.timeutil import iso, to_epoch

NAME = "gemini_takeout"
SOURCE = "gemini"
DESCRIPTION = "Google Takeout, My Activity › Gemini Apps (MyActivity.json or MyActivity.html)"

GAP_SECONDS = 30 * 60  # URL-less entries at most this far apart share a conversation

# --- the verb table (data, §3.2) ------------------------------------------------------
# Title prefixes that introduce a prompt. The prefixes are localized; add more here.
PROMPT_PREFIXES = (
    "Prompted",  # en
    "Answered",  # en, prompt-like
    "Pokyn",  # cs
)
# English verbs of entries that are not prompts (Canvas, settings, feedback, apps…).
NON_PROMPT_VERBS = (
    "Selected preferred draft", "Gave feedback", "Created", "Added", "Used", "Branched",
    "Opened", "Deleted", "Removed", "Shared", "Turned on", "Turned off", "Changed",
    "Updated", "Edited", "Pinned", "Unpinned", "Renamed", "Saved", "Viewed", "Visited",
    "Searched", "Watched", "Connected", "Disconnected", "Enabled", "Disabled", "Started",
    "Stopped", "Cancelled", "Canceled", "Scheduled", "Exported", "Uploaded", "Downloaded",
)
ENGLISH_PRODUCT = "Gemini Apps"  # other locales: any product name containing "Gemini"

_APP_URL = re.compile(r"gemini\.google\.com/(?:u/\d+/)?app/([A-Za-z0-9_-]+)")
_GEM = re.compile(r"^\s*(.+?) was used in this chat\b")
_ATTACHED = re.compile(r"^\s*Attached \d+ files?\.?\s*$", re.I)
_AUDIO = re.compile(r"^\s*Audio included\.?\s*$", re.I)
_SPACES = re.compile(r"\s+")
_TITLE_CELL = re.compile(r'class="[^"]*\bmdl-typography--title\b[^"]*"[^>]*>([^<]*)')
_JSON_SHAPE = (re.compile(r'"header"\s*:'), re.compile(r'"time"\s*:'), re.compile(r'"title"\s*:'))
_JSON_GEMINI = re.compile(r'"(?:header|products)"\s*:\s*\[?\s*"[^"]*Gemini')
SNIFF_HTML_SIZE = 1 << 20  # the HTML page starts with ~140 KB of CSS


# --- detection -------------------------------------------------------------------------


def sniff(inp: Input) -> bool:
    try:
        head = inp.text_head().lstrip()
        if head.startswith("["):
            return all(p.search(head) for p in _JSON_SHAPE) and (
                '"safeHtmlItem"' in head or bool(_JSON_GEMINI.search(head)))
        if head.startswith("<") and "mdl-" in head:
            big = inp.text_head(SNIFF_HTML_SIZE)
            if "outer-cell" not in big:
                return False
            titles = [_SPACES.sub(" ", t).strip() for t in _TITLE_CELL.findall(big)]
            return any(_is_gemini_product(t) for t in titles)
    except Exception:  # sniff never raises
        return False
    return False


def _is_gemini_product(name: str) -> bool:
    return name == ENGLISH_PRODUCT or "gemini" in name.casefold()


# --- one activity entry, from either variant ------------------------------------------


@dataclass
class _Entry:
    index: int  # 1-based position in the file (newest first)
    header: str
    title: str  # the activity line with its verb: "Prompted what is…"
    utc: float | None = None  # whole UTC seconds
    local: float | None = None  # naive local time (when the zone is unknown), for grouping
    time_text: str | None = None  # the HTML time as written
    answers: list[str] = field(default_factory=list)
    url_id: str | None = None
    attachments: list[str] = field(default_factory=list)
    gem: str | None = None
    gemini: bool = True


@dataclass
class _Turn:
    entry: _Entry
    prompt: str
    key: str = ""  # the message source_id


def parse(inp: Input) -> Iterator[Item]:
    head = inp.text_head(4096).lstrip()
    if not head:
        raise inp.fail("empty file")
    if head.startswith("["):
        entries = list(_json_entries(inp))
    elif head.startswith("<"):
        entries = list(_html_entries(inp))
    else:
        raise inp.fail("not a Google Takeout Gemini Apps activity file (JSON list or HTML page)")
    if not entries:
        raise inp.fail("no activity entries in it")
    turns: list[_Turn] = []
    for e in entries:
        turn_or_skip = _classify(e, inp)
        if isinstance(turn_or_skip, Skipped):
            yield turn_or_skip
        else:
            turns.append(turn_or_skip)
    yield from _conversations(turns)


def _where(inp: Input, e: _Entry) -> str:
    when = iso(e.utc) or e.time_text
    return f"{inp.name}: entry {e.index}" + (f" ({when})" if when else "")


def _classify(e: _Entry, inp: Input) -> _Turn | Skipped:
    """A prompt turn, or why the entry is not one."""
    if not e.gemini:
        return Skipped(_where(inp, e), f"not Gemini Apps activity ({_short(e.header)})")
    title = e.title.replace("\xa0", " ").replace("\u202f", " ")
    prompt: str | None = None
    for prefix in PROMPT_PREFIXES:
        if title == prefix or title.startswith(prefix + " "):
            prompt = title[len(prefix):].strip()
            break
    if prompt is None:
        for verb in NON_PROMPT_VERBS:
            if title == verb or title.startswith((verb + " ", verb + ":")):
                return Skipped(_where(inp, e), f"not a prompt: {_short(title)}")
        if not e.answers:
            return Skipped(_where(inp, e),
                           f"not a recognised prompt and no answer: {_short(title) or '(empty)'}")
        prompt = title.strip()  # an unknown locale: keep the text as it is
    if not prompt and not e.attachments and not e.answers:
        return Skipped(_where(inp, e), "empty prompt and no answer")
    return _Turn(e, prompt)


def _short(text: str, n: int = 80) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= n else text[:n - 1].rstrip() + "…"


# --- grouping and ids -----------------------------------------------------------------


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"),
                           digest_size=12).hexdigest()


def _conversations(turns: list[_Turn]) -> Iterator[Conversation]:
    # The file is newest first: reverse it, then order by time when every time is known.
    turns = turns[::-1]
    if all(t.entry.utc is not None for t in turns):
        turns.sort(key=lambda t: t.entry.utc)  # type: ignore[arg-type, return-value]
    seen: dict[str, int] = {}
    for t in turns:
        e = t.entry
        when = iso(e.utc) if e.utc is not None else (
            "local " + _SPACES.sub(" ", e.time_text).strip() if e.time_text else "")
        key = _digest(SOURCE, when or "", _SPACES.sub(" ", t.prompt).strip())
        seen[key] = seen.get(key, 0) + 1
        t.key = key if seen[key] == 1 else f"{key}~{seen[key]}"

    groups: list[tuple[str, str, list[_Turn]]] = []  # (source_id, grouping, turns)
    by_url: dict[str, list[_Turn]] = {}
    current: list[_Turn] | None = None
    last: float | None = None
    for t in turns:
        e = t.entry
        if e.url_id:
            if e.url_id not in by_url:
                by_url[e.url_id] = []
                groups.append((e.url_id, "url", by_url[e.url_id]))
            by_url[e.url_id].append(t)
            continue
        at = e.utc if e.utc is not None else e.local
        if at is None:
            groups.append((t.key, "single", [t]))
            continue
        if current is None or last is None or at - last > GAP_SECONDS:
            current = []
            groups.append((t.key, "time", current))
        current.append(t)
        last = at
    for source_id, grouping, members in groups:
        messages = [m for t in members for m in _messages(t)]
        extra: dict[str, Any] = {"grouping": grouping}
        if grouping == "url":
            extra["url"] = f"https://gemini.google.com/app/{source_id}"
        yield Conversation(source=SOURCE, messages=messages, source_id=source_id, extra=extra)


def _messages(t: _Turn) -> list[Message]:
    e = t.entry
    text = t.prompt
    if e.attachments:
        text = (text + "\n" if text else "") + "[attached: " + ", ".join(e.attachments) + "]"
    extra: dict[str, Any] = {}
    if e.attachments:
        extra["attachments"] = e.attachments
    if e.utc is None and e.time_text:
        extra["time_text"] = e.time_text
    out = [Message(role="user", text=text, source_id=t.key, created_at=e.utc,
                   extra=extra or None)]
    for i, answer in enumerate(e.answers, 1):
        out.append(Message(role="assistant", text=answer, source_id=f"{t.key}/a{i}",
                           author=e.gem, created_at=e.utc,
                           extra={"draft": i} if len(e.answers) > 1 else None))
    return out


# --- JSON variant ---------------------------------------------------------------------


def _json_entries(inp: Input) -> Iterator[_Entry]:
    for index, obj in enumerate(json_items(inp, "item"), 1):
        if isinstance(obj, dict):
            yield _json_entry(obj, index)
        else:
            yield _Entry(index=index, header="", title="", gemini=False)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _json_entry(obj: dict[str, Any], index: int) -> _Entry:
    header = _str(obj.get("header"))
    products = [p for p in _list(obj.get("products")) if isinstance(p, str)]
    items = _list(obj.get("safeHtmlItem"))
    gemini = (_is_gemini_product(header) or any(_is_gemini_product(p) for p in products)
              or bool(items))
    utc = to_epoch(obj.get("time"))
    e = _Entry(index=index, header=header or ", ".join(products), title=_str(obj.get("title")),
               utc=float(int(utc // 1)) if utc is not None else None, gemini=gemini)
    for item in items:
        html = item.get("html") if isinstance(item, dict) else None
        if isinstance(html, str) and (text := html_to_text(html)):
            e.answers.append(text)
    urls = [_str(obj.get("titleUrl"))]
    for d in _list(obj.get("details")):
        if isinstance(d, dict):
            urls += [_str(d.get("name")), _str(d.get("url"))]
    e.url_id = next((m.group(1) for u in urls if (m := _APP_URL.search(u))), None)
    names: list[str] = []
    for sub in _list(obj.get("subtitles")):
        if not isinstance(sub, dict):
            continue
        name = _str(sub.get("name")).strip()
        if (m := _GEM.match(name)) and not e.gem:
            e.gem = m.group(1).strip()
        elif name.startswith("-"):
            names.append(name.lstrip("- \xa0").strip())
        elif not e.url_id and (m := _APP_URL.search(_str(sub.get("url")))):
            e.url_id = m.group(1)
    names += [f for f in _list(obj.get("attachedFiles")) if isinstance(f, str) and f
              and f not in names]
    if not names and isinstance(obj.get("imageFile"), str) and obj["imageFile"]:
        names.append(obj["imageFile"])
    e.attachments = [n for n in names if n]
    return e



# --- HTML variant ---------------------------------------------------------------------

Event = tuple[str, str, list[tuple[str, str | None]]]  # (kind, tag-or-text, attrs)


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


def _html_entries(inp: Input) -> Iterator[_Entry]:
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


def _html_entry(raw: dict[str, Any]) -> _Entry:
    header = _SPACES.sub(" ", "".join(v for k, v, _ in raw["header"] if k == "data")).strip()
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
    e = _Entry(index=raw["index"], header=header, title="", gemini=_is_gemini_product(header))
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
        if _APP_URL.search(text) and _SPACES.sub("", text) == text:  # a bare URL line
            urls.append(text)
            continue
        prompt.append(text)
    e.title = "\n".join(p for p in prompt if p)
    if t_index is not None:
        e.time_text = _SPACES.sub(" ", _clean(lines[t_index].text)) or None
        e.utc, e.local = parse_local_time(lines[t_index].text)
        answer_events = body[lines[t_index].end:]
    else:
        answer_events = body[block:]
    answer = _Markdown.render(answer_events)
    if answer:
        e.answers.append(answer)
    caption = raw["caption"]
    urls += [v for k, v, _ in caption if k == "data"]
    urls += [h for k, v, a in caption if k == "start" and v == "a" for n, h in a
             if n == "href" and h]
    e.url_id = next((m.group(1) for u in urls if (m := _APP_URL.search(u))), None)
    return e


def _meta_line(ln: _Line) -> bool:
    return bool(_ATTACHED.match(_clean(ln.text)) or _AUDIO.match(_clean(ln.text)))


# --- localized local times (§0.4) -----------------------------------------------------

# Zone abbreviations as Google writes them, in hours east of UTC. Ambiguous ones take
# their most common meaning in Takeout files: IST = India, CST = US Central (China
# when the date is written with 年).
ZONES: dict[str, float] = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "IST": 5.5,
    "CET": 1, "CEST": 2, "MEZ": 1, "MESZ": 2, "SEČ": 1, "SELČ": 2, "EET": 2, "EEST": 3,
    "OEZ": 2, "OESZ": 3, "MSK": 3, "TRT": 3, "GST": 4, "PKT": 5, "NPT": 5.75, "ICT": 7,
    "WIB": 7, "HKT": 8, "SGT": 8, "PHT": 8, "AWST": 8, "JST": 9, "KST": 9, "ACST": 9.5,
    "ACDT": 10.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "HST": -10, "AKST": -9,
    "AKDT": -8, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5,
    "EST": -5, "EDT": -4, "AST": -4, "ADT": -3, "NST": -3.5, "NDT": -2.5, "BRT": -3,
    "BRST": -2, "ART": -3, "CLT": -4, "CLST": -3, "COT": -5, "PET": -5, "SAST": 2,
    "CAT": 2, "EAT": 3, "WAT": 1, "IDT": 3,
}
# Month names (and their abbreviations, matched by prefix) in a few common locales.
MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "sept": 9, "october": 10, "november": 11, "december": 12,
    "januar": 1, "februar": 2, "märz": 3, "mär": 3, "mai": 5, "juni": 6, "juli": 7,
    "oktober": 10, "dezember": 12, "dez": 12, "okt": 10,
    "janvier": 1, "janv": 1, "février": 2, "févr": 2, "fév": 2, "mars": 3, "avril": 4,
    "avr": 4, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "septembre": 9, "octobre": 10,
    "novembre": 11, "décembre": 12, "déc": 12,
    "enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5,
    "junio": 6, "julio": 7, "agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9,
    "octubre": 10, "noviembre": 11, "diciembre": 12, "dic": 12,
    "janeiro": 1, "fevereiro": 2, "fev": 2, "março": 3, "maio": 5, "junho": 6, "julho": 7,
    "setembro": 9, "set": 9, "outubro": 10, "out": 10, "dezembro": 12,
    "gennaio": 1, "gen": 1, "febbraio": 2, "aprile": 4, "maggio": 5, "mag": 5, "giugno": 6,
    "giu": 6, "luglio": 7, "lug": 7, "ottobre": 10, "ott": 10,
    "januari": 1, "februari": 2, "maart": 3, "mrt": 3, "mei": 5, "augustus": 8,
    "augusti": 8, "maj": 5,
}
_MONTH_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
               "sep": 9, "oct": 10, "nov": 11, "dec": 12}
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])")
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*([./-])\s*(\d{1,2})\s*[./-]\s*(\d{4})(?!\d)")
_AMPM = re.compile(r"^\s*(am|pm|a\.\s?m\.|p\.\s?m\.)(?![a-z])", re.I)
_OFFSET = re.compile(r"^(?:GMT|UTC|UT)?\s*([+\-\u2212])\s*(\d{1,2})(?::?(\d{2}))?$", re.I)
_PM_MARKS = ("下午", "午後", "오후")
_AM_MARKS = ("上午", "午前", "오전")


def parse_local_time(text: str) -> tuple[float | None, float | None]:
    """``(utc, naive_local)`` epoch seconds from a Takeout HTML time, None where unreadable.

    ``Aug 8, 2026, 6:39:27 PM CEST`` (U+202F before PM too), ``18 Sept 2025, 12:02:52
    CET``, ``1. 1. 2026 10:00:00 SEČ``, ``May 19, 2026, 7:07:02 PM GMT-03:00``,
    ``2026年6月19日 12:23:08 CST``. ``utc`` is None when the zone is missing or
    unknown; both are None when the date or the clock cannot be read.
    """
    try:
        return _parse_local_time(text)
    except (ValueError, OverflowError):
        return None, None


def _parse_local_time(text: str) -> tuple[float | None, float | None]:
    s = _SPACES.sub(" ", text.replace("\xa0", " ").replace("\u202f", " ")
                    .replace("\u2009", " ")).strip()
    if not s or len(s) > 80:
        return None, None
    clock = _CLOCK.search(s)
    if not clock:
        return None, None
    date_part, rest = s[:clock.start()], s[clock.end():]
    hour, minute, second = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
    ampm = _AMPM.match(rest)
    pm = am = False
    if ampm:
        pm = ampm.group(1)[0].lower() == "p"
        am = not pm
        rest = rest[ampm.end():]
    pm = pm or any(m in s for m in _PM_MARKS)
    am = am or any(m in s for m in _AM_MARKS)
    if pm or am:
        if not 1 <= hour <= 12:
            return None, None
        hour = hour % 12 + (12 if pm else 0)
    date = _date(date_part)
    if date is None:
        return None, None
    naive = datetime(*date, hour, minute, second, tzinfo=UTC)
    zone = rest.strip(" ,")
    offset = _zone(zone, cjk="年" in s)
    local = naive.timestamp()
    if offset is None:
        return None, local
    return (naive - timedelta(hours=offset)).timestamp(), local


def _date(s: str) -> tuple[int, int, int] | None:
    if m := _YMD.search(s):
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m := _DMY.search(s):
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if m.group(2) == "/" and b > 12 >= a:  # 8/28/2026: month first
            a, b = b, a
        return year, b, a
    year_m = re.search(r"(?<!\d)(\d{4})(?!\d)", s)
    if not year_m:
        return None
    month = None
    for word in re.findall(r"[^\W\d_]+", s.casefold()):
        month = MONTHS.get(word) or _MONTH_ABBR.get(word[:3] if len(word) == 3 else "")
        if month:
            break
    if month is None:
        return None
    days = [int(d) for d in re.findall(r"(?<!\d)(\d{1,2})(?!\d)", s[:year_m.start()]
                                       + " " + s[year_m.end():])]
    if not days:
        return None
    return int(year_m.group(1)), month, days[0]


def _zone(zone: str, cjk: bool) -> float | None:
    if not zone:
        return None
    if m := _OFFSET.match(zone):
        sign = -1 if m.group(1) in "-\u2212" else 1
        return sign * (int(m.group(2)) + int(m.group(3) or 0) / 60)
    key = zone.upper()
    if key == "CST" and cjk:
        return 8.0
    return ZONES.get(key)


# --- answer HTML to Markdown-ish text --------------------------------------------------


class _Markdown:
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
        self.md = _Markdown()

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
