"""``llm``'s logs.db (Simon Willison's llm CLI), both schema generations, read-only.

See ``docs/formats.md`` §5 and ``docs/llm.md`` §9. The file is opened with plain
``sqlite3`` as ``file:…?mode=ro``: llm's own ``LogStore`` is never used (its constructor
runs migrations, which are writes) and the ``llm`` package is never imported. The user's
llm may be writing while we read, so everything is read in one short read transaction
and the connection is closed before the first conversation is handed on. (A database in
WAL mode gets empty ``-wal``/``-shm`` files from SQLite on a read-only open when none
exist; the database file itself is never written.)

Two generations, often in one file:

- legacy (llm < 0.32): one ``responses`` row per prompt/response pair, grouped by
  ``conversation_id``; fragments in ``prompt_fragments``/``system_fragments``; tool
  traffic in ``tool_calls``/``tool_results``; attachments in ``prompt_attachments``.
- content-addressed (llm >= 0.32): ``threads`` (= conversations, same ids), ``turns``
  (one per call, like a responses row), and a tree of ``messages`` with ``parts``
  (text, reasoning, tool_call, tool_result, attachment). A turn's own input is the
  trailing run of user/tool messages before ``parent_message_hash``; its output is the
  chain from ``tip_message_hash`` back to the parent (exclusive). This is how ``llm
  logs`` itself splits them.

Every exchange (row or turn) becomes, in order: the system prompt (only when it differs
from the one before in the conversation), tool results it was given (role ``tool``),
the user's prompt with its fragments resolved (``"\\n".join(fragments + [prompt])``,
which is what llm sent) and attachments as ``[attachment: …]`` lines, the assistant's
text, and the tool calls it made (role ``tool``, text ``name({arguments})``). Reasoning
is left out, like the hidden thoughts of other vendors. Message source ids are
``<exchange id>/system``, ``/prompt``, ``/response``, ``/tool_call/<n>`` and
``/tool_result/<n>``; conversation source ids are llm's conversation (thread) ids, so a
logs.db that gained exchanges adds only those on the next import.

Not imported: pre-0.4 ``log``/``logs`` tables (reported as skipped), messages a turn
received as history without a turn of their own (a fork's shared prefix, a client that
sends a whole transcript; ``llm logs`` does not show them as prompts either).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aimem import jsonio
from aimem.importers.base import Input, Item, sniffer
from aimem.importers.llm_logs_db import (
    FRAGMENT_LIMIT,  # noqa: F401 - part of the module's API
    SQLITE_HEADER,
    Db,
    NotLlm,
    on_disk,
    probe,
    read_snapshot,
)
from aimem.models import Conversation, Message, Skipped
from aimem.timeutil import to_epoch

NAME = "llm_logs"
SOURCE = "llm"
DESCRIPTION = "llm's logs.db (SQLite, read-only; legacy responses and llm >= 0.32 turns)"

# -- detection ---------------------------------------------------------------------------


@sniffer
def sniff(inp: Input) -> bool:
    if inp.head(len(SQLITE_HEADER)) != SQLITE_HEADER:
        return False
    with on_disk(inp, counted=False) as path:
        return probe(path)


# -- building conversations --------------------------------------------------------------


@dataclass(slots=True)
class _Exchange:
    """One legacy response row or one turn: what was sent and what came back."""

    id: str
    model: str | None
    system: str | None
    messages: list[Message]


@dataclass(slots=True)
class _Conv:
    id: str
    title: str | None = None
    model: str | None = None
    extra: dict[str, Any] | None = None
    exchanges: list[_Exchange] = field(default_factory=list)


class _Builder:
    def __init__(self, db: Db, inp: Input):
        self.db = db
        self.inp = inp
        self.convs: dict[str, _Conv] = {}
        self.skipped: list[Skipped] = []
        self._roots: dict[str, str] = {}

    def conv(self, cid: str) -> _Conv:
        c = self.convs.get(cid)
        if c is None:
            c = self.convs[cid] = _Conv(cid)
        return c

    # legacy rows

    def legacy(self, turn_ids: set[str]) -> None:
        db = self.db
        for cid, row in db.conversations.items():
            c = self.conv(cid)
            c.title, c.model = _clean(row["name"]), row["model"]
        for r in db.responses:
            if r["id"] in turn_ids:
                continue  # written by both generations (llm 0.32+ dual-write): the turn wins
            rid = r["id"]
            sent = _when(r["datetime_utc"])
            got = _after(sent, r["duration_ms"])
            system = _combine_system([db.fragments.get(f, "") for f in
                                      db.system_fragments.get(rid, [])], r["system"])
            msgs: list[Message] = []
            for n, t in enumerate(db.tool_results.get(rid, []), 1):
                labels = [db.attachments[a] for a in db.result_attachments.get(t["id"], [])
                          if a in db.attachments]
                msgs.append(_tool_result(f"{rid}/tool_result/{n}", t["name"], t["output"],
                                         t["tool_call_id"], t["exception"], labels, sent))
            prompt = "\n".join([db.fragments.get(f, "") for f in
                                db.prompt_fragments.get(rid, [])] + [r["prompt"] or ""])
            labels = [db.attachments[a] for a in db.prompt_attachments.get(rid, [])
                      if a in db.attachments]
            _add(msgs, "user", _with_labels(prompt, labels), f"{rid}/prompt", sent)
            _add(msgs, "assistant", r["response"] or "", f"{rid}/response", got,
                 _model_extra(r["model"], r["resolved_model"]))
            for n, t in enumerate(db.tool_calls.get(rid, []), 1):
                msgs.append(_tool_call(f"{rid}/tool_call/{n}", t["name"],
                                       _json_or_text(t["arguments"]), t["tool_call_id"], got))
            self.conv(r["conversation_id"] or rid).exchanges.append(
                _Exchange(rid, r["model"], system, msgs))

    # content-addressed turns

    def threads(self) -> None:
        db = self.db
        for tid, row in db.threads.items():
            c = self.conv(tid)
            c.title = c.title or _clean(row["name"])
            if row["forked_from"]:
                c.extra = {"forked_from": row["forked_from"]}
        for t in db.turns:
            try:
                self._turn(t)
            except KeyError as e:  # a hash that is not in messages: a damaged chain
                self.skipped.append(Skipped(f"{self.inp.name}: turn {t['id']}",
                                            f"message {e.args[0]} is missing"))

    def _turn(self, t: sqlite3.Row) -> None:
        db = self.db
        xid = t["id"]
        sent = _when(t["datetime_utc"])
        got = _after(sent, t["duration_ms"])
        parent, tip = t["parent_message_hash"], t["tip_message_hash"]
        outputs: list[str] = []
        h = tip
        while h and h != parent and len(outputs) < 10_000:
            outputs.append(h)
            h = db.messages[h][0]
        outputs.reverse()
        inputs: list[str] = []  # the turn's own input: the trailing run of user/tool messages
        h = parent
        while h and db.messages[h][1] in ("user", "tool") and len(inputs) < 10_000:
            inputs.append(h)
            h = db.messages[h][0]
        inputs.reverse()
        system = None
        if parent:
            root = self._root(parent)
            if db.messages[root][1] == "system":
                system = self._text(root) or None
        msgs: list[Message] = []
        n = _Counter(xid)
        for mh in inputs:
            self._message(mh, msgs, n, sent, None)
        extra = _model_extra(t["model"], t["resolved_model"])
        for mh in outputs:
            self._message(mh, msgs, n, got, extra)
        self.conv(t["thread_id"] or xid).exchanges.append(
            _Exchange(xid, t["model"], system, msgs))

    def _message(self, mh: str, msgs: list[Message], n: _Counter, when: float | None,
                 extra: dict[str, Any] | None) -> None:
        """The aimem messages of one stored message, its parts kept in order."""
        role = self.db.messages[mh][1]
        texts: list[str] = []
        labels: list[str] = []

        def flush() -> None:
            text = _with_labels("".join(texts), labels)
            texts.clear()
            labels.clear()
            if role == "user":
                _add(msgs, "user", text, n.next("prompt"), when)
            elif role == "assistant":
                _add(msgs, "assistant", text, n.next("response"), when, extra)
            elif role in ("tool", "system"):
                _add(msgs, role, text, n.next(f"{role}_text"), when)

        for p in self.db.parts.get(mh, []):
            kind = p["type"]
            payload = _payload(p["payload"])
            if kind == "text":
                texts.append(self._part_text(p, payload))
            elif kind == "attachment":
                ref = payload.get("attachment")
                ref_id = ref.get("id") if isinstance(ref, dict) else None
                labels.append(self.db.attachments.get(ref_id, "[attachment]"))
            elif kind == "tool_call":
                if texts or labels:
                    flush()
                msgs.append(_tool_call(n.next("tool_call"), p["tool_name"] or payload.get("name"),
                                       payload.get("arguments"), payload.get("tool_call_id"),
                                       when, bool(payload.get("server_executed"))))
            elif kind == "tool_result":
                if texts or labels:
                    flush()
                refs = payload.get("attachments")
                res_labels = [self.db.attachments.get(a.get("id"), "[attachment]")
                              for a in (refs if isinstance(refs, list) else [])
                              if isinstance(a, dict)]
                msgs.append(_tool_result(n.next("tool_result"),
                                         p["tool_name"] or payload.get("name"),
                                         payload.get("output"), payload.get("tool_call_id"),
                                         payload.get("exception"), res_labels, when,
                                         bool(payload.get("server_executed"))))
            elif kind != "reasoning":  # reasoning is hidden; anything else is new to us
                self.skipped.append(Skipped(f"{self.inp.name}: message {mh}",
                                            f"unknown part type {kind!r}"))
        flush()

    def _part_text(self, p: sqlite3.Row, payload: dict[str, Any]) -> str:
        if p["text"] is not None:
            return str(p["text"])
        if isinstance(payload.get("text"), str):
            return payload["text"]
        pieces = payload.get("text_ref")
        if not isinstance(pieces, list):
            return ""
        out = []
        for piece in pieces:
            if not isinstance(piece, dict):
                continue
            if isinstance(piece.get("literal"), str):
                out.append(piece["literal"])
            elif "fragment" in piece:
                out.append(self.db.fragments.get(piece["fragment"], ""))
        return "".join(out)

    def _text(self, mh: str) -> str:
        return "".join(self._part_text(p, _payload(p["payload"]))
                       for p in self.db.parts.get(mh, []) if p["type"] == "text")

    def _root(self, h: str) -> str:
        """The first message of the chain through ``h`` (memoised: chains share ancestors)."""
        path: list[str] = []
        seen: set[str] = set()
        cur = h
        while cur not in self._roots:
            parent = self.db.messages[cur][0]
            path.append(cur)
            seen.add(cur)
            if not parent or parent in seen:
                self._roots[cur] = cur
                break
            cur = parent
        root = self._roots[cur]
        for x in path:
            self._roots[x] = root
        return root

    # output

    def conversations(self) -> Iterator[Item]:
        yield from self.skipped
        order = sorted(self.convs.values(),
                       key=lambda c: min((str(x.id).lower() for x in c.exchanges),
                                         default=str(c.id)))  # a damaged id may be NULL
        for c in order:
            where = f"{self.inp.name}: conversation {c.id}"
            if not c.exchanges:
                yield Skipped(where, "no exchanges in it")
                continue
            c.exchanges.sort(key=lambda x: str(x.id).lower())
            model = c.model or next((x.model for x in c.exchanges if x.model), None)
            messages: list[Message] = []
            last_system: str | None = None
            for x in c.exchanges:
                if x.system and x.system != last_system:
                    first = x.messages[0].created_at if x.messages else None
                    messages.append(Message(role="system", text=x.system,
                                            source_id=f"{x.id}/system", created_at=first))
                    last_system = x.system
                for m in x.messages:
                    if m.extra and m.extra.get("model") == model:
                        m.extra.pop("model")
                        m.extra = m.extra or None
                    messages.append(m)
            if not any(m.role != "system" for m in messages):
                yield Skipped(where, "no messages (empty prompts and responses)")
                continue
            yield Conversation(source=SOURCE, messages=messages, source_id=c.id,
                               title=c.title, model=model, extra=c.extra)


class _Counter:
    """Source ids for the messages of one exchange: prompt, response, tool_call/1, …"""

    def __init__(self, xid: str):
        self.xid = xid
        self.seen: dict[str, int] = {}

    def next(self, kind: str) -> str:
        n = self.seen[kind] = self.seen.get(kind, 0) + 1
        if kind in ("prompt", "response"):
            return f"{self.xid}/{kind}" + (f"/{n}" if n > 1 else "")
        return f"{self.xid}/{kind}/{n}"


def _add(msgs: list[Message], role: str, text: str, sid: str, when: float | None,
         extra: dict[str, Any] | None = None) -> None:
    if text.strip():
        msgs.append(Message(role=role, text=text, source_id=sid, created_at=when,
                            extra=dict(extra) if extra else None))


def _tool_call(sid: str, name: Any, arguments: Any, call_id: Any, when: float | None,
               server: bool = False) -> Message:
    args = arguments if isinstance(arguments, str) else jsonio.dumps_str(
        arguments if arguments is not None else {})
    extra: dict[str, Any] = {"tool_call": True}
    if call_id:
        extra["tool_call_id"] = str(call_id)
    if server:
        extra["server_executed"] = True
    name = str(name or "tool")
    return Message(role="tool", text=f"{name}({args})", source_id=sid, author=name,
                   created_at=when, extra=extra)


def _tool_result(sid: str, name: Any, output: Any, call_id: Any, exception: Any,
                 labels: list[str], when: float | None, server: bool = False) -> Message:
    text = output if isinstance(output, str) else ("" if output is None
                                                  else jsonio.dumps_str(output))
    if not text.strip() and exception:
        text = str(exception)
    extra: dict[str, Any] = {"tool_result": True}
    if call_id:
        extra["tool_call_id"] = str(call_id)
    if exception:
        extra["exception"] = str(exception)
    if server:
        extra["server_executed"] = True
    return Message(role="tool", text=_with_labels(text, labels) or "(no output)",
                   source_id=sid, author=str(name or "tool"), created_at=when, extra=extra)


def _with_labels(text: str, labels: list[str]) -> str:
    return "\n".join([text, *labels]) if text.strip() else "\n".join(labels)


def _combine_system(fragments: list[str], system: str | None) -> str | None:
    """llm's own rule: system fragments, then the system prompt, stripped, blank-line joined."""
    bits = [b.strip() for b in [*fragments, system or ""] if b and b.strip()]
    return "\n\n".join(bits) or None


