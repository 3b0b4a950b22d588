"""Open WebUI "Export chats" JSON: a list of chats, each with a message tree.

See ``docs/formats.md`` §6.3. ``chat.history.messages`` maps ids to messages linked by
``parentId`` / ``childrenIds``; the transcript people saw is the path from the root to
``chat.history.currentId`` (newest leaf when that is missing or dangling). Older
exports only have the flat, already linear ``chat.messages[]``. Assistant ``content``
embeds ``<details type="reasoning">`` blocks (hidden here) and ``<details
type="tool_calls">`` / ``type="code_interpreter"`` blocks (split out as ``tool``
messages); newer versions also store the same turn as structured ``output[]`` items,
which are preferred when present. Files are parsed as a stream (``ijson``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from aimem import jsonio
from aimem.importers.base import Input, Item, shaped_items, sniffer
from aimem.models import Conversation, Message, Skipped
from aimem.timeutil import to_epoch

NAME = "openwebui"
SOURCE = "openwebui"
DESCRIPTION = "Open WebUI \"Export chats\" JSON (chat-export-*.json)"
TREE = True  # conversations are trees: other branches go to Conversation.branches

ROLES = {"user", "assistant", "system", "tool"}
_CHAT = re.compile(r'"chat"\s*:\s*\{')
_CHAT_KEYS = re.compile(r'"(?:history|currentId|messages|models|childrenIds|parentId)"\s*:')
# <details type="…" …>…</details> widgets that Open WebUI writes into assistant content.
_DETAILS = re.compile(r"<details\b([^>]*)>(.*?)</details>", re.S)
_ATTR = re.compile(r'([\w-]+)\s*=\s*"([^"]*)"')
_SUMMARY = re.compile(r"^\s*<summary>.*?</summary>", re.S)
# Raw reasoning tags some models emit when Open WebUI did not convert them.
_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.S)


@sniffer
def sniff(inp: Input) -> bool:
    head = inp.text_head().lstrip()
    if not head.startswith(("[", "{")):
        return False
    match = _CHAT.search(head)
    return bool(match and _CHAT_KEYS.search(head, match.end()))


def parse(inp: Input) -> Iterator[Item]:
    head = inp.text_head(4096).lstrip()
    if not head:
        raise inp.fail("empty file")
    single = head.startswith("{")  # one chat on its own instead of the usual list
    if not single and not head.startswith("["):
        raise inp.fail("not an Open WebUI export (expected a JSON list of chats)")
    for index, chat in shaped_items(
            inp, "" if single else "item",
            lambda c: isinstance(c, dict) and isinstance(c.get("chat"), dict),
            "not an Open WebUI export (no entry has a \"chat\" object)"):
        yield from _chat(chat, index, inp)


def _chat(entry: Any, index: int, inp: Input) -> Iterator[Item]:
    where = f"{inp.name}: chat {index}"
    if not isinstance(entry, dict):
        yield Skipped(where, "not a chat object")
        return
    cid = entry.get("id")
    if isinstance(cid, str | int) and str(cid):
        cid = str(cid)
        where = f"{inp.name}: chat {cid}"
    else:
        cid = None
    chat = entry.get("chat")
    if not isinstance(chat, dict):
        yield Skipped(where, "no chat object")
        return
    nodes = visible_path(chat)
    if nodes is None:
        yield Skipped(where, "no messages")
        return
    models = chat.get("models")
    model = next((m for m in models if isinstance(m, str) and m), None) if isinstance(
        models, list) else None
    if model is None:
        model = next((m for _, n in nodes if n.get("role") == "assistant"
                      and isinstance(m := n.get("model"), str) and m), None)
    messages: list[Message] = []
    last: dict[str, str | None] = {}  # node id -> source id of the last message it gave
    for key, node in nodes:
        got = _messages(key, node, model)
        messages.extend(got)
        last[key] = got[-1].source_id if got else None
    branches = _off_branch(chat, {k for k, _ in nodes}, last, model)
    if not messages:
        yield Skipped(where, "no visible messages")
        return
    title = entry.get("title") if isinstance(entry.get("title"), str) else chat.get("title")
    if not isinstance(title, str) or not title.strip():
        title = None
    created = _epoch(entry.get("created_at"))
    if created is None:
        created = _epoch(chat.get("timestamp"))
    extra = {k: True for k in ("archived", "pinned") if entry.get(k) is True}
    yield Conversation(
        source=SOURCE, messages=messages, source_id=cid, title=title, created_at=created,
        updated_at=_epoch(entry.get("updated_at")), model=model, tags=_tags(entry, chat),
        extra=extra or None, branches=branches)


def _off_branch(chat: dict[str, Any], shown: set[str], last: dict[str, str | None],
                model: str | None) -> list[Message]:
    """The messages of the other branches (regenerations, edits), in tree order, each
    with ``parent`` = the source id of the message above it."""
    history = chat.get("history")
    tree = history.get("messages") if isinstance(history, dict) else None
    if not isinstance(tree, dict) or len(tree) <= len(shown):
        return []
    tree = {str(k): v for k, v in tree.items() if isinstance(v, dict)}
    found: list[tuple[str, list[Message]]] = []
    for key, node in tree.items():
        if key in shown:
            continue
        got = _messages(key, node, model)
        last[key] = got[-1].source_id if got else None
        found.append((key, got))
    out: list[Message] = []
    for key, got in found:
        parent, seen = tree[key].get("parentId"), {key}
        above: str | None = None
        while isinstance(parent, str) and parent in tree and parent not in seen:
            seen.add(parent)
            if last.get(parent):
                above = last[parent]
                break
            parent = tree[parent].get("parentId")
        for m in got:  # a node's own messages follow one another
            m.parent = above
            above = m.source_id or above
        out += got
    return out


def visible_path(chat: dict[str, Any]) -> list[tuple[str, dict[str, Any]]] | None:
    """(id, message) pairs from the root to the visible leaf; None when there are none."""
    history = chat.get("history")
    tree = history.get("messages") if isinstance(history, dict) else None
    if isinstance(tree, dict) and tree:
        tree = {str(k): v for k, v in tree.items() if isinstance(v, dict)}
        current = history.get("currentId")  # type: ignore[union-attr]
        if not isinstance(current, str) or current not in tree:
            current = _newest_leaf(tree)
        path: list[tuple[str, dict[str, Any]]] = []
        seen: set[str] = set()
        node_id: Any = current
        while isinstance(node_id, str) and node_id in tree and node_id not in seen:
            seen.add(node_id)
            path.append((node_id, tree[node_id]))
            node_id = tree[node_id].get("parentId")
        path.reverse()
        return path or None
    flat = chat.get("messages")  # older exports: the visible branch, already in order
    if isinstance(flat, list) and flat:
        return [(_id(m.get("id"), i), m) for i, m in enumerate(flat) if isinstance(m, dict)] \
            or None
    return None


def _id(value: Any, fallback: Any) -> str:
    """A message id (a string or a number), else the fallback; never str() of a nested value."""
    if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
        return str(value)
    return str(fallback)


def _newest_leaf(tree: dict[str, dict[str, Any]]) -> str | None:
    best: str | None = None
    best_time = float("-inf")
    for node_id, node in tree.items():
        children = node.get("childrenIds")
        if isinstance(children, list) and any(c in tree for c in children if isinstance(c, str)):
            continue
        t = _epoch(node.get("timestamp"))
        t = float("-inf") if t is None else t
        if t >= best_time:  # ties: the last in dict order
            best, best_time = node_id, t
    return best


def _messages(key: str, node: dict[str, Any], model: str | None) -> list[Message]:
    role = node.get("role")
    if not isinstance(role, str) or role not in ROLES:
        return []
    source_id = _id(node.get("id"), key)
    created = _epoch(node.get("timestamp"))
    if role != "assistant":
        text = _content_text(node.get("content")).replace("\r\n", "\n").strip()
        files = _files(node.get("files"))
        if not text and files:
            text = "\n".join(f"[file: {f}]" for f in files)
        if not text:
            return []
        return [Message(role=role, text=text, source_id=source_id, created_at=created,
                        extra={"files": files} if files else None)]
    segments = _output_segments(node.get("output"))
    if segments is None:
        segments = _content_segments(_content_text(node.get("content")))
    extra: dict[str, Any] = {}
    msg_model = node.get("model")
    if isinstance(msg_model, str) and msg_model and msg_model != model:
        extra["model"] = msg_model
    if node.get("done") is False:
        extra["status"] = "in_progress"
    out: list[Message] = []
    texts = tools = 0
    for kind, author, text, seg_extra in segments:
        text = text.replace("\r\n", "\n").strip()
        if not text:
            continue
        if kind == "tool":
            tools += 1
            out.append(Message(role="tool", text=text, author=author,
                               source_id=f"{source_id}#tool{tools}", created_at=created,
                               extra=seg_extra or None))
        else:
            texts += 1
            out.append(Message(role="assistant", text=text,
                               source_id=source_id if texts == 1 else f"{source_id}#{texts}",
                               created_at=created, extra=dict(extra) or None))
    return out


Segment = tuple[str, str | None, str, dict[str, Any]]  # (kind, author, text, extra)


def _output_segments(output: Any) -> list[Segment] | None:
    """Segments from the structured ``output[]`` of newer versions (None: not usable)."""
    if not isinstance(output, list) or not any(
            isinstance(o, dict) and o.get("type") in ("message", "function_call_output")
            for o in output):
        return None
    calls: dict[str, tuple[str | None, Any]] = {}
    segments: list[Segment] = []
    for item in output:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "function_call":
            call = item.get("call_id") or item.get("id")
            if isinstance(call, str):
                name = item.get("name")
                calls[call] = (name if isinstance(name, str) and name else None,
                               item.get("arguments"))
        elif kind == "function_call_output":
            call = item.get("call_id") or item.get("id")
            name, args = calls.get(call, (None, None)) if isinstance(call, str) else (None, None)
            segments.append(("tool", name, _parts_text(item.get("output")),
                             _call_extra(call, args)))
        elif kind == "message" and item.get("role", "assistant") == "assistant":
            segments.append(("text", None, _parts_text(item.get("content")), {}))
        # "reasoning" and unknown item types are hidden
    return segments


def _content_segments(content: str) -> list[Segment]:
    """Split assistant ``content`` into text and tool segments; drop reasoning."""
    content = _THINK.sub("", content)
    segments: list[Segment] = []
    pos = 0
    for m in _DETAILS.finditer(content):
        segments.append(("text", None, content[pos:m.start()], {}))
        pos = m.end()
        attrs = {k: html.unescape(v) for k, v in _ATTR.findall(m.group(1))}
        kind = attrs.get("type")
        body = _SUMMARY.sub("", m.group(2))
        if kind is None:  # a plain <details> written by a person or a model: keep it
            segments.append(("text", None, m.group(0), {}))
        elif kind == "tool_calls":
            result = attrs.get("result")
            text = _decoded(result) if result is not None else _decoded(html.unescape(body))
            if attrs.get("done") == "false" and result is None and not body.strip():
                continue  # still executing when exported: no result to keep
            args = attrs.get("arguments")
            segments.append(("tool", attrs.get("name") or None, text,
                             _call_extra(attrs.get("id"), _decoded(args) if args else None)))
        elif kind == "code_interpreter":
            output = _decoded(attrs["output"]) if "output" in attrs else ""
            if output.startswith("{"):
                try:
                    obj = jsonio.loads(output)
                    if isinstance(obj, dict):
                        output = "\n".join(str(obj[k]) for k in ("stdout", "result", "stderr")
                                           if obj.get(k))
                except jsonio.JSONDecodeError:
                    pass
            segments.append(("tool", "code_interpreter",
                             body.strip() + ("\n" + output if output else ""), {}))
        # type="reasoning" and unknown widget types are hidden
    segments.append(("text", None, content[pos:], {}))
    merged: list[Segment] = []
    for seg in segments:
        if seg[0] == "text" and merged and merged[-1][0] == "text":
            prev = merged.pop()
            seg = ("text", None, prev[2].rstrip() + "\n\n" + seg[2].lstrip(), {})
        merged.append(seg)
    return merged


def _call_extra(call: Any, arguments: Any) -> dict[str, Any]:
    """The call id and (short) arguments of a tool call, for the tool message's extra."""
    extra: dict[str, Any] = {}
    if isinstance(call, str) and call:
        extra["call_id"] = call
    if isinstance(arguments, str) and arguments.strip() and len(arguments) <= 500:
        extra["arguments"] = arguments.strip()
    return extra


