"""Full-text search: parse what a person typed, build safe FTS5 queries, rank with bm25().

Raw user text never reaches ``MATCH``: the query is parsed into terms, and every term
is emitted as a double-quoted FTS5 string (quotes doubled), so no input can raise an
FTS5 syntax error.

Plain words match any of the words, but messages with all of them come first: the
all-words query runs first, and the any-word (OR) query only fills up the rest. On
conversational data this keeps the recall of OR while the common case ranks far fewer
rows (an AND of two words touches only their intersection).

A query with Chinese, Japanese or Korean words runs on the ``*_cjk`` indexes instead (see
``aimem.store.cjk``): they hold every row with CJK letters, completely, so all-words and
any-word hits come from there; the main index adds the rows without CJK letters that have
one of the other words (any-word tier). Their snippets are cut from the text in Python.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aimem.models import Filters
from aimem.snippets import MARK_CLOSE, MARK_OPEN  # front ends turn them into styles
from aimem.store import cjk, prefixes
from aimem.store.db import filter_sql, memory_filter_sql
from aimem.timeutil import date_mentions

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

    def fts(self, cjk_form: bool = False) -> str:
        """The term as an FTS5 string; ``cjk_form`` for the CJK indexes."""
        if cjk_form and self.cjk:
            return cjk.query(self.words, self.prefix)
        return '"' + " ".join(self.words).replace('"', '""') + '"' + (" *" if self.prefix else "")

    @property
    def cjk(self) -> bool:
        return any(cjk.has_cjk(w) for w in self.words)

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

    def phrase(self, column: str | None = None) -> str | None:
        """FTS5 query: the plain words as one phrase, in the order typed (None for < 3),
        in ``column`` only when given (a message's own text, not its neighbours')."""
        if len(self.typed) < 3:
            return None
        expr = Term(words=self.typed, quoted=True).fts()
        return self._with_exclusions(f"{column} : {expr}" if column else expr)

    @property
    def cjk(self) -> bool:
        """Whether the words run on the CJK indexes (a term or an exclusion has CJK)."""
        return any(t.cjk for t in (*self.terms, *self.excluded))

    @property
    def title_cjk(self) -> bool:
        return any(t.cjk for t in self.title)

    def all_words(self, cjk_form: bool = False) -> str | None:
        """FTS5 query: every term (None when there is only one, so it equals any_word)."""
        if len(self.terms) < 2:
            return None
        return self._with_exclusions(" AND ".join(t.fts(cjk_form) for t in self.terms),
                                     cjk_form)

    def any_word(self, cjk_form: bool = False) -> str | None:
        if not self.terms:
            return None
        return self._with_exclusions(" OR ".join(t.fts(cjk_form) for t in self.terms), cjk_form)

    def latin_any_word(self) -> str | None:
        """The terms without CJK letters, for the main index (rows without CJK letters)."""
        latin = [t.fts() for t in self.terms if not t.cjk]
        if not latin:
            return None
        expr = " OR ".join(latin)
        excluded = [t.fts() for t in self.excluded if not t.cjk]
        return f"({expr})" + "".join(f" NOT {e}" for e in excluded) if excluded else expr

    def cjk_excluded(self) -> str | None:
        """The excluded CJK terms, for the CJK index (to drop main-index rows that have one)."""
        terms = [t.fts(True) for t in self.excluded if t.cjk]
        return " OR ".join(terms) if terms else None

    def _with_exclusions(self, expr: str, cjk_form: bool = False) -> str:
        if not self.excluded:
            return expr
        return f"({expr})" + "".join(f" NOT {t.fts(cjk_form)}" for t in self.excluded)

    def title_query(self, cjk_form: bool = False) -> str | None:
        if not self.title:
            return None
        return "title : (" + " AND ".join(t.fts(cjk_form) for t in self.title) + ")"

    def words(self) -> list[str]:
        """Every word searched for (what a snippet marks)."""
        return [w for t in (*self.terms, *self.title) for w in t.words]


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


def _cjk_snippet(text: str | None, q: Query, tokens: int = 24) -> str:
    return cjk.snippet(text, q.words(), MARK_OPEN, MARK_CLOSE, "…", tokens)


Rows = list[tuple[int, float, str | None]]  # (rowid, rank, snippet; None: cut it from the text)

# A query that matches more rows than this (a very common word, a one-letter word typed
# into the search box) ranks only the newest RANK_WINDOW rows it matches. bm25() is
# computed for every row a query ranks, so without a bound the cost grows with the
# database (1.6 s for "the" at a million messages); finding where the window starts
# walks the index in rowid order and ranks nothing. A query matching fewer rows runs
# exactly as before. Measured at M (250k messages, CPU time): "the" 497 -> 52 ms, the
# slowest search while typing the bench_tui.py queries 202 -> 39 ms; 49 of the 50
# benchmark queries keep the same top 20 ("python", 49k matches, changes). A window of
# 5,000 costs 28 ms for "the" but changes 7 of the 50.
RANK_WINDOW = 20_000


def _window_floor(conn: sqlite3.Connection, source: str, args: Sequence[Any],
                  window: int | None) -> int | None:
    """The smallest rowid of the ``window`` newest rows a query matches (None when fewer
    match): ``source`` is the query's FROM and WHERE, the FTS table aliased ``f``.
    ``window`` None means RANK_WINDOW, 0 no bound."""
    if window is None:
        window = RANK_WINDOW
    if window <= 0:
        return None
    # Most queries match fewer rows than the window: counting them, forwards and stopping
    # at the window, is cheaper than walking them backwards (FTS5 reads a doclist in
    # reverse page by page; an AND of a rare and a common word, at M: 0.8 -> 0.4 ms).
    # Only a query that reaches the window then looks for where it starts.
    (n,) = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT ?)",
                        (*args, window)).fetchone()
    if n < window:
        return None
    row = conn.execute(f"SELECT f.rowid FROM {source} ORDER BY f.rowid DESC LIMIT 1 OFFSET ?",
                       (*args, window - 1)).fetchone()
    return None if row is None else row[0]


def _ranked(conn: sqlite3.Connection, source: str, args: Sequence[Any], limit: int,
            window: int | None, snippet: str | None = None, skip: Collection[int] = (),
            wanted: int | None = None) -> Rows:
    """(rowid, rank, snippet) of ``SELECT ... FROM source ORDER BY f.rank LIMIT limit``,
    ranking at most the ``window`` newest matching rows; ``snippet`` is the SQL of the
    snippet column (None: no snippet, the caller cuts it from the text).

    ``skip`` and ``wanted``: a later tier (see ``_tiered``) keeps only the first
    ``wanted`` of its rows that an earlier tier did not find (``skip``); the others come
    back without a snippet (never shown), as cutting one costs ~25 us.

    Without filters (no join), two things make this cheaper than the one statement it
    stands for, with the same rows in the same order (ties in rowid order, as FTS5's own
    sort has them):
    - ``ORDER BY r + 0``: FTS5's plan for ``ORDER BY rank`` sorts every match in a nested
      statement; SQLite's own LIMIT sorter keeps only the best ``limit``: 30 % less CPU
      for the same bm25 work (at M: "docker", 17k matches, 21 -> 15 ms; "maven" 1.9 -> 1.2).
    - the snippets are then cut for the rows returned only (see ``_snippets``).
    """
    if " JOIN " in source:
        floor = _window_floor(conn, source, args, window)
        if floor is not None:
            source += " AND f.rowid >= ?"
            args = (*args, floor)
        # filtered: FTS5's rank order goes first, so the join and the snippets run only
        # until ``limit`` rows pass the filters (the LIMIT sorter would join every match)
        return conn.execute(f"SELECT f.rowid, f.rank, {snippet or 'NULL'} FROM {source} "
                            "ORDER BY f.rank LIMIT ?", (*args, limit)).fetchall()
    if window is None:
        window = RANK_WINDOW
    if window > 0 and "*" in args[0]:
        # A prefix query (``the*``): FTS5 merges the doclists of all the prefix's terms in
        # every statement that runs it, so the newest ``window`` matches are ranked in one
        # statement (the same rows as counting, finding where the window starts, and
        # ranking from there: three merges). At M, one command: "the*" 934 -> 686 ms,
        # "s*" 3.7 -> 2.7 s. (``*`` in a MATCH string here is only ever the prefix operator: terms
        # are words.) Other queries read a doclist backwards more slowly than they count
        # it forwards, so they keep the count.
        rows = conn.execute(
            f"SELECT rowid, r FROM (SELECT f.rowid AS rowid, f.rank AS r FROM {source} "
            "ORDER BY f.rowid DESC LIMIT ?) ORDER BY r + 0, rowid LIMIT ?",
            (*args, window, limit)).fetchall()
    else:
        floor = _window_floor(conn, source, args, window)
        if floor is not None:
            source += " AND f.rowid >= ?"
            args = (*args, floor)
        rows = conn.execute(f"SELECT f.rowid, f.rank AS r FROM {source} "
                            "ORDER BY r + 0, f.rowid LIMIT ?", (*args, limit)).fetchall()
    ids = [r[0] for r in rows if r[0] not in skip][:wanted]
    if snippet is None or not ids:
        return [(r[0], r[1], None) for r in rows]
    table = source.split(" ", 1)[0]
    snips = _snippets(conn, table, args[0], ids, snippet)
    return [(r[0], r[1], snips.get(r[0])) for r in rows]


def _snippets(conn: sqlite3.Connection, table: str, match: str, rowids: list[int],
              snippet: str) -> dict[int, str]:
    """rowid -> snippet for ``rowids`` (a few) among the matches of ``match`` in ``table``
    (a snippet depends on the query and the row only: no filters, no joins here).

    One pass over the matches between the smallest and the largest rowid, cutting a
    snippet only where the rowid is wanted (``+f.rowid IN``: the ``+`` keeps SQLite from
    running the full-text query once per rowid, which costs 50 us each)."""
    marks = ",".join("?" * len(rowids))
    return dict(conn.execute(
        f"SELECT f.rowid, {snippet} FROM {table} f WHERE {table} MATCH ? "
        f"AND f.rowid BETWEEN ? AND ? AND +f.rowid IN ({marks})",
        (match, min(rowids), max(rowids), *rowids)))


def _message_rows(conn: sqlite3.Connection, match: str, filters: Filters | None,
                  title: tuple[str, str] | None, limit: int, *, table: str = "messages_fts",
                  not_cjk: str | None = None, window: int | None = None,
                  skip: Collection[int] = (), wanted: int | None = None) -> Rows:
    """(rowid, rank, snippet) of the best messages for one FTS5 query on ``table``.

    ``title`` is (index, query) for a ``title:`` filter; ``not_cjk`` a CJK-index query
    whose rows are left out; ``window`` bounds the rows ranked (see RANK_WINDOW).
    """
    conditions = _message_conditions(conn, filters, title)
    if conditions is None:
        return []
    where, params, bounds = conditions
    if bounds:
        # one conversation: its messages' rowids bound the full-text scan (FTS5 seeks to
        # them), instead of joining every match to find the few in it. "sourdough" within
        # one conversation at M: 218 -> 2 ms. (The join still checks each row.)
        where += " AND f.rowid BETWEEN ? AND ?"
        params += bounds
    if not_cjk:
        where += " AND m.rowid NOT IN (SELECT rowid FROM messages_cjk WHERE messages_cjk MATCH ?)"
        params.append(not_cjk)
    # A prefix query's snippets are cut from the text in Python (as for CJK): FTS5's
    # snippet() would run the query again, merging every term of the prefix once more
    # (at M, one command: "the*" 686 -> 437 ms, "s*" 2.7 -> 1.6 s).
    snip = _snippet(0, table) if table == "messages_fts" and "*" not in match else None
    if where == "1":
        source = f"{table} f WHERE {table} MATCH ?"
    else:
        source = (f"{table} f JOIN messages m ON m.rowid = f.rowid "
                  "JOIN conversations c ON c.rowid = m.conversation "
                  f"WHERE {table} MATCH ? AND {where}")
    return _ranked(conn, source, (match, *params), limit, window, snip, skip, wanted)


def _message_conditions(conn: sqlite3.Connection, filters: Filters | None,
                        title: tuple[str, str] | None
                        ) -> tuple[str, list[Any], tuple[int, int] | None] | None:
    """SQL conditions on ``m`` and ``c`` for the filters and a ``title:`` query, their
    parameters, and for a one-conversation filter the smallest and largest rowid of its
    messages (for the caller to bound the full-text scan by); None when that
    conversation has no messages."""
    where, params = filter_sql(filters)
    bounds = None
    if filters is not None and filters.conversation:
        low, high = conn.execute(
            "SELECT min(m.rowid), max(m.rowid) FROM messages m JOIN conversations c "
            "ON c.rowid = m.conversation WHERE c.id = ?", (filters.conversation,)).fetchone()
        if low is None:
            return None
        bounds = (low, high)
    if title:
        where += (f" AND m.conversation IN (SELECT rowid FROM {title[0]} "
                  f"WHERE {title[0]} MATCH ?)")
        params.append(title[1])
    return where, params, bounds


def _tiered(run, q: Query, limit: int, run_cjk=None,  # type: ignore[no-untyped-def]
            phrase_column: str | None = None) -> list[tuple[int, float, str | None, int]]:
    """Tiers, each only filling up what the ones before left: the exact sequence of the
    typed words, all the words, any of them. Tiers are numbered from 0 among those the
    query has (one word: its any-word hits are tier 0), so hits of different kinds
    (messages, memories, titles) compare on equal terms.

    ``run(match, n, not_cjk, skip=, wanted=)`` queries the main index (``skip``, ``wanted``:
    which of its rows this tier will keep, see ``_ranked``), ``run_cjk(match, n)`` the CJK
    one, used when the query has CJK words (no phrase tier there: its words are pairs).

    The exact sequence is never windowed (``run(..., window=0)``, see RANK_WINDOW): its
    matches are few, but finding where a window starts would check the word positions
    of every row holding all its words, as much work again as ranking it (a rare phrase
    of common words, "what is the best way to": 135 ms of CPU windowed, 102 ms without,
    at M).
    """
    cjk_mode = run_cjk is not None and q.cjk
    rows: list[tuple[int, float, str | None, int]] = []
    seen: set[int] = set()
    tier = 0

    def add(found, tier: int) -> None:  # type: ignore[no-untyped-def]
        for r in found:
            if len(rows) >= limit:
                break
            if r[0] not in seen:
                seen.add(r[0])
                rows.append((*r, tier))

    phrase = None if cjk_mode else q.phrase(phrase_column)
    if phrase:
        add(run(phrase, limit, None, window=0), tier)
        tier += 1
    both = q.all_words(cjk_mode)
    if both:
        if len(rows) < limit:
            n = limit + len(rows)
            add(run_cjk(both, n) if cjk_mode else
                run(both, n, None, skip=seen, wanted=limit - len(rows)), tier)
        tier += 1
    if len(rows) < limit:
        anyw = q.any_word(cjk_mode)
        if anyw:
            n = limit + len(rows)
            if cjk_mode:
                more = run_cjk(anyw, n)
                latin = q.latin_any_word()
                if latin:
                    # rows without CJK letters: the CJK index does not hold them
                    more = sorted([*more, *run(latin, n, q.cjk_excluded())], key=lambda r: r[1])
            else:
                more = run(anyw, n, None, skip=seen, wanted=limit - len(rows))
            add(more, tier)
    return rows


# A message from the time a query names ("in July 2023") scores this many times higher.
# Chats are dated, and people place what they look for in time; the words of the date
# itself rarely occur in the message. A factor, not a filter: a strong match from another
# month still comes first. To let it lift a message into the results, three times the
# limit are ranked first. On LoCoMo dev (issue 17) it adds 1.6 points of R@10.
DATE_BOOST = 2.0
DATE_CANDIDATES = 3


def search_messages(conn: sqlite3.Connection, q: Query, filters: Filters | None,
                    limit: int, window: int | None = None) -> list[dict[str, Any]]:
    if not q.terms or limit <= 0:
        return []
    title = (("conversations_cjk", q.title_query(True)) if q.title_cjk
             else ("conversations_fts", q.title_query())) if q.title else None
    wanted = limit * DATE_CANDIDATES if q.when else limit
    wide = _wide_prefixes(conn, q, "messages_fts") if window != 0 else []  # 0: rank all
    if wide:
        conditions = _message_conditions(conn, filters, title)
        if conditions is None:
            return []
        where, params, bounds = conditions
        rows = _within_newest(
            conn, q, wide, wanted, "messages_fts",
            "messages m JOIN conversations c ON c.rowid = m.conversation", "m.rowid", where,
            params, phrase_column="text", bounds=bounds)
    else:
        rows = _tiered(
            lambda match, n, not_cjk, window=window, skip=(), wanted=None: _message_rows(
                conn, match, filters, title, n, not_cjk=not_cjk, window=window, skip=skip,
                wanted=wanted),
            q, wanted,
            lambda match, n: _message_rows(conn, match, filters, title, n,
                                           table="messages_cjk", window=window),
            phrase_column="text")
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
                     "created_at": created, "score": score,
                     "snippet": _cjk_snippet(text, q) if snip is None else snip,
                     "text": text, "tier": tier})
    if q.when:
        hits.sort(key=lambda h: (h["tier"], -h["score"]))
        del hits[limit:]
    return hits


def _wide_prefixes(conn: sqlite3.Connection, q: Query, table: str) -> list[Term]:
    """The prefix terms (``s*``) whose words fill too much of ``table``'s index to merge
    (see :mod:`aimem.store.prefixes`)."""
    if q.cjk:
        return []
    return [t for t in (*q.terms, *q.excluded)
            if t.prefix and prefixes.pages(conn, table, t.words[-1]) > prefixes.PREFIX_PAGES]


def _within_newest(conn: sqlite3.Connection, q: Query, wide: list[Term], limit: int,
                   table: str, rows: str, key: str, where: str, params: Sequence[Any],
                   phrase_column: str | None = None,
                   bounds: tuple[int, int] | None = None
                   ) -> list[tuple[int, float, str | None, int]]:
    """The query's tiers, run within the newest PREFIX_WINDOW rows that match the rest
    of it (any of its other words, its exclusions other than ``wide``) or, when the
    wide prefixes are all it has, the newest rows: ``SELECT key FROM rows WHERE where``
    (the filters, with ``params``), ``key`` being the indexed rowid, between ``bounds``
    when given (one conversation's messages)."""
    rest = replace(q, terms=[t for t in q.terms if t not in wide],
                   excluded=[t for t in q.excluded if t not in wide])
    match = rest.any_word()
    if match:  # FTS5 walks the rest's matches newest first
        rows = f"{table} f, {rows}"
        where = f"{table} MATCH ? AND {key} = f.rowid AND {where}"
        params, key = [match, *params], "f.rowid"
    if bounds:
        where += f" AND {key} BETWEEN ? AND ?"
        params = [*params, *bounds]
    found = conn.execute(f"SELECT {key} FROM {rows} WHERE {where} ORDER BY {key} DESC LIMIT ?",
                         (*params, prefixes.PREFIX_WINDOW)).fetchall()
    scratch = prefixes.scratch(conn, table, [r[0] for r in found])
    try:
        return _tiered(
            lambda match, n, not_cjk=None, window=None, skip=(), wanted=None: _ranked(
                scratch, f"{table} f WHERE {table} MATCH ?", (match,), n, 0, None, skip,
                wanted),
            q, limit, phrase_column=phrase_column)
    finally:
        scratch.close()


def search_memories(conn: sqlite3.Connection, q: Query, filters: Filters | None,
                    limit: int, window: int | None = None) -> list[dict[str, Any]]:
    if not q.terms or limit <= 0 or q.title or (filters and filters.conversation_only):
        return []
    where, params = memory_filter_sql(filters, "mm")

    def run(match: str, n: int, not_cjk: str | None = None, table: str = "memories_fts",
            window: int | None = window, skip: Collection[int] = (),
            wanted: int | None = None) -> Rows:
        cond, extra = where, list(params)
        if not_cjk:
            cond += " AND mm.rowid NOT IN (SELECT rowid FROM memories_cjk WHERE memories_cjk MATCH ?)"
            extra.append(not_cjk)
        snip = _snippet(0, table) if table == "memories_fts" else None
        return _ranked(conn, f"{table} f JOIN memories mm ON mm.rowid = f.rowid "
                       f"WHERE {table} MATCH ? AND {cond}", (match, *extra), n, window, snip,
                       skip, wanted)

    rows = _tiered(run, q, limit, lambda match, n: run(match, n, table="memories_cjk"))
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
                     "created_at": updated, "score": -rank,
                     "snippet": _cjk_snippet(text, q) if snip is None else snip,
                     "text": text, "memory_kind": kind, "tier": tier})
    return hits


