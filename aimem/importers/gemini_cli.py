"""Gemini CLI sessions: ``~/.gemini/tmp/<projectHash>/chats/session-*.json[l]``.

See ``docs/formats.md`` §6.2. Two layouts:

- **Legacy** ``.json``: one ``ConversationRecord`` object ``{sessionId, projectHash,
  startTime, lastUpdated, messages[], summary?, directories?, kind?}``, rewritten as a
  whole; read in one go (a damaged one fails).
- **Current** ``.jsonl``: line 1 is that metadata without ``messages``, then
  append-only records, applied in order as Gemini CLI's own loader does
  (``chatRecordingService.ts``): a message record (it has an ``id``; a later record
  with the same ``id`` replaces the earlier one in place), ``{"$set": {…}}`` (metadata
  patch: ``lastUpdated``, ``summary`` …; a ``$set`` of ``messages``, written when the
  CLI rewrites its history, e.g. masking old tool output, replaces the whole list) and
  ``{"$rewindTo": "<id>"}`` (that message and everything after it are dropped). A
  ``$rewindTo`` naming no message drops nothing (Gemini CLI would clear the session;
  that only happens to damaged files) and is reported. Where Gemini CLI lets the last
  ``$set`` of ``messages`` win over messages appended after it, those are kept here.
  The messages a ``$rewindTo`` or a ``$set`` of ``messages`` removed are listed in
  ``Conversation.deleted``: the only deletions a re-import applies to a stored copy.
  A truncated last line, a non-JSON or non-object line give a
  :class:`~aimem.models.Skipped` and the rest is imported.

One conversation per session: ``source_id`` = the ``sessionId`` of the metadata (the
first line's, so the id never changes as the file grows), ``created_at`` =
``startTime``, ``updated_at`` = ``lastUpdated``, title = ``summary`` (else the service
takes the first prompt), ``model`` = the first ``gemini`` message's ``model`` (an answer
from another model says so in ``extra.model``); ``extra`` keeps ``project_hash`` and a
``kind`` other than ``main`` (sub-agent sessions). ``project``: ``projectHash`` is the
SHA-256 of the project root, so the root is the one of ``directories`` or of the
folders above the absolute paths in tool-call arguments whose hash matches; failing
that, the first of ``directories``; else none.

Messages (``source_id`` = the vendor ``id``):

- ``user`` → role ``user``; the text is ``displayContent`` when present (what the user
  typed; ``content`` may hold expanded ``@file`` contents), else ``content``
  (a string or a part list: text parts joined, ``inlineData`` → ``[attachment]``).
- ``gemini`` → role ``assistant`` with its text; ``thoughts`` are not visible text and
  are left out; an empty ``content`` gives no assistant message. Each of its
  ``toolCalls`` gives two role ``tool`` messages (author = the tool's ``name``): the
  call (``source_id`` = the call ``id``, text = a compact rendering of ``args``,
  ``extra.kind = "tool_use"``) and its result (``<id>/result``, the
  ``functionResponse`` output, ``extra.kind = "tool_result"``, ``extra.status`` when
  not ``success``); texts cut to 4000 characters with a marker.
- ``info`` / ``error`` / ``warning`` (CLI notices) are left out.
"""

from __future__ import annotations

import hashlib
import re
import reprlib
from collections.abc import Iterator
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from aimem import jsonio
from aimem.importers.base import (
    HEAD_SIZE,
    Input,
    Item,
    clip,
    compact_json,
    log_record,
    read_errors,
    render_args,
    sniffer,
)
from aimem.models import Conversation, Message, Skipped
from aimem.timeutil import to_epoch

NAME = "gemini_cli"
SOURCE = "gemini-cli"
DESCRIPTION = "Gemini CLI sessions (~/.gemini/tmp/<project>/chats/session-*.json[l])"

NOTICE_TYPES = {"info", "error", "warning"}
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
MAX_PATH_CANDIDATES = 2000
_HEAD_KEYS = re.compile(r'^\{\s*"(sessionId|projectHash)"\s*:\s*"[^"]*"\s*,\s*'
                        r'"(sessionId|projectHash)"\s*:')


