"""Markdown and plain text: a pasted conversation, or a note.

The last resort of detection (``pbpaste | aimem import -``): any valid UTF-8 text that
does not look like JSON or an HTML/XML document. Turns are recognised by markers at
the start of a line, outside code fences, case-insensitively:

- labels: ``User:``, ``Human:``, ``Me:``, ``You:`` (the user) and ``Assistant:``,
  ``AI:``, ``ChatGPT:``, ``Claude:``, ``Gemini:`` (the assistant), also in bold
  (``**User:**``, ``**User**:``) and as ``You said:`` / ``ChatGPT said:`` (what
  copying from chatgpt.com gives); the text may start on the same line;
- headings: ``## User``, ``### Assistant``, ``# ChatGPT`` …, plus ``## Prompt`` /
  ``## Response`` (browser "chat exporter" extensions) and ``## System`` / ``## Tool``;
  ``## user (author) · 2024-05-01 12:30`` (aimem's own Markdown export) gives the
  author and the time.

Text counts as a conversation only when it has at least one user *and* one assistant
marker, so a note with a stray ``user: admin`` line stays a note. A leading ``# Title``
line becomes the title, and YAML-style front matter (``---`` … ``---``) gives ``title``,
``date``/``created``, ``updated``, ``model`` and ``tags``. Text before the first marker
(other than the title) is kept in the conversation's ``extra["preamble"]``.

Text without turns becomes a note: one conversation with a single ``user`` message
holding the whole text (front matter removed), with ``extra={"note": True}`` on both
the message and the conversation, titled from the front matter or its first line.

Inside a folder or a zip (``sniff_in_folder``) only text with turns is taken: a README
next to an export is skipped, not imported as a note.

There are no source ids: ids are derived from the content, so pasting the same text
again changes nothing (and a paste with one more turn is a new conversation).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aimem import jsonio
from aimem.importers.base import HEAD_SIZE, Input, Item, sniffer
from aimem.models import Conversation, Message
from aimem.timeutil import to_epoch

NAME = "markdown"
SOURCE = "markdown"
DESCRIPTION = "Markdown or plain text: a pasted chat (User:/Assistant:, ## User) or a note"
FALLBACK = True  # any text is a note: asked after every other importer, third-party ones too

USER_NAMES = {"user": None, "human": None, "me": None, "you": None}
ASSISTANT_NAMES = {"assistant": None, "ai": None, "chatgpt": "ChatGPT", "claude": "Claude",
                   "gemini": "Gemini"}
# Only as headings: too common at the start of an ordinary line.
HEADING_NAMES = {"prompt": ("user", None), "response": ("assistant", None),
                 "system": ("system", None), "tool": ("tool", None)}
ROLE_OF: dict[str, tuple[str, str | None]] = {
    **{k: ("user", v) for k, v in USER_NAMES.items()},
    **{k: ("assistant", v) for k, v in ASSISTANT_NAMES.items()},
}
_LABEL_NAMES = "|".join(sorted(ROLE_OF, key=len, reverse=True))
_HEADING_NAMES = "|".join(sorted([*ROLE_OF, *HEADING_NAMES], key=len, reverse=True))
_B = r"(?:\*\*|__)?"
LABEL = re.compile(
    rf"^[ \t]{{0,3}}{_B}(?P<name>{_LABEL_NAMES})(?:[ \t]+said)?{_B}[ \t]*:{_B}(?:[ \t]+|$)"
    r"(?P<rest>.*)$", re.IGNORECASE)
HEADING = re.compile(
    rf"^[ \t]{{0,3}}#{{1,6}}[ \t]+{_B}(?P<name>{_HEADING_NAMES})(?:[ \t]+said)?{_B}"
    r"(?:[ \t]*\((?P<author>[^()\n]*)\))?"
    r"(?:[ \t]*[·•|][ \t]*(?P<when>[^\n#]*?))?[ \t]*:?[ \t]*#*[ \t]*$", re.IGNORECASE)
TITLE = re.compile(r"^[ \t]{0,3}#[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$")
FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f]")  # allowed: \t \n \v \f \r ESC


@sniffer  # an undecodable head is not text
def sniff(inp: Input) -> bool:
    head = inp.head()
    if not head.strip() or b"\x00" in head:
        return False
    final = len(head) < HEAD_SIZE or (inp.size is not None and inp.size <= len(head))
    text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=final)
    if len(_CONTROL.findall(text)) > max(1, len(text) // 200):
        return False  # binary data that happens to be valid UTF-8
    start = text.lstrip()
    if start[:1] in ("{", "["):
        return False  # JSON of a shape nobody recognised: "not a recognised export"
    low = start[:2048].lower()
    if low.startswith(("<!doctype html", "<html", "<?xml")) or (
            low.startswith("<") and "<html" in low):
        return False
    return True


def sniff_in_folder(inp: Input) -> bool:
    """For files found inside a folder or zip: only text with the turns of a conversation.

    (A README or a notes file next to an export is not imported as a note; named
    directly, or on stdin, any text is.)
    """
    try:
        if not sniff(inp):
            return False
        text = inp.text_head().replace("\r\n", "\n").replace("\r", "\n")
        _meta, body = front_matter(text)
        lines = body.split("\n")
        _title_text, start = _title(lines)
        _preamble, turns = _turns(lines[start:])
        return {"user", "assistant"} <= {t.role for t in turns}
    except Exception:  # never raises
        return False


@dataclass(slots=True)
class _Turn:
    role: str
    author: str | None
    when: float | None
    lines: list[str] = field(default_factory=list)


def parse(inp: Input) -> Iterator[Item]:
    with inp.open() as f:
        data = f.read()
    if b"\x00" in data:
        raise inp.fail("binary data (NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise inp.fail(f"not valid UTF-8 text (byte {e.start})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise inp.fail("no text in it")
    meta, body = front_matter(text)
    yield from _conversation(meta, body)


def _conversation(meta: dict[str, Any], body: str) -> Iterator[Item]:
    title = meta.get("title") if isinstance(meta.get("title"), str) else None
    created = to_epoch(meta.get("date") or meta.get("created") or meta.get("created_at"))
    updated = to_epoch(meta.get("updated") or meta.get("updated_at"))
    model = meta.get("model") if isinstance(meta.get("model"), str) else None
    tags = meta.get("tags") if isinstance(meta.get("tags"), list) else []
    tags = [t.strip() for t in tags if isinstance(t, str) and t.strip()]
    lines = body.split("\n")
    heading_title, start = _title(lines)
    preamble, turns = _turns(lines[start:])
    roles = {t.role for t in turns}
    if {"user", "assistant"} <= roles:
        messages = [Message(role=t.role, text=text, author=t.author, created_at=t.when)
                    for t in turns if (text := "\n".join(t.lines).strip())]
        extra = {"preamble": preamble} if preamble else None
        yield Conversation(source=SOURCE, messages=messages, title=title or heading_title,
                           created_at=created, updated_at=updated, model=model, tags=tags,
                           extra=extra)
        return
    note = body.strip()
    yield Conversation(
        source=SOURCE, title=title or heading_title or _first_line(note),
        messages=[Message(role="user", text=note, created_at=created, extra={"note": True})],
        created_at=created, updated_at=updated, model=model, tags=tags,
        extra={"note": True})


def _title(lines: list[str]) -> tuple[str | None, int]:
    """A leading ``# Title`` line (that is not itself a turn heading) and where the rest starts."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        m = TITLE.match(line)
        if m and not HEADING.match(line):
            return m.group("title").strip(), i + 1
        return None, 0
    return None, 0


