"""The command line as people and scripts use it: output shapes, exit codes, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aimem.cli import app
from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

CHATGPT = SHARED_FIXTURES / "chatgpt"
JSONL = FIXTURES / "jsonl" / "sample.jsonl"


@pytest.fixture
def loaded(db: Path) -> Path:
    run_aimem("--db", str(db), "import", str(CHATGPT / "synthetic_modern_edge_cases.json"),
              str(CHATGPT / "librechat_chatgpt-tree.json"), str(JSONL), check=True)
    return db


def aimem_json(db: Path, *args: str):  # type: ignore[no-untyped-def]
    proc = run_aimem("--db", str(db), *args, check=True)
    return json.loads(proc.stdout)


def test_search_json_shape_matches_the_interface(loaded: Path) -> None:
    hits = aimem_json(loaded, "search", "reverse", "string", "--json")
    assert hits, "expected hits for 'reverse string'"
    top = hits[0]
    assert list(top) == ["kind", "id", "conversation_id", "source", "source_id", "title", "role",
                         "author", "created_at", "score", "snippet", "text", "found_by"]
    assert top["kind"] == "message" and top["source"] == "chatgpt"
    assert top["title"] == "Reverse a list"
    assert "[" in top["snippet"] and "]" in top["snippet"]
    assert top["created_at"].endswith("Z")
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    # all-words hits come before any-word hits
    both = [h for h in hits if "reverse" in h["text"].lower() and "string" in h["text"].lower()]
    assert hits[:len(both)] == both


def test_search_jsonl_filters_and_kinds(loaded: Path) -> None:
    out = run_aimem("--db", str(loaded), "search", "sourdough", "--jsonl", check=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows and {r["kind"] for r in rows} <= {"message", "memory", "conversation"}
    only_mem = aimem_json(loaded, "search", "sourdough", "--kind", "memory", "--json")
    assert all(r["kind"] == "memory" and r["conversation_id"] is None and r["role"] is None
               for r in only_mem)
    chatgpt_only = aimem_json(loaded, "search", "reverse", "--source", "chatgpt", "--json")
    assert chatgpt_only and all(r["source"] == "chatgpt" for r in chatgpt_only)
    users = aimem_json(loaded, "search", "reverse", "--role", "user", "--json")
    assert users and all(r["role"] == "user" for r in users)
    assert aimem_json(loaded, "search", "reverse", "--since", "2030-01-01", "--json") == []


def test_search_with_no_hits_and_hostile_queries(loaded: Path) -> None:
    for q in ['"unbalanced', "NEAR(", "a AND", "*", "-", "title:", '""', "col:umn^"]:
        proc = run_aimem("--db", str(loaded), "search", q, "--json")
        assert proc.returncode == 0, (q, proc.stderr)
        assert isinstance(json.loads(proc.stdout), list)
    proc = run_aimem("--db", str(loaded), "search", "zzzqqqxxx")
    assert proc.returncode == 0 and proc.stdout == b"" and b"no matches" in proc.stderr


def test_show_list_stats_and_prefix_ids(loaded: Path) -> None:
    convs = aimem_json(loaded, "list", "--json")
    assert len(convs) == 6
    updated = [c["updated_at"] for c in convs if c["updated_at"]]
    assert updated == sorted(updated, reverse=True)  # newest first
    rev = next(c for c in convs if c["title"] == "Reverse a list")
    shown = aimem_json(loaded, "show", rev["id"][:8], "--json")
    assert shown["id"] == rev["id"] and len(shown["messages"]) == 4
    md = run_aimem("--db", str(loaded), "show", rev["id"], "--markdown", check=True).stdout.decode()
    assert md.startswith("# Reverse a list") and "How do I reverse a list in Python?" in md
    text = run_aimem("--db", str(loaded), "show", rev["id"], check=True).stdout.decode()
    assert "Reverse a list" in text and "without slicing" in text
    stats = aimem_json(loaded, "stats", "--json")
    assert stats["conversations"] == 6
    assert {s["source"] for s in stats["by_source"]} == {"chatgpt", "claude", "gemini"}
    assert aimem_json(loaded, "list", "--source", "claude", "--json")[0]["source"] == "claude"


def test_unknown_and_ambiguous_ids_are_exit_1(loaded: Path) -> None:
    proc = run_aimem("--db", str(loaded), "show", "ffffffffffff")
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith("aimem: error: ") and proc.stderr.count(b"\n") == 1


def test_missing_database_is_exit_1_with_advice(tmp_path: Path) -> None:
    for cmd in (["search", "x"], ["list"], ["stats"], ["show", "abc"], ["export"]):
        proc = run_aimem("--db", str(tmp_path / "none.db"), *cmd)
        assert proc.returncode == 1, cmd
        assert b"aimem import" in proc.stderr and b"Traceback" not in proc.stderr
    assert not (tmp_path / "none.db").exists()


def test_usage_error_is_exit_2() -> None:
    assert run_aimem("search").returncode == 2
    assert run_aimem("nosuchcommand").returncode == 2


def test_version_and_help_with_examples() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("aimem ")
    for cmd in ("import", "search", "show", "list", "stats", "export", "demo"):
        result = runner.invoke(app, [cmd, "--help"])
        assert result.exit_code == 0, cmd
        assert "Examples" in result.output, cmd


def test_export_jsonl_round_trips_ids_tags_and_text(loaded: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.jsonl"
    run_aimem("--db", str(loaded), "export", "-o", str(out), check=True)
    stdout = run_aimem("--db", str(loaded), "export", check=True).stdout
    assert out.read_bytes() == stdout
    fresh = tmp_path / "fresh.db"
    run_aimem("--db", str(fresh), "import", str(out), check=True)
    again = run_aimem("--db", str(fresh), "export", check=True).stdout
    assert again == stdout
    a, b = dump_db(loaded), dump_db(fresh)
    for table in ("conversations", "messages", "memories", "tags", "summaries"):
        assert len(a[table]) == len(b[table]), table
    ids = [json.loads(line)["id"] for line in stdout.splitlines()]
    assert len(ids) == len(set(ids)) == 6 + 2  # conversations + memories of the fixtures


def test_export_filters(loaded: Path) -> None:
    out = run_aimem("--db", str(loaded), "export", "--source", "gemini", check=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["source"] for r in rows if r["type"] == "conversation"] == ["gemini"]


def test_piped_output_has_no_colour_codes(loaded: Path) -> None:
    for cmd in (["search", "reverse"], ["list"], ["stats"]):
        out = run_aimem("--db", str(loaded), *cmd, env={"NO_COLOR": ""}, check=True).stdout
        assert b"\x1b[" not in out, cmd


def test_each_command_loads_from_its_own_module() -> None:
    """main() imports only the running command's module: the table must be complete."""
    import typer.main

    from aimem import cli

    names = set(typer.main.get_command(app).commands)
    assert names <= set(cli.COMMAND_MODULES), names - set(cli.COMMAND_MODULES)
    for name in names:
        code = ("import sys, typer.main\nfrom aimem import cli\n"
                f"app = cli.load_commands(cli._wanted([{name!r}]))\n"
                f"assert {name!r} in typer.main.get_command(app).commands\n"
                "print(sorted(m for m in sys.modules if m.startswith('aimem.cli.cmd_')))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, (name, out.stderr)


def test_a_failed_first_command_leaves_no_empty_database(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    for args in (["import", str(tmp_path / "missing.json")], ["remember", "x", "--kind", "gossip"]):
        proc = run_aimem("--db", str(db), *args)
        assert proc.returncode == 1 and proc.stderr.count(b"\n") == 1, args
        assert not list(tmp_path.glob("new.db*")), args
    run_aimem("--db", str(db), "remember", "kept", check=True)
    before = dump_db(db)
    assert run_aimem("--db", str(db), "import", str(tmp_path / "missing.json")).returncode == 1
    assert db.exists() and dump_db(db) == before  # an existing database is never removed


def test_demo_into_a_closed_pipe_keeps_its_database(tmp_path: Path) -> None:
    """``aimem demo | head -1``: the reader leaves early; what was imported stays."""
    import os

    env = {**os.environ, "AIMEM_HOME": str(tmp_path / "home")}
    r, w = os.pipe()
    os.close(r)  # every write to stdout fails with EPIPE, as after head has exited
    try:
        p = subprocess.run([sys.executable, "-m", "aimem", "demo"], stdout=w,
                           stderr=subprocess.PIPE, env=env, timeout=120)
    finally:
        os.close(w)
    assert b"Traceback" not in p.stderr
    db = tmp_path / "home" / "demo.db"
    assert db.exists()
    assert aimem_json(db, "stats", "--json")["conversations"] >= 1
