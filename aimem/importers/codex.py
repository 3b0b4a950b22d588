"""Codex CLI rollouts: ``~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl``.

See ``docs/formats.md`` §6.1. A rollout is JSON Lines, appended to while the session
runs, so it is read line by line. Two layouts exist, often side by side in one folder:

- **Envelope** (Sep 2025 →): every line is ``{timestamp, type, payload}``. The first
  ``session_meta`` gives the session (``payload.id`` = the conversation's
  ``source_id``), ``payload.cwd`` (= ``project``) and ``originator`` / ``cli_version``
  / ``source`` / ``git`` (kept small in ``extra``). A later ``session_meta`` with
  another id (a fork's or resume's parent) is noted in ``extra.parent_session``.
  ``turn_context.payload.model`` is the model (the first one recorded).
- **Bare** (≤ early Sep 2025): line 1 is ``{id, timestamp, instructions, git}``, then
  bare items (``{"type": "message", …}``) and ``{"record_type": "state"}`` markers
  (skipped). There is no cwd: it is taken from the first ``<environment_context>``.

What becomes of each item (``response_item.payload`` or a bare item):

- ``message`` with role ``user``: the typed prompt, role ``user``. Injected context is
  never the user's words and is left out: ``<environment_context>`` (its ``<cwd>`` is
  read), ``# AGENTS.md instructions…``, ``<user_instructions>``, ``<INSTRUCTIONS>``,
  ``<turn_aborted>``; this is done per content part, so a prompt sent together with
  injected parts keeps its own text. ``<user_shell_command>`` (``!`` input) is kept as
  role ``system``, author ``command``. Images become ``[image]``.
- ``message`` with role ``assistant``: role ``assistant``. Role ``developer``
  (permission and sandbox instructions Codex writes) is left out.
- ``reasoning`` (``summary``, ``encrypted_content``): not visible text, left out.
- ``function_call`` / ``custom_tool_call`` / ``local_shell_call`` / ``web_search_call``:
  role ``tool``, author = the tool name, text = a compact rendering of the call
  (``$ command`` for shell tools, the patch for ``apply_patch``), ``source_id`` =
  ``call_id``, ``extra.kind = "tool_use"``. ``function_call_output`` /
  ``custom_tool_call_output``: role ``tool``, author = the name of its call,
  ``source_id`` = ``<call_id>/result``, ``extra.kind = "tool_result"``. Old outputs
  are a JSON string ``{"output", "metadata": {"exit_code"}}``: the output is unwrapped
  and a non-zero exit code kept in ``extra``. Both texts are cut to 4000 characters
  with a ``… [truncated: N more characters]`` marker. A call without output is fine.
- ``compacted``: role ``system``, author ``compact summary``.
- ``event_msg`` records duplicate the messages (``user_message``, ``agent_message``)
  or are bookkeeping (``token_count``, ``task_started`` …): left out, except that a
  file with no ``response_item`` message at all takes its prompts and answers from
  ``user_message`` / ``agent_message`` instead.

Messages carry no vendor id, so a message's ``source_id`` is its position: ``L<line
number>`` (the line it was read from). A rollout only ever grows, so a re-import of
the grown file keeps the ids of the old lines and adds only the new messages. Tool
messages use the vendor ``call_id``.

Damaged lines never fail the file: a truncated last line, a non-JSON line, a
non-object line each give a :class:`~aimem.models.Skipped`; an unknown record type
or item type is reported once per file. A file with no readable Codex record fails.
The older single-object ``rollout-*.json`` (``{session, items}``) is not read.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Iterator
from typing import Any

from aimem import jsonio
from aimem.importers.base import HEAD_SIZE, Input, Item
from aimem.importers.claude_code import clip
from aimem.models import Conversation, Message, Skipped
from aimem.timeutil import to_epoch

NAME = "codex"
SOURCE = "codex"
DESCRIPTION = "Codex CLI rollouts (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl)"

_BOM = b"\xef\xbb\xbf"
# Envelope record types that hold no conversation text of their own.
BOOKKEEPING = {"turn_context", "event_msg"}
# response_item payload types left out without a word.
QUIET_ITEMS = {"reasoning", "ghost_snapshot"}
TOOL_CALLS = {"function_call", "custom_tool_call", "local_shell_call", "web_search_call"}
TOOL_OUTPUTS = {"function_call_output", "custom_tool_call_output"}

_INJECTED_PREFIXES = ("<environment_context>", "# AGENTS.md instructions", "<user_instructions>",
                      "<INSTRUCTIONS>", "<turn_aborted>")
_CWD = re.compile(r"<cwd>(.*?)</cwd>", re.S)
_SHELL_INPUT = re.compile(r"^<user_shell_command>(.*?)(?:</user_shell_command>\s*)?$", re.S)
_PARTIAL_ENVELOPE = re.compile(r'^\{\s*"timestamp"\s*:\s*"[^"]*"\s*,\s*"type"\s*:\s*'
                               r'"session_meta"\s*,\s*"payload"\s*:\s*\{')
_PARTIAL_BARE = re.compile(r'^\{\s*"id"\s*:\s*"[^"]+"\s*,\s*"timestamp"\s*:\s*"[^"]*"\s*,\s*'
                           r'"instructions"\s*:')


# --- detection -------------------------------------------------------------------------


def sniff(inp: Input) -> bool:
    try:
        return _sniff(inp)
    except Exception:  # noqa: BLE001 - sniffing never raises
        return False


def is_envelope(obj: Any) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("type"), str)
            and "payload" in obj and isinstance(obj.get("timestamp"), str))


def is_bare_header(obj: Any) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("id"), str)
            and isinstance(obj.get("timestamp"), str) and "instructions" in obj
            and "type" not in obj and "payload" not in obj)


def _sniff(inp: Input) -> bool:
    raw = inp.head()
    if not raw:
        return False
    lines = raw.decode("utf-8-sig", errors="ignore").split("\n")
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


class _Parser:
    def __init__(self, inp: Input):
        self.inp = inp
        self.session: str | None = None
        self.parent: str | None = None
        self.started: float | None = None
        self.cwd: str | None = None
        self.model: str | None = None
        self.extra: dict[str, Any] = {}
        # (message, from an event_msg) in file order
        self.messages: list[tuple[Message, bool]] = []
        self.tool_names: dict[str, str] = {}
        self.results: list[tuple[Message, str]] = []
        self.response_messages = 0
        self.unknown: Counter[str] = Counter()
        self.known = 0
        self.lines = 0
        self.bad = 0

    def run(self) -> Iterator[Item]:
        with self.inp.open() as f:
            for lineno, raw in enumerate(f, 1):
                if lineno == 1 and raw.startswith(_BOM):
                    raw = raw[len(_BOM):]
                if not raw.strip():
                    continue
                self.lines += 1
                yield from self.line(raw, lineno)
        if not self.known:
            if not self.lines:
                raise self.inp.fail("empty file")
            if self.bad:
                raise self.inp.fail(f"no readable Codex record ({self.bad} of {self.lines} "
                                    "lines are not valid JSON)")
            raise self.inp.fail("not a Codex CLI rollout (no session_meta or session header)")
        yield from self.finish()

    def line(self, raw: bytes, lineno: int) -> Iterator[Item]:
        where = f"{self.inp.name}: line {lineno}"
        try:
            obj = jsonio.loads(raw)
        except jsonio.JSONDecodeError:
            self.bad += 1
            if not raw.endswith(b"\n"):
                yield Skipped(where, "truncated last line (the session may still have been "
                                     "writing it)")
            else:
                yield Skipped(where, "not valid JSON")
            return
        if not isinstance(obj, dict):
            yield Skipped(where, "not a JSON object")
            return
        if is_envelope(obj):
            yield from self.envelope(obj, lineno, where)
        elif is_bare_header(obj):
            self.meta(obj)
        elif "record_type" in obj:
            return  # {"record_type": "state"} markers of the bare layout
        elif isinstance(obj.get("type"), str):
            if self.known:  # a bare item: only after a session header
                yield from self.item(obj, None, lineno, where)
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
            git = p.get("git")
            if isinstance(git, dict):
                small = {k: git[k] for k in ("branch", "commit_hash", "repository_url")
                         if isinstance(git.get(k), str) and git[k]}
                if small:
                    self.extra["git"] = small
        elif sid and sid != self.session and self.parent is None:
            self.parent = sid
            self.extra["parent_session"] = sid
        cwd = p.get("cwd")
        if self.cwd is None and isinstance(cwd, str) and cwd:
            self.cwd = cwd

    def envelope(self, obj: dict[str, Any], lineno: int, where: str) -> Iterator[Item]:
        kind, p = obj["type"], obj["payload"]
        ts = to_epoch(obj.get("timestamp"))
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
            if self.model is None and isinstance(model, str) and model:
                self.model = model
            cwd = p.get("cwd")
            if self.cwd is None and isinstance(cwd, str) and cwd:
                self.cwd = cwd
        elif kind == "response_item":
            yield from self.item(p, ts, lineno, where)
        elif kind == "event_msg":
            self.event(p, ts, lineno)
        elif kind == "compacted":
            text = p.get("message")
            if isinstance(text, str) and text.strip():
                self.add(Message(role="system", text=text.strip(), source_id=f"L{lineno}",
                                 author="compact summary", created_at=ts))
        else:
            self.unknown[kind] += 1

    def add(self, m: Message, from_event: bool = False) -> None:
        self.messages.append((m, from_event))

    def event(self, p: dict[str, Any], ts: float | None, lineno: int) -> None:
        kind = p.get("type")
        text = p.get("message")
        if kind not in ("user_message", "agent_message") or not isinstance(text, str):
            return  # token_count, task_started, agent_reasoning …: bookkeeping
        if kind == "user_message":
            role, author, text = classify(text)
            if role is None:
                return
        else:
            role, author, text = "assistant", None, text.strip()
        if text:
            self.add(Message(role=role, text=text, source_id=f"L{lineno}", author=author,
                             created_at=ts), from_event=True)

    def item(self, p: dict[str, Any], ts: float | None, lineno: int,
             where: str) -> Iterator[Item]:
        kind = p.get("type")
        sid = f"L{lineno}"
        if kind == "message":
            self.response_messages += 1
            role = p.get("role")
            if role == "user":
                self.user(p.get("content"), ts, sid)
            elif role == "assistant":
                text = content_text(p.get("content"))
                if text:
                    self.add(Message(role="assistant", text=text, source_id=sid, created_at=ts))
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

    def user(self, content: Any, ts: float | None, sid: str) -> None:
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
        if system:
            self.add(Message(role="system", text="\n\n".join(system), source_id=f"{sid}/command",
                             author="command", created_at=ts))
        text = "\n\n".join(t for t in texts if t)
        if text:
            self.add(Message(role="user", text=text, source_id=sid, created_at=ts))

    def tool_call(self, p: dict[str, Any], kind: str, ts: float | None, sid: str) -> None:
        call_id = p.get("call_id") if isinstance(p.get("call_id"), str) and p["call_id"] else None
        if kind == "web_search_call":
            name = "web_search"
            action = p.get("action")
            query = action.get("query") if isinstance(action, dict) else None
            text = query if isinstance(query, str) and query else "web search"
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
        if call_id:
            self.tool_names[call_id] = name
        self.add(Message(role="tool", text=clip(text), source_id=call_id or sid, author=name,
                         created_at=ts, extra={"kind": "tool_use"}))

    def tool_output(self, p: dict[str, Any], ts: float | None, sid: str) -> None:
        call_id = p.get("call_id") if isinstance(p.get("call_id"), str) and p["call_id"] else None
        text, extra = output_text(p.get("output"))
        if not text.strip():
            return
        m = Message(role="tool", text=clip(text.strip()),
                    source_id=f"{call_id}/result" if call_id else sid, author="tool",
                    created_at=ts, extra={"kind": "tool_result", **extra})
        self.add(m)
        self.results.append((m, call_id or ""))

    def finish(self) -> Iterator[Item]:
        for m, call_id in self.results:
            m.author = self.tool_names.get(call_id, "tool")
        # event_msg prompts and answers duplicate response_item messages: one source only
        use_events = self.response_messages == 0
        messages = [m for m, ev in self.messages if use_events or not ev]
        if not messages:
            yield Skipped(self.inp.name, "no messages (only session metadata)")
        else:
            yield Conversation(source=SOURCE, messages=messages, source_id=self.session,
                               created_at=self.started, model=self.model, project=self.cwd,
                               extra=self.extra or None)
        for kind, n in sorted(self.unknown.items()):
            yield Skipped(self.inp.name, f"{n} record{'s' if n > 1 else ''} of unknown type "
                                         f"{kind!r} left out")


def parse(inp: Input) -> Iterator[Item]:
    try:
        yield from _Parser(inp).run()
    except (UnicodeDecodeError, OSError) as e:
        raise inp.fail(f"cannot read the file ({e})") from None


# --- text ------------------------------------------------------------------------------


def classify(text: str) -> tuple[str | None, str | None, str]:
    """What a user text part is: ("user", None, prompt), ("system", author, text) or None."""
    s = text.strip()
    if not s or s.startswith(_INJECTED_PREFIXES):
        return None, None, ""
    m = _SHELL_INPUT.match(s)
    if m:
        inner = m.group(1).strip()
        return ("system", "command", inner) if inner else (None, None, "")
    return "user", None, s


def content_text(content: Any) -> str:
    """The visible text of a message's content parts (input_text / output_text / images)."""
    if isinstance(content, str):
        return content.strip()
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            if isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif part.get("type") in ("input_image", "image"):
                parts.append("[image]")
    return "\n\n".join(p.strip() for p in parts if p.strip())