def _turns(lines: list[str]) -> tuple[str, list[_Turn]]:
    preamble: list[str] = []
    turns: list[_Turn] = []
    fence: str | None = None
    for line in lines:
        f = FENCE.match(line)
        if fence is not None:
            if f and f.group(1) == fence:
                fence = None
            _append(turns, preamble, line)
            continue
        if f:
            fence = f.group(1)
            _append(turns, preamble, line)
            continue
        h = HEADING.match(line)
        if h:
            role, author = _role(h.group("name"))
            author = (h.group("author") or "").strip() or author
            when = to_epoch(h.group("when")) if h.group("when") else None
            turns.append(_Turn(role, author, when))
            continue
        m = LABEL.match(line)
        if m:
            role, author = _role(m.group("name"))
            turn = _Turn(role, author, None)
            rest = m.group("rest").rstrip()
            if rest.strip():
                turn.lines.append(rest)
            turns.append(turn)
            continue
        _append(turns, preamble, line)
    return "\n".join(preamble).strip(), turns


def _append(turns: list[_Turn], preamble: list[str], line: str) -> None:
    (turns[-1].lines if turns else preamble).append(line)


def _role(name: str) -> tuple[str, str | None]:
    key = name.lower()
    return ROLE_OF.get(key) or HEADING_NAMES[key]


def _first_line(text: str) -> str | None:
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip().strip("*_").strip()
        if line:
            return line if len(line) <= 80 else line[:79].rstrip() + "…"
    return None


# -- front matter ------------------------------------------------------------------------


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``(fields, body)``: simple ``key: value`` front matter between ``---`` lines."""
    if not text.startswith("---\n"):
        return {}, text
    lines = text.split("\n")
    for end in range(1, min(len(lines), 200)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        return {}, text
    fields: dict[str, Any] = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or key[:1].isspace():
            continue
        fields[key.strip().lower()] = _value(value.strip())
    if not fields:
        return {}, text
    return fields, "\n".join(lines[end + 1:])


def _value(raw: str) -> Any:
    if not raw:
        return None
    if raw[0] in "\"[":
        try:
            return jsonio.loads(raw)
        except jsonio.JSONDecodeError:
            pass
    if raw[0] == "[" and raw.endswith("]"):
        return [_unquote(v.strip()) for v in raw[1:-1].split(",") if v.strip()]
    return _unquote(raw)


def _unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        return v[1:-1]
    return v
