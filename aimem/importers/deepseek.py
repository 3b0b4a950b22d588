"""DeepSeek export (Settings → Data → Export all history): ``conversations.json``.

See ``docs/formats.md`` §6.4. It looks like ChatGPT's export (a ``mapping`` tree per
conversation) but times are ISO strings (``inserted_at``, ``+08:00``) and each node's
message is a list of ``fragments``: ``REQUEST`` (the user), ``RESPONSE`` (the answer),
``THINK`` (reasoning, hidden) and search fragments (hidden). One node can hold both a
REQUEST and its RESPONSE. There is no ``current_node``: the visible transcript is the
path to the newest leaf, other children being regenerations or abandoned edits. Files
are parsed as a stream (``ijson``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aimem.importers.base import Input, Item, shaped_items, sniffer
from aimem.models import Conversation, Message, Skipped
from aimem.timeutil import to_epoch

NAME = "deepseek"
SOURCE = "deepseek"
DESCRIPTION = "DeepSeek export (conversations.json with inserted_at and message fragments)"
TREE = True  # a tree of answers: a regenerated answer replaces, the old one moves to branches

# Fragment types shown in the chat as the user's or DeepSeek's text. Everything else
# (THINK, SEARCH, READ_LINK, TIP, unknown types) is reasoning or tool traffic: hidden.
USER_FRAGMENTS = {"REQUEST"}
ASSISTANT_FRAGMENTS = {"RESPONSE", "TEMPLATE_RESPONSE"}
# Older message shape without fragments: {role: "USER" | "ASSISTANT", content}.
ROLES = {"USER": "user", "ASSISTANT": "assistant", "SYSTEM": "system"}
# Inline citation badges in answers written with web search on: "[citation:3]".
CITATION = re.compile(r"\[citation:\d+\]")
_MAPPING = re.compile(r'"mapping"\s*:')
_WRAPPED = re.compile(r'\{\s*"conversations"\s*:\s*\[')


@sniffer
def sniff(inp: Input) -> bool:
    head = inp.text_head().lstrip()
    if not (head.startswith("[") or _WRAPPED.match(head)):
        return False
    if not _MAPPING.search(head):
        return False
    # What tells it from ChatGPT's conversations.json (chatgpt.sniff rejects these).
    return '"inserted_at"' in head or '"fragments"' in head


def parse(inp: Input) -> Iterator[Item]:
    head = inp.text_head(4096).lstrip()
    if not head:
        raise inp.fail("empty file")
    if head.startswith("["):
        prefix = "item"
    elif _WRAPPED.match(head):
        prefix = "conversations.item"
    else:
        raise inp.fail("not a DeepSeek export (expected a JSON list of conversations)")
    for index, conv in shaped_items(
            inp, prefix, lambda c: isinstance(c, dict) and ("mapping" in c or "inserted_at" in c),
            "not a DeepSeek export (no entry has a mapping)"):
        yield from _conversation(conv, index, inp)


def _conversation(conv: Any, index: int, inp: Input) -> Iterator[Item]:
    where = f"{inp.name}: conversation {index}"
    if not isinstance(conv, dict):
        yield Skipped(where, "not a conversation object")
        return
    cid = conv.get("id")
    cid = str(cid) if isinstance(cid, str | int) and str(cid) else None
    if cid:
        where = f"{inp.name}: conversation {cid}"
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict) or not mapping:
        yield Skipped(where, "no messages (entry has no mapping)")
        return
    path = visible_path(mapping)
    model = next((m for node in path for msg in [_msg(node)]
                  if _has_answer(msg) and isinstance(m := msg.get("model"), str) and m), None)
    if model is None:
        model = next((m for node in path if isinstance(m := _msg(node).get("model"), str)
                      and m), None)
    messages: list[Message] = []
    for node_id, node in ((_sid(n.get("id")) or "", n) for n in path):
        messages.extend(_messages(node_id, node, model))
    if not messages:
        yield Skipped(where, "no visible messages")
        return
    title = conv.get("title")
    if not isinstance(title, str) or not title.strip():
        title = None
    yield Conversation(
        source=SOURCE, messages=messages, source_id=cid, title=title,
        created_at=to_epoch(conv.get("inserted_at")), updated_at=to_epoch(conv.get("updated_at")),
        model=model)


def visible_path(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    """Nodes from the root to the newest leaf, in order (§6.4: there is no current_node)."""
    nodes = {str(k): v for k, v in mapping.items() if isinstance(v, dict)}
    for k, v in nodes.items():
        v.setdefault("id", k)
    leaf = _newest_leaf(nodes)
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    node_id: Any = leaf
    while (node_id := _sid(node_id)) is not None and node_id in nodes and node_id not in seen:
        seen.add(node_id)
        path.append(nodes[node_id])
        node_id = nodes[node_id].get("parent")
    path.reverse()
    return path


def _newest_leaf(nodes: dict[str, dict[str, Any]]) -> str | None:
    best: str | None = None
    best_time = float("-inf")
    for node_id, node in nodes.items():
        children = node.get("children")
        if isinstance(children, list) and any(_sid(c) in nodes for c in children):
            continue
        t = to_epoch(_msg(node).get("inserted_at"))
        t = float("-inf") if t is None else t
        if t >= best_time:  # ties: the last in dict order
            best, best_time = node_id, t
    return best


def _msg(node: dict[str, Any]) -> dict[str, Any]:
    msg = node.get("message")
    return msg if isinstance(msg, dict) else {}


def _has_answer(msg: dict[str, Any]) -> bool:
    frags = msg.get("fragments")
    if isinstance(frags, list):
        return any(isinstance(f, dict) and _kind(f) in ASSISTANT_FRAGMENTS for f in frags)
    return _str(msg.get("role")).upper() == "ASSISTANT"


def _sid(value: Any) -> str | None:
    """A node id (a string or a number), never str() of a nested value."""
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) \
        else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _kind(frag: dict[str, Any]) -> str | None:
    kind = frag.get("type")
    return kind.upper() if isinstance(kind, str) else None


def _groups(msg: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) per run of visible fragments of the same role, in order."""
    frags = msg.get("fragments")
    if not isinstance(frags, list):  # the shape without fragments
        role = ROLES.get(_str(msg.get("role")).upper())
        content = msg.get("content")
        return [(role, content)] if role and isinstance(content, str) else []
    groups: list[tuple[str, str]] = []
    for frag in frags:
        if not isinstance(frag, dict) or not isinstance(frag.get("content"), str):
            continue
        kind = _kind(frag)
        role = ("user" if kind in USER_FRAGMENTS else
                "assistant" if kind in ASSISTANT_FRAGMENTS else None)
        if role is None:
            continue  # THINK, SEARCH, … are hidden
        if groups and groups[-1][0] == role:
            groups[-1] = (role, groups[-1][1] + "\n\n" + frag["content"])
        else:
            groups.append((role, frag["content"]))
    return groups


