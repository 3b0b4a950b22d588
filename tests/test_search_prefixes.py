"""Prefixes that fill most of the index (``s*``) are ranked within the newest messages
that match the rest of the query (aimem.store.prefixes, issue 14).

The thresholds are parameters, set here so that a database of a few hundred messages
takes the bounded path; the measured figures are in the module and in the issue note.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimem.models import Filters
from aimem.services import Archive
from aimem.store import prefixes
from aimem.store import search as fts

WORDS = ["sourdough", "starter", "salt", "steam", "scoring", "shaping", "spread", "stretch"]


def _conversations() -> list[dict]:  # type: ignore[type-arg]
    convs = []
    for i in range(60):
        w = WORDS[i % len(WORDS)]
        messages = [
            {"role": "user", "text": f"Question {i}: how much {w} for loaf {i}? Thé café."},
            {"role": "assistant", "text": f"Use less {w} and a colder proof, loaf {i}."},
            {"role": "user", "text": f"Thanks, noted {i}. Docker question {i} too."},
            {"role": "assistant", "text": f"Docker {i}: restart the container."},
        ]
        if i == 0:  # the best "s*" match of all is in the oldest conversation
            messages[0]["text"] = "sourdough starter salt steam scoring shaping spread"
        convs.append({"source": "claude" if i % 2 else "chatgpt", "source_id": f"c{i}",
                      "title": f"Bread {i}", "created_at": f"2024-02-{1 + i % 28:02d}T12:00:00Z",
                      "messages": messages})
    return convs


@pytest.fixture
def mem(tmp_path: Path):  # type: ignore[no-untyped-def]
    src = tmp_path / "data.jsonl"
    src.write_text("".join(json.dumps(c) + "\n" for c in _conversations()))
    with Archive.open(tmp_path / "p.db") as m:
        m.import_paths([str(src)])
        yield m


@pytest.fixture
def every_prefix_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefixes, "PREFIX_PAGES", -1)


def rowid(mem: Archive, hit: dict) -> int:  # type: ignore[type-arg]
    return mem.store.conn.execute("SELECT rowid FROM messages WHERE id = ?",
                                  (hit["id"],)).fetchone()[0]


def exact(mem: Archive, text: str, filters: Filters | None = None, limit: int = 20
          ) -> list[dict]:  # type: ignore[type-arg]
    """The search as FTS5 runs it on the whole index (the bounded path off)."""
    saved = prefixes.PREFIX_PAGES
    prefixes.PREFIX_PAGES = 10**9
    try:
        return fts.search_messages(mem.store.conn, fts.parse(text), filters, limit)
    finally:
        prefixes.PREFIX_PAGES = saved


@pytest.mark.parametrize("text", ["s*", "sour*", "th*", "s* -docker", "caf*", "-docker s*"])
def test_a_window_holding_every_match_gives_the_exact_hits(
        mem: Archive, every_prefix_wide: None, monkeypatch: pytest.MonkeyPatch,
        text: str) -> None:
    """With a window as large as the database the scratch index has the same rows, so
    the same statistics: the same hits, scores and snippets as FTS5 on the whole index
    (same tokenizer, diacritics folded, column weights, exclusions, tiers)."""
    monkeypatch.setattr(prefixes, "PREFIX_WINDOW", 10_000)
    want = exact(mem, text)
    got = fts.search_messages(mem.store.conn, fts.parse(text), None, 20)
    assert want, text
    assert [h["id"] for h in got] == [h["id"] for h in want]
    assert [h["snippet"] for h in got] == [h["snippet"] for h in want]
    assert [h["tier"] for h in got] == [h["tier"] for h in want]
    assert [h["score"] for h in got] == pytest.approx([h["score"] for h in want], rel=1e-9)


@pytest.mark.parametrize("text", ["question s*", "docker -sourd*", "\"colder proof\" s*"])
def test_with_other_words_every_hit_matches_the_whole_query(
        mem: Archive, every_prefix_wide: None, monkeypatch: pytest.MonkeyPatch,
        text: str) -> None:
    """The window then holds the rows matching the rest of the query, so bm25's
    statistics are the window's: every hit is one FTS5 finds on the whole index, the
    tiers in order."""
    monkeypatch.setattr(prefixes, "PREFIX_WINDOW", 10_000)
    everything = {h["id"]: h for h in exact(mem, text, limit=10_000)}
    got = fts.search_messages(mem.store.conn, fts.parse(text), None, 20)
    assert got and all(h["id"] in everything for h in got)
    assert all(h["tier"] == everything[h["id"]]["tier"] for h in got)
    tiers = [h["tier"] for h in got]
    assert tiers == sorted(tiers)


def test_a_wide_prefix_ranks_the_newest_messages(mem: Archive, every_prefix_wide: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefixes, "PREFIX_WINDOW", 30)
    everything = exact(mem, "s*", limit=1000)
    assert "sourdough starter salt" in everything[0]["text"]  # the oldest is the best
    newest = sorted(r[0] for r in mem.store.conn.execute("SELECT rowid FROM messages"))[-30:]
    got = fts.search_messages(mem.store.conn, fts.parse("s*"), None, 20)
    assert got and all(rowid(mem, h) in newest for h in got)
    # every hit is one FTS5 finds on the whole index (a word starting with "s" in the
    # message or, with less weight, in the one before or around it)
    matching = {h["id"] for h in everything}
    assert all(h["id"] in matching for h in got)
    assert any(re.search(r"\bs", h["text"], re.IGNORECASE) for h in got)
    # in bm25 order, among the newest
    assert [h["score"] for h in got] == sorted((h["score"] for h in got), reverse=True)


def test_the_window_is_the_newest_matching_the_rest_and_the_filters(
        mem: Archive, every_prefix_wide: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefixes, "PREFIX_WINDOW", 12)
    filters = Filters(sources=["claude"])
    got = fts.search_messages(mem.store.conn, fts.parse("question s*"), filters, 50)
    newest_question = [r[0] for r in mem.store.conn.execute(
        "SELECT m.rowid FROM messages_fts f JOIN messages m ON m.rowid = f.rowid "
        "JOIN conversations c ON c.rowid = m.conversation "
        "WHERE messages_fts MATCH 'question' AND c.source = 'claude' "
        "ORDER BY m.rowid DESC LIMIT 12")]
    assert got and {rowid(mem, h) for h in got} <= set(newest_question)
    assert all(h["source"] == "claude" for h in got)
    # all-words hits (question and an s-word) come before any-word ones
    tiers = [h["tier"] for h in got]
    assert tiers == sorted(tiers)


def test_the_python_api_and_the_cli_take_the_bounded_path(
        mem: Archive, every_prefix_wide: None, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = prefixes.scratch

    def counted(*a, **k):  # type: ignore[no-untyped-def]
        calls.append(a[2])
        return real(*a, **k)

    monkeypatch.setattr(prefixes, "scratch", counted)
    hits = mem.search("st*", limit=5)
    assert hits and calls and len(calls[0]) <= prefixes.PREFIX_WINDOW
    assert all(re.search(r"\bst", h["text"], re.IGNORECASE) for h in hits
               if h["kind"] == "message")


def test_a_narrow_prefix_runs_on_the_whole_index(mem: Archive,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """At the real threshold a small database's prefixes are all narrow."""
    def refuse(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("the bounded path ran")

    monkeypatch.setattr(prefixes, "scratch", refuse)
    assert fts.search_messages(mem.store.conn, fts.parse("s*"), None, 20)


def test_pages_grow_with_the_words_a_prefix_covers(tmp_path: Path) -> None:
    """prefixes.pages reads FTS5's page directory: more pages for a prefix with many
    words than for a rare one, about none for an absent one, 0 for no such index."""
    import sqlite3

    conn = sqlite3.connect(tmp_path / "f.db")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61 "
                 "remove_diacritics 2')")
    conn.execute("INSERT INTO t(t, rank) VALUES ('pgsz', 64)")  # small pages: many of them
    rows = [(f"s{i:04d}word quartz" + (" alpha" if i % 100 == 0 else ""),) for i in range(3000)]
    conn.executemany("INSERT INTO t(text) VALUES (?)", rows)
    conn.commit()
    wide, one, none = (prefixes.pages(conn, "t", p) for p in ("s", "alpha", "zzz"))
    assert wide > 200 and wide > 10 * max(one, 1)
    assert none <= 2
    assert prefixes.pages(conn, "t", "S") == wide  # as the index has it: lower case
    assert prefixes.pages(conn, "t", "Šs"[0]) == wide  # diacritics folded
    assert prefixes.pages(conn, "missing", "s") == 0
    assert prefixes.pages(conn, "t", "") == 0


