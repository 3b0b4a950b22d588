"""aimem JSONL: parsing rules, strictness, and the lossless round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from aimem.errors import ImportFailed
from aimem.importers import input_from_bytes, input_from_path, jsonl
from aimem.models import Conversation, MemoryItem
from aimem.services import Archive
from conftest import FIXTURES, SHARED

SAMPLE = FIXTURES / "jsonl" / "sample.jsonl"


def parse_bytes(data: bytes) -> list:  # type: ignore[type-arg]
    return list(jsonl.parse(input_from_bytes("test.jsonl", data)))


def test_parses_conversations_and_memories_with_defaults() -> None:
    items = list(jsonl.parse(input_from_path(SAMPLE)))
    convs = [i for i in items if isinstance(i, Conversation)]
    mems = [i for i in items if isinstance(i, MemoryItem)]
    assert [c.source for c in convs] == ["claude", "gemini"]
    first = convs[0]
    assert first.title == "Sourdough starter schedule"
    assert first.tags == ["cooking"]
    assert first.extra == {"workspace_color": "green"}
    assert first.messages[1].created_at == 1740907500.0  # epoch seconds accepted
    assert first.messages[1].extra == {"rating": 5}
    assert convs[1].messages[1].role == "assistant"  # "model" is an alias
    assert [m.kind for m in mems] == ["preference", "fact"]
    assert mems[1].pinned is True


def test_sniff() -> None:
    assert jsonl.sniff(input_from_path(SAMPLE))
    assert not jsonl.sniff(input_from_bytes("x", b'{"type": "user", "sessionId": "s"}\n'))
    assert not jsonl.sniff(input_from_bytes("x", b"[1, 2, 3]"))
    assert not jsonl.sniff(input_from_bytes("x", b"\x00\x01garbage"))


@pytest.mark.parametrize("data, why", [
    (b'{"messages": [{"role": "user", "text": "hi"}]}\n{"messages": [', "line 2 is not valid JSON"),
    (b'{"messages": [{"role": "user"}]}\n', "line 1, message 1 has no text"),
    (b'{"messages": [{"role": "wizard", "text": "x"}]}\n', "unknown role"),
    (b'{"type": "note", "text": "x"}\n', "unknown type"),
    (b'[1]\n', "not a JSON object"),
    (b'{"messages": "nope"}\n', "needs a messages list"),
])
def test_strict_errors_name_the_line(data: bytes, why: str) -> None:
    with pytest.raises(ImportFailed) as exc:
        parse_bytes(data)
    assert why in str(exc.value)
    assert str(exc.value).startswith("test.jsonl: ")


def test_round_trip_is_byte_for_byte(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "a.db") as a:
        a.import_paths([str(SAMPLE)])
        first = b"".join(a.export_jsonl())
    exported = tmp_path / "export.jsonl"
    exported.write_bytes(first)
    with Archive.open(tmp_path / "b.db") as b:
        report = b.import_paths([str(exported)])
        second = b"".join(b.export_jsonl())
    assert report.conversations_added == 2 and report.memories_added == 2
    assert first == second
    assert b'"workspace_color":"green"' in first and b'"rating":5' in first
    assert b'"pinned":true' in first
    assert first.count(b"\n") == 4


def test_locomo_conversion_imports(tmp_path: Path) -> None:
    """The benchmark's converter output (read from ../shared, never copied) imports."""
    import subprocess
    import sys

    script = SHARED / "bench" / "locomo" / "locomo_retrieval.py"
    if not script.exists():
        pytest.skip("../shared/bench/locomo is not next to this checkout")
    out = tmp_path / "locomo"
    subprocess.run([sys.executable, str(script), "convert", "--out-dir", str(out)], check=True,
                   capture_output=True)
    with Archive.open(tmp_path / "l.db") as mem:
        report = mem.import_paths([str(out / "conv-26.jsonl")])
        hits = mem.search("Caroline LGBTQ support group", limit=5)
    assert report.conversations_added > 10
    assert hits and all(h["source"] == "locomo" for h in hits)
    assert any(h["author"] == "Caroline" for h in hits)
