"""The import pipeline: inputs -> importer -> stable ids -> one transaction.

Importers only parse. Everything that makes an import safe to repeat lives here:
ids derived from source ids (or content), change detection by content hash, the
rule that an older copy never overwrites a newer one, and the single transaction
that leaves the database untouched when anything goes wrong.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Sequence

from aimem import importers, jsonio
from aimem.errors import AimemError, ImportFailed
from aimem.importers.base import Importer, Input
from aimem.models import Conversation, FileReport, ImportReport, MemoryItem, Skipped, make_id, memory_hash
from aimem.redact import redact as redact_text
from aimem.store.db import Store
from aimem.timeutil import valid_epoch

# progress(bytes_done, bytes_total, conversations_done)
Progress = Callable[[int, int, int], None]



def _content_hash(c: Conversation) -> str:
    data = [c.source, c.source_id, c.title, c.created_at, c.updated_at, c.model, c.project,
            c.summary, c.extra,
            [(m.id, m.source_id, m.role, m.author, m.text, m.created_at, m.extra)
             for m in c.messages]]
    return hashlib.blake2b(jsonio.dumps(data), digest_size=16).hexdigest()


def _default_title(c: Conversation) -> str | None:
    for m in c.messages:
        if m.role == "user" and m.text.strip():
            line = m.text.strip().splitlines()[0].strip()
            return line if len(line) <= 80 else line[:79].rstrip() + "…"
    return None


def normalise(c: Conversation) -> Conversation:
    """Fill in ids, title and times that the source did not give."""
    if not c.id:
        if c.source_id:
            c.id = make_id(c.source, c.source_id)
        else:
            digest = hashlib.blake2b(jsonio.dumps([(m.role, m.text) for m in c.messages]),
                                     digest_size=16).hexdigest()
            c.id = make_id(c.source, "content", digest)
    used: set[str] = set()
    c.created_at, c.updated_at = valid_epoch(c.created_at), valid_epoch(c.updated_at)
    for i, m in enumerate(c.messages):
        m.created_at = valid_epoch(m.created_at)  # an importer's raw number may be no date
        if not m.id:
            m.id = make_id(c.id, m.source_id) if m.source_id else make_id(c.id, str(i), m.role,
                                                                           m.text)
            if m.id in used:
                m.id = make_id(c.id, str(i), m.source_id, m.text)
        used.add(m.id)
    if not (c.title or "").strip():
        c.title = _default_title(c)
    times = [m.created_at for m in c.messages if m.created_at is not None]
    if c.created_at is None and times:
        c.created_at = min(times)
    if c.updated_at is None:
        c.updated_at = max(times) if times else c.created_at
    return c


class _Run:
    def __init__(self, store: Store, report: ImportReport, tags: Sequence[str], redact: bool):
        self.store = store
        self.report = report
        self.tags = list(tags)
        self.now = time.time()
        self.redactions: Counter[str] | None = Counter() if redact else None

    def _redact(self, c: Conversation) -> None:
        counts = self.redactions
        if counts is None:
            return
        if c.title:
            c.title = redact_text(c.title, counts)
        if c.summary:
            c.summary = redact_text(c.summary, counts)
        for m in c.messages:
            m.text = redact_text(m.text, counts)

    def conversation(self, c: Conversation, fr: FileReport) -> None:
        self._redact(c)
        normalise(c)
        h = _content_hash(c)
        state = self.store.conversation_state(c.id)  # type: ignore[arg-type]
        tags = c.tags + self.tags
        if state is None:
            rowid = self.store.insert_conversation(c, h, self.now)
            self.store.insert_messages(rowid, c.messages)
            if c.summary:
                self.store.set_summary(rowid, c.summary, now=self.now)
            self.report.conversations_added += 1
            self.report.messages_added += len(c.messages)
        else:
            rowid, old_hash, old_updated = state
            if old_hash == h or (old_updated is not None and c.updated_at is not None
                                 and c.updated_at < old_updated):
                self.report.conversations_unchanged += 1
            else:
                before = self.store.message_ids(rowid)
                self.store.update_conversation(rowid, c, h, self.now)
                self.store.replace_messages(rowid, c.messages)
                if c.summary != self.store.summary_text(rowid) and c.summary:
                    self.store.set_summary(rowid, c.summary, now=self.now)
                self.report.conversations_updated += 1
                self.report.messages_added += sum(1 for m in c.messages if m.id not in before)
        if tags:
            self.store.add_tags("conversation", rowid, tags)
        fr.conversations += 1

    def memory(self, m: MemoryItem, fr: FileReport) -> None:
        if self.redactions is not None:
            m.text = redact_text(m.text, self.redactions)
        h = memory_hash(m.text)
        existing = self.store.memory_by_hash(h)
        if existing is None:
            m.id = m.id or make_id("memory", h)
            created, updated = valid_epoch(m.created_at), valid_epoch(m.updated_at)
            m.created_at = created if created is not None else self.now
            m.updated_at = updated if updated is not None else m.created_at
            rowid = self.store.insert_memory(m, h)
            self.report.memories_added += 1
        else:
            rowid = existing[0]
            self.report.memories_unchanged += 1
        if m.tags or self.tags:
            self.store.add_tags("memory", rowid, m.tags + self.tags)
        fr.memories += 1


def _gather(paths: Sequence[str], report: ImportReport, in_folder: bool
            ) -> list[tuple[Input, bool]]:
    """Every candidate input, with whether it was named directly on the command line."""
    out: list[tuple[Input, bool]] = []
    for p in paths:
        items = list(importers.expand(p))
        direct = len(items) == 1 and isinstance(items[0], Input) and not in_folder
        for it in items:
            if isinstance(it, Input):
                out.append((it, direct))
            else:
                report.skipped.append(Skipped(where=it[0], reason=it[1]))
    return out


def unexpected(inp: Input, importer: Importer, e: Exception) -> ImportFailed:
    """An exception no importer should raise, as the one-line error every bad input gets
    (the safety net; tests/test_fuzz_importers.py treats this message as a bug)."""
    detail = " ".join(str(e).split())[:200]
    return inp.fail(f"cannot be read: the {importer.NAME} importer stopped on "
                    f"{type(e).__name__}" + (f" ({detail})" if detail else "")
                    + "; nothing was written (please report this as a bug)")


def import_paths(store: Store, paths: Sequence[str], *, fmt: str = "auto",
                 tags: Sequence[str] = (), dry_run: bool = False, redact: bool = True,
                 progress: Progress | None = None, in_folder: bool = False) -> ImportReport:
    """Import files, zips, folders or "-" in one transaction; return what happened.

    Secrets are replaced by ``[REDACTED:kind]`` before anything is stored unless
    ``redact`` is False (see :mod:`aimem.redact`). ``in_folder`` treats the paths as
    files found in a folder (``aimem sync``): stricter detection, and an unrecognised
    file is skipped instead of failing.
    """
    report = ImportReport(dry_run=dry_run)
    forced: Importer | None = None if fmt == "auto" else importers.get(fmt)
    inputs = _gather(paths, report, in_folder)
    total = sum(i.size or 0 for i, _ in inputs)
    done_before = 0
    run = _Run(store, report, tags, redact)
    try:
        with store.transaction(rollback=dry_run):
            for inp, direct in inputs:
                importer = forced if (forced and (direct or forced.sniff(inp))) else None
                importer = importer or (None if forced else importers.detect(inp))
                strict = getattr(importer, "sniff_in_folder", None)
                if importer and not forced and not direct and strict and not strict(inp):
                    # e.g. a README.md inside an export folder: plain text is imported only
                    # when named directly, or when it has the turns of a conversation
                    report.skipped.append(Skipped(inp.name, "plain text, not a conversation"))
                    continue
                if importer is None:
                    if direct:
                        what = f"not in the {forced.NAME} format" if forced else (
                            "not a recognised export (try --format; known: "
                            + ", ".join(importers.IMPORTERS) + ")")
                        raise inp.fail("empty file" if inp.size == 0 else what)
                    report.skipped.append(Skipped(inp.name, "not a recognised export"))
                    continue
                fr = FileReport(path=inp.name, format=importer.NAME)
                report.files.append(fr)
                started = time.time()
                n = 0
                try:
                    for item in importer.parse(inp):
                        if isinstance(item, Conversation):
                            run.conversation(item, fr)
                            n += 1
                            if progress and n % 20 == 0:
                                progress(done_before + inp.bytes_read, total, n)
                        elif isinstance(item, MemoryItem):
                            run.memory(item, fr)
                        else:
                            report.skipped.append(item)
                except (AimemError, sqlite3.DatabaseError):
                    raise
                except Exception as e:  # a bug in an importer: still one line, nothing written
                    raise unexpected(inp, importer, e) from e
                done_before += inp.size or inp.bytes_read
                if progress:
                    progress(done_before, total, n)
                store.log_import(started, str(inp.path or inp.name), importer.NAME, inp.size,
                                 inp.mtime, inp.sha256,
                                 {"conversations": fr.conversations, "memories": fr.memories})
            where = paths[0] if len(paths) == 1 else " ".join(paths)
            if not report.files:
                raise ImportFailed(where, "no recognised export in it")
            if not any(f.conversations or f.memories for f in report.files):
                why = report.skipped[0].reason if report.skipped else "it is empty"
                raise ImportFailed(where, f"nothing importable in it ({why})")
    except sqlite3.DatabaseError as e:
        raise AimemError(f"the import was rolled back, nothing was written: {e}") from None
    report.redactions = dict(sorted((run.redactions or {}).items()))
    return report