def test_conversation_titles_take_the_bounded_path_too(
        mem: Archive, every_prefix_wide: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Titles and summaries (``--kind conversation``): with a window as large as the
    database, the same conversations as FTS5 on the whole index; with a small one, only
    the newest."""
    conn = mem.store.conn
    saved = prefixes.PREFIX_PAGES
    prefixes.PREFIX_PAGES = 10**9
    want = fts.search_conversations(conn, fts.parse("br*"), None, 20)
    prefixes.PREFIX_PAGES = saved
    monkeypatch.setattr(prefixes, "PREFIX_WINDOW", 10_000)
    got = fts.search_conversations(conn, fts.parse("br*"), None, 20)
    assert want and [h["id"] for h in got] == [h["id"] for h in want]
    monkeypatch.setattr(prefixes, "PREFIX_WINDOW", 5)
    newest = [r[0] for r in conn.execute(
        "SELECT id FROM conversations WHERE source = 'claude' ORDER BY rowid DESC LIMIT 5")]
    got = fts.search_conversations(conn, fts.parse("br*"), Filters(sources=["claude"]), 20)
    assert sorted(h["id"] for h in got) == sorted(newest)


def test_the_python_api_takes_every_kind_and_refuses_an_unknown_one(mem: Archive) -> None:
    from aimem.errors import AimemError

    kinds = {h["kind"] for h in mem.search("bread loaf", kinds=["all"], limit=1000)}
    assert "conversation" in kinds and "message" in kinds
    assert {h["kind"] for h in mem.search("bread", kinds=["conversation"])} == {"conversation"}
    with pytest.raises(AimemError, match="unknown kind 'bogus'"):
        mem.search("bread", kinds=["bogus"])


def test_within_one_conversation(mem: Archive, every_prefix_wide: None,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide prefix searched in one conversation (``--conversation``, the browser's
    opened conversation) looks only at its messages, with and without other words."""
    monkeypatch.setattr(prefixes, "PREFIX_WINDOW", 10_000)
    conn = mem.store.conn
    cid = conn.execute("SELECT id FROM conversations WHERE source_id = 'c7'").fetchone()[0]
    one = Filters(conversation=cid)
    for text in ("s*", "question s*"):
        got = fts.search_messages(conn, fts.parse(text), one, 20)
        assert got and {h["conversation_id"] for h in got} == {cid}
        assert {h["id"] for h in got} <= {h["id"] for h in exact(mem, text, one)}
    assert fts.search_messages(conn, fts.parse("s*"), Filters(conversation="nope"), 20) == []


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list('sqd "*-:()^+.\'\\NOTAND#\x00é漢')), max_size=24)
       | st.text(max_size=24))