def _model_extra(model: Any, resolved: Any) -> dict[str, Any] | None:
    extra: dict[str, Any] = {}
    if model:
        extra["model"] = model  # dropped again where it is the conversation's model
    if resolved and resolved != model:
        extra["resolved_model"] = resolved
    return extra or None


def _json_or_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return jsonio.loads(value)
    except jsonio.JSONDecodeError:
        return value


def _payload(value: Any) -> dict[str, Any]:
    if not value:
        return {}
    try:
        obj = jsonio.loads(value)
    except (jsonio.JSONDecodeError, TypeError):
        return {}
    return obj if isinstance(obj, dict) else {}


def _when(value: Any) -> float | None:
    return to_epoch(value) if isinstance(value, str) else None


def _after(start: float | None, duration_ms: Any) -> float | None:
    if start is None or isinstance(duration_ms, bool) or not isinstance(duration_ms, int | float):
        return start
    return start + max(duration_ms, 0) / 1000.0


def _clean(name: Any) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    return name.strip()


# -- the importer ------------------------------------------------------------------------


def parse(inp: Input) -> Iterator[Item]:
    if inp.head(len(SQLITE_HEADER)) != SQLITE_HEADER:
        raise inp.fail("not an SQLite database (an llm logs.db starts with 'SQLite format 3')")
    try:
        with on_disk(inp, counted=True) as path:
            db = read_snapshot(path)
    except NotLlm:
        raise inp.fail("an SQLite database, but not llm's logs.db (no _llm_migrations "
                       "table)") from None
    except (sqlite3.Error, UnicodeDecodeError) as e:  # SQLite's message may quote bad bytes
        raise inp.fail(f"cannot read it as an llm logs.db ({' '.join(str(e).split())})") \
            from None
    except OSError as e:
        raise inp.fail(f"cannot copy it to a temporary file to read it ({e})") from None
    if db.old_log_rows:
        yield Skipped(inp.name, f"{db.old_log_rows} rows in the pre-0.4 llm 'logs' table are "
                      "not supported")
    builder = _Builder(db, inp)
    turn_ids = {t["id"] for t in db.turns}
    builder.legacy(turn_ids)
    builder.threads()
    yield from builder.conversations()
