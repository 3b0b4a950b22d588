"""Full-text search: parse what a person typed, build safe FTS5 queries, rank with bm25().

Raw user text never reaches ``MATCH``: the query is parsed into terms, and every term
is emitted as a double-quoted FTS5 string (quotes doubled), so no input can raise an
FTS5 syntax error.

Plain words match any of the words, but messages with all of them come first: the
all-words query runs first, and the any-word (OR) query only fills up the rest. On
conversational data this keeps the recall of OR while the common case ranks far fewer
rows (an AND of two words touches only their intersection).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from aimem.models import Filters
from aimem.store.db import filter_sql, memory_filter_sql
from aimem.timeutil import date_mentions

MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # snippet markers; front ends turn them into styles
OPERATORS = {"title", "role", "source", "tag"}

# Words that carry no meaning on their own; dropped from plain-word queries as long as
# something else is left (never from quoted phrases).
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
s t d ll m re ve y ever also get got let lets like much many tell told say said thing things
""".split())

_TOKEN = re.compile(r'(-?)(?:([A-Za-z]+):)?("([^"]*)"?|[^\s"]+)')
_WORD = re.compile(r"\w+")


@dataclass(slots=True)
class Term:
    words: list[str]  # one word, or several for a phrase
    prefix: bool = False
    quoted: bool = False

    def fts(self) -> str:
        return '"' + " ".join(self.words).replace('"', '""') + '"' + (" *" if self.prefix else "")

    @property
    def is_stopword(self) -> bool:
        return not self.quoted and not self.prefix and all(w.lower() in STOPWORDS
                                                           for w in self.words)


@dataclass(slots=True)
class Query:
    terms: list[Term] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    title: list[Term] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # time windows of the dates the query names ("in March 2024"): a soft ranking hint
    when: list[tuple[float, float]] = field(default_factory=list)
    # the plain words as typed, stopwords included, when there are several: their exact
    # sequence ranks first (someone who types a line they remember wants that message)
    typed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.title

    def phrase(self) -> str | None:
        """FTS5 query: the plain words as one phrase, in the order typed (None for < 3)."""
        if len(self.typed) < 3:
            return None
        return self._with_exclusions(Term(words=self.typed, quoted=True).fts())

    def all_words(self) -> str | None:
        """FTS5 query: every term (None when there is only one, so it equals any_word)."""
        if len(self.terms) < 2:
            return None
        return self._with_exclusions(" AND ".join(t.fts() for t in self.terms))

    def any_word(self) -> str | None:
        if not self.terms:
            return None
        return self._with_exclusions(" OR ".join(t.fts() for t in self.terms))

    def _with_exclusions(self, expr: str) -> str:
        if not self.excluded:
            return expr
        return f"({expr})" + "".join(f" NOT {t.fts()}" for t in self.excluded)

    def title_query(self) -> str | None:
        if not self.title:
            return None
        return "title : (" + " AND ".join(t.fts() for t in self.title) + ")"


def _term(raw: str, quoted: bool) -> Term | None:
    prefix = not quoted and raw.endswith("*")
    words = _WORD.findall(raw)
    if not words:
        return None
    return Term(words=words, prefix=prefix, quoted=quoted or len(words) > 1)


def parse(text: str) -> Query:
    """Parse a search box: words, "phrases", prefix*, -excluded, title:/role:/source:/tag:."""
    q = Query()
    text = text.replace("\x00", " ")
    q.when = date_mentions(text)
    for m in _TOKEN.finditer(text):
        neg, op, body, inner = m.group(1), (m.group(2) or "").lower(), m.group(3), m.group(4)
        quoted = inner is not None
        raw = inner if quoted else body
        if op and op not in OPERATORS:
            raw, op = f"{m.group(2)}:{raw}", ""  # not an operator: search for the text
        if op in ("role", "source", "tag"):
            value = raw.strip()
            if value:
                {"role": q.roles, "source": q.sources, "tag": q.tags}[op].append(value)
            continue
        term = _term(raw, quoted)
        if term is None:
            continue
        if op == "title":
            q.title.append(term)
        elif neg:
            q.excluded.append(term)
        else:
            q.terms.append(term)
    if q.terms and all(not t.quoted and not t.prefix for t in q.terms):
        q.typed = [w for t in q.terms for w in t.words]
    meaningful = [t for t in q.terms if not t.is_stopword]
    if meaningful:
        q.terms = meaningful
    # the same word twice adds nothing but cost
    seen: set[str] = set()
    unique = []
    for t in q.terms:
        key = t.fts().lower()
        if key not in seen:
            seen.add(key)
            unique.append(t)
    q.terms = unique
    return q


def _snippet(col: int, table: str, tokens: int = 24) -> str:
    return f"snippet({table}, {col}, '{MARK_OPEN}', '{MARK_CLOSE}', '…', {tokens})"


