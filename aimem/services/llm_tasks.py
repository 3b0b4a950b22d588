"""Summaries, automatic tags, distilled memories and the profile paragraph, through llm.

The batch logic lives here; every model call goes through :mod:`aimem.llm_bridge` (the
only module that imports llm). A batch picks the conversations that need the task
(no summary yet, or a summary of content that changed since; no automatic tags; no
memory distilled since the last import), works through them oldest first and stores
each one in its own transaction as soon as it is done, so:

- a model error on one conversation is recorded in the report and the batch goes on;
- no model, no key or an unreachable provider stops the batch (:class:`BatchStopped`,
  with the report of what was done before it: that is kept);
- Ctrl-C stops it too (:class:`BatchInterrupted`); what was done is kept, and the item
  being stored when the signal came is finished first (a store is never half-written).

Long conversations are cut into parts that fit the model's context (the estimate of
:mod:`aimem.services.tokens`, which errs high): summaries are map-reduce (each part
summarised, then the part summaries combined), distillation reads every part, tags read
the stored summary plus as much of the conversation as fits.

Models with schema support get a JSON schema; the others are asked for JSON and their
reply is parsed leniently (code fences, text around the JSON, a bare list).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aimem.errors import AimemError, ExitCode
from aimem.llm_bridge import Model, ModelCallFailed, ModelUnavailable
from aimem.models import Conversation, Filters, memory_hash
from aimem.services import memories
from aimem.services.llm_prompts import (
    DISTILL_SCHEMA,
    DISTILL_SYSTEM,
    EXAMPLES,
    JSON_ONLY,
    MERGE_SYSTEM,
    PART_SYSTEM,
    PROFILE_SYSTEM,
    SUMMARY_SCHEMA,
    SUMMARY_SYSTEM,
    SUMMARY_TITLE_SCHEMA,
    TAGS_SCHEMA,
    TITLE_TOO,
    _budget,
    _clean_title,
    _distill_prompts,
    _plain,
    _summary_parts,
    _tag_prompt,
    _title_missing,
    chunks,
    parse_json,
    parse_memories,
    parse_tags,
)
from aimem.services.tokens import estimate
from aimem.store.db import Store
from aimem.timeutil import iso

# progress(done, total, what is being worked on now)
Progress = Callable[[int, int, str], None]
PART_REPLY_TOKENS = 250  # what a part summary takes, for --dry-run estimates
MAX_EXISTING_TAGS = 300


# -- reports and errors ---------------------------------------------------------------

@dataclass
class BatchReport:
    task: str
    model: str | None
    dry_run: bool = False
    candidates: int = 0  # conversations the batch set out to do
    up_to_date: int = 0  # matched the filters but did not need it (without --force)
    items: list[dict[str, Any]] = field(default_factory=list)  # done (or planned, dry run)
    failed: list[dict[str, Any]] = field(default_factory=list)  # {"id", "title", "error"}
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    unreported_usage: int = 0  # calls whose model reported no token counts
    estimated_tokens: int = 0  # dry run: what would be sent
    interrupted: bool = False
    stopped: str | None = None  # why the batch stopped early (no model, no key…)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "model": self.model, "dry_run": self.dry_run,
                "candidates": self.candidates, "done": len(self.items),
                "up_to_date": self.up_to_date, "failed": self.failed, "items": self.items,
                "usage": {"calls": self.calls, "input_tokens": self.input_tokens,
                          "output_tokens": self.output_tokens,
                          "calls_without_usage": self.unreported_usage},
                "estimated_tokens": self.estimated_tokens, "interrupted": self.interrupted,
                "stopped": self.stopped}


class BatchStopped(AimemError):
    """The batch could not go on; ``report`` (a dict) says what was done (and kept)."""

    def __init__(self, message: str, report: BatchReport):
        super().__init__(message)
        self.report = report.to_dict()


class BatchInterrupted(BatchStopped):
    exit_code = ExitCode.INTERRUPTED


# -- model calls ------------------------------------------------------------------------

class _Session:
    """The model plus the report its token usage is added to."""

    def __init__(self, model: Model, report: BatchReport):
        self.model = model
        self.report = report

    def ask(self, prompt: str, system: str, schema: dict[str, Any] | None = None) -> str:
        reply = self.model.ask(prompt, system=system, schema=schema)
        r = self.report
        r.calls += 1
        if reply.input_tokens is None and reply.output_tokens is None:
            r.unreported_usage += 1
        r.input_tokens += reply.input_tokens or 0
        r.output_tokens += reply.output_tokens or 0
        return reply.text

    def ask_json(self, prompt: str, system: str, schema: dict[str, Any]) -> tuple[Any, str]:
        if self.model.supports_schema:
            text = self.ask(prompt, system, schema)
        else:
            text = self.ask(prompt, system + JSON_ONLY + EXAMPLES[id(schema)])
        return parse_json(text), text


# -- conversations as prompt text -----------------------------------------------------------

# -- the batch runner -------------------------------------------------------------------------

@contextmanager
def _finish_first() -> Iterator[None]:
    """Let a Ctrl-C during a store wait until the store is done (then raise it)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = signal.signal(signal.SIGINT, lambda sig, frame: caught.append(sig))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if caught:
        raise KeyboardInterrupt


