"""The bundled sample (aimem/data/sample/): reproducible, importable, and what `aimem demo` shows."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from aimem.services import Archive
from conftest import ROOT, run_aimem

SAMPLE = ROOT / "aimem" / "data" / "sample"
BUILDER = ROOT / "scripts" / "build_sample.py"
EXPECTED_SOURCES = {"chatgpt": 18, "claude": 8, "gemini": 6}


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_sample", BUILDER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _build(out: Path) -> dict[str, bytes]:
    subprocess.run([sys.executable, str(BUILDER), "--out", str(out)], check=True,
                   capture_output=True, timeout=60)
    return _files(out)


def _imported(db: Path) -> tuple[list[dict], list[dict]]:
    """Import the sample into *db*; return (conversations, memories) as aimem JSONL objects."""
    with Archive.open(db) as mem:
        report = mem.import_paths([str(SAMPLE)])
        assert report.conversations_added == sum(EXPECTED_SOURCES.values())
        assert report.memories_added == 6
        assert report.redactions == {}
        assert [Path(s.where).name for s in report.skipped] == ["README.md"]
        rows = [json.loads(line) for line in mem.export_jsonl()]
    conversations = [r for r in rows if r.get("type", "conversation") == "conversation"]
    return conversations, [r for r in rows if r.get("type") == "memory"]


def _abandoned_texts(builder: ModuleType) -> list[str]:
    return [text for spec in builder.CHATGPT
            for kind, text in builder.parse(spec["body"], spec["title"]) if kind.endswith("-old")]


def test_builder_is_deterministic_and_the_committed_files_are_its_output(tmp_path: Path) -> None:
    first, second = _build(tmp_path / "a"), _build(tmp_path / "b")
    assert set(first) == {"README.md", "chatgpt/conversations.json", "others.jsonl"}
    assert first == second, "two runs of the builder differ"
    committed = _files(SAMPLE)
    assert set(committed) == set(first)
    for name, data in first.items():
        assert committed[name] == data, (
            f"aimem/data/sample/{name} is not the builder's output: run python3 scripts/build_sample.py")


def test_chatgpt_export_has_the_real_shape_and_abandoned_branches() -> None:
    export = json.loads((SAMPLE / "chatgpt" / "conversations.json").read_text("utf-8"))
    assert len(export) == EXPECTED_SOURCES["chatgpt"]
    off_path = 0
    for conv in export:
        mapping = conv["mapping"]
        assert conv["id"] == conv["conversation_id"] and isinstance(conv["create_time"], float)
        assert mapping["client-created-root"]["message"] is None
        system = mapping[mapping["client-created-root"]["children"][0]]["message"]
        assert system["author"]["role"] == "system"
        assert system["metadata"]["is_visually_hidden_from_conversation"] is True
        path, node = set(), conv["current_node"]
        while node is not None:
            path.add(node)
            node = mapping[node]["parent"]
        off_path += len(set(mapping) - path)
        for node_id, node in mapping.items():
            assert all(mapping[child]["parent"] == node_id for child in node["children"])
            msg = node["message"]
            if msg and msg["author"]["role"] != "system":
                assert msg["content"]["content_type"] == "text" and msg["recipient"] == "all"
                assert msg["status"] == "finished_successfully"
                if msg["author"]["role"] == "assistant":
                    assert msg["metadata"]["model_slug"] == conv["default_model_slug"]
    assert off_path >= 2, "expected at least one abandoned branch"


def test_sample_imports_with_the_expected_counts(tmp_path: Path) -> None:
    conversations, memories = _imported(tmp_path / "sample.db")
    assert Counter(c["source"] for c in conversations) == EXPECTED_SOURCES
    for c in conversations:
        roles = [m["role"] for m in c["messages"]]
        assert 4 <= len(roles) <= 12 and roles == ["user", "assistant"] * (len(roles) // 2), c["title"]
        assert c["title"] and c["model"] and c["created_at"] <= c["updated_at"]
    assert len(memories) == 6
    assert sum(bool(m.get("pinned")) for m in memories) == 1
    assert {m["kind"] for m in memories} >= {"preference", "fact", "instruction"}


def test_abandoned_branch_text_is_not_imported(tmp_path: Path, builder: ModuleType) -> None:
    abandoned = _abandoned_texts(builder)
    assert len(abandoned) >= 2
    export = (SAMPLE / "chatgpt" / "conversations.json").read_text("utf-8")
    assert all(json.dumps(text, ensure_ascii=False)[1:-1] in export for text in abandoned)
    conversations, _ = _imported(tmp_path / "sample.db")
    texts = {m["text"] for c in conversations for m in c["messages"]}
    assert not texts & set(abandoned)
    with Archive.open(tmp_path / "sample.db") as mem:
        for phrase in ('"classic four-day plan for Kyoto"', '"How do I debug a flaky test"'):
            assert mem.search(phrase) == [], phrase


def test_demo_runs_and_finds_sourdough() -> None:
    proc = run_aimem("demo")
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "32 conversations added" in out and "6 memories" in out
    hits = out.split("$ aimem search sourdough starter", 1)[1].split("Try next", 1)[0]
    assert "1. " in hits and "sourdough" in hits.lower()
    again = run_aimem("demo")
    assert again.returncode == 0 and "0 conversations added, 32 already there" in again.stdout.decode()


def test_memory_is_a_deprecated_alias_of_archive():
    import warnings

    import aimem
    import aimem.services as services

    for module in (aimem, services):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert module.Memory is services.Archive
        assert any(issubclass(w.category, DeprecationWarning) and "Archive" in str(w.message)
                   for w in caught)
