"""Claude.ai data export: ``conversations.json``, ``memories.json``, ``projects.json``.

See ``docs/formats.md`` §2. Every file of the export is a JSON array, often a single
minified line of 100+ MB, so it is read as a stream (``ijson``), one conversation at
a time. What each file becomes:

- ``conversations.json``: one :class:`~aimem.models.Conversation` per entry. Message
  text is built from the ``content[]`` text blocks (the flattened ``text`` field can be
  a placeholder such as "This block is not supported on your current device yet.") and
  falls back to ``text`` only for the old text-only layout. Thinking blocks (and the old
  inline ``<antThinking>``) are hidden reasoning: left out. Artifacts become a marker
  plus their content (the same for the old inline ``<antArtifact>`` tags and the newer
  ``artifacts`` tool calls); other tool calls become one-line markers; tool results are
  tool output the UI folds away: left out. ``attachments[].extracted_content`` (pasted
  and uploaded text) is appended under an ``[attachment: name]`` marker; ``files[]``
  (images, binaries: not in the export) become ``[file: name]`` markers.
- Messages with ``parent_message_uuid`` form a tree: the visible branch is the path to
  ``current_leaf_message_uuid`` when an (unofficial) export gives it, else to the
  newest leaf (§2.4). Without parent links the array is sorted by (``created_at``,
  human first, array index), which restores the real order of 2024 exports.
- ``memories.json`` (2026: ``[{"conversations_memory": md, "project_memories": {uuid:
  md}, "account_uuid"}]``): one :class:`~aimem.models.MemoryItem` per Markdown section.
- ``projects.json`` / ``projects/<uuid>.json``: the export does not say which project a
  conversation belongs to, so nothing is imported from them; one
  :class:`~aimem.models.Skipped` says so. ``users.json`` is account data (never claimed).

A single conversation object (the claude.ai API shape that browser extensions save,
with ``current_leaf_message_uuid``, ``model``, ``project``) and the
``{"conversations": [...]}`` wrapper some tools write are accepted too.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterator
from typing import Any

from aimem.importers.base import Input, Item, json_items, sniffer
from aimem.models import Conversation, MemoryItem, Message, Skipped
from aimem.timeutil import to_epoch

NAME = "claude"
SOURCE = "claude"
DESCRIPTION = "Claude.ai data export (conversations.json, memories.json, the zip)"
TREE = True  # conversations are trees: other branches go to Conversation.branches

ROLES = {"human": "user", "user": "user", "assistant": "assistant"}
# Stop reasons that say nothing unusual happened.
NORMAL_STOPS = {None, "", "stop_sequence", "end_turn", "message_stop"}

_START = re.compile(r'\[\s*\{|\{\s*"')
_WRAPPER = re.compile(r'\{\s*"(conversations|projects|memories)"\s*:\s*\[')
_CONVERSATIONS = re.compile(r'"chat_messages"\s*:\s*(?:\[|null)')
_UUID = re.compile(r'"(?:uuid|conversation_uuid)"\s*:')
_MEMORIES = re.compile(r'"(?:conversations_memory|project_memories)"\s*:')
_PROJECT = re.compile(r'"(?:prompt_template|is_starter_project)"\s*:')
_PROJECT_2026 = re.compile(r'"docs"\s*:\s*\[')
_PRIVATE = re.compile(r'"is_private"\s*:')

# Old layout (2024): hidden reasoning and artifacts inline in the text.
_ANT_THINKING = re.compile(r"\s*<antThinking>.*?</antThinking>\s*", re.S)
_ANT_ARTIFACT = re.compile(r"<antArtifact\b([^>]*)>\n?(.*?)\n?</antArtifact>", re.S)
_ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
# Markdown headings that split a memory blob into sections: **Work context**, ## Notes.
_SECTION = re.compile(r"^(?:\*\*[^*\n]+\*\*|#{1,6}\s+\S.*)\s*$", re.M)
# Artifact types -> code fence language (Markdown artifacts stay unfenced).
FENCES = {"text/html": "html", "image/svg+xml": "svg", "application/vnd.ant.react": "jsx",
          "application/vnd.ant.mermaid": "mermaid", "text/markdown": None,
          "text/plain": None, "application/vnd.ant.code": ""}


# --- detection -------------------------------------------------------------------------


@sniffer
def sniff(inp: Input) -> bool:
    return _kind(inp.text_head().lstrip()) is not None


def _kind(head: str) -> str | None:
    """Which Claude export file this head belongs to: conversations, memories, projects."""
    if not _START.match(head):
        return None
    if _CONVERSATIONS.search(head) and _UUID.search(head):
        return "conversations"
    if _MEMORIES.search(head):
        return "memories"
    if _UUID.search(head) and (_PROJECT.search(head)
                               or (_PROJECT_2026.search(head) and _PRIVATE.search(head))):
        return "projects"
    return None


def _prefix(head: str) -> str:
    """The ijson prefix of the entries: a top-level list, a wrapper's list, or one object."""
    if head.startswith("["):
        return "item"
    m = _WRAPPER.match(head)
    return f"{m.group(1)}.item" if m else ""


