"""What the search screen is showing: the query, the scope and the filters.

Plain data, no Textual: the screen changes it with the cycle/set methods, describes it
in the filter bar with :meth:`SearchState.describe` and turns it into Archive calls with
:func:`fetch` (which runs on the database thread).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from aimem.services import Archive
from aimem.services.filters import make_filters

SCOPES = ("all", "messages", "memories", "conversations")
KINDS = {"all": ("message", "memory", "conversation"), "messages": ("message",),
         "memories": ("memory",), "conversations": ("conversation",)}
PERIODS = (None, "1d", "7d", "30d", "1y")
PERIOD_NAMES = {None: "any time", "1d": "last day", "7d": "last week", "30d": "last month",
                "1y": "last year"}
# How a query is matched (aimem search --mode): None is the default, hybrid when the
# configured embedding model has vectors (aimem embed), else words only.
MODES = (None, "lexical", "hybrid", "semantic")
MODE_NAMES = {None: "auto", "lexical": "words", "hybrid": "words+meaning",
              "semantic": "meaning"}


def _next(values: tuple[Any, ...] | list[Any], current: Any) -> Any:
    i = values.index(current) if current in values else -1
    return values[(i + 1) % len(values)]


@dataclass(frozen=True, slots=True)
class SearchState:
    query: str = ""
    scope: str = "all"
    source: str | None = None
    tag: str | None = None
    period: str | None = None
    mode: str | None = None

    def with_query(self, query: str) -> SearchState:
        return replace(self, query=query)

    def next_scope(self) -> SearchState:
        return replace(self, scope=_next(SCOPES, self.scope))

    def next_source(self, sources: list[str]) -> SearchState:
        return replace(self, source=_next([None, *sources], self.source))

    def with_tag(self, tag: str | None) -> SearchState:
        return replace(self, tag=tag)

    def next_period(self) -> SearchState:
        return replace(self, period=_next(PERIODS, self.period))

    def next_mode(self) -> SearchState:
        return replace(self, mode=_next(MODES, self.mode))

    def cleared(self) -> SearchState:
        return SearchState(query=self.query, scope=self.scope, mode=self.mode)

    @property
    def filtered(self) -> bool:
        return bool(self.source or self.tag or self.period)

    @property
    def kinds(self) -> tuple[str, ...]:
        return KINDS[self.scope]

    def describe(self) -> list[tuple[str, str, bool]]:
        """(label, value, active) for the filter bar."""
        return [("scope", self.scope, self.scope != "all"),
                ("source", self.source or "any", self.source is not None),
                ("tag", self.tag or "any", self.tag is not None),
                ("time", PERIOD_NAMES[self.period], self.period is not None),
                ("mode", MODE_NAMES[self.mode], self.mode is not None)]


def fetch(mem: Archive, state: SearchState, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """Rows for the result list; runs on the database thread.

    A query searches (best first; ``offset`` is applied to the ranked list) in the state's
    mode; when meaning cannot be searched, ``mem.warning`` says why (words only). An
    empty query lists what is newest: memories in the memories scope, else conversations.
    """
    mem.warning = None
    f = make_filters(mem, source=[state.source] if state.source else None,
                     tag=[state.tag] if state.tag else None, since=state.period)
    if not state.query.strip():
        if state.scope == "memories":
            rows = mem.list_memories(f, limit=limit, offset=offset)
            return [{**r, "kind": "memory", "memory_kind": r["kind"]} for r in rows]
        rows = mem.list_conversations(f, limit=limit, offset=offset)
        return [{**r, "kind": "conversation", "conversation_id": r["id"]} for r in rows]
    return mem.search(state.query, f, limit=offset + limit, kinds=state.kinds,
                      mode=state.mode)[offset:]