# --- detection -------------------------------------------------------------------------


def is_metadata(obj: Any) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("sessionId"), str)
            and isinstance(obj.get("projectHash"), str)
            and not any(k in obj for k in ("type", "uuid", "payload", "parentUuid")))


@sniffer
def sniff(inp: Input) -> bool:
    raw = inp.head()
    text = raw.decode("utf-8-sig", errors="ignore").lstrip()
    if not text.startswith("{"):
        return False
    first = text.split("\n", 1)[0].strip()
    try:
        obj = jsonio.loads(first)
    except jsonio.JSONDecodeError:
        obj = None
    if obj is not None:  # JSONL (or a one-line legacy file)
        return is_metadata(obj)
    if len(raw) < HEAD_SIZE:  # the whole file: a pretty-printed legacy record
        try:
            obj = jsonio.loads(raw.decode("utf-8-sig", errors="ignore"))
        except jsonio.JSONDecodeError:
            obj = None
        if obj is not None:
            return is_metadata(obj) and isinstance(obj.get("messages"), list)
    # longer than the head, or damaged: Gemini CLI writes these two keys first
    start = re.sub(r"\s+", " ", text[:4096])
    return bool(_HEAD_KEYS.match(start))


# --- parsing ---------------------------------------------------------------------------


class _Session:
    def __init__(self, inp: Input):
        self.inp = inp
        self.meta: dict[str, Any] = {}
        self.records: dict[str, dict[str, Any]] = {}  # id -> message record, in order
        self.anonymous = 0
        # records the session itself deleted ($rewindTo, a $set of messages without them):
        # the only messages a re-import may drop from a stored copy
        self.deleted: dict[str, dict[str, Any]] = {}

    def message(self, rec: dict[str, Any]) -> None:
        mid = rec.get("id")
        if not isinstance(mid, str) or not mid:
            self.anonymous += 1
            mid = f"#{self.anonymous}"  # no id: kept in place, never replaced
        self.records[mid] = rec  # a known id keeps its place (dicts keep insertion order)
        self.deleted.pop(mid, None)

    def rewind(self, mid: Any) -> bool:
        """Drop message ``mid`` and everything after it; False when there is no such one."""
        if not isinstance(mid, str) or mid not in self.records:
            return False
        keys = list(self.records)
        for key in keys[keys.index(mid):]:
            self.deleted[key] = self.records.pop(key)
        return True

    def set_messages(self, messages: list[Any]) -> None:
        """A ``$set`` of the whole message list: it replaces what was there."""
        self.deleted.update(self.records)
        self.records.clear()
        for rec in messages:
            if isinstance(rec, dict):
                self.message(rec)

    def deleted_source_ids(self) -> list[str]:
        """The source ids of the messages the deleted records had given."""
        out: list[str] = []
        for mid, rec in self.deleted.items():
            if mid.startswith("#"):
                continue  # no id: nothing to match a stored message by
            out.append(mid)
            calls = rec.get("toolCalls")
            for call in calls if isinstance(calls, list) else []:
                if isinstance(call, dict) and isinstance(call.get("id"), str) and call["id"]:
                    out += [call["id"], f"{call['id']}/result"]
        return out

    def conversation(self) -> Iterator[Item]:
        meta = self.meta
        messages: list[Message] = []
        model: str | None = None
        for mid, rec in self.records.items():
            sid = None if mid.startswith("#") else mid
            kind = rec.get("type")
            ts = to_epoch(rec.get("timestamp"))
            if kind == "user":
                shown = rec.get("displayContent")
                text = part_text(shown) if shown not in (None, "", []) else ""
                text = text or part_text(rec.get("content"))
                if text:
                    messages.append(Message(role="user", text=text, source_id=sid, created_at=ts))
            elif kind == "gemini":
                used = rec.get("model") if isinstance(rec.get("model"), str) else None
                model = model or used or None
                text = part_text(rec.get("content"))
                if text:
                    messages.append(Message(role="assistant", text=text, source_id=sid,
                                            created_at=ts, extra={"model": used}
                                            if used and used != model else None))
                calls = rec.get("toolCalls")
                for call in calls if isinstance(calls, list) else []:
                    if isinstance(call, dict):
                        messages.extend(tool_messages(call, ts))
            # info / error / warning notices and unknown types: left out
        name = self.inp.name
        if not messages:
            yield Skipped(name, "no messages")
            return
        extra: dict[str, Any] = {}
        if isinstance(meta.get("projectHash"), str):
            extra["project_hash"] = meta["projectHash"]
        if isinstance(meta.get("kind"), str) and meta["kind"] != "main":
            extra["kind"] = meta["kind"]
        project = project_root(meta, self.records.values())
        summary = meta.get("summary")
        title = summary.strip() if isinstance(summary, str) and summary.strip() else None
        sid = meta.get("sessionId") if isinstance(meta.get("sessionId"), str) else None
        yield Conversation(source=SOURCE, messages=messages, source_id=sid or None, title=title,
                           created_at=to_epoch(meta.get("startTime")),
                           updated_at=to_epoch(meta.get("lastUpdated")), model=model,
                           project=project, extra=extra or None,
                           deleted=self.deleted_source_ids())