def _decoded(text: str) -> str:
    """A value Open WebUI stored JSON-encoded (``"\\"Paris: 18C\\""``), decoded when it is."""
    s = text.strip()
    if s[:1] in ('"', "[", "{"):
        try:
            value = jsonio.loads(s)
        except jsonio.JSONDecodeError:
            return s
        if isinstance(value, str):
            return value
    return s


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI-style parts
        return _parts_text(content)
    return ""


def _parts_text(parts: Any) -> str:
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, list):
        return ""
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, dict) and isinstance(p.get("text"), str):
            out.append(p["text"])
    return "\n\n".join(t for t in out if t)


def _files(files: Any) -> list[str]:
    """Names of the files attached to a message (images have none: "image")."""
    names: list[str] = []
    for f in files if isinstance(files, list) else []:
        if not isinstance(f, dict):
            continue
        inner = f.get("file") if isinstance(f.get("file"), dict) else {}
        meta = inner.get("meta") if isinstance(inner.get("meta"), dict) else {}
        name = f.get("name") or inner.get("filename") or meta.get("name")
        if isinstance(name, str) and name:
            names.append(name)
        elif f.get("type") == "image":
            names.append("image")
    return names[:20]


def _tags(entry: dict[str, Any], chat: dict[str, Any]) -> list[str]:
    meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
    tags: list[str] = []
    for source in (meta.get("tags"), chat.get("tags")):
        if not isinstance(source, list):
            continue
        for t in source:
            name = t.get("name") if isinstance(t, dict) else t
            if isinstance(name, str) and name.strip() and name.strip() not in tags:
                tags.append(name.strip())
    return tags


def _epoch(value: Any) -> float | None:
    """Epoch seconds from Open WebUI's ints (seconds; ``chat.timestamp`` is milliseconds)."""
    if isinstance(value, str):
        return to_epoch(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    while abs(v) > 1e11:  # milliseconds, microseconds or nanoseconds
        v /= 1000.0
    return v

