"""Summaries, automatic tags, distilled memories and the profile through llm (issue 5).

Every model here is a fake registered through llm's real plugin manager (conftest
``llm_fakes``): deterministic, offline, with canned replies queued per test. The CLI is
run in-process with Typer's CliRunner, so the aimem commands see the fake models; the
llm plugin, which needs llm's own CLI in a subprocess, is in test_llm_plugin.py.
"""

from __future__ import annotations

import ast
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aimem.services import Archive, llm_tasks
from aimem.services.tokens import estimate
from conftest import ROOT, dump_db

pytestmark = pytest.mark.usefixtures("llm_fakes")


def _msgs(*pairs: tuple[str, str], start: str = "2025-01-01T10:00:00Z") -> list[dict[str, Any]]:
    day = start[:10]
    return [{"role": r, "text": t, "created_at": f"{day}T10:{i:02d}:00Z"}
            for i, (r, t) in enumerate(pairs)]


CONVS = [
    {"source": "chatgpt", "source_id": "c1", "title": "Sourdough plans",
     "messages": _msgs(("user", "How often should I feed my rye sourdough starter?"),
                       ("assistant", "Twice a day at room temperature."),
                       start="2025-01-01")},
    {"source": "chatgpt", "source_id": "c2", "title": None,
     "messages": _msgs(("user", "How do I tune postgres autovacuum for a busy table?"),
                       ("assistant", "Lower autovacuum_vacuum_scale_factor for that table."),
                       start="2025-01-02")},
    {"source": "claude", "source_id": "c3", "title": "Kyoto trip",
     "messages": _msgs(("user", "Is Kyoto crowded in late November?"),
                       ("assistant", "Yes, the autumn leaves peak then."), start="2025-01-03")},
]


def _write(path: Path, convs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c in convs))
    return path


@pytest.fixture
def mem(db: Path, tmp_path: Path) -> Archive:
    m = Archive.open(db)
    m.import_paths([str(_write(tmp_path / "convs.jsonl", CONVS))])
    return m


def ids(mem: Archive) -> dict[str, str]:
    """source_id -> conversation id."""
    rows = mem.store.execute("SELECT source_id, id FROM conversations").fetchall()
    return dict(rows)


def cli(db: Path, *args: str) -> Any:
    from aimem.cli import app

    return CliRunner().invoke(app, ["--db", str(db), *args])


def summaries(db: Path) -> dict[str, tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT c.source_id, s.text, s.model, s.created_at, s.content_hash, c.content_hash "
            "FROM summaries s JOIN conversations c ON c.rowid = s.conversation")}
    finally:
        conn.close()


