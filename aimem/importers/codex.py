"""Codex CLI rollouts: ``~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl``.

See ``docs/formats.md`` §6.1 (and, for the record types, ``RolloutItem`` /
``ResponseItem`` / ``EventMsg`` in ``openai/codex`` ``codex-rs/protocol``). A rollout
is JSON Lines, appended to while the session runs, so it is read line by line. Three
layouts exist:

- **Envelope** (Sep 2025 →): every line is ``{timestamp, type, payload}``. The first
  ``session_meta`` gives the session (``payload.id`` = the conversation's
  ``source_id``), ``payload.cwd`` (= ``project``) and ``originator`` / ``cli_version``
  / ``model_provider`` / ``source`` / ``git`` (kept small in ``extra``). The parent of
  a fork (``forked_from_id``, or the id of a later ``session_meta``: a fork's file
  replays its parent's) or of a sub-agent (``source.subagent.thread_spawn``) is noted
  in ``extra.parent_session``. ``turn_context.payload.model`` is the model (the first
  one; an answer given under another model says so in ``extra.model``).
- **Bare** (≤ early Sep 2025): line 1 is ``{id, timestamp, instructions, git}``, then
  bare items (``{"type": "message", …}``) and ``{"record_type": "state"}`` markers
  (skipped). There is no cwd: it is taken from the first ``<environment_context>``.
- **Single JSON object** (the TypeScript CLI, spring 2025): ``rollout-*.json`` holding
  ``{session: {id, timestamp, instructions, model?}, items: [...]}``, rewritten as a
  whole; read in one go (a damaged one fails). ``session.timestamp``, the time of the
  last save and the only time recorded, is both ``created_at`` and ``updated_at``.

What becomes of each item (``response_item.payload``, a bare item or an ``items[]``
entry):

- ``message`` with role ``user``: the typed prompt, role ``user``. Injected context is
  never the user's words and is left out: ``<environment_context>`` (its ``<cwd>`` is
  read), ``# AGENTS.md instructions…``, ``<user_instructions>``, ``<INSTRUCTIONS>``,
  ``<permissions instructions>``, ``<collaboration_mode>``, ``<turn_aborted>`` and any
  other text that is one ``<snake_case_tag>…</snake_case_tag>`` block; this is done per
  content part, so a prompt sent together with injected parts keeps its own text. The
  IDE extension's ``# Context from my IDE setup: … ## My request for Codex:`` keeps only
  the request. ``<user_shell_command>`` (``!`` input) is kept as role ``system``,
  author ``command``. Images become ``[image]``.
- ``message`` with role ``assistant``: role ``assistant``. Roles ``developer`` and
  ``system`` (permission, sandbox and collaboration instructions) are left out.
- ``reasoning`` (``summary``, ``encrypted_content``), ``compaction``, ``ghost_snapshot``,
  ``tool_search_*``: not visible text, left out.
- ``function_call`` / ``custom_tool_call`` / ``local_shell_call`` / ``web_search_call``
  / ``image_generation_call``: role ``tool``, author = the tool name, text = a compact
  rendering of the call (``$ command`` for shell tools, the patch for ``apply_patch``,
  the plan for ``update_plan``), ``source_id`` = ``call_id``, ``extra.kind =
  "tool_use"``. ``function_call_output`` / ``custom_tool_call_output``: role ``tool``,
  author = the name of its call, ``source_id`` = ``<call_id>/result``, ``extra.kind =
  "tool_result"``. Old outputs are a JSON string ``{"output", "metadata":
  {"exit_code"}}`` and newer ones start with an ``Exit code: … Wall time: … Output:``
  header: the output is unwrapped and a non-zero exit code kept in ``extra``. Both
  texts are cut to 4000 characters with a ``… [truncated: N more characters]`` marker.
  A call without output is fine; an empty successful output gives no message.
- ``compacted``: role ``system``, author ``compact summary`` (its
  ``replacement_history`` repeats earlier items and is not read).
- ``event_msg`` records duplicate the messages (``user_message``, ``agent_message``)
  or are bookkeeping (``token_count``, ``task_started`` …): left out, except that a
  file with no ``response_item`` message of role ``user`` (``assistant``) takes its
  prompts (answers) from ``user_message`` (``agent_message``) instead (Codex Desktop
  0.128 writes prompts only as events and answers only as items); ``thread_name_updated`` gives the
  title; ``thread_rolled_back {num_turns}`` drops the last ``num_turns`` user turns
  (the prompt and everything after it), as Codex does when it rebuilds the history;
  their source ids go to ``Conversation.deleted``, so a re-import drops them from a
  stored copy too (the only deletion a rollout records).

Ids: a message with a vendor ``id`` (answers carry ``msg_…`` in newer rollouts) uses
it, tool messages use the vendor ``call_id``; anything else uses its position,
``L<line number>`` (``I<n>`` for the n-th entry of a ``.json`` file's ``items``). A
rollout only ever grows, so a re-import of the grown file keeps the ids of the old
lines and adds only the new messages. A vendor id seen before in the file with the
same text is a copy (replayed history) and counts once; one reused for something else
falls back to its position.

Damaged lines never fail the file: a truncated last line, a non-JSON line, a
non-object line each give a :class:`~aimem.models.Skipped`; an unknown record type
or item type is reported once per file. A file with no readable Codex record fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aimem import jsonio
from aimem.importers.base import (
    HEAD_SIZE,
    Input,
    Item,
    LogReader,
    clip,
    read_errors,
    sniffer,
)
from aimem.importers.codex_text import classify, content_text, output_text, render_call, render_command
from aimem.models import Conversation, Message, Skipped
from aimem.timeutil import to_epoch

NAME = "codex"
SOURCE = "codex"
DESCRIPTION = "Codex CLI rollouts (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl)"

# Envelope record types that hold no conversation text of their own.
BOOKKEEPING = {"turn_context", "event_msg", "world_state", "inter_agent_communication",
               "inter_agent_communication_metadata"}
# response_item payload types left out without a word.
QUIET_ITEMS = {"reasoning", "ghost_snapshot", "compaction", "compaction_summary",
               "context_compaction", "tool_search_call", "tool_search_output", "other"}
TOOL_CALLS = {"function_call", "custom_tool_call", "local_shell_call", "web_search_call",
              "image_generation_call"}
TOOL_OUTPUTS = {"function_call_output", "custom_tool_call_output", "local_shell_call_output"}

_CWD = re.compile(r"<cwd>(.*?)</cwd>", re.S)
_PARTIAL_ENVELOPE = re.compile(r'^\{\s*"timestamp"\s*:\s*"[^"]*"\s*,\s*"type"\s*:\s*'
                               r'"session_meta"\s*,\s*"payload"\s*:\s*\{')
_PARTIAL_BARE = re.compile(r'^\{\s*"id"\s*:\s*"[^"]+"\s*,\s*"timestamp"\s*:\s*"[^"]*"\s*,\s*'
                           r'"instructions"\s*:')
_SINGLE_OBJECT = re.compile(r'^\{\s*"session"\s*:\s*\{')


# --- detection -------------------------------------------------------------------------


def is_envelope(obj: Any) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("type"), str)
            and "payload" in obj and isinstance(obj.get("timestamp"), str))


def is_bare_header(obj: Any) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("id"), str)
            and isinstance(obj.get("timestamp"), str) and "instructions" in obj
            and "type" not in obj and "payload" not in obj)


def is_single_object(text: str) -> bool:
    """The head of a TypeScript-era ``{"session": {…}, "items": [...]}`` rollout."""
    text = text.lstrip()
    return bool(_SINGLE_OBJECT.match(text)) and re.search(r'"items"\s*:\s*\[', text) is not None \
        and re.search(r'"session"\s*:\s*\{[^{}]*"id"\s*:', text[:HEAD_SIZE]) is not None


@sniffer
def sniff(inp: Input) -> bool:
    raw = inp.head()
    if not raw:
        return False
    text = raw.decode("utf-8-sig", errors="ignore")
    if is_single_object(text):
        return True
    lines = text.split("\n")
    partial = lines.pop() if len(raw) >= HEAD_SIZE else None  # cut by the head's size
    objs: list[Any] = []
    for line in lines[:40]:
        line = line.strip()
        if not line:
            continue
        try:
            objs.append(jsonio.loads(line))
        except jsonio.JSONDecodeError:
            if not objs:
                return bool(_PARTIAL_ENVELOPE.match(line) or _PARTIAL_BARE.match(line))
    if not objs:
        start = (partial or "").strip()
        return bool(_PARTIAL_ENVELOPE.match(start) or _PARTIAL_BARE.match(start))
    first = objs[0]
    if is_envelope(first):
        return any(is_envelope(o) and o["type"] == "session_meta"
                   and isinstance(o["payload"], dict) for o in objs)
    if is_bare_header(first):
        rest = [o for o in objs[1:] if isinstance(o, dict)]
        return all("type" in o or "record_type" in o for o in rest)
    return False


# --- parsing ---------------------------------------------------------------------------


class _Parser(LogReader):
    WHAT = "Codex"
    NOT_MINE = "not a Codex CLI rollout (no session_meta or session header)"

    def __init__(self, inp: Input):
        super().__init__(inp)
        self.session: str | None = None
        self.parent: str | None = None
        self.started: float | None = None
        self.updated: float | None = None
        self.title: str | None = None
        self.cwd: str | None = None
        self.model: str | None = None  # the first model: the conversation's
        self.current_model: str | None = None
        self.extra: dict[str, Any] = {}
        # (message, "" or the side an event_msg gave it: "user" / "assistant") in file order
        self.messages: list[tuple[Message, str]] = []
        self.tool_names: dict[str, str] = {}
        self.results: list[tuple[Message, str]] = []
        self.vendor_ids: dict[str, str] = {}  # vendor source_id -> its text (copies count once)
        self.deleted: list[str] = []  # source ids of messages a thread_rolled_back removed
        self.response_roles: set[str] = set()  # roles that response_item messages have

    def run(self) -> Iterator[Item]:
        if is_single_object(self.inp.text_head()):
            yield from self.single_object()
            return
        yield from self.read_lines()
        yield from self.finish()

    def single_object(self) -> Iterator[Item]:
        with self.inp.open() as f:
            data = f.read()
        try:
            obj = jsonio.loads(data)
        except jsonio.JSONDecodeError:
            raise self.inp.fail("not valid JSON (a truncated or damaged rollout file)") from None
        session = obj.get("session") if isinstance(obj, dict) else None
        items = obj.get("items") if isinstance(obj, dict) else None
        if not isinstance(session, dict) or not isinstance(items, list):
            raise self.inp.fail("not a Codex CLI rollout (no session and items)")
        self.meta({k: v for k, v in session.items() if k != "timestamp"})
        # the time of the last save, the only time these files record
        self.updated = self.started = to_epoch(session.get("timestamp"))
        for key, target in (("model", "model"), ("provider", "model_provider")):
            value = session.get(key)
            if isinstance(value, str) and value:
                if target == "model":
                    self.model = self.current_model = value
                else:
                    self.extra[target] = value
        for n, item in enumerate(items, 1):
            where = f"{self.inp.name}: item {n}"
            if isinstance(item, dict):
                yield from self.item(item, None, f"I{n}", where)
            else:
                yield Skipped(where, "not a JSON object")
        yield from self.finish()

    def line(self, obj: dict[str, Any], lineno: int, where: str) -> Iterator[Item]:
        if is_envelope(obj):
            yield from self.envelope(obj, lineno, where)
        elif is_bare_header(obj):
            self.meta(obj)
        elif "record_type" in obj:
            return  # {"record_type": "state"} markers of the bare layout
        elif isinstance(obj.get("type"), str):
            if self.known:  # a bare item: only after a session header
                yield from self.item(obj, None, f"L{lineno}", where)
            else:
                self.unknown[obj["type"]] += 1
        else:
            yield Skipped(where, "a record without a type")

    def meta(self, p: dict[str, Any]) -> None:
        self.known += 1
        sid = p.get("id") if isinstance(p.get("id"), str) and p["id"] else None
        if self.session is None:
            self.session = sid
            self.started = to_epoch(p.get("timestamp"))
            for key in ("originator", "cli_version", "model_provider"):
                if isinstance(p.get(key), str) and p[key]:
                    self.extra[key] = p[key]
            src = p.get("source")
            if isinstance(src, str) and src:
                self.extra["session_source"] = src
            elif isinstance(src, dict):
                self.extra["session_source"] = next(iter(src), "other")
                spawn = src.get("subagent")
                spawn = spawn.get("thread_spawn") if isinstance(spawn, dict) else None
                if isinstance(spawn, dict):
                    self.note_parent(spawn.get("parent_thread_id"))
                    for key in ("agent_nickname", "agent_role"):
                        if isinstance(spawn.get(key), str) and spawn[key]:
                            self.extra[key] = spawn[key]
            self.note_parent(p.get("forked_from_id"))
            git = p.get("git")
            if isinstance(git, dict):
                small = {k: git[k] for k in ("branch", "commit_hash", "repository_url")
                         if isinstance(git.get(k), str) and git[k]}
                if small:
                    self.extra["git"] = small
        elif sid != self.session:
            self.note_parent(sid)  # a fork's file replays its parent's session_meta
        cwd = p.get("cwd")
        if self.cwd is None and isinstance(cwd, str) and cwd:
            self.cwd = cwd

    def note_parent(self, sid: Any) -> None:
        if self.parent is None and isinstance(sid, str) and sid and sid != self.session:
            self.parent = sid
            self.extra["parent_session"] = sid

    def envelope(self, obj: dict[str, Any], lineno: int, where: str) -> Iterator[Item]:
        kind, p = obj["type"], obj["payload"]
        ts = to_epoch(obj.get("timestamp"))
        if ts is not None and (self.updated is None or ts > self.updated):
            self.updated = ts
        if kind == "session_meta":
            if isinstance(p, dict):
                self.meta(p)
            else:
                yield Skipped(where, "a session_meta without a payload object")
            return
        self.known += 1  # an envelope record: Codex, even before (or without) session_meta
        if not isinstance(p, dict):
            if kind not in BOOKKEEPING and kind != "response_item" and kind != "compacted":
                self.unknown[kind] += 1
            return
        if kind == "turn_context":
            model = p.get("model")
            if isinstance(model, str) and model:
                self.current_model = model
                self.model = self.model or model
            cwd = p.get("cwd")
            if self.cwd is None and isinstance(cwd, str) and cwd:
                self.cwd = cwd
        elif kind == "response_item":
            yield from self.item(p, ts, f"L{lineno}", where)
        elif kind == "event_msg":
            self.event(p, ts, lineno)
        elif kind == "compacted":
            text = p.get("message")
            if isinstance(text, str) and text.strip():
                self.add(Message(role="system", text=text.strip(), source_id=f"L{lineno}",
                                 author="compact summary", created_at=ts))
        elif kind not in BOOKKEEPING:
            self.unknown[kind] += 1

    def add(self, m: Message, from_event: str = "") -> None:
        self.messages.append((m, from_event))

    def vendor_id(self, vid: Any, text: str, fallback: str) -> str | None:
        """The source_id for a message with a vendor id: None when it is a copy."""
        if not isinstance(vid, str) or not vid:
            return fallback
        if vid in self.vendor_ids:
            return None if self.vendor_ids[vid] == text else fallback
        self.vendor_ids[vid] = text
        return vid

    def event(self, p: dict[str, Any], ts: float | None, lineno: int) -> None:
        kind = p.get("type")
        if kind == "thread_rolled_back":
            self.roll_back(p.get("num_turns"))
            return
        if kind == "thread_name_updated":
            name = p.get("thread_name", p.get("name"))
            if isinstance(name, str) and name.strip():
                self.title = name.strip()
            return
        text = p.get("message")
        if kind not in ("user_message", "agent_message") or not isinstance(text, str):
            return  # token_count, task_started, agent_reasoning …: bookkeeping
        if kind == "user_message":
            role, author, text = classify(text)
            images = p.get("images")
            if isinstance(images, list) and images:
                role = role or "user"
                text = "\n\n".join(t for t in (text, "[image]") if t)
            if role is None:
                return
        else:
            role, author, text = "assistant", None, text.strip()
        if text:
            self.add(Message(role=role, text=text, source_id=f"L{lineno}", author=author,
                             created_at=ts), from_event="user" if kind == "user_message"
                     else "assistant")

    def roll_back(self, n: Any) -> None:
        """Drop the last ``n`` user turns: each from its prompt to the end."""
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            return
        from_events = not any(m.role == "user" and not ev for m, ev in self.messages)
        prompts = [i for i, (m, ev) in enumerate(self.messages)
                   if m.role == "user" and bool(ev) == from_events]
        if prompts:
            start = prompts[-min(n, len(prompts))]
            # the session says these are gone: a re-import may drop them from a stored copy
            self.deleted += [m.source_id for m, _ in self.messages[start:] if m.source_id]
            del self.messages[start:]

    def item(self, p: dict[str, Any], ts: float | None, sid: str,
             where: str) -> Iterator[Item]:
        kind = p.get("type") if isinstance(p.get("type"), str) else None
        if kind == "message":
            role = p.get("role")
            self.response_roles.add(role if isinstance(role, str) else "")
            if role == "user":
                self.user(p, ts, sid)
            elif role == "assistant":
                text = content_text(p.get("content"))
                mid = self.vendor_id(p.get("id"), text, sid) if text else None
                if mid:
                    extra: dict[str, Any] = {}
                    if self.current_model and self.current_model != self.model:
                        extra["model"] = self.current_model
                    if p.get("phase") == "commentary":
                        extra["phase"] = "commentary"
                    self.add(Message(role="assistant", text=text, source_id=mid, created_at=ts,
                                     extra=extra or None))
            # developer / system: instructions Codex injects, left out
        elif kind in TOOL_CALLS:
            self.tool_call(p, kind, ts, sid)
        elif kind in TOOL_OUTPUTS:
            self.tool_output(p, ts, sid)
        elif kind in QUIET_ITEMS:
            return
        elif isinstance(kind, str):
            self.unknown[f"response_item/{kind}"] += 1
        else:
            yield Skipped(where, "an item without a type")

    def user(self, p: dict[str, Any], ts: float | None, sid: str) -> None:
        content = p.get("content")
        parts = content if isinstance(content, list) else [content]
        texts: list[str] = []
        system: list[str] = []
        for part in parts:
            if isinstance(part, str):
                text = part
            elif isinstance(part, dict):
                if part.get("type") in ("input_image", "image"):
                    texts.append("[image]")
                    continue
                text = part.get("text") if isinstance(part.get("text"), str) else ""
            else:
                continue
            if self.cwd is None:
                m = _CWD.search(text) if "<environment_context>" in text else None
                if m and m.group(1).strip():
                    self.cwd = m.group(1).strip()
            role, _author, text = classify(text)
            if role == "user":
                texts.append(text)
            elif role == "system":
                system.append(text)
        text = "\n\n".join(t for t in texts if t)
        uid = self.vendor_id(p.get("id"), text or "\n\n".join(system), sid)
        if uid is None:
            return  # a copy of a message seen before
        if system:
            self.add(Message(role="system", text="\n\n".join(system), source_id=f"{uid}/command",
                             author="command", created_at=ts))
        if text:
            self.add(Message(role="user", text=text, source_id=uid, created_at=ts))

    def tool_call(self, p: dict[str, Any], kind: str, ts: float | None, sid: str) -> None:
        call_id = p.get("call_id") if isinstance(p.get("call_id"), str) and p["call_id"] else None
        if kind == "web_search_call":
            name = "web_search"
            action = p.get("action")
            action = action if isinstance(action, dict) else {}
            shown = action.get("query") or action.get("url") or action.get("pattern")
            text = shown if isinstance(shown, str) and shown else "web search"
            call_id = call_id or (p["id"] if isinstance(p.get("id"), str) else None)
        elif kind == "image_generation_call":
            name = "image_generation"
            prompt = p.get("revised_prompt")
            text = f"[image] {prompt}" if isinstance(prompt, str) and prompt else "[image]"
            call_id = call_id or (p["id"] if isinstance(p.get("id"), str) else None)
        elif kind == "local_shell_call":
            name = "local_shell"
            action = p.get("action")
            cmd = action.get("command") if isinstance(action, dict) else None
            text = render_command(cmd) or "local shell call"
        else:
            name = p.get("name") if isinstance(p.get("name"), str) and p["name"] else "tool"
            data = p.get("input") if kind == "custom_tool_call" else p.get("arguments")
            text = render_call(name, data)
        text = clip(text)
        mid = self.vendor_id(call_id, text, sid)
        if mid is None:
            return  # a replayed copy of this call
        if call_id:
            self.tool_names.setdefault(call_id, name)
        self.add(Message(role="tool", text=text, source_id=mid, author=name, created_at=ts,
                         extra={"kind": "tool_use"}))

    def tool_output(self, p: dict[str, Any], ts: float | None, sid: str) -> None:
        call_id = p.get("call_id") if isinstance(p.get("call_id"), str) and p["call_id"] else None
        text, extra = output_text(p.get("output"))
        text = text.strip()
        if not text and "exit_code" in extra:
            text = f"[exit code {extra['exit_code']}]"
        if not text:
            return  # a quiet success: nothing to find or read
        text = clip(text)
        mid = self.vendor_id(f"{call_id}/result" if call_id else None, text, sid)
        if mid is None:
            return
        name = p.get("name") if isinstance(p.get("name"), str) and p["name"] else "tool"
        m = Message(role="tool", text=text, source_id=mid, author=name, created_at=ts,
                    extra={"kind": "tool_result", **extra})
        self.add(m)
        self.results.append((m, call_id or ""))

    def finish(self) -> Iterator[Item]:
        for m, call_id in self.results:
            m.author = self.tool_names.get(call_id, m.author or "tool")
        # event_msg prompts and answers duplicate response_item messages: one source per
        # side (Codex Desktop writes prompts only as events, answers only as items)
        messages = [m for m, ev in self.messages if not ev or ev not in self.response_roles]
        if not messages:
            yield Skipped(self.inp.name, "no messages (only session metadata)")
        else:
            yield Conversation(source=SOURCE, messages=messages, source_id=self.session,
                               title=self.title, created_at=self.started,
                               updated_at=self.updated, model=self.model, project=self.cwd,
                               extra=self.extra or None, deleted=self.deleted)
        yield from self.unknown_skipped()


@read_errors
def parse(inp: Input) -> Iterator[Item]:
    yield from _Parser(inp).run()
