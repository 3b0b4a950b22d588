"""Grok / xAI account export: ``prod-grok-backend.json``.

See ``docs/formats.md`` §6.5. One object, ``{"conversations": [{"conversation": {...},
"responses": [{"response": {...}}]}], "projects": …, "media_posts": …, "tasks": …}``.
Responses carry Mongo Extended JSON times (``{"$date": {"$numberLong": "<ms>"}}``),
are not guaranteed to be in order and form a tree through ``parent_response_id``
(two answers to one prompt = a regeneration). We sort by time, rebuild the tree and
import the path to the newest leaf (a regenerated answer replaces the one before it);
ids are ``id`` / ``_id`` or, in some exports, ``conversation_id`` / ``response_id``;
``thinking_trace`` (reasoning) is left out. The file is parsed as a stream
(``ijson``); only ``conversations`` is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aimem.importers.base import Input, Item, shaped_items, sniffer
from aimem.models import Conversation, Message, Skipped
from aimem.timeutil import to_epoch

NAME = "grok"
SOURCE = "grok"
DESCRIPTION = "Grok / xAI account export (prod-grok-backend.json, the zip)"
TREE = True  # a tree of answers: a regenerated answer replaces, the old one moves to branches

USER_SENDERS = {"human", "user"}
_CONVERSATIONS = re.compile(r'"conversations"\s*:\s*\[')
_EMPTY = re.compile(r'"conversations"\s*:\s*\[\s*\]')
_CONVERSATION = re.compile(r'"conversation"\s*:\s*\{')


@sniffer
def sniff(inp: Input) -> bool:
    head = inp.text_head().lstrip()
    if not head.startswith("{") or not _CONVERSATIONS.search(head):
        return False
    if _CONVERSATION.search(head):
        return '"responses"' in head or '"$date"' in head or '"modify_time"' in head
    # An account without conversations still has the other top-level lists.
    return bool(_EMPTY.search(head)) and '"media_posts"' in head


def parse(inp: Input) -> Iterator[Item]:
    head = inp.text_head(4096).lstrip()
    if not head:
        raise inp.fail("empty file")
    if not head.startswith("{"):
        raise inp.fail("not a Grok export (expected a JSON object with \"conversations\")")
    index = 0
    for index, entry in shaped_items(
            inp, "conversations.item",
            lambda e: isinstance(e, dict) and ("conversation" in e or "responses" in e),
            "not a Grok export (no entry has a conversation and responses)"):
        yield from _conversation(entry, index, inp)
    if not index and not _EMPTY.search(inp.text_head()):
        raise inp.fail("not a Grok export (no \"conversations\" list)")


def _conversation(entry: Any, index: int, inp: Input) -> Iterator[Item]:
    where = f"{inp.name}: conversation {index}"
    if not isinstance(entry, dict):
        yield Skipped(where, "not a conversation object")
        return
    conv = entry.get("conversation") if isinstance(entry.get("conversation"), dict) else {}
    raw = entry.get("responses")
    cid = _id(conv, "id", "conversation_id", "_id") or _response_conversation_id(raw)
    if cid:
        where = f"{inp.name}: conversation {cid}"
    if not isinstance(raw, list) or not raw:
        yield Skipped(where, "no responses")
        return
    responses: list[dict[str, Any]] = []
    for i, wrapper in enumerate(raw, 1):
        resp = wrapper.get("response") if isinstance(wrapper, dict) else None
        if not isinstance(resp, dict):
            yield Skipped(f"{where}, response {i}", "not a response object")
            continue
        responses.append(resp)
    path = visible_path(responses)
    model = next((m for r in path if not _is_user(r) and (m := _model(r))), None)
    messages = [m for r in path if (m := _message(r)) is not None]
    if not messages:
        yield Skipped(where, "no visible messages")
        return
    title = conv.get("title")
    if not isinstance(title, str) or not title.strip():
        title = None
    summary = conv.get("summary")
    extra = {k: True for k in ("starred", "temporary") if conv.get(k) is True}
    yield Conversation(
        source=SOURCE, messages=messages, source_id=cid, title=title,
        created_at=_time(conv.get("create_time")), updated_at=_time(conv.get("modify_time")),
        model=model, summary=summary.strip() if isinstance(summary, str) and summary.strip()
        else None, extra=extra or None)


def visible_path(responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Responses from the first prompt to the newest leaf, in order.

    Sorted by time. A response's parent is the response its ``parent_response_id``
    names. Without that field anywhere in the conversation, the responses are one
    linear thread; where the field names a response that is not there (deleted), the
    parent is the response before it in time. An empty field in a conversation that
    does have links marks a root (an edited first prompt is a second root).
    """
    ordered = sorted(enumerate(responses), key=lambda ir: (_sort_time(ir[1]), ir[0]))
    ids: dict[str, int] = {}
    for pos, (_, r) in enumerate(ordered):
        rid = _rid(r)
        if rid is not None and rid not in ids:
            ids[rid] = pos
    pids = [_pid(r) for _, r in ordered]
    linked = any(pid is not None and pid in ids for pid in pids)
    parent: list[int | None] = []
    for pos, pid in enumerate(pids):
        if pid is not None and pid in ids and ids[pid] != pos:
            parent.append(ids[pid])
        elif pid is None and linked:
            parent.append(None)
        else:
            parent.append(pos - 1 if pos else None)
    has_child = {p for p in parent if p is not None}
    leaves = [pos for pos in range(len(ordered)) if pos not in has_child]
    if not leaves:  # every response is someone's parent: a cycle; fall back to the last
        leaves = [len(ordered) - 1] if ordered else []
    path: list[dict[str, Any]] = []
    seen: set[int] = set()
    node: int | None = leaves[-1] if leaves else None  # the newest leaf (ties: the last)
    while node is not None and node not in seen:
        seen.add(node)
        path.append(ordered[node][1])
        node = parent[node]
    path.reverse()
    return path