def test_no_input_raises_on_the_bounded_path(mem: Archive, query: str) -> None:
    """Hostile input through the scratch index too (every prefix wide)."""
    saved = prefixes.PREFIX_PAGES, prefixes.PREFIX_WINDOW
    prefixes.PREFIX_PAGES, prefixes.PREFIX_WINDOW = -1, 7
    try:
        for kinds in (["message", "memory"], ["conversation"]):
            assert isinstance(mem.search(query, kinds=kinds), list)
    finally:
        prefixes.PREFIX_PAGES, prefixes.PREFIX_WINDOW = saved


def test_the_window_holds_at_most_so_much_text(mem: Archive, every_prefix_wide: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Long messages (a coding session's pastes) make a window of fewer rows: the newest
    ones whose text fits PREFIX_CHARS (always at least one)."""
    conn = mem.store.conn
    newest = [r[0] for r in conn.execute("SELECT rowid FROM messages ORDER BY rowid DESC")]
    sizes = {r: sum(len(v or "") for v in conn.execute(
        "SELECT text, author, context, around FROM messages_fts_content WHERE mid = ?",
        (r,)).fetchone()) for r in newest}
    budget = sum(sizes[r] for r in newest[:7]) + 1  # room for the newest 7
    monkeypatch.setattr(prefixes, "PREFIX_CHARS", budget)
    scratch = prefixes.scratch(conn, "messages_fts", newest[:40])
    held = sorted((r[0] for r in scratch.execute("SELECT rowid FROM messages_fts")),
                  reverse=True)
    assert held == newest[:7]
    monkeypatch.setattr(prefixes, "PREFIX_CHARS", 1)
    one = prefixes.scratch(conn, "messages_fts", newest[:40])
    assert [r[0] for r in one.execute("SELECT rowid FROM messages_fts")] == newest[:1]
    got = fts.search_messages(conn, fts.parse("s*"), None, 20)
    assert {rowid(mem, h) for h in got} <= {newest[0]}
