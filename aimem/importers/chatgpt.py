"""ChatGPT data export: ``conversations.json`` and its ``conversations-NNN.json`` shards.

Also a single conversation object on its own (``{"title", "mapping", "current_node",
...}``, what browser exporters and the backend API save) and the
``{"conversations": [...]}`` wrapper.

See ``docs/formats.md`` §1. Each conversation is a tree of nodes (``mapping``); the
transcript people saw is the path from the root to ``current_node``: that path is the
conversation's ``messages``, with the messages the ChatGPT UI hides left out (§1.6). The
other branches (edited questions, regenerated answers) are kept too, outside
``messages``, in ``Conversation.branches``. Files are parsed
as a stream (``ijson``), so a 150 MB single-line export never sits in memory whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aimem.importers.base import Input, Item, json_items
from aimem.models import Conversation, Message, Skipped

NAME = "chatgpt"
SOURCE = "chatgpt"
DESCRIPTION = "ChatGPT data export (conversations.json, conversations-NNN.json, the zip)"
TREE = True  # conversations are trees: other branches go to Conversation.branches

# Content types that are never part of the visible transcript (§1.4, §1.6).
HIDDEN_TYPES = {"tether_browsing_display", "tether_quote", "thoughts", "reasoning_recap",
                "sonic_webpage", "system_error", "user_editable_context",
                "model_editable_context", "computer_output"}
# Tool output that the UI does show.
SHOWN_TOOL_TYPES = {"execution_output", "multimodal_text"}
# 【12†source】 style markers and the private-use \ue200…\ue201 citation spans.
CITATION = re.compile(r"【\d+(?:[:†][^】]*)?】|\ue200[^\ue201]*\ue201")
_SNIFF = re.compile(r'"mapping"\s*:')


_WRAPPER = re.compile(r'\{\s*"conversations"\s*:\s*\[')
# A single conversation object (what browser exporters and the backend API save): its
# own keys, before or after the mapping, at the top level.
_SINGLE_KEYS = re.compile(r'"(?:current_node|conversation_id|default_model_slug|'
                          r'is_archived|moderation_results|safe_urls)"\s*:')


def sniff(inp: Input) -> bool:
    head = inp.text_head().lstrip()
    if not (head.startswith("[") or head.startswith("{")):
        return False
    if not _SNIFF.search(head):
        return False
    # DeepSeek shares "mapping" but has ISO "inserted_at" and message "fragments".
    if '"inserted_at"' in head or '"fragments"' in head:
        return False
    if head.startswith("{") and not _WRAPPER.match(head):
        return _single(head)
    return '"current_node"' in head or '"create_time"' in head


def _single(head: str) -> bool:
    """Is this head a single ChatGPT conversation object? A node of the tree has
    ``message.author``; the conversation has ``mapping`` and a float ``create_time``
    or one of its own keys."""
    return ('"author"' in head or '"children"' in head) and bool(
        _SINGLE_KEYS.search(head) or re.search(r'"create_time"\s*:\s*\d+\.\d', head))


def _prefix(inp: Input) -> str:
    head = inp.text_head(4096).lstrip()
    if not head.startswith("{"):
        return "item"
    return "conversations.item" if _WRAPPER.match(head) else ""


def parse(inp: Input) -> Iterator[Item]:
    index = 0
    for index, conv in enumerate(json_items(inp, _prefix(inp)), 1):  # noqa: B007
        yield from _conversation(conv, index, inp)
    if index == 0 and inp.bytes_read == 0:
        raise inp.fail("empty file")


def _conversation(conv: Any, index: int, inp: Input) -> Iterator[Item]:
    where = f"{inp.name}: conversation {index}"
    if not isinstance(conv, dict):
        yield Skipped(where, "not a conversation object")
        return
    cid = conv.get("conversation_id") or conv.get("id")
    if cid:
        where = f"{inp.name}: conversation {cid}"
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict) or not mapping:
        yield Skipped(where, "no messages (entry has no mapping)")
        return
    path = visible_path(mapping, conv.get("current_node"))
    default_model = conv.get("default_model_slug")
    if not isinstance(default_model, str):  # older exports: the model is per message only
        default_model = next((slug for node in path if isinstance(
            slug := _dict(_dict(node.get("message")).get("metadata")).get("model_slug"), str)),
            None)
    messages = [m for node in path if (m := _message(node, default_model)) is not None]
    branches = off_branch(mapping, path, default_model) if len(mapping) > len(path) else []
    if not messages:
        yield Skipped(where, "no visible messages")
        return
    title = conv.get("title")
    if not isinstance(title, str) or not title.strip():
        title = None  # the import service falls back to the first user text
    project = conv.get("gizmo_id") if conv.get("gizmo_type") == "snorlax" else None
    extra: dict[str, Any] = {}
    if conv.get("gizmo_id") and not project:
        extra["gizmo_id"] = conv["gizmo_id"]
    if conv.get("is_archived"):
        extra["archived"] = True
    yield Conversation(
        source=SOURCE, messages=messages, source_id=str(cid) if cid else None, title=title,
        created_at=_num(conv.get("create_time")), updated_at=_num(conv.get("update_time")),
        model=default_model, project=project,
        extra=extra or None, branches=branches)


def off_branch(mapping: dict[str, Any], path: list[dict[str, Any]],
               default_model: Any) -> list[Message]:
    """The messages of the other branches (edits, regenerations), in ``mapping`` order,
    each with ``parent`` = the source id of the nearest message above it."""
    on_path = {id(node) for node in path}
    source_ids: dict[str, str | None] = {}  # node id -> its message's source id, or None
    found: list[tuple[str, Message]] = []
    for node_id, node in mapping.items():
        if not isinstance(node, dict):
            continue
        m = _message(node, default_model)
        source_ids[node_id] = m.source_id if m else None
        if m is not None and id(node) not in on_path:
            found.append((node_id, m))
    for node_id, m in found:
        parent, seen = mapping[node_id].get("parent"), {node_id}
        while isinstance(parent, str) and parent in mapping and parent not in seen:
            seen.add(parent)
            if source_ids.get(parent):
                m.parent = source_ids[parent]
                break
            up = mapping[parent]
            parent = up.get("parent") if isinstance(up, dict) else None
    return [m for _, m in found]


def visible_path(mapping: dict[str, Any], current: Any) -> list[dict[str, Any]]:
    """Nodes from the root to the visible leaf, in order (§1.5)."""
    if not isinstance(current, str) or current not in mapping:
        current = _newest_leaf(mapping)
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    node_id: Any = current
    while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, dict):
            break
        path.append(node)
        node_id = node.get("parent")
    path.reverse()
    return path


def _newest_leaf(mapping: dict[str, Any]) -> str | None:
    """The newest node none of whose children is in ``mapping`` (a cut export lists
    children that it does not hold)."""
    best: str | None = None
    best_time = float("-inf")
    for node_id, node in mapping.items():
        if not isinstance(node, dict):
            continue
        children = node.get("children")
        if isinstance(children, list) and any(
                isinstance(c, str) and c in mapping for c in children):
            continue
        msg = node.get("message") if isinstance(node.get("message"), dict) else {}
        t = _num(msg.get("create_time"))
        t = float("-inf") if t is None else t
        if t >= best_time:  # ties: the last in dict order
            best, best_time = node_id, t
    return best


def _message(node: dict[str, Any], default_model: Any) -> Message | None:
    msg = node.get("message")
    if not isinstance(msg, dict):
        return None
    author = msg.get("author") if isinstance(msg.get("author"), dict) else {}
    role = author.get("role")
    meta = msg.get("metadata") if isinstance(msg.get("metadata"), dict) else {}
    content = msg.get("content") if isinstance(msg.get("content"), dict) else {}
    ctype = content.get("content_type")
    if not isinstance(ctype, str | None):
        return None  # an unknown content type (see _text)
    if meta.get("is_visually_hidden_from_conversation") or meta.get("is_user_system_message"):
        return None
    if role == "system" or ctype in HIDDEN_TYPES:
        return None
    if msg.get("recipient") not in (None, "all"):
        return None
    if role == "tool" and ctype not in SHOWN_TOOL_TYPES:
        return None
    if role not in ("user", "assistant", "tool"):
        return None
    text = _text(content, ctype)
    if text is None:
        return None
    text = CITATION.sub("", text).replace("\r\n", "\n").strip()
    if not text:
        return None
    extra: dict[str, Any] = {}
    model = meta.get("model_slug")
    if role == "assistant" and isinstance(model, str) and model != default_model:
        extra["model"] = model
    if msg.get("status") == "in_progress":
        extra["status"] = "in_progress"
    name = author.get("name")
    return Message(role=role, text=text, source_id=str(msg.get("id") or node.get("id") or "")
                   or None, author=name if isinstance(name, str) else None,
                   created_at=_num(msg.get("create_time")), extra=extra or None)


def _text(content: dict[str, Any], ctype: Any) -> str | None:
    if ctype in ("text", "multimodal_text", None):
        parts = content.get("parts")
        if not isinstance(parts, list):
            return content.get("text") if isinstance(content.get("text"), str) else None
        return "\n".join(t for p in parts if (t := _part(p)))
    if ctype in ("code", "execution_output"):
        text = content.get("text")
        return text if isinstance(text, str) else None
    return None  # unknown content types are skipped, never stringified


def _part(part: Any) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return ""
    kind = part.get("content_type")
    kind = kind if isinstance(kind, str) else None
    if kind == "audio_transcription":
        return part.get("text") or ""
    if kind == "image_asset_pointer":
        meta = part.get("metadata") if isinstance(part.get("metadata"), dict) else {}
        dalle = meta.get("dalle") if isinstance(meta.get("dalle"), dict) else {}
        prompt = dalle.get("prompt")
        return f"[image: {prompt}]" if prompt else "[image]"
    if kind and "audio" in kind or "audio_asset_pointer" in part:
        return "[audio]"
    if kind and "video" in kind:
        return "[video]"
    return ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)

