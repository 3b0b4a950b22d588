"""The one API every front end calls: :class:`Memory`.

The CLI, the TUI, the MCP server and the Python API all hold a ``Memory`` and call
its methods; they never reach into the store themselves. Methods return plain,
JSON-ready dicts (times as ISO 8601 strings), the shapes interface.md documents.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from aimem.errors import NotFound
from aimem.models import Filters, ImportReport
from aimem.paths import db_path
from aimem.services import exporting, importing
from aimem.services import sync as sync_
from aimem.store import search as fts
from aimem.store.db import Store
from aimem.timeutil import iso

KINDS = ("message", "memory", "conversation")


def _with_iso(hit: dict[str, Any]) -> dict[str, Any]:
    hit["created_at"] = iso(hit["created_at"])
    return hit


class Memory:
    """aimem's memory: one database, and everything that can be done with it."""

    def __init__(self, store: Store):
        self.store = store

    @classmethod
    def open(cls, db: str | os.PathLike[str] | None = None, *, create: bool = True) -> Memory:
        """Open the database (``None``: the default location); ``create=False`` for reads."""
        return cls(Store.open(db_path(db), create=create))

    @property
    def path(self) -> Path:
        return self.store.path

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- import / export ----------------------------------------------------------------

    def import_paths(self, paths: Sequence[str], *, fmt: str = "auto", tags: Sequence[str] = (),
                     dry_run: bool = False, redact: bool = True,
                     progress: importing.Progress | None = None) -> ImportReport:
        return importing.import_paths(self.store, paths, fmt=fmt, tags=tags, dry_run=dry_run,
                                      redact=redact, progress=progress)

    def export_jsonl(self, filters: Filters | None = None) -> Iterator[bytes]:
        return exporting.jsonl_lines(self.store, filters)

    # -- sync ---------------------------------------------------------------------------

    def sync(self, *, redact: bool = True,
             on_file: Callable[[str, int, int], None] | None = None) -> sync_.SyncReport:
        """Import what changed in the known local sources and the added folders."""
        return sync_.sync(self.store, redact=redact, on_file=on_file)

    def sync_sources(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in sync_.sources(self.store)]

    def add_sync_source(self, path: str) -> str:
        return sync_.add_source(self.store, path)

    def remove_sync_source(self, path: str) -> str:
        return sync_.remove_source(self.store, path)

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
               kinds: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Ranked hits, best first: the objects ``aimem search --json`` prints."""
        q = fts.parse(query)
        filters = self._merge_operators(q, filters)
        kinds = tuple(kinds or ("message", "memory"))
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
        if len(kinds) > 1:
            hits.sort(key=lambda h: -h["score"])
        return [_with_iso(h) for h in hits[:limit]]

    def _merge_operators(self, q: fts.Query, filters: Filters | None) -> Filters | None:
        if not (q.roles or q.sources or q.tags):
            return filters
        f = filters or Filters()
        return Filters(sources=f.sources + q.sources, tags=f.tags + q.tags, since=f.since,
                       until=f.until, roles=f.roles + q.roles, conversation=f.conversation)

    def conversation_filter(self, prefix: str | None) -> str | None:
        """The full conversation id for a ``--conversation`` prefix (or a message id in it)."""
        if not prefix:
            return None
        kind, full = self.resolve(prefix, ("conversation", "message"))
        if kind == "message":
            return self.store.conversation_for_message(full)
        return full

    # -- reading ------------------------------------------------------------------------

    def show(self, prefix: str) -> dict[str, Any]:
        """One conversation (with messages) or memory, by id or unique prefix.

        A message id shows its conversation, with ``focus`` set to that message.
        """
        kind, full = self.resolve(prefix)
        if kind == "memory":
            mem = self.store.get_memory(full)
            assert mem is not None
            out = exporting.memory_dict(mem, precise=False)
            out["pinned"] = mem.pinned
            return out
        focus = None
        if kind == "message":
            focus, full = full, self.store.conversation_for_message(full) or ""
        conv = self.store.get_conversation(full)
        if conv is None:
            raise NotFound(f"nothing has the id {prefix!r}")
        out = exporting.conversation_dict(conv, precise=False)
        if focus:
            out["focus"] = focus
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

    def stats(self) -> dict[str, Any]:
        s = self.store.stats()
        s["first"], s["last"] = iso(s["first"]), iso(s["last"])
        return s


__all__ = ["KINDS", "Memory"]