@read_errors
def parse(inp: Input) -> Iterator[Item]:
    with inp.open() as f:
        data = f.read()
    if not data.strip():
        raise inp.fail("empty file")
    first, _, _rest = data.lstrip().partition(b"\n")
    try:
        whole = jsonio.loads(data)
    except jsonio.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("messages"), list):
        yield from _legacy(inp, whole)
        return
    try:
        head = jsonio.loads(first)
    except jsonio.JSONDecodeError:
        head = None
    if not is_metadata(head):
        if whole is None and head is None:
            raise inp.fail("not valid JSON (a truncated or damaged session file)")
        raise inp.fail("not a Gemini CLI session (no sessionId / projectHash metadata)")
    yield from _jsonl(inp, data)


def _legacy(inp: Input, obj: dict[str, Any]) -> Iterator[Item]:
    if not is_metadata(obj):
        raise inp.fail("not a Gemini CLI session (no sessionId / projectHash metadata)")
    s = _Session(inp)
    s.meta = {k: v for k, v in obj.items() if k != "messages"}
    for i, rec in enumerate(obj["messages"]):
        if isinstance(rec, dict):
            s.message(rec)
        else:
            yield Skipped(f"{inp.name}: message {i}", "not a JSON object")
    yield from s.conversation()


def _jsonl(inp: Input, data: bytes) -> Iterator[Item]:
    s = _Session(inp)
    started = False
    for lineno, raw in enumerate(data.splitlines(keepends=True), 1):
        if not raw.strip():
            continue
        where = f"{inp.name}: line {lineno}"
        obj = log_record(raw, where)
        if isinstance(obj, Skipped):
            yield obj
            continue
        if not started:
            s.meta = {k: v for k, v in obj.items() if k != "messages"}
            if isinstance(obj.get("messages"), list):
                s.set_messages(obj["messages"])
            started = True
        elif "$set" in obj:
            patch = obj["$set"]
            if isinstance(patch, dict):
                if isinstance(patch.get("messages"), list):
                    s.set_messages(patch["messages"])
                # the first line's sessionId stays the conversation's id
                s.meta.update({k: v for k, v in patch.items()
                               if k not in ("messages", "sessionId")})
            else:
                yield Skipped(where, "a $set that is not an object")
        elif "$rewindTo" in obj:
            if not s.rewind(obj["$rewindTo"]):
                yield Skipped(where, f"a $rewindTo to an unknown message "
                                     f"{reprlib.repr(obj['$rewindTo'])} (nothing dropped)")
        elif isinstance(obj.get("type"), str):
            s.message(obj)
        else:
            yield Skipped(where, "a record without a type")
    yield from s.conversation()


# --- text ------------------------------------------------------------------------------


