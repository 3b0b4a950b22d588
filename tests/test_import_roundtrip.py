"""What every format's every fixture must do through ``aimem import`` (a subprocess):

- importing it again changes nothing (no row added or rewritten, FTS shadow tables
  included: only the import log grows);
- a truncated copy of a whole-document export (a JSON document, an HTML page, an SQLite
  database) fails with one line on stderr, exit 1, and leaves the database as it was.
  Line-based logs and text are not cut here: a cut last line is imported with a warning
  (tested in the format's own file).

The fixtures are tests/fixtures/<format>/ and, when present, ../shared/fixtures/<format>/
and ../shared/fixtures/realworld/<format>/ (skipped with the reason when ../shared is
absent). A new fixture file is picked up without editing this test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

# Files that are no export: generators, notes about the fixtures.
NOT_FIXTURES = {"SOURCES.md", "README.md", "generate.py", "generate_logsdb.py"}
# Fixtures that hold nothing importable on their own (account data, bookkeeping only, a
# sub-agent warmup, Gemini CLI's prompt log): the first import fails with this reason and
# writes nothing.
NOTHING_IN_IT = {
    "chatgpt/split/user.json": "not a recognised export",
    "claude/projects.json": "nothing importable",
    "claude_code/snapshots_only.jsonl": "nothing importable",
    "claude_code/agent-w9e8d7c6.jsonl": "a sub-agent warmup",
    "shared/claude_code/codemie_agent-36541525.jsonl": "a sub-agent warmup",
    "shared/claude_code/codemie_agent-50243ee8.jsonl": "a sub-agent warmup",
    "shared/gemini_cli/codemie_logs.json": "not a recognised export",
}
# Every format that had its own copy of these tests must keep appearing here.
FORMATS = {"aider", "chatgpt", "claude", "claude_code", "codex", "deepseek", "gemini_cli",
           "gemini_takeout", "grok", "jsonl", "llm_logs", "markdown", "openwebui",
           "specstory"}


def _fixtures() -> list[pytest.param]:  # type: ignore[valid-type]
    roots = [FIXTURES]
    if SHARED_FIXTURES.is_dir():
        roots += [SHARED_FIXTURES, SHARED_FIXTURES / "realworld"]
    params = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if (not path.is_file() or path.name in NOT_FIXTURES
                    or (root == SHARED_FIXTURES and rel.startswith("realworld/"))):
                continue
            label = ("shared/" if root != FIXTURES else "") + rel
            params.append(pytest.param(path, label, id=label))
    return params


FIXTURE_FILES = _fixtures()
if not SHARED_FIXTURES.is_dir():
    FIXTURE_FILES.append(pytest.param(None, "shared", id="shared", marks=pytest.mark.skip(
        reason="../shared/fixtures is absent: the reference and real-world fixtures are not "
               "tested")))


def import_json(db: Path, path: Path) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    proc = run_aimem("--db", str(db), "import", str(path), "--json")
    report = json.loads(proc.stdout) if proc.returncode == 0 else {}
    return proc.returncode, report, proc.stderr.decode()


def whole_document(path: Path) -> str | None:
    """What kind of single document the file is (a cut copy of it is damaged), or None."""
    data = path.read_bytes()
    if data.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    text = data.decode("utf-8-sig", errors="replace").lstrip()
    if text[:100].lower().startswith(("<!doctype html", "<html")):
        return "html"
    if text.startswith(("{", "[")):
        try:
            json.loads(text)
        except ValueError:
            return None  # JSON Lines
        return "json"
    return None


def test_every_format_has_fixtures_here() -> None:
    """Coverage of the tests this file replaced: every format is in the parametrization."""
    from aimem.importers import IMPORTERS

    assert FORMATS <= set(IMPORTERS)
    from aimem.importers import detect, input_from_path

    seen = {getattr(detect(input_from_path(p.values[0])), "NAME", None)
            for p in FIXTURE_FILES if p.values[0] is not None}
    assert seen >= FORMATS, FORMATS - seen


@pytest.mark.parametrize("path, label", FIXTURE_FILES)
def test_reimport_changes_nothing_and_a_cut_copy_writes_nothing(db: Path, tmp_path: Path,
                                                                  path: Path, label: str) -> None:
    code, first, err = import_json(db, path)
    if label in NOTHING_IN_IT:
        assert code == 1 and err.startswith("aimem: error: ") and err.count("\n") == 1
        assert NOTHING_IN_IT[label] in err
        assert dump_db(db).get("conversations", []) == []
        return
    assert code == 0, err
    assert first["conversations_added"] + first["memories_added"] > 0, first
    before = dump_db(db)
    code, again, err = import_json(db, path)
    assert code == 0, err
    assert again["conversations_added"] == again["conversations_updated"] == 0, again
    assert again["messages_added"] == 0 and again["memories_added"] == 0, again
    assert again["conversations_unchanged"] == first["conversations_added"]
    assert again["memories_unchanged"] == first["memories_added"]
    after = dump_db(db)
    after.pop("import_log"), before.pop("import_log")
    assert after == before

    kind = whole_document(path)
    if kind is None:
        return
    data = path.read_bytes()
    cut = tmp_path / path.name  # the same name: only the content differs
    cut.write_bytes(data[:len(data) // 2])
    before = dump_db(db)
    proc = run_aimem("--db", str(db), "import", str(cut))
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert err.startswith("aimem: error: ") and err.count("\n") == 1, err
    assert str(cut) in err and "Traceback" not in err and proc.stdout == b""
    assert ("malformed" if kind == "sqlite" else "truncated") in err, err
    assert dump_db(db) == before