def _message_rows(conn: sqlite3.Connection, match: str, filters: Filters | None,
                  title_match: str | None, limit: int) -> list[tuple[int, float, str]]:
    """(rowid, rank, snippet) of the best messages for one FTS5 query."""
    where, params = filter_sql(filters)
    if title_match:
        where += (" AND m.conversation IN (SELECT rowid FROM conversations_fts "
                  "WHERE conversations_fts MATCH ?)")
        params.append(title_match)
    if where == "1":
        sql = (f"SELECT rowid, rank, {_snippet(0, 'messages_fts')} FROM messages_fts "
               "WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?")
        return conn.execute(sql, (match, limit)).fetchall()
    sql = (f"SELECT f.rowid, f.rank, {_snippet(0, 'messages_fts')} FROM messages_fts f "
           "JOIN messages m ON m.rowid = f.rowid JOIN conversations c ON c.rowid = m.conversation "
           f"WHERE messages_fts MATCH ? AND {where} ORDER BY f.rank LIMIT ?")
    return conn.execute(sql, (match, *params, limit)).fetchall()


def _tiered(run, q: Query, limit: int) -> list[tuple[int, float, str, int]]:  # type: ignore[no-untyped-def]
    """Tiers, each only filling up what the ones before left: the exact sequence of the
    typed words (tier 0), all the words (1), any of them (2)."""
    rows: list[tuple[int, float, str, int]] = []
    seen: set[int] = set()
    for tier, match in enumerate((q.phrase(), q.all_words(), q.any_word())):
        if match is None or len(rows) >= limit:
            continue
        for r in run(match, limit + len(rows)):
            if r[0] not in seen and len(rows) < limit:
                seen.add(r[0])
                rows.append((*r, tier))
    return rows


# A message from the time a query names ("in July 2023") scores this many times higher.
# Chats are dated, and people place what they look for in time; the words of the date
# itself rarely occur in the message. A factor, not a filter: a strong match from another
# month still comes first. To let it lift a message into the results, three times the
# limit are ranked first. On LoCoMo dev (issue 17) it adds 1.6 points of R@10.
DATE_BOOST = 2.0
DATE_CANDIDATES = 3


def search_messages(conn: sqlite3.Connection, q: Query, filters: Filters | None,
                    limit: int) -> list[dict[str, Any]]:
    if not q.terms or limit <= 0:
        return []
    title = q.title_query()
    wanted = limit * DATE_CANDIDATES if q.when else limit
    rows = _tiered(lambda match, n: _message_rows(conn, match, filters, title, n), q, wanted)
    if not rows:
        return []
    info = {r[0]: r[1:] for r in conn.execute(
        "SELECT m.rowid, m.id, c.id, c.source, m.source_id, c.title, m.role, m.author, "
        "coalesce(m.created_at, c.created_at), m.text FROM messages m "
        "JOIN conversations c ON c.rowid = m.conversation "
        f"WHERE m.rowid IN ({','.join('?' * len(rows))})", [r[0] for r in rows])}
    hits = []
    for rowid, rank, snip, tier in rows:
        mid, cid, source, source_id, title_, role, author, created, text = info[rowid]
        score = -rank
        if q.when and created is not None and any(a <= created < b for a, b in q.when):
            score *= DATE_BOOST
        hits.append({"kind": "message", "id": mid, "conversation_id": cid, "source": source,
                     "source_id": source_id, "title": title_, "role": role, "author": author,
                     "created_at": created, "score": score, "snippet": snip,
                     "text": text, "tier": tier})
    if q.when:
        hits.sort(key=lambda h: (h["tier"], -h["score"]))
        del hits[limit:]
    return hits


def search_memories(conn: sqlite3.Connection, q: Query, filters: Filters | None,
                    limit: int) -> list[dict[str, Any]]:
    if not q.terms or limit <= 0 or q.title or (filters and filters.conversation_only):
        return []
    where, params = memory_filter_sql(filters, "mm")

    def run(match: str, n: int) -> list[tuple[int, float, str]]:
        return conn.execute(
            f"SELECT f.rowid, f.rank, {_snippet(0, 'memories_fts')} FROM memories_fts f "
            f"JOIN memories mm ON mm.rowid = f.rowid WHERE memories_fts MATCH ? AND {where} "
            "ORDER BY f.rank LIMIT ?", (match, *params, n)).fetchall()

    rows = _tiered(run, q, limit)
    if not rows:
        return []
    info = {r[0]: r[1:] for r in conn.execute(
        "SELECT rowid, id, source, kind, text, updated_at FROM memories "
        f"WHERE rowid IN ({','.join('?' * len(rows))})", [r[0] for r in rows])}
    hits = []
    for rowid, rank, snip, tier in rows:
        mid, source, kind, text, updated = info[rowid]
        hits.append({"kind": "memory", "id": mid, "conversation_id": None, "source": source,
                     "source_id": None, "title": None, "role": None, "author": None,
                     "created_at": updated, "score": -rank, "snippet": snip,
                     "text": text, "memory_kind": kind, "tier": tier})
    return hits