Work = Callable[[_Session, int, Conversation, str | None], dict[str, Any]]
Plan = Callable[[Model, Conversation], list[dict[str, Any]]]


def _run(store: Store, task: str, model: Model, filters: Filters | None, ids: Sequence[str],
         need: str | None, *, limit: int | None, dry_run: bool, progress: Progress | None,
         work: Work, plan: Plan) -> BatchReport:
    report = BatchReport(task=task, model=model.model_id, dry_run=dry_run)
    todo = store.llm_candidates(filters, ids=ids, need=need)
    if need is not None:
        report.up_to_date = len(store.llm_candidates(filters, ids=ids)) - len(todo)
    if limit is not None:
        todo = todo[:max(0, limit)]
    report.candidates = len(todo)
    if not dry_run and todo:
        try:
            model.check_ready()
        except ModelUnavailable as e:
            report.stopped = str(e)
            raise BatchStopped(str(e), report) from None
    session = _Session(model, report)
    for i, (rowid, conv_id, content_hash) in enumerate(todo):
        conv = store.get_conversation(conv_id)
        if conv is None:  # deleted meanwhile
            continue
        if progress:
            progress(i, len(todo), conv.title or conv_id)
        try:
            if dry_run:
                calls = plan(model, conv)
                tokens = sum(c["tokens"] for c in calls)
                report.estimated_tokens += tokens
                report.items.append({"id": conv_id, "title": conv.title, "calls": len(calls),
                                     "tokens": tokens, "prompts": calls})
            else:
                report.items.append(work(session, rowid, conv, content_hash))
        except ModelUnavailable as e:
            report.stopped = str(e)
            raise BatchStopped(str(e), report) from None
        except KeyboardInterrupt:
            report.interrupted = True
            raise BatchInterrupted("interrupted (a dry run: nothing was written)" if dry_run
                                   else f"interrupted: {len(report.items)} of {len(todo)} "
                                   "done, and kept", report) from None
        except AimemError as e:  # ModelCallFailed, or a reply aimem cannot use
            report.failed.append({"id": conv_id, "title": conv.title, "error": str(e)})
    if progress:
        progress(len(todo), len(todo), "")
    if report.failed and not report.items:
        first = report.failed[0]["error"]
        raise BatchStopped(first if len(report.failed) == 1
                           else f"all {len(report.failed)} failed; the first: {first}", report)
    return report


def _call(system: str, prompt: str) -> dict[str, Any]:
    return {"system": system, "prompt": prompt, "tokens": estimate(system) + estimate(prompt)}


# -- summaries ---------------------------------------------------------------------------------

def _summary_plan(model: Model, conv: Conversation) -> list[dict[str, Any]]:
    header, parts = _summary_parts(model, conv)
    system = SUMMARY_SYSTEM + (TITLE_TOO if _title_missing(conv) else "")
    if len(parts) == 1:
        return [_call(system, header + "\n" + parts[0])]
    calls = [_call(PART_SYSTEM, f"{header}\nPart {i} of {len(parts)}:\n\n{p}")
             for i, p in enumerate(parts, 1)]
    final = _call(system, f"{header}\nSummaries of its {len(parts)} consecutive parts, in "
                  "order:\n\n(the part summaries)")
    final["tokens"] += PART_REPLY_TOKENS * len(parts)
    return [*calls, final]