def render_command(cmd: Any) -> str:
    if isinstance(cmd, str):
        return f"$ {cmd}"
    if isinstance(cmd, list) and all(isinstance(c, str) for c in cmd) and cmd:
        if len(cmd) == 3 and cmd[0] in ("bash", "sh", "zsh", "/bin/bash", "/bin/sh") \
                and cmd[1] in ("-lc", "-c"):
            return f"$ {cmd[2]}"
        return f"$ {shlex.join(cmd)}"
    return ""


def render_call(name: str, data: Any) -> str:
    """A compact rendering of a function call's arguments (a JSON string, usually)."""
    if isinstance(data, str):
        try:
            parsed = jsonio.loads(data) if data.lstrip().startswith(("{", "[")) else data
        except jsonio.JSONDecodeError:
            parsed = data
    else:
        parsed = data
    if not isinstance(parsed, dict):
        text = parsed if isinstance(parsed, str) else ("" if parsed is None else _json(parsed))
        return text.strip() or name
    for key in ("command", "cmd"):
        shown = render_command(parsed.get(key))
        if shown:
            workdir = parsed.get("workdir")
            prefix = f"# in {workdir}\n" if isinstance(workdir, str) and workdir else ""
            return prefix + shown
    if name == "apply_patch" and isinstance(parsed.get("input"), str):
        return parsed["input"].strip() or name
    lines = []
    for key, value in parsed.items():
        if isinstance(value, str):
            lines.append(f"{key}:\n{value}" if "\n" in value else f"{key}: {value}")
        else:
            lines.append(f"{key}: {_json(value)}")
    return "\n".join(lines).strip() or name