def _messages(node_id: str, node: dict[str, Any], model: str | None) -> list[Message]:
    msg = _msg(node)
    if not msg:
        return []
    created = to_epoch(msg.get("inserted_at"))
    files = _files(msg.get("files"))
    sources = _sources(msg.get("fragments"))
    msg_model = msg.get("model")
    out: list[Message] = []
    for role, raw in _groups(msg):
        text = raw.replace("\r\n", "\n")
        if role == "assistant":
            text = CITATION.sub("", text)
        text = text.strip()
        extra: dict[str, Any] = {}
        if role == "user" and files:
            extra["files"] = files
            files = []  # once per node
            if not text:
                text = "\n".join(f"[file: {f}]" for f in extra["files"])
        if role == "assistant" and isinstance(msg_model, str) and msg_model != model:
            extra["model"] = msg_model
        if role == "assistant" and sources:
            extra["sources"] = sources
            sources = []
        if not text:
            continue
        # The node id for the node's first message; a REQUEST and RESPONSE sharing one
        # node get "<id>" and "<id>#2", stable across exports.
        source_id = node_id if not out else f"{node_id}#{len(out) + 1}"
        out.append(Message(role=role, text=text, source_id=source_id, created_at=created,
                           extra=extra or None))
    return out


def _sources(frags: Any) -> list[str]:
    """The URLs a web search (SEARCH fragments) found for this node's answer."""
    urls: list[str] = []
    for frag in frags if isinstance(frags, list) else []:
        if not isinstance(frag, dict) or _kind(frag) != "SEARCH":
            continue
        results = frag.get("results")
        for r in results if isinstance(results, list) else []:
            url = r.get("url") if isinstance(r, dict) else None
            if isinstance(url, str) and url and url not in urls:
                urls.append(url)
    return urls[:20]


def _files(files: Any) -> list[str]:
    names: list[str] = []
    for f in files if isinstance(files, list) else []:
        name = f.get("file_name") or f.get("name") if isinstance(f, dict) else None
        if isinstance(name, str) and name:
            names.append(name)
    return names[:20]

