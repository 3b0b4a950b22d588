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

import re
from collections.abc import Iterator
from typing import Any

from aimem.importers.base import Input, Item, json_items, sniffer
from aimem.importers.gemini_takeout.activity_html import html_entries
from aimem.importers.gemini_takeout.grouping import (
    APP_URL,
    GAP_SECONDS,
    SPACES,
    Entry,
    Turn,
    conversations,
    is_gemini_product,
)
from aimem.importers.gemini_takeout.localtime import parse_local_time
from aimem.importers.htmltext import html_to_text
from aimem.models import Skipped
from aimem.timeutil import iso, to_epoch

__all__ = ["DESCRIPTION", "GAP_SECONDS", "NAME", "SOURCE", "html_to_text", "parse",
           "parse_local_time", "sniff"]

NAME = "gemini_takeout"
SOURCE = "gemini"
DESCRIPTION = "Google Takeout, My Activity › Gemini Apps (MyActivity.json or MyActivity.html)"

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

_GEM = re.compile(r"^\s*(.+?) was used in this chat\b")
_TITLE_CELL = re.compile(r'class="[^"]*\bmdl-typography--title\b[^"]*"[^>]*>([^<]*)')
_JSON_SHAPE = (re.compile(r'"header"\s*:'), re.compile(r'"time"\s*:'), re.compile(r'"title"\s*:'))
_JSON_GEMINI = re.compile(r'"(?:header|products)"\s*:\s*\[?\s*"[^"]*Gemini')
SNIFF_HTML_SIZE = 1 << 20  # the HTML page starts with ~140 KB of CSS


# --- detection -------------------------------------------------------------------------


@sniffer
def sniff(inp: Input) -> bool:
    head = inp.text_head().lstrip()
    if head.startswith("["):
        return all(p.search(head) for p in _JSON_SHAPE) and (
            '"safeHtmlItem"' in head or bool(_JSON_GEMINI.search(head)))
    if head.startswith("<") and "mdl-" in head:
        big = inp.text_head(SNIFF_HTML_SIZE)
        if "outer-cell" not in big:
            return False
        titles = [SPACES.sub(" ", t).strip() for t in _TITLE_CELL.findall(big)]
        return any(is_gemini_product(t) for t in titles)
    return False


def parse(inp: Input) -> Iterator[Item]:
    head = inp.text_head(4096).lstrip()
    if not head:
        raise inp.fail("empty file")
    if head.startswith("["):
        entries = list(_json_entries(inp))
    elif head.startswith("<"):
        entries = list(html_entries(inp))
    else:
        raise inp.fail("not a Google Takeout Gemini Apps activity file (JSON list or HTML page)")
    if not entries:
        raise inp.fail("no activity entries in it")
    turns: list[Turn] = []
    for e in entries:
        turn_or_skip = _classify(e, inp)
        if isinstance(turn_or_skip, Skipped):
            yield turn_or_skip
        else:
            turns.append(turn_or_skip)
    yield from conversations(turns, SOURCE)


def _where(inp: Input, e: Entry) -> str:
    when = iso(e.utc) or e.time_text
    return f"{inp.name}: entry {e.index}" + (f" ({when})" if when else "")


def _classify(e: Entry, inp: Input) -> Turn | Skipped:
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
    return Turn(e, prompt)


def _short(text: str, n: int = 80) -> str:
    text = SPACES.sub(" ", text).strip()
    return text if len(text) <= n else text[:n - 1].rstrip() + "…"


# --- JSON variant ---------------------------------------------------------------------


def _json_entries(inp: Input) -> Iterator[Entry]:
    for index, obj in enumerate(json_items(inp, "item"), 1):
        if isinstance(obj, dict):
            yield _json_entry(obj, index)
        else:
            yield Entry(index=index, header="", title="", gemini=False)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _json_entry(obj: dict[str, Any], index: int) -> Entry:
    header = _str(obj.get("header"))
    products = [p for p in _list(obj.get("products")) if isinstance(p, str)]
    items = _list(obj.get("safeHtmlItem"))
    gemini = (is_gemini_product(header) or any(is_gemini_product(p) for p in products)
              or bool(items))
    utc = to_epoch(obj.get("time"))
    e = Entry(index=index, header=header or ", ".join(products), title=_str(obj.get("title")),
               utc=float(int(utc // 1)) if utc is not None else None, gemini=gemini)
    for item in items:
        html = item.get("html") if isinstance(item, dict) else None
        if isinstance(html, str) and (text := html_to_text(html)):
            e.answers.append(text)
    urls = [_str(obj.get("titleUrl"))]
    for d in _list(obj.get("details")):
        if isinstance(d, dict):
            urls += [_str(d.get("name")), _str(d.get("url"))]
    e.url_id = next((m.group(1) for u in urls if (m := APP_URL.search(u))), None)
    names: list[str] = []
    for sub in _list(obj.get("subtitles")):
        if not isinstance(sub, dict):
            continue
        name = _str(sub.get("name")).strip()
        if (m := _GEM.match(name)) and not e.gem:
            e.gem = m.group(1).strip()
        elif name.startswith("-"):
            names.append(name.lstrip("- \xa0").strip())
        elif not e.url_id and (m := APP_URL.search(_str(sub.get("url")))):
            e.url_id = m.group(1)
    names += [f for f in _list(obj.get("attachedFiles")) if isinstance(f, str) and f
              and f not in names]
    if not names and isinstance(obj.get("imageFile"), str) and obj["imageFile"]:
        names.append(obj["imageFile"])
    e.attachments = [n for n in names if n]
    return e