def search_conversations(conn: sqlite3.Connection, q: Query, filters: Filters | None,
                         limit: int, window: int | None = None) -> list[dict[str, Any]]:
    """Conversations whose title (or summary) matches: ``title:`` terms, else the words."""
    if limit <= 0 or not (q.title or q.terms):
        return []
    where, params = filter_sql(filters, "c", None)

    def run(match: str, n: int, not_cjk: str | None = None,
            table: str = "conversations_fts", window: int | None = window,
            skip: Collection[int] = (), wanted: int | None = None) -> Rows:
        cond, extra = where, list(params)
        if not_cjk:
            cond += (" AND c.rowid NOT IN (SELECT rowid FROM conversations_cjk "
                     "WHERE conversations_cjk MATCH ?)")
            extra.append(not_cjk)
        snip = _snippet(-1, table, 16) if table == "conversations_fts" else None
        return _ranked(conn, f"{table} f JOIN conversations c ON c.rowid = f.rowid "
                       f"WHERE {table} MATCH ? AND {cond}", (match, *extra), n, window, snip,
                       skip, wanted)

    wide = [] if q.title or window == 0 else _wide_prefixes(conn, q, "conversations_fts")
    if q.title:
        match = q.title_query(q.title_cjk)
        assert match is not None
        rows = [(*r, 0) for r in run(match, limit, table="conversations_cjk" if q.title_cjk
                                     else "conversations_fts")]
    elif wide:
        rows = _within_newest(conn, q, wide, limit, "conversations_fts", "conversations c",
                              "c.rowid", where, params)
    else:
        rows = _tiered(run, q, limit, lambda match, n: run(match, n, table="conversations_cjk"))
    if not rows:
        return []
    info = {r[0]: r[1:] for r in conn.execute(
        "SELECT c.rowid, c.id, c.source, c.source_id, c.title, c.created_at, s.text "
        "FROM conversations c LEFT JOIN summaries s ON s.conversation = c.rowid "
        f"WHERE c.rowid IN ({','.join('?' * len(rows))})", [r[0] for r in rows])}
    hits = []
    for rowid, rank, snip, tier in rows:
        cid, source, sid, title, created, summary = info[rowid]
        if snip is None:
            pat = cjk.pattern(tuple(q.words()))
            in_title = bool(title and pat and pat.search(title))
            text = title if in_title or not summary else summary
            snip = _cjk_snippet(text, q, 16)
        hits.append({"kind": "conversation", "id": cid, "conversation_id": cid,
                     "source": source, "source_id": sid, "title": title, "role": None,
                     "author": None, "created_at": created, "score": -rank, "snippet": snip,
                     "text": title, "tier": tier})
    return hits


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
