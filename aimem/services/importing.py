"""The import pipeline: inputs -> importer -> stable ids -> one transaction.

Importers only parse. Everything that makes an import safe to repeat lives here and in
:mod:`aimem.services.normalising`: ids derived from source ids (or content), change
detection by content hash, the rule that an older copy never overwrites a newer one, the
merge that keeps the messages a shorter copy lacks (:func:`merge`), and the run that
leaves the database as it was when anything goes wrong.

An import commits every :data:`BATCH_CONVERSATIONS` conversations or
:data:`BATCH_SECONDS` seconds, whichever comes first, so that other processes
(``aimem remember``, an MCP client, ``sync``) can write while a large export imports;
while none of them waits for the write lock, a batch may grow to
:data:`LONE_BATCH_FACTOR` times that.
Each import is a run journalled in the store (:mod:`aimem.store.runs`): a failure in this
process undoes the batches already committed, in one transaction; a process killed
mid-import is undone by the next command that opens the database.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path

from aimem import importers
from aimem.errors import AimemError, ImportFailed
from aimem.importers.base import Importer, Input, Item, error_line, first_json_char
from aimem.models import (
    Conversation,
    FileReport,
    ImportReport,
    MemoryItem,
    Skipped,
    make_id,
    memory_hash,
)
from aimem.redact import redact as redact_text
from aimem.services import prepare_ahead
from aimem.services.normalising import (  # noqa: F401 (used as importing.X)
    _content_hash,
    _default_title,
    _drop_recalled,
    _message_key,
    merge,
    normalise,
)
from aimem.store.db import Store
from aimem.store.runs import Journal, undo
from aimem.timeutil import valid_epoch

# progress(bytes_done, bytes_total, conversations_done)
Progress = Callable[[int, int, int], None]

BATCH_CONVERSATIONS = 500
BATCH_SECONDS = 0.5
# While no other process waits for the write lock (Store.others_waiting, asked after each
# conversation), a batch goes on up to this many times as long; one that starts to wait
# gets it after the conversation being written. Fewer, bigger batches write each page of
# the indexes fewer times (a batch rewrites every page it touches of the message id
# index, in the WAL and again at the checkpoint, and pays a commit): on the M benchmark
# export, 37 commits instead of ~400, commit time 8.9 -> 3.8 s CPU (machine under load).
LONE_BATCH_FACTOR = 10
# For the kill and concurrency tests only: seconds to pause after each conversation, so
# that an import of a small export lasts long enough to be killed or waited on, on a fast
# machine as on a loaded one; it also keeps batches at their short length (no
# LONE_BATCH_FACTOR), so that such an import commits several. Unset (0) in normal use.
_TEST_DELAY = float(os.environ.get("AIMEM_TEST_IMPORT_DELAY") or 0)



def _prepared(items: Iterator[Item], prepare: Callable[[Conversation], str]
              ) -> Generator[tuple[Item, str | None], None, None]:
    """Each item with its content hash (:meth:`_Run.prepare`: redaction, normalising).

    A large input is prepared in a second process instead (:mod:`.prepare_ahead`). A
    read-ahead thread was measured and left out: on two idle cores an S import took the
    same wall time (3.6 s) with and without it, as both threads hold the GIL.
    """
    for item in items:
        yield item, (prepare(item) if isinstance(item, Conversation) else None)


def _items(importer: Importer, inp: Input, run: _Run
           ) -> Generator[tuple[Item, str | None], None, None]:
    if prepare_ahead.wanted(inp):
        locks = run.store.flock_fds() + (run.journal.flock_fds() if run.journal else [])
        return prepare_ahead.Ahead(importer, inp, run.prepare, run.redactions,
                                   close_in_child=locks).items()
    return _prepared(importer.parse(inp), run.prepare)


class _Batches:
    """The write transactions of one import: a new one every few hundred conversations.

    A real import is a journalled run (see :mod:`aimem.store.runs`); a dry run rolls each
    batch back (and :class:`_Run` keeps what earlier batches would have written in memory).
    """

    def __init__(self, store: Store, paths: Sequence[str], dry_run: bool):
        self.store = store
        self.dry_run = dry_run
        self.journal: Journal | None = None if dry_run else Journal(store, paths)
        self.committed = False  # a batch of this run is in the database
        self.n = 0
        self.started = 0.0

    @property
    def run(self) -> int | None:
        return self.journal.run if self.journal else None

    def begin(self) -> None:
        self.store.begin()
        if self.journal is not None and self.journal.run is None:
            self.journal.start()
        self.n = 0
        self.started = time.monotonic()

    def _end(self) -> None:
        if self.dry_run:
            self.store.rollback()
        else:
            self.store.commit()
            self.committed = True

    def tick(self) -> None:
        """After each conversation: end the batch when it is big or old enough."""
        self.n += 1
        if _TEST_DELAY:
            time.sleep(_TEST_DELAY)
        age = time.monotonic() - self.started
        if self.n >= BATCH_CONVERSATIONS or age >= BATCH_SECONDS:
            if (not _TEST_DELAY and self.n < BATCH_CONVERSATIONS * LONE_BATCH_FACTOR
                    and age < BATCH_SECONDS * LONE_BATCH_FACTOR
                    and self.store.others_waiting() is False):
                return  # nobody is waiting: go on
            self._end()
            self.store.yield_to_waiters()
            self.begin()

    def finish(self) -> None:
        if self.journal is not None:
            self.journal.finish()
        self._end()
        self.release()

    def fail(self) -> None:
        """Roll back the open batch and undo the committed ones (in one transaction).

        If the undo itself fails (a second Ctrl-C, a full disk), the run stays in the
        journal with its lock released: the next command that opens the database undoes it.
        """
        try:
            self.store.rollback()
            if self.journal is not None and self.committed and self.journal.run is not None:
                with self.store.transaction():
                    undo(self.store, self.journal.run)
        except (Exception, KeyboardInterrupt):
            pass
        finally:
            self.release()

    def release(self) -> None:
        if self.journal is not None:
            self.journal.release()


class _Run:
    def __init__(self, store: Store, report: ImportReport, tags: Sequence[str], redact: bool,
                 project: str | None = None, journal: Journal | None = None):
        self.project = project
        self.store = store
        self.report = report
        self.tags = list(tags)
        self.now = time.time()
        self.redactions: Counter[str] | None = Counter() if redact else None
        self.journal = journal
        # a dry run: what the rolled-back batches would have written
        self.dry: dict[str, tuple[str, float | None, set[str]]] | None = (
            None if journal is not None else {})
        self.dry_messages: dict[str, str] = {}
        self.dry_memories: set[str] = set()
        from aimem.store import devices as sync_db

        # tombstones of forgotten items (aimem.services.devices): not imported again
        self.tombs = (sync_db.tombstones(store) if store is not None and sync_db.has_tombstones(store)
                      else {})

    def _forgotten(self, kind: str, item_id: str, created_at: float | None) -> bool:
        t = self.tombs.get((kind, item_id))
        if t is None or (kind == "memory" and t[0] < int(round((created_at or self.now) * 1000))):
            return False
        self.report.forgotten += 1
        return True

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
        for m in c.branches:
            m.text = redact_text(m.text, counts)

    def prepare(self, c: Conversation) -> str:
        """What needs no database: cut injected recalls, redact, fill in ids; the content
        hash."""
        _drop_recalled(c)
        if self.project and not c.project:
            c.project = self.project
        self._redact(c)
        normalise(c)
        return _content_hash(c)

    def conversation(self, c: Conversation, fr: FileReport, h: str | None = None) -> None:
        if h is None:
            h = self.prepare(c)
        fr.conversations += 1
        if self.tombs and self._forgotten("conversation", c.id or "", None):
            return
        fr.conversations -= 1
        conv_id: str = c.id  # type: ignore[assignment]
        if self.dry is not None:
            self._dry_check(c)
            if conv_id in self.dry:  # written by an earlier (rolled back) batch of this dry run
                self._dry_again(c, h)
                fr.conversations += 1
                return
        state = self.store.conversation_state(conv_id)
        tags = c.tags + self.tags
        j = self.journal
        if state is None:
            rowid = self.store.insert_conversation(c, h, self.now)
            self.store.insert_messages(rowid, c.messages)
            self.store.insert_branches(rowid, c.branches)
            if c.summary:
                self.store.set_summary(rowid, c.summary, now=self.now)
            if j:
                j.added_conversation(conv_id, h)
            self.report.conversations_added += 1
            self.report.messages_added += len(c.messages)
        else:
            rowid, old_hash, old_updated = state
            if old_hash == h or (old_updated is not None and c.updated_at is not None
                                 and c.updated_at < old_updated):
                self.report.conversations_unchanged += 1
                if self.dry is not None:
                    self.dry[conv_id] = (old_hash or "", old_updated,
                                         self.store.message_ids(rowid))
            else:
                self._update(rowid, c, old_hash)
        if tags:
            added = self.store.add_tags("conversation", rowid, tags)
            if j and added:
                j.added_tags("conversation", conv_id, added)
        if self.dry is not None and conv_id not in self.dry:  # added or updated
            self.dry[conv_id] = (h, c.updated_at, {m.id for m in c.messages if m.id})
        fr.conversations += 1

    def _update(self, rowid: int, c: Conversation, old_hash: str | None) -> None:
        old = self.store.stored_messages(rowid)
        old_branches = self.store.branch_messages(rowid)
        before = {m.id: _message_key(m) for m in old}
        before.update((m.id, _message_key(m)) for m in old_branches)
        tree = c.source in importers.TREE_SOURCES or bool(c.branches or old_branches)
        kept, dropped = merge(c, old, old_branches, tree)
        self.report.messages_kept += kept
        self.report.messages_deleted += dropped
        if kept and not dropped and [m.id for m in c.messages] == [m.id for m in old] and all(
                before.get(m.id) == _message_key(m) for m in c.messages + c.branches):
            # an older or shorter copy (a session log cut short, lines without times):
            # nothing in it is new, and what it lacks stays; its metadata does not win
            self.report.conversations_unchanged += 1
            return
        h = _content_hash(c)
        if h == old_hash:
            self.report.conversations_unchanged += 1
            return
        if self.journal:  # the state before, so that a failed run can put it back
            self.journal.updating_conversation(c.id or "", rowid, h)
        self.store.update_conversation(rowid, c, h, self.now)
        self.store.replace_messages(rowid, c.messages)
        self.store.replace_branches(rowid, c.branches)
        if c.summary != self.store.summary_text(rowid) and c.summary:
            self.store.set_summary(rowid, c.summary, now=self.now)
        self.report.conversations_updated += 1
        self.report.messages_added += sum(1 for m in c.messages if m.id not in before)

    def _dry_check(self, c: Conversation) -> None:
        """A message id already used by another conversation of this dry run fails the
        import, as the real one would (the database only sees the current batch)."""
        assert self.dry is not None
        for m in c.messages:
            other = self.dry_messages.setdefault(m.id or "", c.id or "")
            if other != c.id:
                raise AimemError(f"message id {m.id} appears in two conversations")

    def _dry_again(self, c: Conversation, h: str) -> None:
        """Count a conversation an earlier batch of this dry run already wrote."""
        assert self.dry is not None
        old_hash, old_updated, before = self.dry[c.id or ""]
        if old_hash == h or (old_updated is not None and c.updated_at is not None
                             and c.updated_at < old_updated):
            self.report.conversations_unchanged += 1
            return
        self.report.conversations_updated += 1
        self.report.messages_added += sum(1 for m in c.messages if m.id not in before)
        self.dry[c.id or ""] = (h, c.updated_at, {m.id for m in c.messages if m.id})

    def memory(self, m: MemoryItem, fr: FileReport) -> None:
        if self.redactions is not None:
            m.text = redact_text(m.text, self.redactions)
        h = memory_hash(m.text)
        if self.tombs and self._forgotten("memory", m.id or make_id("memory", h), m.created_at):
            fr.memories += 1
            return
        if self.dry is not None and h in self.dry_memories:
            self.report.memories_unchanged += 1
            fr.memories += 1
            return
        existing = self.store.memory_by_hash(h)
        if existing is None:
            m.id = m.id or make_id("memory", h)
            created, updated = valid_epoch(m.created_at), valid_epoch(m.updated_at)
            m.created_at = created if created is not None else self.now
            m.updated_at = updated if updated is not None else m.created_at
            rowid = self.store.insert_memory(m, h)
            mem_id = m.id
            if self.journal:
                self.journal.added_memory(mem_id, h)
            self.report.memories_added += 1
        else:
            rowid, mem_id = existing
            self.report.memories_unchanged += 1
        if m.tags or self.tags:
            added = self.store.add_tags("memory", rowid, m.tags + self.tags)
            if self.journal and added and existing is not None:
                self.journal.added_tags("memory", mem_id, added)
        if self.dry is not None:
            self.dry_memories.add(h)
        fr.memories += 1


def _gather(paths: Sequence[str], report: ImportReport, in_folder: bool
            ) -> list[tuple[Input, bool]]:
    """Every candidate input, with whether it was named directly on the command line."""
    out: list[tuple[Input, bool]] = []
    for p in paths:
        items = list(importers.expand(p))
        # named directly: a plain file or stdin, never the one member of a zip or folder
        direct = (len(items) == 1 and isinstance(items[0], Input) and not in_folder
                  and (p == "-" or items[0].path == Path(p).expanduser()))
        for it in items:
            if isinstance(it, Input):
                out.append((it, direct))
            else:
                report.skipped.append(Skipped(where=it[0], reason=it[1]))
    return out


def _broken_json(inp: Input) -> str | None:
    """Why a file that looks like JSON (starts with ``{`` or ``[``) cannot be read, or None
    when it is whole JSON (then it is simply in no known format)."""
    if first_json_char(inp) not in ("{", "["):
        return None
    import ijson

    with inp.open() as f:
        try:
            for _ in ijson.parse(f):
                pass
        except ijson.IncompleteJSONError as e:
            why = error_line(e)
            if "premature EOF" in why or "incomplete" in why.lower():
                return f"truncated JSON: it ends at byte {inp.bytes_read} in the middle of a value"
            return f"malformed JSON near byte {inp.bytes_read} ({why})"
        except ijson.JSONError as e:
            return f"malformed JSON near byte {inp.bytes_read} ({error_line(e)})"
        except (UnicodeDecodeError, ValueError) as e:
            return f"not a readable JSON file ({error_line(e)})"
    return None


def unexpected(inp: Input, importer: Importer, e: Exception) -> ImportFailed:
    """An exception no importer should raise, as the one-line error every bad input gets
    (the safety net; tests/test_fuzz_importers.py treats this message as a bug)."""
    detail = " ".join(str(e).split())[:200]
    return inp.fail(f"cannot be read: the {importer.NAME} importer stopped on "
                    f"{type(e).__name__}" + (f" ({detail})" if detail else "")
                    + "; nothing was written (please report this as a bug)")


def import_paths(store: Store, paths: Sequence[str], *, fmt: str = "auto",
                 tags: Sequence[str] = (), dry_run: bool = False, redact: bool = True,
                 progress: Progress | None = None, in_folder: bool = False,
                 project: str | None = None) -> ImportReport:
    """Import files, zips, folders or "-" as one run; return what happened.

    Batches are committed as it goes; any failure (Ctrl-C included) undoes them, so the
    import is all or nothing (see the module docstring). ``dry_run`` writes nothing.

    Secrets are replaced by ``[REDACTED:kind]`` before anything is stored unless
    ``redact`` is False (see :mod:`aimem.redact`). ``in_folder`` treats the paths as
    files found in a folder (``aimem sync``): stricter detection, and an unrecognised
    file is skipped instead of failing. ``project``: the project of conversations that
    do not say theirs (a hook's session).
    """
    report = ImportReport(dry_run=dry_run)
    forced: Importer | None = None if fmt == "auto" else importers.get(fmt)
    inputs = _gather(paths, report, in_folder)
    total = sum(i.size or 0 for i, _ in inputs)
    done_before = 0
    store.bulk_cache()
    batches = _Batches(store, paths, dry_run)
    run = _Run(store, report, tags, redact, project, batches.journal)
    try:
        try:
            batches.begin()
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
                        raise inp.fail("empty file" if inp.size == 0 else
                                       _broken_json(inp) or what)
                    report.skipped.append(Skipped(inp.name, "not a recognised export"))
                    continue
                fr = FileReport(path=inp.name, format=importer.NAME)
                report.files.append(fr)
                started = time.time()
                n = 0
                items = _items(importer, inp, run)
                try:
                    for item, h in items:
                        if isinstance(item, Conversation):
                            run.conversation(item, fr, h)
                            n += 1
                            batches.tick()
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
                finally:
                    items.close()  # ends the child of a large input at once
                done_before += inp.size or inp.bytes_read
                if progress:
                    progress(done_before, total, n)
                store.log_import(started, str(inp.path or inp.name), importer.NAME, inp.size,
                                 inp.mtime, inp.sha256,
                                 {"conversations": fr.conversations, "memories": fr.memories},
                                 run=batches.run)
            where = paths[0] if len(paths) == 1 else " ".join(paths)
            if not report.files:
                raise ImportFailed(where, "no recognised export in it")
            if not any(f.conversations or f.memories for f in report.files):
                why = report.skipped[0].reason if report.skipped else "it is empty"
                raise ImportFailed(where, f"nothing importable in it ({why})")
            batches.finish()
        except BaseException:
            batches.fail()
            raise
    except sqlite3.DatabaseError as e:
        from aimem.errors import database_error_message

        raise AimemError("the import was rolled back, nothing was written: "
                         + database_error_message(e, store.path)) from None
    report.redactions = dict(sorted((run.redactions or {}).items()))
    return report