def search_conversations(conn: sqlite3.Connection, q: Query, filters: Filters | None,
                         limit: int) -> list[dict[str, Any]]:
    """Conversations whose title (or summary) matches: ``title:`` terms, else the words."""
    if q.title:
        match = q.title_query()
        assert match is not None
        tiers = [match]
    else:
        tiers = [t for t in (q.all_words(), q.any_word()) if t]
    if not tiers or limit <= 0:
        return []
    where, params = filter_sql(filters, "c", None)
    rows: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    for tier, match in enumerate(tiers):
        for r in conn.execute(
                f"SELECT f.rowid, f.rank, {_snippet(-1, 'conversations_fts', 16)}, c.id, c.source, "
                "c.source_id, c.title, c.created_at FROM conversations_fts f JOIN conversations c "
                f"ON c.rowid = f.rowid WHERE conversations_fts MATCH ? AND {where} "
                "ORDER BY f.rank LIMIT ?", (match, *params, limit)):
            if r[0] not in seen and len(rows) < limit:
                seen.add(r[0])
                rows.append((*r, tier))
    return [{"kind": "conversation", "id": cid, "conversation_id": cid, "source": source,
             "source_id": sid, "title": title, "role": None, "author": None, "created_at": created,
             "score": -rank, "snippet": snip, "text": title, "tier": tier}
            for _, rank, snip, cid, source, sid, title, created, tier in rows]


def _plain_snippet(text: str | None, chars: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= chars else text[:chars - 1] + "…"


def hits_for_rows(conn: sqlite3.Connection, rows: list[tuple[str, int, float]],
                  filters: Filters | None) -> list[dict[str, Any]]:
    """Hits for (kind, rowid, score) found another way (by meaning), in that order,
    dropping those the filters exclude. The snippet is the start of the text."""
    by_kind: dict[str, list[int]] = {}
    for kind, rowid, _ in rows:
        by_kind.setdefault(kind, []).append(rowid)
    found: dict[tuple[str, int], dict[str, Any]] = {}
    if by_kind.get("message"):
        where, params = filter_sql(filters)
        ids = by_kind["message"]
        for (rowid, mid, cid, source, source_id, title_, role, author, created,
             text) in conn.execute(
                "SELECT m.rowid, m.id, c.id, c.source, m.source_id, c.title, m.role, m.author, "
                "coalesce(m.created_at, c.created_at), m.text FROM messages m "
                "JOIN conversations c ON c.rowid = m.conversation "
                f"WHERE m.rowid IN ({','.join('?' * len(ids))}) AND {where}", [*ids, *params]):
            found[("message", rowid)] = {
                "kind": "message", "id": mid, "conversation_id": cid, "source": source,
                "source_id": source_id, "title": title_, "role": role, "author": author,
                "created_at": created, "snippet": _plain_snippet(text), "text": text}
    if by_kind.get("memory") and not (filters and filters.conversation_only):
        where, params = memory_filter_sql(filters, "mm")
        ids = by_kind["memory"]
        for rowid, mid, source, kind, text, updated in conn.execute(
                "SELECT mm.rowid, mm.id, mm.source, mm.kind, mm.text, mm.updated_at FROM memories mm "
                f"WHERE mm.rowid IN ({','.join('?' * len(ids))}) AND {where}", [*ids, *params]):
            found[("memory", rowid)] = {
                "kind": "memory", "id": mid, "conversation_id": None, "source": source,
                "source_id": None, "title": None, "role": None, "author": None,
                "created_at": updated, "snippet": _plain_snippet(text), "text": text,
                "memory_kind": kind}
    if by_kind.get("conversation"):
        where, params = filter_sql(filters, "c", None)
        ids = by_kind["conversation"]
        for rowid, cid, source, sid, title, created in conn.execute(
                "SELECT c.rowid, c.id, c.source, c.source_id, c.title, c.created_at "
                f"FROM conversations c WHERE c.rowid IN ({','.join('?' * len(ids))}) AND {where}",
                [*ids, *params]):
            found[("conversation", rowid)] = {
                "kind": "conversation", "id": cid, "conversation_id": cid, "source": source,
                "source_id": sid, "title": title, "role": None, "author": None,
                "created_at": created, "snippet": _plain_snippet(title), "text": title}
    out = []
    for kind, rowid, score in rows:
        hit = found.get((kind, rowid))
        if hit is not None:
            out.append({**hit, "score": score})
    return out