def _message(r: dict[str, Any]) -> Message | None:
    text = r.get("message")
    text = text.replace("\r\n", "\n").strip() if isinstance(text, str) else ""
    user = _is_user(r)
    extra: dict[str, Any] = {}
    attachments = [a for key in ("file_attachments", "image_attachments")
                   if isinstance(r.get(key), list) for a in r[key]]
    images = r.get("generated_image_urls") if isinstance(r.get("generated_image_urls"),
                                                         list) else []
    if attachments:
        extra["attachments"] = len(attachments)
    if images:
        extra["generated_images"] = len(images)
    if not text:
        text = "\n".join(["[image]"] * len(images) + ["[file]"] * len(attachments))
    if not text:
        return None
    author = None
    if not user:
        author = _model(r)
        cited = r.get("cited_web_search_results")
        urls = [c["url"] for c in cited if isinstance(c, dict) and isinstance(c.get("url"), str)] \
            if isinstance(cited, list) else []
        if urls:
            extra["citations"] = urls[:20]
        if r.get("partial") is True:
            extra["status"] = "partial"
    return Message(role="user" if user else "assistant", text=text, source_id=_rid(r),
                   author=author, created_at=_time(r.get("create_time")), extra=extra or None)


def _model(r: dict[str, Any]) -> str | None:
    """The model of an answer: ``model``, or a ``sender`` that names one (not "assistant")."""
    model = r.get("model")
    if isinstance(model, str) and model.strip():
        return model.strip()
    sender = r.get("sender")
    if isinstance(sender, str) and sender.strip() and sender.strip().lower() not in (
            "assistant", *USER_SENDERS):
        return sender.strip()
    return None


def _is_user(r: dict[str, Any]) -> bool:
    sender = r.get("sender")
    return isinstance(sender, str) and sender.strip().lower() in USER_SENDERS


def _pid(r: dict[str, Any]) -> str | None:
    pid = r.get("parent_response_id")
    if isinstance(pid, dict):
        pid = pid.get("$oid")
    return str(pid) if isinstance(pid, str | int) and str(pid) else None


def _rid(r: dict[str, Any]) -> str | None:
    return _id(r, "_id", "id", "response_id")


def _response_conversation_id(raw: Any) -> str | None:
    """The ``conversation_id`` its responses carry, for a conversation without its own."""
    for wrapper in raw if isinstance(raw, list) else []:
        resp = wrapper.get("response") if isinstance(wrapper, dict) else None
        if isinstance(resp, dict) and (cid := _id(resp, "conversation_id")):
            return cid
    return None


def _id(obj: dict[str, Any], *keys: str) -> str | None:
    """The first usable id among ``keys``: a string, a number or ``{"$oid": …}``."""
    for key in keys:
        value = obj.get(key)
        if isinstance(value, dict):  # {"$oid": "…"}
            value = value.get("$oid")
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def _time(value: Any) -> float | None:
    """Epoch seconds from ISO strings and Mongo Extended JSON dates.

    ``{"$date": {"$numberLong": "<ms>"}}`` (canonical), ``{"$date": "<ISO>"}`` (relaxed)
    and ``{"$date": <ms>}`` all occur; a bare number is taken as seconds or milliseconds.
    """
    if isinstance(value, dict):
        value = value.get("$date")
        if isinstance(value, dict):
            value = value.get("$numberLong")
            if isinstance(value, str):
                try:
                    return int(value) / 1000.0
                except ValueError:
                    return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value) / 1000.0
    return to_epoch(value)


def _sort_time(r: dict[str, Any]) -> float:
    t = _time(r.get("create_time"))
    return float("-inf") if t is None else t

