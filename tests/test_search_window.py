"""Very common terms rank only a bounded window of their newest matches (issue 14).

The window is made small here (a parameter, not timing) so that a database of a few
hundred messages has terms as common, relative to it, as "the" is in a real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aimem.models import Filters
from aimem.services import Archive
from aimem.store import search as fts

WINDOW = 10


def _conversations() -> list[dict]:  # type: ignore[type-arg]
    convs = []
    for i in range(40):
        messages = [
            {"role": "user", "text": f"Put the kettle on for round {i}, please."},
            {"role": "assistant", "text": f"The kettle boils water number {i} in a minute."},
            {"role": "user", "text": f"Kettle done {i}; note {i} about the garden."},
        ]
        if i == 0:  # the best "kettle" match of all is in the oldest conversation
            messages[0]["text"] = "kettle kettle kettle kettle"
        if i in (1, 17, 38):
            messages[1]["text"] += " The teapot has a cracked spout."
        convs.append({"source": "claude" if i % 2 else "chatgpt", "source_id": f"c{i}",
                      "title": f"Kettle talk {i}",
                      "created_at": f"2024-01-{1 + i % 28:02d}T12:00:00Z",
                      "messages": messages})
    return convs


@pytest.fixture
def mem(tmp_path: Path):  # type: ignore[no-untyped-def]
    src = tmp_path / "data.jsonl"
    memories = [{"type": "memory", "text": f"Descale the kettle every {i + 2} weeks."}
                for i in range(15)]
    src.write_text("".join(json.dumps(c) + "\n" for c in [*_conversations(), *memories]))
    with Archive.open(tmp_path / "w.db") as m:
        m.import_paths([str(src)])
        yield m


def rowids(mem: Archive, hits: list[dict]) -> list[int]:  # type: ignore[type-arg]
    return [mem.store.conn.execute("SELECT rowid FROM messages WHERE id = ?",
                                   (h["id"],)).fetchone()[0] for h in hits]


def ranked(mem: Archive, match: str) -> list[int]:
    """Every message matching, best first: the statement search used before the window."""
    return [r[0] for r in mem.store.conn.execute(
        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rank", (match,))]


def test_common_term_ranks_only_the_newest_window(mem: Archive) -> None:
    q = fts.parse("kettle")
    everything = ranked(mem, '"kettle"')
    assert len(everything) == 120 > WINDOW
    unbounded = fts.search_messages(mem.store.conn, q, None, 5, window=0)
    assert unbounded[0]["text"] == "kettle kettle kettle kettle"  # the oldest is the best

    bounded = fts.search_messages(mem.store.conn, q, None, 5, window=WINDOW)
    newest = sorted(everything, reverse=True)[:WINDOW]
    # the bounded path ran: the best of all (in the oldest conversation) is not ranked,
    # and the hits are exactly the best of the newest WINDOW matches, in bm25 order
    assert rowids(mem, bounded) == [r for r in everything if r in newest][:5]
    assert "kettle kettle kettle kettle" not in [h["text"] for h in bounded]
    assert len(bounded) == 5
    assert all("kettle" in h["text"].lower() for h in bounded)


def test_typed_sequence_is_never_windowed(mem: Archive) -> None:
    """The exact line typed still finds its one old message, ahead of everything."""
    q = fts.parse("kettle kettle kettle kettle")
    hits = fts.search_messages(mem.store.conn, q, None, 5, window=WINDOW)
    assert hits[0]["text"] == "kettle kettle kettle kettle" and hits[0]["tier"] == 0
    unbounded = fts.search_messages(mem.store.conn, q, None, 5, window=0)
    assert ([h for h in hits if h["tier"] == 0] == [h for h in unbounded if h["tier"] == 0])
    assert hits != unbounded  # the word itself (tier 2) was still ranked in the window


def test_default_window_applies_through_the_service(mem: Archive,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fts, "RANK_WINDOW", WINDOW)
    hits = mem.search("kettle", limit=5)
    assert len(hits) == 5
    assert all("kettle" in h["text"].lower() for h in hits)
    newest = sorted(ranked(mem, '"kettle"'), reverse=True)[:WINDOW]
    assert set(rowids(mem, hits)) <= set(newest)


def test_window_counts_the_rows_the_filters_keep(mem: Archive) -> None:
    q = fts.parse("kettle")
    f = Filters(sources=["claude"])
    bounded = fts.search_messages(mem.store.conn, q, f, 50, window=WINDOW)
    assert len(bounded) == WINDOW  # ten claude messages were ranked, not ten of any source
    assert {h["source"] for h in bounded} == {"claude"}
    claude = [r for r in ranked(mem, '"kettle"') if mem.store.conn.execute(
        "SELECT c.source FROM messages m JOIN conversations c ON c.rowid = m.conversation "
        "WHERE m.rowid = ?", (r,)).fetchone()[0] == "claude"]
    newest = sorted(claude, reverse=True)[:WINDOW]
    assert rowids(mem, bounded) == [r for r in claude if r in newest]


def test_common_title_ranks_newest_conversations(mem: Archive) -> None:
    q = fts.parse("kettle")
    hits = fts.search_conversations(mem.store.conn, q, None, 50, window=WINDOW)
    assert len(hits) == WINDOW
    assert {h["title"] for h in hits} == {f"Kettle talk {i}" for i in range(30, 40)}
    assert len(fts.search_conversations(mem.store.conn, q, None, 50, window=0)) == 40


def test_common_memory_term_ranks_newest_memories(mem: Archive) -> None:
    q = fts.parse("descale kettle")
    hits = fts.search_memories(mem.store.conn, q, None, 50, window=WINDOW)
    assert {h["text"] for h in hits} == {f"Descale the kettle every {i + 2} weeks."
                                         for i in range(5, 15)}
    assert len(fts.search_memories(mem.store.conn, q, None, 50, window=0)) == 15


ORDINARY = ["teapot", "teapot spout", "cracked teapot spout", '"cracked spout"', "spou*",
            "teapot -garden", "teapot 17", 'title:"talk 17" teapot', "teapot source:claude",
            "cracked 38", "spout 17 in january 2024"]


@pytest.mark.parametrize("query", ORDINARY)
def test_ordinary_queries_are_unchanged(mem: Archive, monkeypatch: pytest.MonkeyPatch,
                                        query: str) -> None:
    """Queries matching fewer rows than the window give exactly what they gave before."""
    before = mem.search(query, limit=20, kinds=["message", "memory", "conversation"])
    monkeypatch.setattr(fts, "RANK_WINDOW", WINDOW)
    after = mem.search(query, limit=20, kinds=["message", "memory", "conversation"])
    assert before and after == before


def test_ordinary_query_equals_the_plain_ranked_statement(mem: Archive) -> None:
    hits = fts.search_messages(mem.store.conn, fts.parse("teapot"), None, 20, window=WINDOW)
    assert rowids(mem, hits) == ranked(mem, '"teapot"')
    assert len(hits) == 9  # three messages say it, their neighbours have it as context


def test_exactly_window_matches_is_not_bounded(mem: Archive) -> None:
    q = fts.parse("teapot")
    n = len(ranked(mem, '"teapot"'))
    unbounded = fts.search_messages(mem.store.conn, q, None, 20, window=0)
    assert fts.search_messages(mem.store.conn, q, None, 20, window=n) == unbounded
    one_less = fts.search_messages(mem.store.conn, q, None, 20, window=n - 1)
    assert len(one_less) == n - 1 and min(rowids(mem, one_less)) > min(rowids(mem, unbounded))


@pytest.mark.parametrize("window", [WINDOW, 0, 1000])
def test_a_prefix_query_ranks_the_same_window_in_one_statement(mem: Archive,
                                                              window: int) -> None:
    """A prefix query (``kett*``) ranks the newest ``window`` matches in one statement: the
    same hits, in the same order, as counting, finding where the window starts and
    ranking from there (the path every other query takes)."""
    q = fts.parse("kett*")
    hits = fts.search_messages(mem.store.conn, q, None, 8, window=window)
    everything = ranked(mem, '"kett" *')
    allowed = sorted(everything, reverse=True)[:window] if window else everything
    assert rowids(mem, hits) == [r for r in everything if r in allowed][:8]
    # its snippets are cut in Python (FTS5's would run the prefix query again), marked
    import re

    marked = re.compile(re.escape(fts.MARK_OPEN) + r"kett\w*" + re.escape(fts.MARK_CLOSE), re.I)
    assert hits and all(marked.search(h["snippet"]) for h in hits)
