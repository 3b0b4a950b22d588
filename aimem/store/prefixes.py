"""Prefix queries that would read most of the index (``s*``, ``th*``, ``the*``).

FTS5 answers ``s*`` (without a prefix index) by merging the doclists of every word that
starts with "s" into one, for the whole index, before it looks at a single row: no rowid
bound, LIMIT or window reduces that work, and it cannot be interrupted. At a million
messages ``s*`` took 5.2 s, ``th*`` 2.8 s, ``the*`` 0.9 s; at 250k messages ``s*`` 1.5 s.
(A prefix index, ``prefix='3'``, measured +75 % index size and +44 % index build at M,
and still left ``s*`` alone.)

So a prefix is first measured, cheaply, by the index pages its words fill
(:func:`pages`, from FTS5's own page directory, the ``*_idx`` table: a few lookups per
segment). Up to :data:`PREFIX_PAGES` it runs as it always did. Beyond, the query is
answered within the newest :data:`PREFIX_WINDOW` messages (or conversations, for their
titles) that match the rest of it (or the newest ones, when the prefix is all there
is): those rows are indexed into a small in-memory FTS5 table with the same tokenizer
and column weights, and the query runs there, tiers, exclusions and all. Every hit
matches the whole query, as FTS5 means it; the bound is which rows are ranked, as
:data:`aimem.store.search.RANK_WINDOW` bounds a very common word.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

# Index pages (4 kB each) above which a prefix is answered within a window. Measured at
# L (1M messages, counting the matches) the merge costs 0.08-0.34 ms per page: ``pyth*``
# 321 pages 28 ms, ``py*`` 558 pages 71 ms, ``do*`` 1,904 pages 425 ms, ``s*`` 25,167
# pages 5.2 s; whole searches of prefixes with 500-800 pages took 45-176 ms at L (the
# slowest ``hi*``, 720 pages), ``pro*`` (570 pages) 175 ms at M. A window of 1,000
# messages costs 50-90 ms, most of it indexing them.
PREFIX_PAGES = 600
PREFIX_WINDOW = 1_000
# ... and at most this much text (characters, all columns): indexing costs ~70 ms per
# million, and a history of coding sessions can hold messages of 100 kB each
PREFIX_CHARS = 2_000_000

# per segment: the page where the prefix's words start and the one where the next
# prefix's do (or the segment's end). The *_idx table has a row per leaf page, keyed
# (segid, first term on the page), and its pgno column holds the page number shifted
# left by one (a flag in the low bit); within a segment pages follow term order.
_SPAN_SQL = """
WITH RECURSIVE seg(id) AS (
    SELECT min(segid) FROM {idx}
    UNION ALL
    SELECT (SELECT min(segid) FROM {idx} WHERE segid > seg.id) FROM seg WHERE seg.id IS NOT NULL
)
SELECT
    coalesce((SELECT pgno FROM {idx} WHERE segid = seg.id AND term <= :lo
              ORDER BY term DESC LIMIT 1), 2) >> 1,
    coalesce((SELECT pgno FROM {idx} WHERE segid = seg.id AND term >= :hi
              ORDER BY term LIMIT 1),
             (SELECT pgno FROM {idx} WHERE segid = seg.id ORDER BY term DESC LIMIT 1) + 2) >> 1
FROM seg WHERE seg.id IS NOT NULL
"""


def index_form(word: str) -> str:
    """A word as the unicode61 tokenizer (remove_diacritics 2) indexes it: lower case,
    without diacritics. (Good enough for an estimate: porter leaves a prefix alone.)"""
    word = word.lower()
    if word.isascii():
        return word
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", word)
                   if not unicodedata.combining(c))


def pages(conn: sqlite3.Connection, table: str, prefix: str) -> int:
    """About how many leaf pages of ``table``'s full-text index hold words starting
    with ``prefix``: the pages between where the prefix starts and where the next one
    does, in every segment. 0 when it cannot tell (then the query runs as always)."""
    token = index_form(prefix).encode()
    if not token:
        return 0
    lo = b"0" + token  # "0": the main index (prefix indexes would be "1", "2"...)
    hi = lo[:-1] + bytes([lo[-1] + 1]) if lo[-1] < 255 else lo + b"\xff"
    try:
        spans = conn.execute(_SPAN_SQL.format(idx=f"{table}_idx"), {"lo": lo, "hi": hi}).fetchall()
    except sqlite3.Error:
        return 0
    return sum(max(0, end - start) for start, end in spans if start is not None and end is not None)


def scratch(conn: sqlite3.Connection, table: str, rowids: list[int]) -> sqlite3.Connection:
    """An in-memory database whose FTS5 table ``table`` holds the rows ``rowids`` of the
    real ``table``, with its columns, tokenizer and ranking (read from the database):
    the newest (highest) of them, as many as hold PREFIX_CHARS of text."""
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    cols = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
    m = re.search(r"tokenize\s*=\s*'([^']*)'", sql, re.IGNORECASE)
    config = dict(conn.execute(f"SELECT k, v FROM {table}_config WHERE k = 'rank'").fetchall())
    mem = sqlite3.connect(":memory:")
    tokenize = f", tokenize='{m.group(1)}'" if m else ""
    mem.execute(f"CREATE VIRTUAL TABLE {table} USING fts5({', '.join(cols)}{tokenize})")
    if "rank" in config:
        mem.execute(f"INSERT INTO {table}({table}, rank) VALUES ('rank', ?)", (config["rank"],))
    content = _content_source(sql)
    if rowids and content:
        source, key = content
        marks = ",".join("?" * len(rowids))
        rows: list[Any] = conn.execute(
            f"SELECT {key}, {', '.join(cols)} FROM {source} WHERE {key} IN ({marks})",
            rowids).fetchall()
        rows.sort(key=lambda r: r[0], reverse=True)  # here: ORDER BY made SQLite walk the table
        chars = 0
        for i, row in enumerate(rows):
            chars += sum(len(v) for v in row[1:] if isinstance(v, str))
            if chars > PREFIX_CHARS and i:
                del rows[i:]
                break
        rows.reverse()  # FTS5 indexes rows in rowid order fastest (150 -> 90 ms at L)
        mem.executemany(f"INSERT INTO {table}(rowid, {', '.join(cols)}) "
                        f"VALUES (?{', ?' * len(cols)})", rows)
    return mem


def _content_source(sql: str) -> tuple[str, str] | None:
    """(content table, its rowid column) of an external-content FTS5 table."""
    content = re.search(r"content\s*=\s*'([^']*)'", sql, re.IGNORECASE)
    key = re.search(r"content_rowid\s*=\s*'([^']*)'", sql, re.IGNORECASE)
    if not content:
        return None
    return content.group(1), key.group(1) if key else "rowid"