def output_text(output: Any) -> tuple[str, dict[str, Any]]:
    """A tool output's text and small extras (exit code, error flag)."""
    extra: dict[str, Any] = {}
    if isinstance(output, str):
        s = output.strip()
        if s.startswith("{") and '"output"' in s:
            try:
                obj = jsonio.loads(s)
            except jsonio.JSONDecodeError:
                return output, extra
            if isinstance(obj, dict) and isinstance(obj.get("output"), str):
                meta = obj.get("metadata")
                code = meta.get("exit_code") if isinstance(meta, dict) else None
                if isinstance(code, int) and code != 0:
                    extra["exit_code"] = code
                return obj["output"], extra
        return output, extra
    if isinstance(output, dict):
        if output.get("success") is False:
            extra["is_error"] = True
        inner = output.get("content", output.get("output"))
        if inner is not None and inner is not output:
            text, more = output_text(inner)
            return text, {**more, **extra}
        return _json(output), extra
    if isinstance(output, list):
        parts = []
        for part in output:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") in ("input_image", "image"):
                    parts.append("[image]")
        return "\n".join(parts), extra
    return ("" if output is None else _json(output)), extra


def _json(value: Any) -> str:
    try:
        return jsonio.dumps_str(value)
    except TypeError:
        return str(value)