# --- parsing ---------------------------------------------------------------------------


def parse(inp: Input) -> Iterator[Item]:
    head = inp.text_head(4096).lstrip()
    if not head:
        raise inp.fail("empty file")
    if not head.startswith(("[", "{")):
        raise inp.fail("not a JSON array or object")
    projects: list[str] = []
    known = 0  # entries that are Claude conversations, memories or projects
    index = 0
    for index, entry in enumerate(json_items(inp, _prefix(head)), 1):
        where = f"{inp.name}: entry {index}"
        if not isinstance(entry, dict):
            yield Skipped(where, "not a conversation object")
            continue
        known += 1
        if "chat_messages" in entry:
            yield from _conversation(entry, index, inp)
        elif any(k in entry for k in ("conversations_memory", "project_memories",
                                      "global_memory")):
            yield from _memories(entry)
        elif "docs" in entry or "prompt_template" in entry:
            name = entry.get("name")
            projects.append(name if isinstance(name, str) and name else
                            _first_str(entry, "uuid") or str(index))
        else:
            known -= 1
            yield Skipped(where, "not a Claude conversation (no chat_messages)")
    if not known:  # in practice only with --format claude: sniff does not claim such files
        raise inp.fail("not a Claude.ai export (no conversations, memories or projects in it)")
    if projects:
        shown = ", ".join(projects[:5]) + (f", … ({len(projects)} in all)" if len(projects) > 5
                                           else "")
        yield Skipped(inp.name, f"Claude projects ({shown}): the export does not say which "
                      "conversations belong to a project, so nothing is imported from them")


def _conversation(conv: dict[str, Any], index: int, inp: Input) -> Iterator[Item]:
    # A shared snapshot names the conversation it copies; everything else has its uuid.
    cid = _first_str(conv, "conversation_uuid", "uuid")
    where = f"{inp.name}: conversation {cid or index}"
    raw = conv.get("chat_messages")
    if not isinstance(raw, list):
        yield Skipped(where, "no messages (chat_messages is not a list)")
        return
    entries = [m for m in raw if isinstance(m, dict)]
    messages: list[Message] = []
    visible = visible_branch(entries, conv.get("current_leaf_message_uuid"))
    for m in visible:
        role = ROLES.get(_str(m.get("sender")).lower())
        if role is None:
            yield Skipped(f"{where}, message {m.get('uuid')}",
                          f"unknown sender {reprlib.repr(m.get('sender'))}")
            continue
        if (msg := _message(m, role)) is not None:
            messages.append(msg)
    branches: list[Message] = []
    if len(visible) < len(entries):  # a tree: the retries and edits not on the branch shown
        on_branch = {id(m) for m in visible}
        for m in entries:
            role = ROLES.get(_str(m.get("sender")).lower())
            if id(m) in on_branch or role is None or (msg := _message(m, role)) is None:
                continue
            parent = m.get("parent_message_uuid")
            msg.parent = parent if isinstance(parent, str) and parent else None
            branches.append(msg)
    if not messages:
        yield Skipped(where, "no messages (empty conversation)")
        return
    title = conv.get("name") if conv.get("name") else conv.get("snapshot_name")
    title = title.strip() if isinstance(title, str) and title.strip() else None
    summary = conv.get("summary")
    model = conv.get("model")
    extra: dict[str, Any] = {}
    if conv.get("is_starred") is True:
        extra["starred"] = True
    yield Conversation(
        source=SOURCE, messages=messages, source_id=cid, title=title,
        created_at=to_epoch(conv.get("created_at")), updated_at=to_epoch(conv.get("updated_at")),
        model=model if isinstance(model, str) and model else None, project=_project(conv),
        summary=summary.strip() if isinstance(summary, str) and summary.strip() else None,
        extra=extra or None, branches=branches)


