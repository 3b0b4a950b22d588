"""Claude Code session logs: ``~/.claude/projects/<encoded-cwd>/<sessionId>.jsonl``.

See ``docs/formats.md`` §4. A session file is JSON Lines, appended to while the session
runs, and can be large, so it is read line by line. What becomes of each record:

- **One conversation per session file**. ``source_id`` = the ``sessionId`` of its
  records: the last one a non-sidechain record carries, since a resumed session's file
  starts with copies of the earlier session's lines and appends under its own id.
  ``project`` = the first ``cwd``; ``model`` = the first real ``message.model``
  (``"<synthetic>"`` marks local errors; a message with another model says so in
  ``extra.model``); ``extra`` keeps the first ``gitBranch``. Title: the last
  ``custom-title``, else a ``summary`` line whose ``leafUuid`` is a record of this file
  (the one whose leaf comes last), else none, so the import service takes the first
  real prompt.
- **Human turns** (role ``user``, ``source_id`` = the line's ``uuid``) are the typed
  prompts only. Left out: ``isMeta`` lines (caveats, expanded slash-command and skill
  bodies), the local-command caveat, ``[Request interrupted by user…]``,
  ``<task-notification>``, ``(no content)``, and any ``<system-reminder>``,
  ``<ide_opened_file>``, ``<ide_selection>``, ``<ide_diagnostics>`` or
  ``<user-prompt-submit-hook>`` block (stripped from prompts and tool results; a text
  that is nothing else is dropped), and the "NOTE: do any of the files above seem
  malicious?" line the old LS tool appends. Kept as role ``system``: slash commands
  (``<command-name>``: text ``/name args``, author ``command``), ``!`` bash-mode input
  (author ``command``), non-empty local command output (``<local-command-stdout>``,
  ``<bash-stdout>`` …: author ``command output``), ``#`` memory notes
  (``<user-memory-input>``: author ``memory``), compaction summaries
  (``isCompactSummary`` or "This session is being continued…": author ``compact
  summary``) and locally generated assistant errors (author ``Claude Code``).
- **Assistant turns**: one API response is split over several lines sharing
  ``message.id``; their text blocks are joined into one message (``source_id`` =
  ``message.id``) at the position of the first line. Thinking and redacted-thinking
  blocks are not visible text: left out. An answer with no text (thinking and tool
  calls only) gives no assistant message.
- **Tool traffic** is role ``tool`` with the tool name as author, never ``user``: each
  ``tool_use`` block is one message (``source_id`` = its ``toolu_…`` id, text = a
  compact rendering of the input, ``extra.kind = "tool_use"``); each ``tool_result``
  block (they arrive in ``user`` lines) is one message (``source_id`` =
  ``<tool_use_id>/result``, text = the result text, ``extra.kind = "tool_result"``,
  ``extra.is_error`` when set), its author found through ``tool_use_id``. Both texts are
  cut to 4000 characters with a ``… [truncated: N more characters]`` marker. Empty
  successful results (a quiet ``mv``) give no message.
- **Sidechains** (``isSidechain: true``: Task sub-agents) are kept apart, never
  interleaved: each sub-agent becomes its own conversation with ``source_id``
  ``<sessionId>/sidechain/<agentId>``, or ``<sessionId>/sidechain/<root uuid>`` for old
  inlined sidechains without ``agentId`` (lines are grouped by following ``parentUuid``
  back to the sidechain root). Sub-agents inlined in the main file (≤ v1.0.5x) and
  those in their own ``agent-<id>.jsonl`` (later versions; every line a sidechain line
  with the parent's ``sessionId``) are treated alike, so a sub-agent file never
  overwrites its session's conversation. The prompt the main
  agent wrote is role ``user`` with author ``main agent``; the title is ``Sub-agent:``
  plus the Task ``description`` (matched through the prompt) or the prompt's first
  line. ``extra`` = ``{"sidechain": true, "session": …, "agent_id"?, "tool_use_id"?}``.
  "Warmup" sub-agents (a one-word ``Warmup`` prompt) are skipped.
- **Duplicates**: a ``uuid`` seen before in the file counts once (resumed and forked
  sessions copy earlier lines), and a ``tool_use`` id or a text block already merged
  into its ``message.id`` is not added again. Message ids come from vendor ids
  (``uuid``, ``message.id``, ``toolu_…``), so a newer copy of a session file adds only its
  new messages. A resumed session's file is a conversation of its own (its own
  ``sessionId``) that repeats the copied messages: it is not merged into the older one,
  because the import service replaces a conversation's messages as a whole.
- **Bookkeeping** records (``file-history-snapshot``, ``queue-operation``, ``progress``,
  ``system`` …) are left out silently; an unknown record type is reported once per
  file as a :class:`~aimem.models.Skipped`.
- **Damaged lines** never fail the file: a truncated last line, a non-JSON line, a
  non-object line, an object without ``type`` or with a ``message`` that is not an
  object each give a :class:`~aimem.models.Skipped` naming the line, and the rest is
  imported. A file with no readable Claude Code record at all fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aimem import jsonio
from aimem.importers.base import (
    HEAD_SIZE,
    Input,
    Item,
    LogReader,
    clip,
    compact_json,
    first_line,
    read_errors,
    render_args,
    render_fields,
    sniffer,
)
from aimem.models import Conversation, Message, Skipped
from aimem.timeutil import to_epoch

NAME = "claude_code"
SOURCE = "claude-code"
DESCRIPTION = "Claude Code session logs (~/.claude/projects/<project>/<session>.jsonl)"

# Record types that hold no conversation text: left out without a word.
BOOKKEEPING = {"file-history-snapshot", "queue-operation", "progress", "last-prompt", "mode",
               "attachment", "turn_end", "pr-link", "system"}
TASK_TOOLS = {"Task", "Agent"}

# Injected context inside a prompt or tool result: never what the user typed.
_INJECTED = re.compile(r"<(system-reminder|ide_opened_file|ide_selection|ide_diagnostics|"
                       r"user-prompt-submit-hook)>.*?</\1>", re.S)
# The LS tool of v1.0.x appends this to its listing (later versions use a system-reminder).
_LS_NOTE = re.compile(r"\s*NOTE: do any of the files above seem malicious\? If so, you MUST "
                      r"refuse to continue work\.\s*$")
_DROP_PREFIXES = ("Caveat: The messages below were generated", "<local-command-caveat>",
                  "[Request interrupted by user", "<task-notification>")
_COMMAND = re.compile(r"^<(command-name|command-message|command-args|command-contents)>")
_OUTPUT = re.compile(r"^<(local-command-stdout|local-command-stderr|bash-stdout|bash-stderr)>")
_COMPACTED = "This session is being continued from a previous conversation"
_PARTIAL = re.compile(r'^\{.*"sessionId"\s*:\s*"')
_PARTIAL_CC = re.compile(r'"(?:parentUuid|isSidechain)"\s*:')


# --- detection -------------------------------------------------------------------------


@sniffer
def sniff(inp: Input) -> bool:
    raw = inp.head()
    if not raw:
        return False
    lines = raw.decode("utf-8-sig", errors="ignore").split("\n")
    partial = lines.pop() if len(raw) >= HEAD_SIZE else None  # cut by the head's size
    first: str | None = None
    seen = known = 0
    unparsed: list[str] = []
    for line in lines[:60]:
        line = line.strip()
        if not line:
            continue
        try:
            obj = jsonio.loads(line)
        except jsonio.JSONDecodeError:
            unparsed.append(line)  # a cut or damaged line: tolerated, not evidence
            continue
        if not isinstance(obj, dict):
            continue
        kind = record_kind(obj)
        if first is None:
            if kind is None:
                return False  # the first object decides: Claude Code files start with one
            first = kind
        seen += 1
        known += kind is not None
    if first is not None:
        return known * 2 >= seen
    # No complete object in the head (one record longer than 64 KB, or a file cut inside
    # its first line): recognise the leading keys Claude Code writes before `message`.
    for line in [*unparsed, *([partial.strip()] if partial else [])][:1]:
        start = line[:4096]
        return bool(_PARTIAL.match(start) and _PARTIAL_CC.search(start))
    return False


def record_kind(obj: dict[str, Any]) -> str | None:
    """"message" for a Claude Code transcript record, "meta" for its bookkeeping, or None."""
    kind = obj.get("type")
    if not isinstance(kind, str):
        return None
    if isinstance(obj.get("sessionId"), str) and (
            "uuid" in obj or "parentUuid" in obj or "isSidechain" in obj):
        return "message"
    if kind == "summary" and "leafUuid" in obj:
        return "meta"
    if kind == "file-history-snapshot" and "snapshot" in obj:
        return "meta"
    if (kind in BOOKKEEPING or kind == "custom-title") and isinstance(obj.get("sessionId"), str):
        return "meta"
    return None


# --- parsing ---------------------------------------------------------------------------


@dataclass
class _Turn:
    """An assistant API response being rebuilt from its lines."""

    message: Message
    parts: list[str] = field(default_factory=list)
    model: str | None = None


@dataclass
class _Group:
    """The messages of one conversation: the main chain or one sub-agent."""

    key: str | None  # None for the main chain, else the agent id or root uuid
    messages: list[Message] = field(default_factory=list)
    turns: dict[str, _Turn] = field(default_factory=dict)
    results: list[tuple[Message, str]] = field(default_factory=list)
    session: str | None = None
    agent: str | None = None
    cwd: str | None = None
    branch: str | None = None
    model: str | None = None
    prompt: str | None = None  # the first user text (a sub-agent's task)

    def note(self, obj: dict[str, Any]) -> None:
        sid = obj.get("sessionId")
        if isinstance(sid, str) and sid and self.session is None:
            self.session = sid
        for attr, key in (("cwd", "cwd"), ("branch", "gitBranch"), ("agent", "agentId")):
            value = obj.get(key)
            if getattr(self, attr) is None and isinstance(value, str) and value:
                setattr(self, attr, value)


class _Parser(LogReader):
    WHAT = "Claude Code"
    NOT_MINE = "not a Claude Code session log (no user, assistant or summary records)"

    def __init__(self, inp: Input):
        super().__init__(inp)
        self.main = _Group(None)
        self.sidechains: dict[str, _Group] = {}
        self.side_root: dict[str, str] = {}  # sidechain uuid -> its group key
        self.uuids: set[str] = set()
        self.order: dict[str, int] = {}  # uuid -> line number, for summary leaves
        self.tool_names: dict[str, str] = {}
        self.tool_ids: set[str] = set()
        self.result_ids: set[str] = set()
        self.task_prompts: dict[str, tuple[str, str | None]] = {}  # prompt -> (id, description)
        self.summaries: list[tuple[int, str, str]] = []  # (line, leafUuid, summary)
        self.custom_title: str | None = None
        self.session: str | None = None

    # -- lines --

    def run(self) -> Iterator[Item]:
        yield from self.read_lines()
        yield from self.finish()

    def line(self, obj: dict[str, Any], lineno: int, where: str) -> Iterator[Item]:
        kind = obj.get("type")
        if not isinstance(kind, str):
            yield Skipped(where, "a record without a type")
            return
        if record_kind(obj) is not None:
            self.known += 1
        sid = obj.get("sessionId")
        if isinstance(sid, str) and sid and obj.get("isSidechain") is not True:
            self.session = sid  # the last one wins: a resumed file appends under its own id
        if kind == "summary":
            leaf, text = obj.get("leafUuid"), obj.get("summary")
            if isinstance(leaf, str) and isinstance(text, str) and text.strip():
                self.summaries.append((lineno, leaf, text.strip()))
        elif kind == "custom-title":
            title = obj.get("customTitle")
            if isinstance(title, str) and title.strip():
                self.custom_title = title.strip()
        elif kind in ("user", "assistant"):
            yield from self.message_line(obj, kind, lineno, where)
        elif kind not in BOOKKEEPING:
            self.unknown[kind] += 1

    def message_line(self, obj: dict[str, Any], kind: str, lineno: int,
                     where: str) -> Iterator[Item]:
        uuid = obj.get("uuid") if isinstance(obj.get("uuid"), str) and obj["uuid"] else None
        if uuid is not None and uuid in self.uuids:
            return  # a copy (resumed or forked session): counted once
        msg = obj.get("message")
        if not isinstance(msg, dict):
            yield Skipped(where, "the message is not an object")
            return
        content = msg.get("content")
        if isinstance(content, str):
            blocks: list[dict[str, Any]] = [{"type": "text", "text": content}]
        elif isinstance(content, list):
            blocks = [b for b in content if isinstance(b, dict)]
            if content and not blocks:
                yield Skipped(where, "no readable content blocks")
                return
        else:
            yield Skipped(where, "the message has no content")
            return
        if uuid is not None:
            self.uuids.add(uuid)
            self.order.setdefault(uuid, lineno)
        group = self.group(obj, uuid, lineno)
        group.note(obj)
        ts = to_epoch(obj.get("timestamp"))
        if kind == "assistant":
            self.assistant(group, obj, msg, blocks, uuid or f"line-{lineno}", ts)
        elif obj.get("isMeta") is not True:
            self.user(group, obj, blocks, uuid or f"line-{lineno}", ts)

    def group(self, obj: dict[str, Any], uuid: str | None, lineno: int) -> _Group:
        if obj.get("isSidechain") is not True:
            return self.main
        agent = obj.get("agentId")
        parent = obj.get("parentUuid")
        if isinstance(agent, str) and agent:
            key = agent
        elif isinstance(parent, str) and parent in self.side_root:
            key = self.side_root[parent]
        else:
            key = uuid or f"line-{lineno}"  # a sidechain root
        if uuid is not None:
            self.side_root[uuid] = key
        if key not in self.sidechains:
            self.sidechains[key] = _Group(key)
        return self.sidechains[key]

    # -- user lines --

    def user(self, g: _Group, obj: dict[str, Any], blocks: list[dict[str, Any]], uid: str,
             ts: float | None) -> None:
        compact = obj.get("isCompactSummary") is True
        out: list[tuple[str, str | None, str]] = []  # (role, author, text)
        user_parts: list[str] = []

        def flush() -> None:
            if user_parts:
                out.append(("user", "main agent" if g.key is not None else None,
                            "\n\n".join(user_parts)))
                user_parts.clear()

        for b in blocks:
            kind = b.get("type")
            if kind == "tool_result":
                self.tool_result(g, b, uid, ts)
            elif kind == "text" and isinstance(b.get("text"), str):
                if compact:
                    text = b["text"].strip()
                    if text:
                        flush()
                        out.append(("system", "compact summary", text))
                    continue
                role, author, text = classify(b["text"])
                if role == "user":
                    user_parts.append(text)
                elif role == "system":
                    flush()
                    out.append((role, author, text))
            elif kind in ("image", "document"):
                user_parts.append(f"[{kind}]")
        flush()
        for i, (role, author, text) in enumerate(out):
            if role == "user" and g.prompt is None:
                g.prompt = text
            g.messages.append(Message(role=role, text=text, author=author, created_at=ts,
                                      source_id=uid if i == 0 else f"{uid}/{i}"))

    def tool_result(self, g: _Group, b: dict[str, Any], uid: str, ts: float | None) -> None:
        tid = b.get("tool_use_id") if isinstance(b.get("tool_use_id"), str) else None
        sid = f"{tid}/result" if tid else f"{uid}/result"
        if sid in self.result_ids:
            return
        self.result_ids.add(sid)
        error = b.get("is_error") is True
        text = _INJECTED.sub("", result_text(b.get("content")))
        text = _LS_NOTE.sub("", text).lstrip("\r\n").rstrip()
        if not text:
            if not error:
                return  # a quiet success: nothing to find or read
            text = "[error]"
        extra: dict[str, Any] = {"kind": "tool_result"}
        if tid:
            extra["tool_use_id"] = tid
        if error:
            extra["is_error"] = True
        m = Message(role="tool", text=clip(text), source_id=sid, author="tool", created_at=ts,
                    extra=extra)
        g.messages.append(m)
        g.results.append((m, tid or ""))

    # -- assistant lines --

    def assistant(self, g: _Group, obj: dict[str, Any], msg: dict[str, Any],
                  blocks: list[dict[str, Any]], uid: str, ts: float | None) -> None:
        mid = msg.get("id") if isinstance(msg.get("id"), str) and msg["id"] else uid
        model = msg.get("model") if isinstance(msg.get("model"), str) else None
        synthetic = model == "<synthetic>" or obj.get("isApiErrorMessage") is True
        turn = g.turns.get(mid)
        if turn is None:
            role, author = ("system", "Claude Code") if synthetic else ("assistant", None)
            turn = _Turn(Message(role=role, text="", source_id=mid, author=author, created_at=ts))
            g.turns[mid] = turn
            g.messages.append(turn.message)  # the answer goes where its first line was
        if model and not synthetic:
            turn.model = turn.model or model
            g.model = g.model or model
        for b in blocks:
            kind = b.get("type")
            if kind == "text" and isinstance(b.get("text"), str):
                text = b["text"].strip()
                if text and text not in turn.parts:
                    turn.parts.append(text)
            elif kind == "tool_use":
                self.tool_use(g, b, ts)
            # thinking, redacted_thinking: not visible text; unknown blocks: left out

    def tool_use(self, g: _Group, b: dict[str, Any], ts: float | None) -> None:
        tid = b.get("id") if isinstance(b.get("id"), str) and b["id"] else None
        name = b.get("name") if isinstance(b.get("name"), str) and b["name"] else "tool"
        if tid is not None:
            if tid in self.tool_ids:
                return
            self.tool_ids.add(tid)
            self.tool_names[tid] = name
        data = b.get("input")
        if name in TASK_TOOLS and isinstance(data, dict) and isinstance(data.get("prompt"), str):
            desc = data.get("description")
            self.task_prompts.setdefault(data["prompt"].strip(), (
                tid or "", desc.strip() if isinstance(desc, str) and desc.strip() else None))
        g.messages.append(Message(role="tool", text=render_input(name, data), source_id=tid,
                                  author=name, created_at=ts, extra={"kind": "tool_use"}))

    # -- conversations --

    def finish(self) -> Iterator[Item]:
        name = self.inp.name
        main = self.conversation(self.main)
        if main is not None:
            main.source_id = self.session or self.main.session
            main.title = self.custom_title or self.summary_title() or _command_title(main)
            yield main
        elif not self.sidechains:
            yield Skipped(name, "no messages (only meta or bookkeeping records)")
        for key, g in self.sidechains.items():
            session = g.session or self.session
            where = f"{name}: sub-agent {key}"
            if (g.prompt or "").strip() == "Warmup":
                yield Skipped(where, "a sub-agent warmup, not a conversation")
                continue
            conv = self.conversation(g)
            if conv is None:
                yield Skipped(where, "no messages")
                continue
            conv.source_id = f"{session}/sidechain/{key}" if session else None
            task = self.task_prompts.get((g.prompt or "").strip())
            extra: dict[str, Any] = {"sidechain": True, "session": session}
            if g.agent:
                extra["agent_id"] = g.agent
            if task and task[0]:
                extra["tool_use_id"] = task[0]
            conv.extra = {**(conv.extra or {}), **extra}
            label = task[1] if task and task[1] else first_line(g.prompt or "")
            conv.title = f"Sub-agent: {label}" if label else None
            if conv.project is None:
                conv.project = self.main.cwd
            yield conv
        yield from self.unknown_skipped()

    def conversation(self, g: _Group) -> Conversation | None:
        for turn in g.turns.values():
            turn.message.text = "\n\n".join(turn.parts)
            if turn.model and turn.model != g.model:
                turn.message.extra = {"model": turn.model}
        for m, tid in g.results:
            m.author = self.tool_names.get(tid, "tool")
        messages = [m for m in g.messages if m.text]
        if not messages:
            return None
        return Conversation(source=SOURCE, messages=messages, source_id=g.session,
                            model=g.model, project=g.cwd,
                            extra={"git_branch": g.branch} if g.branch else None)

    def summary_title(self) -> str | None:
        best: tuple[int, int] | None = None
        title = None
        for lineno, leaf, text in self.summaries:
            pos = self.order.get(leaf)
            if pos is None:
                continue  # a summary of another session's leaf
            if best is None or (pos, lineno) >= best:
                best, title = (pos, lineno), text
        return title


def _command_title(conv: Conversation) -> str | None:
    """A session without a typed prompt that starts with a slash command is titled by the
    command and its argument (``/review PR 42``); otherwise the first prompt is the title."""
    if any(m.role == "user" and m.text.strip() for m in conv.messages):
        return None
    for m in conv.messages:
        if m.role == "system" and m.author == "command" and m.text.startswith("/"):
            return first_line(m.text)
    return None


@read_errors
def parse(inp: Input) -> Iterator[Item]:
    yield from _Parser(inp).run()


# --- text ------------------------------------------------------------------------------


def classify(text: str) -> tuple[str | None, str | None, str]:
    """What a user text block is: ("user", None, prompt), ("system", author, text) or (None, …).

    None means injected or meta content that is left out.
    """
    s = _INJECTED.sub("", text).strip()
    if not s or s == "(no content)" or s.startswith(_DROP_PREFIXES):
        return None, None, ""
    if _COMMAND.match(s):
        name = _tag(s, "command-name") or _tag(s, "command-message")
        if not name:
            return None, None, ""
        name = name if name.startswith("/") else "/" + name
        args = _tag(s, "command-args")
        return "system", "command", f"{name} {args}" if args else name
    m = _OUTPUT.match(s)
    if m:
        inner = "\n".join(filter(None, (_tag(s, t) for t in (
            "local-command-stdout", "local-command-stderr", "bash-stdout", "bash-stderr"))))
        return ("system", "command output", clip(inner)) if inner else (None, None, "")
    if s.startswith("<bash-input>"):
        cmd = _tag(s, "bash-input")
        return ("system", "command", f"! {cmd}") if cmd else (None, None, "")
    if s.startswith("<user-memory-input>"):
        note = _tag(s, "user-memory-input")
        return ("system", "memory", note) if note else (None, None, "")
    if s.startswith(_COMPACTED):
        return "system", "compact summary", s
    return "user", None, s


def _tag(text: str, tag: str) -> str:
    m = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S)
    return m.group(1).strip() if m else ""


def result_text(content: Any) -> str:
    """The text of a tool_result's content: a string or a list of text/image blocks."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for b in content:
        if isinstance(b, str):
            parts.append(b)
        elif isinstance(b, dict):
            if b.get("type") == "text" and isinstance(b.get("text"), str):
                parts.append(b["text"])
            elif b.get("type") == "image":
                parts.append("[image]")
    return "\n".join(parts)


def render_input(name: str, data: Any) -> str:
    """A compact, readable rendering of a tool call's input."""
    if not isinstance(data, dict):
        return clip(render_args(name, data))
    cmd = data.get("command")
    if name == "Bash" and isinstance(cmd, str):
        desc = data.get("description")
        text = (f"# {desc.strip()}\n" if isinstance(desc, str) and desc.strip() else "") + \
            f"$ {cmd}"
    elif name == "TodoWrite" and isinstance(data.get("todos"), list):
        lines = []
        for t in data["todos"]:
            if isinstance(t, dict):
                lines.append(f"- [{t.get('status', '')}] {t.get('content', '')}".rstrip())
            else:
                lines.append(f"- {t if isinstance(t, str) else compact_json(t)}")
        text = "\n".join(lines)
    elif name in TASK_TOOLS and isinstance(data.get("prompt"), str):
        desc = data.get("description")
        text = (f"{desc.strip()}\n\n" if isinstance(desc, str) and desc.strip() else "") + \
            data["prompt"].strip()
    else:
        text = render_fields(data)
    return clip(text.strip()) or name

