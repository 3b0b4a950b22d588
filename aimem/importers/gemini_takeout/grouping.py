"""One Takeout activity entry (from the JSON or the HTML variant) and how prompt entries
group into conversations: by conversation URL, else by time (:data:`GAP_SECONDS`); the
rules are in :mod:`aimem.importers.gemini_takeout`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aimem.models import Conversation, Message
from aimem.timeutil import iso

GAP_SECONDS = 30 * 60  # URL-less entries at most this far apart share a conversation
ENGLISH_PRODUCT = "Gemini Apps"  # other locales: any product name containing "Gemini"
APP_URL = re.compile(r"gemini\.google\.com/(?:u/\d+/)?app/([A-Za-z0-9_-]+)")
SPACES = re.compile(r"\s+")


def is_gemini_product(name: str) -> bool:
    return name == ENGLISH_PRODUCT or "gemini" in name.casefold()


@dataclass
class Entry:
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
class Turn:
    entry: Entry
    prompt: str
    key: str = ""  # the message source_id


def digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"),
                           digest_size=12).hexdigest()


def conversations(turns: list[Turn], source: str) -> Iterator[Conversation]:
    # The file is newest first: reverse it, then order by time when every time is known.
    turns = turns[::-1]
    if all(t.entry.utc is not None for t in turns):
        turns.sort(key=lambda t: t.entry.utc)  # type: ignore[arg-type, return-value]
    seen: dict[str, int] = {}
    for t in turns:
        e = t.entry
        when = iso(e.utc) if e.utc is not None else (
            "local " + SPACES.sub(" ", e.time_text).strip() if e.time_text else "")
        key = digest(source, when or "", SPACES.sub(" ", t.prompt).strip())
        seen[key] = seen.get(key, 0) + 1
        t.key = key if seen[key] == 1 else f"{key}~{seen[key]}"

    groups: list[tuple[str, str, list[Turn]]] = []  # (source_id, grouping, turns)
    by_url: dict[str, list[Turn]] = {}
    current: list[Turn] | None = None
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
        messages = [m for t in members for m in turn_messages(t)]
        extra: dict[str, Any] = {"grouping": grouping}
        if grouping == "url":
            extra["url"] = f"https://gemini.google.com/app/{source_id}"
        yield Conversation(source=source, messages=messages, source_id=source_id, extra=extra)


def turn_messages(t: Turn) -> list[Message]:
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