def _project(conv: dict[str, Any]) -> str | None:
    """The project, when an (unofficial) export names it; the official one never does."""
    proj = conv.get("project")
    if isinstance(proj, dict):
        for key in ("name", "uuid"):
            if isinstance(proj.get(key), str) and proj[key].strip():
                return proj[key].strip()
    puid = conv.get("project_uuid")
    return puid if isinstance(puid, str) and puid else None


def visible_branch(entries: list[dict[str, Any]], current_leaf: Any = None) -> list[dict[str, Any]]:
    """The messages people saw, in order (formats.md §2.4).

    With ``parent_message_uuid`` links: the path from the root to ``current_leaf`` when
    it is a known message, else to the leaf with the latest ``created_at`` (ties: the
    last in the array). Without links: the array sorted by explicit ``index`` when every
    message has one, else by (``created_at``, human first, array position).
    """
    if any(isinstance(m.get("parent_message_uuid"), str) for m in entries):
        by_id = {m["uuid"]: m for m in entries if isinstance(m.get("uuid"), str)}
        leaf = by_id.get(current_leaf) if isinstance(current_leaf, str) else None
        if leaf is None:
            parents = {p for m in entries if isinstance(p := m.get("parent_message_uuid"), str)}
            best = float("-inf")
            for m in by_id.values():
                if m["uuid"] in parents:
                    continue
                t = to_epoch(m.get("created_at"))
                t = float("-inf") if t is None else t
                if t >= best:
                    leaf, best = m, t
        path: list[dict[str, Any]] = []
        seen: set[str] = set()
        node = leaf
        while node is not None and node["uuid"] not in seen:
            seen.add(node["uuid"])
            path.append(node)
            parent = node.get("parent_message_uuid")
            node = by_id.get(parent) if isinstance(parent, str) else None
        return path[::-1]
    if entries and all(isinstance(m.get("index"), int) and not isinstance(m.get("index"), bool)
                       for m in entries):
        return sorted(entries, key=lambda m: m["index"])
    times = [to_epoch(m.get("created_at")) for m in entries]
    if any(t is None for t in times):
        return list(entries)
    order = sorted(range(len(entries)), key=lambda i: (
        times[i], 0 if _str(entries[i].get("sender")).lower() == "human" else 1, i))
    return [entries[i] for i in order]


def _message(m: dict[str, Any], role: str) -> Message | None:
    content = m.get("content")
    if isinstance(content, list) and content:
        text = _blocks_text(content)
    else:  # the old text-only layout, shared snapshots (content: null)
        text = m.get("text") if isinstance(m.get("text"), str) else ""
        text = _inline_markup(text)
    parts = [text] if text.strip() else []
    parts += _attachment_parts(m.get("attachments"), m.get("files"))
    text = "\n\n".join(parts).replace("\r\n", "\n").strip()
    if not text:
        return None
    extra: dict[str, Any] = {}
    stop = m.get("stop_reason")
    if stop not in NORMAL_STOPS and isinstance(stop, str):
        extra["stop_reason"] = stop
    if m.get("truncated") is True:
        extra["truncated"] = True
    uid = m.get("uuid")
    return Message(role=role, text=text, source_id=uid if isinstance(uid, str) and uid else None,
                   created_at=to_epoch(m.get("created_at")), extra=extra or None)


def _blocks_text(content: list[Any]) -> str:
    """Visible text of a ``content[]`` list.

    Consecutive text blocks are one run (web-search answers split a sentence into many
    blocks, one per citation), so they are joined as they are; any other block ends
    the run, and runs and tool markers are separated by a blank line.
    """
    segments: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            segments.append(_inline_markup("".join(run)))
            run.clear()

    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            if isinstance(block.get("text"), str):
                run.append(block["text"])
            continue
        flush()
        if kind == "tool_use":
            segments.append(_tool_use(block))
        # thinking: hidden reasoning; tool_result: folded tool output; token_budget:
        # timestamps only; anything else is an unknown block type: all left out.
    flush()
    return "\n\n".join(s.strip() for s in segments if s and s.strip())