def titles(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT source_id, title FROM conversations").fetchall())
    finally:
        conn.close()


# -- summaries ------------------------------------------------------------------------------


def test_summaries_are_stored_with_model_time_and_content_hash(mem: Archive, db: Path,
                                                               llm_fakes: Any) -> None:
    llm_fakes.fake.queue += ['{"summary": "Feeding a rye starter."}',
                             '{"summary": "Tuning autovacuum.", "title": "Postgres autovacuum"}',
                             '{"summary": "Kyoto crowds in autumn."}']
    before = time.time()
    report = mem.summarize(model="fake")
    assert report["done"] == 3 and report["failed"] == [] and report["model"] == "aimem-fake"
    stored = summaries(db)
    assert stored["c1"][0] == "Feeding a rye starter."
    for _text, model, created, s_hash, c_hash in stored.values():
        assert model == "aimem-fake" and before <= created <= time.time()
        assert s_hash == c_hash and s_hash
    # token usage comes from response.usage() (the fake counts words)
    assert report["usage"]["calls"] == 3 and report["usage"]["input_tokens"] > 30
    assert report["usage"]["output_tokens"] > 0 and report["usage"]["calls_without_usage"] == 0
    # a summary is searchable like a title, and shown with the conversation
    assert mem.show(ids(mem)["c3"])["summary"] == "Kyoto crowds in autumn."
    hits = mem.search("autovacuum", kinds=["conversation"])
    assert hits and hits[0]["id"] == ids(mem)["c2"]


def test_a_title_is_proposed_only_where_the_source_had_none(mem: Archive, db: Path,
                                                            llm_fakes: Any) -> None:
    llm_fakes.fake.queue += ['{"summary": "a", "title": "Not wanted"}',
                             '{"summary": "b", "title": "\\"Postgres autovacuum tuning.\\""}',
                             '{"summary": "c", "title": "Not wanted either"}']
    report = mem.summarize(model="fake")
    assert titles(db) == {"c1": "Sourdough plans", "c2": "Postgres autovacuum tuning",
                          "c3": "Kyoto trip"}
    assert [i["new_title"] for i in report["items"]] == [None, "Postgres autovacuum tuning", None]
    systems = [p.system for p in llm_fakes.fake.history]
    assert ["title" in s for s in systems] == [False, True, False]
    schemas = [p.schema for p in llm_fakes.fake.history]
    assert schemas[1] == llm_tasks.SUMMARY_TITLE_SCHEMA and schemas[0] == llm_tasks.SUMMARY_SCHEMA
    # the new title is searchable; the next summary leaves it alone
    assert mem.search("title:tuning", kinds=["conversation"])[0]["id"] == ids(mem)["c2"]
    llm_fakes.fake.queue.append('{"summary": "b2", "title": "Other"}')
    mem.summarize([ids(mem)["c2"]], model="fake", force=True)
    assert titles(db)["c2"] == "Postgres autovacuum tuning"


def test_unchanged_conversations_are_skipped_and_force_redoes_them(mem: Archive, db: Path,
                                                                   llm_fakes: Any) -> None:
    mem.summarize(model="fake")
    calls = len(llm_fakes.fake.history)
    again = mem.summarize(model="fake")
    assert again["done"] == 0 and again["candidates"] == 0 and again["up_to_date"] == 3
    assert len(llm_fakes.fake.history) == calls  # no model call at all
    llm_fakes.fake.queue += ['{"summary": "redone"}'] * 3
    forced = mem.summarize(model="fake", force=True)
    assert forced["done"] == 3 and {v[0] for v in summaries(db).values()} == {"redone"}


def test_a_changed_conversation_is_summarized_again(mem: Archive, db: Path, tmp_path: Path,
                                                    llm_fakes: Any) -> None:
    mem.summarize(model="fake")
    longer = dict(CONVS[2], messages=CONVS[2]["messages"] + _msgs(
        ("user", "And in early December?"), ("assistant", "Much quieter."),
        start="2025-01-04"))
    mem.import_paths([str(_write(tmp_path / "more.jsonl", [longer]))])
    llm_fakes.fake.queue.append('{"summary": "Kyoto, November and December."}')
    report = mem.summarize(model="fake")
    assert [i["id"] for i in report["items"]] == [ids(mem)["c3"]] and report["up_to_date"] == 2
    s = summaries(db)["c3"]
    assert s[0] == "Kyoto, November and December." and s[3] == s[4]


def test_a_summary_that_came_with_the_source_is_kept(db: Path, tmp_path: Path,
                                                     llm_fakes: Any) -> None:
    m = Archive.open(db)
    m.import_paths([str(_write(tmp_path / "s.jsonl", [dict(CONVS[0], summary="From source")]))])
    assert m.summarize(model="fake")["up_to_date"] == 1
    assert summaries(db)["c1"][0] == "From source"
    m.summarize(model="fake", force=True)
    assert summaries(db)["c1"][1] == "aimem-fake"


def test_a_long_conversation_is_summarized_in_parts_within_the_context(
        db: Path, tmp_path: Path, llm_fakes: Any) -> None:
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()
    pairs = [("user" if i % 2 == 0 else "assistant",
              f"marker{i:02d} " + " ".join(words[(i + j) % 12] for j in range(60)))
             for i in range(24)]
    m = Archive.open(db)
    m.import_paths([str(_write(tmp_path / "long.jsonl", [
        {"source": "chatgpt", "source_id": "long", "title": "Long one",
         "messages": _msgs(*pairs)}]))])
    fake = llm_fakes.fake
    fake.context_length = 600

    def reply(p: Any) -> str:
        if p.schema:
            return '{"summary": "The whole long conversation."}'
        return "Notes on " + " ".join(w for w in p.prompt.split() if w.startswith("marker"))

    fake.queue += [reply] * 60
    report = m.summarize(model="fake")
    assert report["done"] == 1 and report["items"][0]["parts"] > 2
    prompts = [p.prompt for p in fake.history]
    parts = [p for p in prompts if "\nPart " in p]
    assert len(parts) == report["items"][0]["parts"]
    # nothing was dropped: every message went into some part, in order
    seen = [w for p in parts for w in p.split() if w.startswith("marker")]
    assert seen == [f"marker{i:02d}" for i in range(24)]
    # and no prompt was bigger than the model's context
    for p in fake.history:
        assert estimate(p.system) + estimate(p.prompt) <= fake.context_length
    final = fake.history[-1]
    assert final.schema == llm_tasks.SUMMARY_SCHEMA and "Summaries of its" in final.prompt
    assert summaries(db)["long"][0] == "The whole long conversation."


def test_a_model_without_schemas_is_asked_for_json_and_parsed_leniently(
        mem: Archive, db: Path, llm_fakes: Any) -> None:
    plain = llm_fakes.plain
    plain.queue += ['Here it is:\n```json\n{"summary": "Starter feeding."}\n```',
                    '<think>hmm</think>{"summary": "Autovacuum.", "title": "Vacuum"} thanks',
                    "Summary: Kyoto is busy in November."]  # prose: used as it is
    report = mem.summarize(model="aimem-fake-plain")
    assert report["done"] == 3
    assert [v[0] for _, v in sorted(summaries(db).items())] == [
        "Starter feeding.", "Autovacuum.", "Kyoto is busy in November."]
    assert titles(db)["c2"] == "Vacuum"
    assert all(p.schema is None and "Reply with JSON only" in p.system for p in plain.history)


def test_json_and_tag_and_memory_parsing() -> None:
    assert llm_tasks.parse_json('Sure! {"a": [1, 2]} hope that helps') == {"a": [1, 2]}
    assert llm_tasks.parse_json("```\n[1, 2]\n```") == [1, 2]
    assert llm_tasks.parse_json("no json here") is None
    parse_tags = llm_tasks.parse_tags
    assert parse_tags({"tags": ["Python", "#Data Science", "python", ""]}, "") == [
        "python", "data-science"]
    assert parse_tags(None, "Tags: sqlite, full text search\n", ["SQLite"]) == [
        "SQLite", "full-text-search"]
    assert parse_tags(None, "- rust\n- cli tools\n") == ["rust", "cli-tools"]
    assert parse_tags(["a"] * 3 + list("bcdefg"), "") == ["a", "b", "c", "d", "e"]
    pm = llm_tasks.parse_memories
    assert pm({"memories": [{"text": " The user  likes tea ", "kind": "Preferences"},
                            {"text": "x" * 2000, "kind": "fact"}, {"kind": "fact"}]}, "") == [
        ("The user likes tea", "preference")]
    assert pm(["The user lives in Kyoto"], "") == [("The user lives in Kyoto", "fact")]
    assert pm({"memories": [{"text": "t", "kind": "gossip"}]}, "") == [("t", "fact")]
    assert pm(None, "None.") == [] and pm(None, "{broken") == []


def test_chunks_keep_every_block_in_order_within_the_budget() -> None:
    blocks = [f"[user]\nblock{i} " + "word " * (i * 30) for i in range(12)]
    parts = llm_tasks.chunks(blocks, 200)
    assert all(estimate(p) <= 200 for p in parts)
    joined = " ".join(parts)
    assert [w for w in joined.split() if w.startswith("block")] == [f"block{i}" for i in range(12)]
    assert joined.count("word") == sum(i * 30 for i in range(12))
    assert llm_tasks.chunks([], 100) == [""]


# -- tags ----------------------------------------------------------------------------------------


def tag_rows(db: Path) -> set[tuple[str, str, int]]:
    conn = sqlite3.connect(db)
    try:
        return set(conn.execute(
            "SELECT c.source_id, t.name, ct.auto FROM conversation_tags ct JOIN tags t ON "
            "t.rowid = ct.tag JOIN conversations c ON c.rowid = ct.conversation").fetchall())
    finally:
        conn.close()


def test_auto_tags_reuse_the_existing_tags_and_are_marked_automatic(
        mem: Archive, db: Path, llm_fakes: Any) -> None:
    c = ids(mem)
    mem.add_tags(c["c1"], ["Cooking"])
    mem.add_tags(c["c3"], ["travel"])
    fake = llm_fakes.fake
    fake.queue += ['{"tags": ["cooking", "Sourdough", "#Bread Baking"]}',
                   '{"tags": ["postgres", "databases"]}',
                   '{"tags": ["Travel", "japan", "postgres"]}']
    report = mem.auto_tag(model="fake")
    assert [i["tags"] for i in report["items"]] == [
        ["Cooking", "sourdough", "bread-baking"], ["postgres", "databases"],
        ["travel", "japan", "postgres"]]
    first = fake.history[0]
    assert first.schema == llm_tasks.TAGS_SCHEMA
    assert "Existing tags: Cooking, travel" in first.prompt
    assert "This conversation already has: Cooking" in first.prompt
    assert "Existing tags:" in fake.history[2].prompt and "postgres" in fake.history[2].prompt
    rows = tag_rows(db)
    assert ("c1", "Cooking", 0) in rows  # the manual tag stays manual
    assert {("c1", "sourdough", 1), ("c2", "postgres", 1), ("c3", "japan", 1),
            ("c3", "travel", 0)} <= rows
    # done ones are skipped; --force replaces only the automatic tags
    assert mem.auto_tag(model="fake")["candidates"] == 0
    fake.queue += ['{"tags": ["baking"]}']
    mem.auto_tag([c["c1"]], model="fake", force=True)
    assert {(n, a) for s, n, a in tag_rows(db) if s == "c1"} == {("Cooking", 0), ("baking", 1)}


def test_auto_tags_from_a_model_without_schemas(mem: Archive, db: Path, llm_fakes: Any) -> None:
    llm_fakes.plain.queue += ["Sure! Here you go: {\"tags\": [\"bread\"]}", "sql, tuning",
                              "- japan\n- autumn"]
    report = mem.auto_tag(model="aimem-fake-plain")
    assert [i["tags"] for i in report["items"]] == [["bread"], ["sql", "tuning"],
                                                    ["japan", "autumn"]]
    assert all("Reply with JSON only" in p.system for p in llm_fakes.plain.history)


def test_tag_auto_command(mem: Archive, db: Path, llm_fakes: Any) -> None:
    llm_fakes.fake.queue += ['{"tags": ["bread"]}']
    r = cli(db, "tag", "auto", "--model", "fake", "--limit", "1", "--source", "chatgpt")
    assert r.exit_code == 0, r.stderr
    assert "#bread" in r.stdout and "tagged 1 of 1" in r.stderr and "tokens:" in r.stderr


# -- distill -------------------------------------------------------------------------------------


def memory_rows(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT m.text, m.kind, m.source, c.source_id FROM memories m LEFT JOIN "
            "conversations c ON c.rowid = m.conversation ORDER BY m.text").fetchall()
    finally:
        conn.close()


def test_distill_links_memories_to_their_conversation_without_duplicates(
        mem: Archive, db: Path, llm_fakes: Any) -> None:
    mem.remember("The user prefers metric units", kind="preference")
    canned = ['{"memories": [{"text": "The user keeps a rye sourdough starter", '
              '"kind": "project"}, {"text": "the user prefers metric units.", '
              '"kind": "preference"}]}',
              '{"memories": [{"text": "The user runs Postgres", "kind": "fact"}]}',
              '{"memories": []}']
    llm_fakes.fake.queue += canned
    report = mem.distill(model="fake")
    assert report["done"] == 3
    assert [m["created"] for m in report["items"][0]["memories"]] == [True, False]
    assert memory_rows(db) == [
        ("The user keeps a rye sourdough starter", "project", "distill", "c1"),
        ("The user prefers metric units", "preference", "manual", None),
        ("The user runs Postgres", "fact", "distill", "c2")]
    assert llm_fakes.fake.history[0].schema == llm_tasks.DISTILL_SCHEMA
    # a second run skips what was distilled; forced, it adds nothing twice
    llm_fakes.fake.queue.append('{"memories": []}')
    again = mem.distill(model="fake")
    assert again["up_to_date"] == 2 and [i["id"] for i in again["items"]] == [ids(mem)["c3"]]
    llm_fakes.fake.queue += canned
    mem.distill(model="fake", force=True)
    assert len(memory_rows(db)) == 3
    # the memories already linked to a conversation are sent, so they are not repeated
    assert "Already saved (do not repeat these):\n- The user keeps a rye" in \
        llm_fakes.fake.history[-3].prompt


def test_distill_command(mem: Archive, db: Path, llm_fakes: Any) -> None:
    llm_fakes.fake.queue += ['{"memories": [{"text": "The user bakes bread", "kind": "fact"}]}']
    r = cli(db, "distill", "-m", "fake", "-n", "1")
    assert r.exit_code == 0, r.stderr
    assert "+" in r.stdout and "The user bakes bread" in r.stdout
    assert "distilled 1 of 1" in r.stderr
    assert mem.list_memories()[0]["source"] == "distill"


# -- profile -------------------------------------------------------------------------------------


def test_profile_synthesize(mem: Archive, db: Path, llm_fakes: Any) -> None:
    r = cli(db, "profile", "--synthesize", "--model", "fake")
    assert r.exit_code == 1 and "no memories" in r.stderr
    mem.remember("The user prefers pytest", kind="preference")
    mem.remember("The user works on a Rust CLI", kind="project", pin=True)
    llm_fakes.fake.queue.append("The user builds a Rust CLI and likes pytest.")
    r = cli(db, "profile", "--synthesize", "--model", "fake")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("The user builds a Rust CLI and likes pytest.")
    assert "synthesized with aimem-fake from 2 memories" in r.stderr
    sent = llm_fakes.fake.history[-1].prompt
    assert sent.index("Rust CLI") < sent.index("pytest")  # pinned first
    prof = json.loads(cli(db, "profile", "--json").stdout)
    assert prof["synthesized"] == "The user builds a Rust CLI and likes pytest."
    assert prof["synthesized_model"] == "aimem-fake" and prof["synthesized_at"]


# -- errors, dry runs, Ctrl-C, batches ------------------------------------------------------------


def test_a_model_error_on_one_item_is_reported_and_the_batch_goes_on(
        mem: Archive, db: Path, llm_fakes: Any) -> None:
    import llm

    llm_fakes.fake.queue += [None, llm.ModelError("the provider refused this one"), None]
    r = cli(db, "summarize", "--model", "fake")
    assert r.exit_code == 1
    assert "failed:" in r.stderr and "the provider refused this one" in r.stderr
    assert "summarized 2 of 3" in r.stderr and "1 failed" in r.stderr
    assert set(summaries(db)) == {"c1", "c3"}


def test_every_item_failing_raises_with_the_report(mem: Archive, llm_fakes: Any) -> None:
    llm_fakes.fake.queue += ["{}"]
    with pytest.raises(llm_tasks.BatchStopped, match="no summary") as e:
        mem.summarize([ids(mem)["c1"][:6]], model="fake")  # the TUI's one-item call
    assert e.value.report["failed"][0]["id"] == ids(mem)["c1"]


def test_no_key_for_the_default_model_is_one_line_and_writes_nothing(
        mem: Archive, db: Path) -> None:
    before = dump_db(db)
    r = cli(db, "summarize")  # llm's default model: OpenAI's, and no key is set
    assert r.exit_code == 1
    assert r.stderr.count("\n") == 1 and "llm keys set openai" in r.stderr
    assert "--model" in r.stderr and "Traceback" not in r.stderr
    assert dump_db(db) == before


def test_no_key_through_needs_key(mem: Archive, db: Path, llm_fakes: Any,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    r = cli(db, "distill", "--model", "aimem-fake-keyed")
    assert r.exit_code == 1 and "llm keys set aimem-fake" in r.stderr
    assert llm_fakes.keyed.history == []  # stopped before the first call
    monkeypatch.setenv("AIMEM_FAKE_KEY", "k")
    llm_fakes.keyed.queue += ['{"memories": []}'] * 3
    assert cli(db, "distill", "--model", "aimem-fake-keyed").exit_code == 0


def test_a_key_or_network_error_stops_the_batch_and_keeps_what_was_done(
        mem: Archive, db: Path, llm_fakes: Any) -> None:
    import llm

    class APIConnectionError(Exception):  # the name openai's own exception has
        pass

    llm_fakes.fake.queue += [None, APIConnectionError("Connection error.")]
    r = cli(db, "summarize", "--model", "fake")
    assert r.exit_code == 1
    assert "could not reach aimem-fake" in r.stderr and "kept" in r.stderr
    assert set(summaries(db)) == {"c1"} and len(llm_fakes.fake.history) == 2
    llm_fakes.fake.queue += [llm.NeedsKeyException("No key found - add one using "
                                                   "'llm keys set fake'")]
    r = cli(db, "summarize", "--model", "fake", "--json")
    assert r.exit_code == 1 and "llm keys set fake" in r.stderr
    out = json.loads(r.stdout)
    assert out["stopped"] and out["done"] == 0 and set(summaries(db)) == {"c1"}


def test_an_unknown_model_says_what_to_do(mem: Archive, db: Path) -> None:
    r = cli(db, "tag", "auto", "--model", "nosuch")
    assert r.exit_code == 1
    assert "no model called 'nosuch'" in r.stderr and "llm install llm-ollama" in r.stderr


@pytest.mark.parametrize("cmd", [["summarize"], ["tag", "auto"], ["distill"]])
def test_dry_run_writes_nothing_and_estimates_tokens(mem: Archive, db: Path, llm_fakes: Any,
                                                     cmd: list[str]) -> None:
    before = dump_db(db)
    r = cli(db, *cmd, "--model", "fake", "--dry-run", "-v")
    assert r.exit_code == 0, r.stderr
    assert "dry run" in r.stderr and "nothing was written" in r.stderr
    assert "--- system ---" in r.stdout and "How often should I feed" in r.stdout
    r = cli(db, *cmd, "--model", "fake", "--dry-run", "--json")
    out = json.loads(r.stdout)
    assert out["dry_run"] and out["done"] == 3 and out["estimated_tokens"] > 50
    assert all(i["tokens"] > 0 and "prompts" not in i for i in out["items"])
    assert llm_fakes.fake.history == [] and dump_db(db) == before


def test_dry_run_needs_no_key(mem: Archive, db: Path) -> None:
    r = cli(db, "summarize", "--dry-run")
    assert r.exit_code == 0 and "gpt-" in r.stderr


def test_ctrl_c_keeps_what_is_done(mem: Archive, db: Path, llm_fakes: Any) -> None:
    llm_fakes.fake.queue += [None, None, KeyboardInterrupt]
    r = cli(db, "summarize", "--model", "fake")
    assert r.exit_code == 130
    assert "interrupted: 2 of 3 done, and kept" in r.stderr
    assert set(summaries(db)) == {"c1", "c2"}
    # the next run picks up where it stopped
    assert mem.summarize(model="fake")["done"] == 1 and len(summaries(db)) == 3


def test_limit_filters_ids_and_progress(mem: Archive, db: Path, llm_fakes: Any) -> None:
    seen: list[tuple[int, int, str]] = []
    report = mem.summarize(model="fake", limit=2, progress=lambda *a: seen.append(a))
    assert report["done"] == 2 and [s[:2] for s in seen] == [(0, 2), (1, 2), (2, 2)]
    assert seen[0][2] == "Sourdough plans"
    from aimem.services.filters import make_filters

    f = make_filters(mem, source=["claude"])
    report = mem.summarize((), f, model="fake", force=True)
    assert [i["title"] for i in report["items"]] == ["Kyoto trip"]
    r = cli(db, "summarize", ids(mem)["c2"][:6], "--model", "fake", "--force", "--json")
    assert [i["id"] for i in json.loads(r.stdout)["items"]] == [ids(mem)["c2"]]


def test_default_model_and_llm_model_variable(mem: Archive, llm_fakes: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import llm

    llm.set_default_model("aimem-fake-plain")
    assert mem.summarize(dry_run=True)["model"] == "aimem-fake-plain"
    monkeypatch.setenv("LLM_MODEL", "fake")
    assert mem.summarize(dry_run=True)["model"] == "aimem-fake"


# -- architecture ------------------------------------------------------------------------------


def test_llm_is_imported_in_one_module_only() -> None:
    importers = []
    for path in (ROOT / "aimem").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom)
                     and not node.level else [])
            if any(n == "llm" or n.startswith("llm.") for n in names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(importers)) == ["aimem/llm_bridge.py"]


@pytest.mark.parametrize("code", [
    "import aimem.llm_plugin",
    "import aimem.services.llm_tasks, aimem.llm_bridge",
    "import runpy\nsys.argv = ['aimem', 'summarize', '--help']\ntry:\n    runpy.run_module("
    "'aimem', run_name='__main__')\nexcept SystemExit:\n    pass",
    "import runpy\nsys.argv = ['aimem', 'tag', 'auto', '--help']\ntry:\n    runpy.run_module("
    "'aimem', run_name='__main__')\nexcept SystemExit:\n    pass",
])
def test_nothing_heavy_at_import(code: str) -> None:
    probe = f"import sys\n{code}\nsys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))"
    err = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stderr
    out = err.rsplit("\nMODULES ", 1)[1].split()
    tops = {m.split(".")[0] for m in out}
    assert not tops & {"llm", "textual", "mcp", "openai"}, tops
    if "llm_plugin" in code:  # llm imports the plugin on every command: it stays tiny
        assert not {"aimem.services", "typer", "rich", "sqlite3"} & set(out)
