"""The one API every front end calls: :class:`Archive`.

The CLI, the TUI, the MCP server and the Python API all hold a ``Archive`` and call
its methods; they never reach into the store themselves. Methods return plain,
JSON-ready dicts (times as ISO 8601 strings), the shapes interface.md documents.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aimem.errors import AimemError, NotFound
from aimem.models import Filters, ImportReport
from aimem.paths import db_path
from aimem.services import exporting, memories, ranking
from aimem.store import search as fts
from aimem.store.db import Store
from aimem.timeutil import iso

if TYPE_CHECKING:  # importing and sync load every importer module: only when needed
    from aimem.services import importing
    from aimem.services import sync as sync_

KINDS = ("message", "memory", "conversation")
MODES = ("lexical", "semantic", "hybrid")
CONFIG_KEYS = ("embed-model",)
HYBRID_CANDIDATES = 30  # per side, at least, for a hybrid search (see semantic.fuse)


def _with_iso(hit: dict[str, Any]) -> dict[str, Any]:
    hit["created_at"] = iso(hit["created_at"])
    hit["score"] = float(f"{hit['score']:.6g}")
    hit.pop("tier", None)
    return hit


def _check_mode(mode: str | None) -> None:
    if mode is not None and mode not in MODES:
        raise AimemError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")


SEARCH_KINDS = ("message", "memory", "conversation")


def search_kinds(kinds: Sequence[str] | None) -> tuple[str, ...]:
    """What a search looks through: ``kinds`` (``all`` for every one), by default
    messages and memories; an unknown kind is an error."""
    names = [k.lower() for k in kinds or ()]
    bad = [k for k in names if k not in (*SEARCH_KINDS, "all")]
    if bad:
        raise AimemError(f"unknown kind {bad[0]!r}: use one of {', '.join(SEARCH_KINDS)}, all")
    if "all" in names:
        return SEARCH_KINDS
    return tuple(names) or ("message", "memory")


class Archive:
    """aimem's memory: one database, and everything that can be done with it."""

    def __init__(self, store: Store, *, created: bool = False):
        self.store = store
        self.warning: str | None = None  # why the last search fell back to lexical
        self.created = created  # this Archive made the database file: see __exit__

    @classmethod
    def open(cls, db: str | os.PathLike[str] | None = None, *, create: bool = True) -> Archive:
        """Open the database (``None``: the default location); ``create=False`` for reads."""
        path = db_path(db)
        existed = path.exists()
        return cls(Store.open(path, create=create), created=not existed)

    @property
    def path(self) -> Path:
        return self.store.path

    def close(self) -> None:
        self.store.close()

    def abort_when(self, check: Callable[[], bool] | None, *, every: int = 10_000) -> None:
        """Make a running query stop as soon as ``check()`` is true (sqlite3 "interrupted").

        ``check`` runs on this Archive's thread every ``every`` SQLite steps; None removes
        it. The TUI uses it to drop a search-as-you-type query a newer keystroke made stale.
        """
        self.store.abort_when(check, every=every)

    def interruptible(self, check: Callable[[], bool], *,
                      every: int = 10_000) -> AbstractContextManager[None]:
        """A block whose queries stop once ``check()`` is true, raising
        :class:`aimem.errors.Interrupted`; the check is removed when the block ends."""
        from aimem.store import interruptible

        return interruptible(self.store, check, every=every)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        """Close; a database this Archive created is removed again when the block failed,
        so a command that fails (a missing file, bad input) leaves no empty database. A
        closed pipe (``aimem import X | head``) is not a failure of the work: kept."""
        self.close()
        if exc_type is not None and self.created and not issubclass(exc_type, BrokenPipeError):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.store.path}{suffix}").unlink(missing_ok=True)
            from aimem.store.runs import lock_dir

            locks = lock_dir(self.store.path)
            for p in locks.glob("*"):
                p.unlink(missing_ok=True)
            try:
                locks.rmdir()
            except OSError:
                pass

    @property
    def recovered(self) -> list[dict[str, Any]]:
        """Unfinished imports (their process was killed) that opening the database undid."""
        return [u.to_dict() for u in self.store.recovered]

    # -- import / export ----------------------------------------------------------------

    def import_paths(self, paths: Sequence[str], *, fmt: str = "auto", tags: Sequence[str] = (),
                     dry_run: bool = False, redact: bool = True,
                     progress: importing.Progress | None = None) -> ImportReport:
        from aimem.services import importing

        return importing.import_paths(self.store, paths, fmt=fmt, tags=tags, dry_run=dry_run,
                                      redact=redact, progress=progress)

    def export_jsonl(self, filters: Filters | None = None) -> Iterator[bytes]:
        return exporting.jsonl_lines(self.store, filters)

    def export(self, filters: Filters | None = None, format: str = "jsonl") -> Iterator[bytes]:
        """The export as a stream of bytes: jsonl, json, markdown, html or csv."""
        from aimem.services import export_formats

        if format == "jsonl":
            return exporting.jsonl_lines(self.store, filters)
        if format not in export_formats.WRITERS:
            raise AimemError(f"unknown export format {format!r}: use "
                             + ", ".join(export_formats.FORMATS))
        return (chunk.encode("utf-8") for chunk in
                export_formats.WRITERS[format](self.store, filters))

    def export_markdown_dir(self, folder: Path, filters: Filters | None = None) -> int:
        """One Markdown file (with front matter) per conversation; returns how many."""
        from aimem.services import export_formats

        return export_formats.write_markdown_dir(self.store, filters, folder)

    def conversation_markdown(self, prefix: str) -> dict[str, str]:
        """One conversation as a Markdown file: ``{"name": suggested file name, "text"}``."""
        from aimem.services import export_formats

        _, full = self.resolve(prefix, ("conversation",))
        conv = self.store.get_conversation(full)
        if conv is None:
            raise NotFound(f"nothing has the id {prefix!r}")
        day = (iso(conv.created_at) or "undated")[:10]
        name = f"{day}-{export_formats.slug(conv.title or 'untitled')}-{full[:8]}.md"
        return {"name": name, "text": export_formats.front_matter(conv) + "\n"
                + export_formats.conversation_markdown(conv)}

    # -- sync ---------------------------------------------------------------------------

    def sync(self, *, redact: bool = True,
             on_file: Callable[[str, int, int], None] | None = None) -> sync_.SyncReport:
        """Import what changed in the known local sources and the added folders."""
        from aimem.services import sync as sync_

        return sync_.sync(self.store, redact=redact, on_file=on_file)

    def sync_sources(self) -> list[dict[str, Any]]:
        from aimem.services import sync as sync_

        return [s.to_dict() for s in sync_.sources(self.store)]

    def add_sync_source(self, path: str) -> str:
        from aimem.services import sync as sync_

        return sync_.add_source(self.store, path)

    def remove_sync_source(self, path: str) -> str:
        from aimem.services import sync as sync_

        return sync_.remove_source(self.store, path)

    def sync_devices(self, *, dry_run: bool = False, where: str | None = None) -> dict[str, Any]:
        """Exchange changes with the other devices through the sync location
        (:mod:`aimem.services.devices`; ``where``: another one, not saved); the report."""
        from aimem.services import devices

        return devices.exchange(self.store, dry_run=dry_run, where=where).to_dict()

    def compact_sync(self) -> dict[str, Any]:
        """Sync, write this device's snapshot, drop its logs that every device has read."""
        from aimem.services import devices

        return devices.compact(self.store)

    def set_sync_target(self, where: str, *, encrypt: bool = False) -> str:
        """Sync with other devices through this folder (or ``git+URL``) from now on;
        ``encrypt``: end-to-end, with a passphrase (AIMEM_SYNC_PASSPHRASE or a prompt)."""
        from aimem.services import devices

        return devices.set_target(self.store, where, encrypt=encrypt)

    def sync_target(self) -> str | None:
        from aimem.services import devices

        return devices.target(self.store)

    def devices(self) -> dict[str, Any]:
        """This device's id and name, the sync location, and the devices seen there."""
        from aimem.services import devices

        return devices.devices(self.store)

    # -- finding ------------------------------------------------------------------------

    def resolve(self, prefix: str, kinds: Sequence[str] = ("conversation", "memory", "message")
                ) -> tuple[str, str]:
        """(kind, full id) for a unique id prefix; NotFound when none or several match."""
        prefix = prefix.strip()
        if not prefix:
            raise NotFound("an id is needed")
        matches = [(k, i) for k, i in self.store.resolve(prefix) if k in kinds]
        exact = [(k, i) for k, i in matches if i == prefix]
        if exact:
            return exact[0]
        if not matches:
            raise NotFound(f"nothing has the id {prefix!r}")
        if len(matches) > 1:
            shown = ", ".join(i for _, i in matches[:3])
            raise NotFound(f"the id prefix {prefix!r} is ambiguous ({shown}…): type more of it")
        return matches[0]

    def search(self, query: str, filters: Filters | None = None, *, limit: int = 20,
               kinds: Sequence[str] | None = None, mode: str | None = None
               ) -> list[dict[str, Any]]:
        """Ranked hits, best first: the objects ``aimem search --json`` prints.

        ``mode``: ``lexical`` (words), ``semantic`` (meaning, needs ``aimem embed``) or
        ``hybrid`` (both, fused); None picks hybrid when the configured embedding model
        has vectors, else lexical. When semantic search cannot run, the lexical hits come
        back and :attr:`warning` says why.
        """
        self.warning = None
        _check_mode(mode)
        q = fts.parse(query)
        filters = self._merge_operators(q, filters)
        kinds = search_kinds(kinds)
        if mode == "lexical" or (mode is None and not q.terms):
            return self._lexical(q, filters, limit, kinds)
        from aimem.services import semantic

        model, _ = semantic.choose_model(self.store, mode)
        if model is None and mode is None:
            return self._lexical(q, filters, limit, kinds)
        # the words only: operators (source:, title:…) are filters, not meaning
        text = " ".join(t for t in query.split() if ":" not in t or t.startswith('"'))
        # both sides rank more candidates than asked for (fusion reorders them; on LoCoMo
        # dev fusing 10 and 10 for a top 10 loses 0.4 points where 20 and 20 gain 1.6):
        # HYBRID_CANDIDATES, or 10 more than asked for beyond that. Twice the limit (40 for
        # a top 20) measured 77.6 R@10 against 78.1 with 30, every category at or below,
        # and costs more: the lexical side then often runs its any-word tier too.
        wanted = max(limit + 10, HYBRID_CANDIDATES) if mode != "semantic" else limit
        # the meaning side runs on a thread while SQLite ranks the words (semantic.Pending)
        pending, warning = semantic.begin(self.store, text or query, filters, wanted, kinds,
                                          mode)
        lex = ([] if mode == "semantic" and pending is not None else
               self._lexical(q, filters, wanted, kinds, final=False))
        hits, self.warning = semantic.finish(self.store, pending, lex, wanted, mode, warning)
        if mode == "semantic" and self.warning:  # the meaning side failed: words after all
            hits = self._lexical(q, filters, wanted, kinds, final=False)
        hits = hits[:limit]
        for h in hits:
            h.setdefault("found_by", ["lexical"])
        return [_with_iso(h) for h in hits]

    def _lexical(self, q: fts.Query, filters: Filters | None, limit: int,
                 kinds: Sequence[str], final: bool = True) -> list[dict[str, Any]]:
        hits: list[dict[str, Any]] = []
        if "conversation" in kinds and (q.terms or q.title):
            hits += fts.search_conversations(self.store.conn, q, filters, limit)
        if q.terms:
            if "message" in kinds:
                hits += fts.search_messages(self.store.conn, q, filters, limit)
            if "memory" in kinds:
                hits += fts.search_memories(self.store.conn, q, filters, limit)
        elif q.title and "message" in kinds and "conversation" not in kinds:
            hits += fts.search_conversations(self.store.conn, q, filters, limit)
        hits = ranking.apply(self.store, hits)  # heat; also merges the kinds by score
        if not final:
            return hits[:limit]
        for h in hits[:limit]:
            h["found_by"] = ["lexical"]
        return [_with_iso(h) for h in hits[:limit]]

    def related(self, prefix: str, *, limit: int = 10) -> list[dict[str, Any]]:
        """Conversations and memories closest to one conversation or memory, best first:
        by embeddings when the configured model has vectors for it, else by its most
        distinctive words (see :mod:`aimem.services.related`). Each: kind, id, title, text
        (a memory's), source, created_at, score, by (embeddings or terms)."""
        from aimem.services import related

        return related.related(self, prefix, limit=limit)

    def _semantic_model(self, mode: str | None) -> str | None:
        """The embedding model to search with for ``mode``, or None for lexical only."""
        from aimem.services import semantic

        return semantic.choose_model(self.store, mode)[0]

    def _merge_operators(self, q: fts.Query, filters: Filters | None) -> Filters | None:
        if not (q.roles or q.sources or q.tags):
            return filters
        f = filters or Filters()
        return Filters(sources=f.sources + q.sources, tags=f.tags + q.tags, since=f.since,
                       until=f.until, roles=f.roles + q.roles, conversation=f.conversation,
                       project=f.project)

    def conversation_filter(self, prefix: str | None) -> str | None:
        """The full conversation id for a ``--conversation`` prefix (or a message id in it)."""
        if not prefix:
            return None
        kind, full = self.resolve(prefix, ("conversation", "message"))
        if kind == "message":
            return self.store.conversation_for_message(full)
        return full

    # -- reading ------------------------------------------------------------------------

    def show(self, prefix: str, *, record: bool = True, branches: bool = False
             ) -> dict[str, Any]:
        """One conversation (with messages) or memory, by id or unique prefix.

        A message id shows its conversation, with ``focus`` set to that message. Showing
        counts as a recall for ranking unless ``record`` is False. ``branches`` adds the
        conversation's off-branch messages (``branches``: a list, maybe empty), each with
        ``parent`` (the source id of the message it follows) and ``parent_id`` (that
        message's aimem id, when it is stored).
        """
        kind, full = self.resolve(prefix)
        if kind == "memory":
            mem = self.store.get_memory(full)
            assert mem is not None
            out = {"type": "memory", **memories.public(mem)}
            if record:
                memories.record_use(self.store, "memory", [full])
            return out
        focus = None
        if kind == "message":
            focus, full = full, self.store.conversation_for_message(full) or ""
        conv = self.store.get_conversation(full, with_branches=branches)
        if conv is None:
            raise NotFound(f"nothing has the id {prefix!r}")
        out = exporting.conversation_dict(conv, precise=False)
        if branches:
            by_source = {m.source_id: m.id for m in conv.messages + conv.branches
                         if m.source_id}
            out["branches"] = out.get("branches", [])
            for d in out["branches"]:
                d["parent_id"] = by_source.get(d["parent"])
        if focus:
            out["focus"] = focus
        if record:
            memories.record_use(self.store, "conversation", [conv.id or ""])
        return out

    def list_conversations(self, filters: Filters | None = None, *, limit: int = 20,
                           offset: int = 0) -> list[dict[str, Any]]:
        convs = list(self.store.iter_conversations(filters, limit=limit, offset=offset,
                                                   newest_first=True, with_messages=False))
        counts = self.store.message_counts([c.id for c in convs if c.id])
        out = []
        for c in convs:
            d = exporting.conversation_dict(c, precise=False)
            del d["messages"]
            d["messages"] = counts.get(c.id or "", 0)
            out.append(d)
        return out

    # -- memories, tags, profile ----------------------------------------------------------

    def remember(self, text: str, *, kind: str = "fact", tags: Sequence[str] = (),
                 pin: bool = False, source: str = "manual",
                 conversation_id: str | None = None, project: str | None = None
                 ) -> dict[str, Any]:
        """Save a memory; a near-duplicate refreshes the existing one (``created`` False).

        ``project``: a project folder (normalised to its git root) the memory belongs to;
        None saves a global memory. A refreshed memory keeps the project it had.
        """
        conv = self.conversation_filter(conversation_id) if conversation_id else None
        if project is not None:
            from aimem.projects import project_root

            project = project_root(project)
        return memories.remember(self.store, text, kind=kind, tags=tags, pin=pin, source=source,
                                 conversation_id=conv, project=project)

    def update_memory(self, prefix: str, *, text: str | None = None, kind: str | None = None,
                      tags: Sequence[str] | None = None, pin: bool | None = None
                      ) -> dict[str, Any]:
        _, full = self.resolve(prefix, ("memory",))
        return memories.update(self.store, full, text=text, kind=kind, tags=tags, pin=pin)

    def forget(self, prefixes: Sequence[str]) -> list[dict[str, Any]]:
        """Delete conversations or memories with everything derived from them."""
        items = [self.resolve(p, ("conversation", "memory")) for p in prefixes]
        return memories.forget(self.store, list(dict.fromkeys(items)))

    # -- embeddings and settings ----------------------------------------------------------

    def embed(self, filters: Filters | None = None, *, model: str | None = None,
              batch: int = 64, kinds: Sequence[str] = KINDS,
              progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Embed new and changed items with the embedding model (see services.semantic)."""
        from aimem.services import semantic

        return semantic.embed(self.store, filters, model=model, batch=batch, kinds=kinds,
                              progress=progress).to_dict()

    def embed_in_background(self) -> bool:
        """When an embedding model is configured, start the background embedder for this
        database (:mod:`aimem.services.embed_job`, output in ``embed.log`` next to it) and
        return True: an import, sync, remember or hook never waits for, or fails because
        of, the model."""
        from aimem.services import embed_job, semantic

        if not semantic.configured_model(self.store) or not semantic.has_numpy():
            return False
        return embed_job.start(self.path)

    def warm_semantic(self) -> bool:
        """Load the model and vectors a default search will use, if any (see
        :func:`aimem.services.semantic.warm`); never raises."""
        from aimem.services import semantic

        try:
            return semantic.warm(self.store)
        except Exception:  # noqa: BLE001 - a search will report the same problem itself
            return False

    def embedding_stats(self) -> list[dict[str, Any]]:
        from aimem.store import vectors

        return [{"model": m, "kind": k, "vectors": n} for m, k, n in vectors.counts(self.store.conn)]

    def get_config(self) -> dict[str, str]:
        from aimem.store import vectors

        return vectors.all_settings(self.store.conn)

    def set_config(self, key: str, value: str | None) -> str | None:
        """Set (None: unset) a setting; ``embed-model`` is resolved to the model's id."""
        from aimem.store import vectors

        if key not in CONFIG_KEYS:
            raise AimemError(f"unknown setting {key!r}: use one of {', '.join(CONFIG_KEYS)}")
        if key == "embed-model" and value:
            from aimem import llm_bridge

            value = llm_bridge.get_embedding_model(value).model_id
        with self.store.transaction():
            vectors.set_setting(self.store.conn, key, value)
        return value

    def vacuum(self) -> None:
        """Rebuild the file so deleted text does not linger in free pages."""
        self.store.vacuum()

    def list_memories(self, filters: Filters | None = None, *, limit: int | None = 50,
                      offset: int = 0, kind: str | None = None, pinned: bool | None = None
                      ) -> list[dict[str, Any]]:
        return memories.list_memories(self.store, filters, limit=limit, offset=offset,
                                      kind=kind, pinned=pinned)

    def add_tags(self, prefix: str, tags: Sequence[str]) -> list[str]:
        kind, full = self.resolve(prefix, ("conversation", "memory"))
        return memories.add_tags(self.store, kind, full, tags)

    def remove_tags(self, prefix: str, tags: Sequence[str]) -> list[str]:
        kind, full = self.resolve(prefix, ("conversation", "memory"))
        return memories.remove_tags(self.store, kind, full, tags)

    def list_tags(self) -> list[dict[str, Any]]:
        return memories.list_tags(self.store)

    def record_use(self, kind: str, ids: Sequence[str]) -> None:
        memories.record_use(self.store, kind, ids)

    def memory_tool(self) -> Any:
        """Claude's memory tool (view/create/str_replace/insert/delete/rename under
        /memories) over this database's memories: a :class:`~aimem.services.memory_tool.MemoryTool`."""
        from aimem.services.memory_tool import MemoryTool

        return MemoryTool(self.store)

    def profile(self) -> dict[str, Any]:
        return memories.profile(self.store)

    # -- inject ---------------------------------------------------------------------------

    def inject(self, query: str, filters: Filters | None = None, *,
               budget: int = 1500, format: str = "markdown", mode: str | None = None) -> str:
        """The context block for ``query`` (see :mod:`aimem.services.inject`); ``mode`` as
        for :meth:`search`."""
        from aimem.services import inject as inject_

        _check_mode(mode)
        return inject_.build(self.store, query, filters, budget=budget, format=format,
                             mode=mode)[0]

    def inject_items(self, query: str, filters: Filters | None = None, *,
                     budget: int = 1500, mode: str | None = None) -> dict[str, Any]:
        from aimem.services import inject as inject_

        _check_mode(mode)
        return inject_.build(self.store, query, filters, budget=budget, format="json",
                             mode=mode)[1]

    # -- through an llm model (aimem.services.llm_tasks) ----------------------------------
    # Each returns the batch report (llm_tasks.BatchReport.to_dict()). A missing model or
    # key, or Ctrl-C, raises llm_tasks.BatchStopped / BatchInterrupted with ``.report``.
    # ``model``: an llm model id or alias; None is llm's default model.

    def summarize(self, ids: Sequence[str] = (), filters: Filters | None = None, *,
                  model: str | None = None, force: bool = False, limit: int | None = None,
                  dry_run: bool = False, progress: Callable[[int, int, str], None] | None = None
                  ) -> dict[str, Any]:
        """Summaries (and a title where the source had none) for conversations that need one."""
        return self._llm_batch("summarize", ids, filters, model, force, limit, dry_run, progress)

    def auto_tag(self, ids: Sequence[str] = (), filters: Filters | None = None, *,
                 model: str | None = None, force: bool = False, limit: int | None = None,
                 dry_run: bool = False, progress: Callable[[int, int, str], None] | None = None
                 ) -> dict[str, Any]:
        """A few automatic tags per conversation, reusing the existing tags where they fit."""
        return self._llm_batch("auto_tag", ids, filters, model, force, limit, dry_run, progress)

    def distill(self, ids: Sequence[str] = (), filters: Filters | None = None, *,
                model: str | None = None, force: bool = False, limit: int | None = None,
                dry_run: bool = False, progress: Callable[[int, int, str], None] | None = None
                ) -> dict[str, Any]:
        """Durable memories extracted from conversations, linked to them, never duplicated."""
        return self._llm_batch("distill", ids, filters, model, force, limit, dry_run, progress)

    def synthesize_profile(self, *, model: str | None = None) -> dict[str, Any]:
        """A short paragraph about the user from their memories; ``profile()`` returns it."""
        from aimem import llm_bridge
        from aimem.services import llm_tasks

        return llm_tasks.synthesize_profile(self.store, model=llm_bridge.get_model(model))

    def _llm_batch(self, task: str, ids: Sequence[str], filters: Filters | None,
                   model: str | None, force: bool, limit: int | None, dry_run: bool,
                   progress: Callable[[int, int, str], None] | None) -> dict[str, Any]:
        from aimem import llm_bridge
        from aimem.services import llm_tasks

        full = [c for c in (self.conversation_filter(p) for p in ids) if c]
        run = getattr(llm_tasks, task)
        return run(self.store, list(dict.fromkeys(full)), filters,
                   model=llm_bridge.get_model(model), force=force, limit=limit,
                   dry_run=dry_run, progress=progress).to_dict()

    def stats(self) -> dict[str, Any]:
        s = self.store.stats()
        s["first"], s["last"] = iso(s["first"]), iso(s["last"])
        return s


def __getattr__(name: str) -> Any:
    """``Memory`` was this class's first name; it still works, with a warning."""
    if name == "Memory":
        import warnings

        warnings.warn("aimem.services.Memory is now aimem.services.Archive; the old name will go "
                      "in a future release", DeprecationWarning, stacklevel=2)
        return Archive
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["KINDS", "Archive"]