def _tool_use(block: dict[str, Any]) -> str:
    name = block.get("name") if isinstance(block.get("name"), str) and block["name"] else "tool"
    inp = block.get("input") if isinstance(block.get("input"), dict) else {}
    if name == "artifacts":
        title = _first_str(inp, "title", "id") or "untitled"
        command = inp.get("command")
        if command == "update":
            return _artifact(f"[artifact update: {title}]", inp.get("new_str"), "", None)
        lang = inp.get("language") if isinstance(inp.get("language"), str) else None
        return _artifact(f"[artifact: {title}]", inp.get("content"),
                         inp.get("type") if isinstance(inp.get("type"), str) else "", lang)
    arg = _first_str(inp, "query", "url", "path", "title")
    marker = f"[tool: {name}: {_one_line(arg)}]" if arg else f"[tool: {name}]"
    code = inp.get("code")
    if isinstance(code, str) and code.strip():
        return f"{marker}\n```\n{code.strip(chr(10))}\n```"
    return marker


def _artifact(marker: str, body: Any, kind: str, language: str | None) -> str:
    if not isinstance(body, str) or not body.strip():
        return marker
    body = body.strip("\n")
    fence = FENCES.get(kind, "") if kind else ""
    if language:
        fence = language
    if fence is None or "```" in body:
        return f"{marker}\n{body}"
    return f"{marker}\n```{fence}\n{body}\n```"


def _inline_markup(text: str) -> str:
    """Old-layout text: drop ``<antThinking>``, turn ``<antArtifact>`` into a marker."""
    if "<ant" not in text:
        return text
    text = _ANT_THINKING.sub("\n\n", text)

    def artifact(match: re.Match[str]) -> str:
        attrs = dict(_ATTR.findall(match.group(1)))
        title = attrs.get("title") or attrs.get("identifier") or "untitled"
        return _artifact(f"[artifact: {title}]", match.group(2), attrs.get("type", ""),
                         attrs.get("language"))

    return _ANT_ARTIFACT.sub(artifact, text)


def _attachment_parts(attachments: Any, files: Any) -> list[str]:
    parts: list[str] = []
    markers: list[str] = []
    names: set[str] = set()
    for a in attachments if isinstance(attachments, list) else []:
        if not isinstance(a, dict):
            continue
        name = a.get("file_name") if isinstance(a.get("file_name"), str) else ""
        names.add(name)
        marker = f"[attachment: {name}]" if name else "[attachment]"
        body = a.get("extracted_content")
        if isinstance(body, str) and body.strip():
            parts.append(f"{marker}\n{body.strip(chr(10))}")
        else:
            parts.append(marker)
    for fl in files if isinstance(files, list) else []:
        if not isinstance(fl, dict):
            continue
        name = fl.get("file_name") if isinstance(fl.get("file_name"), str) else ""
        if name and name in names:
            continue  # the same upload, already listed with its text
        markers.append(f"[file: {name}]" if name else "[file]")
    return [*parts, "\n".join(markers)] if markers else parts


# --- memories.json -----------------------------------------------------------------------


def _memories(entry: dict[str, Any]) -> Iterator[Item]:
    glob = entry.get("conversations_memory", entry.get("global_memory"))
    if isinstance(glob, str):
        for section, text in _sections(glob):
            yield MemoryItem(text=text, kind="fact", source=SOURCE,
                             extra={"scope": "global", **({"section": section} if section
                                                          else {})})
    projects = entry.get("project_memories")
    if isinstance(projects, dict):
        for puid, blob in projects.items():
            if not isinstance(blob, str):
                continue
            for section, text in _sections(blob):
                yield MemoryItem(text=text, kind="project", source=SOURCE,
                                 extra={"scope": "project", "project_uuid": str(puid),
                                        **({"section": section} if section else {})})


def _sections(blob: str) -> list[tuple[str | None, str]]:
    """A Markdown memory split at its top headings: [(heading, section text)]."""
    blob = blob.replace("\r\n", "\n").strip()
    if not blob:
        return []
    starts = [m.start() for m in _SECTION.finditer(blob)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    out: list[tuple[str | None, str]] = []
    for a, b in zip(starts, [*starts[1:], len(blob)], strict=True):
        chunk = blob[a:b].strip()
        first, _, body = chunk.partition("\n")
        if _SECTION.fullmatch(first):
            if not body.strip():
                continue  # a heading with nothing under it
            heading: str | None = first.strip("*# \t")
        else:
            heading = None
        out.append((heading, chunk))
    return out


# --- helpers -----------------------------------------------------------------------------


def _str(value: Any) -> str:
    """A string field, or '' for anything else (never str() of a nested value)."""
    return value if isinstance(value, str) else ""


def _first_str(d: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = d.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1] + "…"