def _summarize_one(session: _Session, conv: Conversation) -> tuple[str, str | None, int]:
    """(summary, proposed title or None, parts) for one conversation."""
    model = session.model
    want_title = _title_missing(conv)
    system = SUMMARY_SYSTEM + (TITLE_TOO if want_title else "")
    schema = SUMMARY_TITLE_SCHEMA if want_title else SUMMARY_SCHEMA
    header, parts = _summary_parts(model, conv)
    if len(parts) == 1:
        prompt = header + "\n" + parts[0]
    else:
        notes = [_plain(session.ask(f"{header}\nPart {i} of {len(parts)}:\n\n{p}", PART_SYSTEM))
                 for i, p in enumerate(parts, 1)]
        budget = _budget(model, system, header)
        while len(notes) > 1 and estimate("\n\n".join(notes)) > budget:
            groups = chunks(notes, _budget(model, MERGE_SYSTEM, header))
            if len(groups) >= len(notes):  # every note alone is too long: shorten them
                share = max(30, budget // len(notes))
                notes = [chunks([n], share)[0] for n in notes]
                break
            notes = [_plain(session.ask(f"{header}\nSummaries of consecutive parts:\n\n{g}",
                                        MERGE_SYSTEM)) for g in groups]
        prompt = (f"{header}\nSummaries of its {len(parts)} consecutive parts, in order:\n\n"
                  + "\n\n".join(notes))
    data, raw = session.ask_json(prompt, system, schema)
    if isinstance(data, dict) and isinstance(data.get("summary"), str):
        summary, title = _plain(data["summary"]), _clean_title(data.get("title"))
    elif data is None:  # a model that ignored the JSON request: its prose is the summary
        summary, title = _plain(raw), None
    else:
        raise ModelCallFailed(f"{model.model_id} replied with JSON that has no summary")
    if not summary:
        raise ModelCallFailed(f"{model.model_id} returned an empty summary")
    return summary, (title if want_title else None), len(parts)


def summarize(store: Store, ids: Sequence[str] = (), filters: Filters | None = None, *,
              model: Model, force: bool = False, limit: int | None = None,
              dry_run: bool = False, progress: Progress | None = None) -> BatchReport:
    def work(session: _Session, rowid: int, conv: Conversation,
             content_hash: str | None) -> dict[str, Any]:
        summary, title, parts = _summarize_one(session, conv)
        with _finish_first(), store.transaction():
            store.set_summary(rowid, summary, model.model_id, content_hash, time.time())
            if title:
                store.set_title(rowid, title)
        return {"id": conv.id, "title": title or conv.title, "summary": summary,
                "new_title": title, "parts": parts}

    return _run(store, "summarize", model, filters, ids, None if force else "summary",
                limit=limit, dry_run=dry_run, progress=progress, work=work, plan=_summary_plan)


# -- tags ----------------------------------------------------------------------------------------

def _existing_tags(store: Store) -> list[str]:
    counts = sorted(store.tag_counts(), key=lambda r: (-(r[1] + r[2]), r[0].casefold()))
    return [name for name, _, _ in counts[:MAX_EXISTING_TAGS]]


def auto_tag(store: Store, ids: Sequence[str] = (), filters: Filters | None = None, *,
             model: Model, force: bool = False, limit: int | None = None,
             dry_run: bool = False, progress: Progress | None = None) -> BatchReport:
    existing = _existing_tags(store)

    def plan(model: Model, conv: Conversation) -> list[dict[str, Any]]:
        return [_call(*_tag_prompt(model, conv, existing))]

    def work(session: _Session, rowid: int, conv: Conversation,
             content_hash: str | None) -> dict[str, Any]:
        system, prompt = _tag_prompt(session.model, conv, existing)
        data, raw = session.ask_json(prompt, system, TAGS_SCHEMA)
        tags = parse_tags(data, raw, existing)
        with _finish_first(), store.transaction():
            if force:
                store.clear_auto_tags(rowid)
            store.add_tags("conversation", rowid, tags, auto=True)
        for t in tags:  # the next conversation reuses this one's new tags
            if t.casefold() not in {e.casefold() for e in existing}:
                existing.append(t)
        return {"id": conv.id, "title": conv.title, "tags": tags}

    return _run(store, "tag-auto", model, filters, ids, None if force else "tags", limit=limit,
                dry_run=dry_run, progress=progress, work=work, plan=plan)


# -- distilled memories -----------------------------------------------------------------------

def distill(store: Store, ids: Sequence[str] = (), filters: Filters | None = None, *,
            model: Model, force: bool = False, limit: int | None = None,
            dry_run: bool = False, progress: Progress | None = None) -> BatchReport:
    def plan(model: Model, conv: Conversation) -> list[dict[str, Any]]:
        rowid = store.conversation_rowid(conv.id or "")
        saved = store.conversation_memory_texts(rowid) if rowid else []
        return [_call(DISTILL_SYSTEM, p) for p in _distill_prompts(model, conv, saved)]

    def work(session: _Session, rowid: int, conv: Conversation,
             content_hash: str | None) -> dict[str, Any]:
        saved = store.conversation_memory_texts(rowid)
        found: dict[str, tuple[str, str]] = {}
        for prompt in _distill_prompts(session.model, conv, saved):
            data, raw = session.ask_json(prompt, DISTILL_SYSTEM, DISTILL_SCHEMA)
            for text, kind in parse_memories(data, raw):
                found.setdefault(memory_hash(text), (text, kind))
        out = []
        with _finish_first():
            for text, kind in found.values():
                m = memories.remember(store, text, kind=kind, source="distill",
                                      conversation_id=conv.id)
                out.append({"id": m["id"], "text": m["text"], "kind": m["kind"],
                            "created": m["created"]})
        return {"id": conv.id, "title": conv.title, "memories": out}

    return _run(store, "distill", model, filters, ids, None if force else "distill",
                limit=limit, dry_run=dry_run, progress=progress, work=work, plan=plan)


# -- the profile paragraph ----------------------------------------------------------------------

def synthesize_profile(store: Store, *, model: Model) -> dict[str, Any]:
    """A short paragraph about the user from their memories, stored for ``aimem profile``."""
    mems = list(store.iter_memories(newest_first=True))
    if not mems:
        raise AimemError("there are no memories to describe you from yet: save some with "
                         "aimem remember \"…\" or extract them with aimem distill")
    rank = {k: i for i, k in enumerate(("preference", "instruction", "project", "fact",
                                        "person", "other"))}
    mems.sort(key=lambda m: (not m.pinned, rank.get(m.kind, 9)))
    budget = _budget(model, PROFILE_SYSTEM, "Memories:\n")
    lines: list[str] = []
    used = 0
    for m in mems:
        line = f"- [{m.kind}{', pinned' if m.pinned else ''}] {' '.join(m.text.split())}\n"
        n = estimate(line)
        if used + n > budget:
            continue
        lines.append(line)
        used += n
    prompt = "Memories:\n" + "".join(lines)
    model.check_ready()
    report = BatchReport(task="profile", model=model.model_id)
    text = _plain(_Session(model, report).ask(prompt, PROFILE_SYSTEM))
    if not text:
        raise ModelCallFailed(f"{model.model_id} returned an empty paragraph")
    digest = hashlib.blake2b("".join(lines).encode("utf-8", "surrogatepass"),
                             digest_size=16).hexdigest()
    now = time.time()
    with _finish_first(), store.transaction():
        store.set_profile(text, model.model_id, digest, now)
    return {"synthesized": text, "model": model.model_id, "created_at": iso(now),
            "memories_used": len(lines), "memories_total": len(mems),
            "usage": {"calls": report.calls, "input_tokens": report.input_tokens,
                      "output_tokens": report.output_tokens,
                      "calls_without_usage": report.unreported_usage}}


__all__ = ["BatchInterrupted", "BatchReport", "BatchStopped", "auto_tag", "chunks", "distill",
           "parse_json", "parse_memories", "parse_tags", "summarize", "synthesize_profile"]