def part_text(content: Any) -> str:
    """The text of a ``PartListUnion``: a string, a part, or a list of them."""
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for p in content:
        if isinstance(p, str):
            parts.append(p)
        elif isinstance(p, dict):
            if isinstance(p.get("text"), str) and not p.get("thought"):
                parts.append(p["text"])
            elif "inlineData" in p or "fileData" in p:
                parts.append("[attachment]")
            # functionCall / functionResponse parts: carried by toolCalls
    return "\n".join(x.strip() for x in parts if x.strip())


def project_root(meta: dict[str, Any], records: Any) -> str | None:
    """The project folder: the candidate whose SHA-256 is ``projectHash``, else a guess."""
    dirs = meta.get("directories")
    dirs = [d for d in dirs if isinstance(d, str) and d] if isinstance(dirs, list) else []
    wanted = meta.get("projectHash")
    if isinstance(wanted, str) and len(wanted) == 64:
        wanted = wanted.lower()
        seen: set[str] = set()
        for candidate in _candidates(dirs, records):
            if candidate in seen:
                continue
            seen.add(candidate)
            if hashlib.sha256(candidate.encode("utf-8", "surrogatepass")).hexdigest() == wanted:
                return candidate
            if len(seen) >= MAX_PATH_CANDIDATES:
                break
    return dirs[0] if dirs else None


def _candidates(dirs: list[str], records: Any) -> Iterator[str]:
    yield from dirs
    for rec in records:
        calls = rec.get("toolCalls") if isinstance(rec, dict) else None
        for call in calls if isinstance(calls, list) else []:
            args = call.get("args") if isinstance(call, dict) else None
            values = list(args.values()) if isinstance(args, dict) else []
            for value in values:
                for path in value if isinstance(value, list) else [value]:
                    if not isinstance(path, str) or len(path) > 4096:
                        continue
                    if path.startswith("/"):
                        p: PurePosixPath | PureWindowsPath = PurePosixPath(path)
                    elif _WINDOWS_PATH.match(path):
                        p = PureWindowsPath(path)
                    else:
                        continue
                    yield str(p)
                    yield from (str(parent) for parent in p.parents)


def tool_messages(call: dict[str, Any], ts: float | None) -> list[Message]:
    cid = call.get("id") if isinstance(call.get("id"), str) and call["id"] else None
    name = call.get("name") if isinstance(call.get("name"), str) and call["name"] else "tool"
    when = to_epoch(call.get("timestamp")) or ts
    out = [Message(role="tool", text=clip(render_tool_args(name, call.get("args"))), source_id=cid,
                   author=name, created_at=when, extra={"kind": "tool_use"})]
    text = result_text(call.get("result"))
    if not text:
        display = call.get("resultDisplay")
        text = display.strip() if isinstance(display, str) else ""
    if text:
        extra: dict[str, Any] = {"kind": "tool_result"}
        status = call.get("status")
        if isinstance(status, str) and status != "success":
            extra["status"] = status
        out.append(Message(role="tool", text=clip(text), source_id=f"{cid}/result" if cid
                           else None, author=name, created_at=when, extra=extra))
    return out


def render_tool_args(name: str, args: Any) -> str:
    if isinstance(args, dict) and isinstance(args.get("command"), str):
        return f"$ {args['command']}"
    return render_args(name, args)


def result_text(result: Any) -> str:
    """The output of a tool call's result (a part list holding ``functionResponse``)."""
    if isinstance(result, str):
        return result.strip()
    if isinstance(result, dict):
        result = [result]
    if not isinstance(result, list):
        return ""
    parts: list[str] = []
    for p in result:
        if not isinstance(p, dict):
            continue
        fr = p.get("functionResponse")
        if isinstance(fr, dict):
            resp = fr.get("response")
            if isinstance(resp, dict):
                for key in ("output", "error", "content"):
                    if isinstance(resp.get(key), str):
                        parts.append(resp[key])
                        break
                else:
                    parts.append(compact_json(resp))
            elif isinstance(resp, str):
                parts.append(resp)
        elif isinstance(p.get("text"), str):
            parts.append(p["text"])
    return "\n".join(x.strip() for x in parts if x.strip())

