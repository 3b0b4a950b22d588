"""Ranking on real histories: a distinctive phrase from a message finds that message first.

The ranking work of issue 17 (context windows, date hints) was tuned on LoCoMo; this
guards the histories people really have: the bundled sample and the real files in
../shared/fixtures/realworld/. Fifty messages are picked with a fixed seed; from each,
five consecutive words, at least four of them meaningful, that no other message has
all of; searched as plain words (not a phrase), the message itself must be the top
message hit.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from aimem.errors import ImportFailed
from aimem.services import Archive
from aimem.store import search as fts
from conftest import SHARED_FIXTURES

SAMPLE = Path(__file__).resolve().parents[1] / "aimem" / "data" / "sample"
REALWORLD = SHARED_FIXTURES / "realworld"
_WORD = re.compile(r"\w+")


def _phrase(text: str, rng: random.Random, vocab: list[set[str]]) -> str | None:
    """Five consecutive words with at least four that mean something (not stopwords),
    which together occur in no other message."""
    words = _WORD.findall(text)
    if len(words) < 8:
        return None
    for _ in range(10):
        i = rng.randrange(0, len(words) - 5)
        five = words[i:i + 5]
        if not all(w.isalpha() and w.isascii() for w in five):
            continue
        meaningful = {w.lower() for w in five if w.lower() not in fts.STOPWORDS}
        if len(meaningful) >= 4 and sum(meaningful <= v for v in vocab) == 1:
            return " ".join(five)
    return None


def test_distinctive_phrases_find_their_message(tmp_path: Path) -> None:
    if not REALWORLD.is_dir():
        pytest.skip("../shared/fixtures/realworld is absent (the real files live in the shared folder)")
    paths = [str(SAMPLE / "chatgpt" / "conversations.json"), str(SAMPLE / "others.jsonl")]
    for sub in ("chatgpt", "claude_code", "codex_cli"):
        paths += sorted(str(p) for p in (REALWORLD / sub).iterdir())
    paths.append(str(REALWORLD / "gemini_cli" / "codemie_session-2026-01-16T11-01-file-ops-37b7abef.json"))
    with Archive.open(tmp_path / "r.db") as mem:
        for p in paths:
            try:
                mem.import_paths([p])
            except ImportFailed as e:  # a sub-agent warm-up file holds no conversation
                assert "nothing importable" in str(e)
        rows = mem.store.execute(
            "SELECT m.id, m.text FROM messages m WHERE m.role IN ('user', 'assistant') "
            "ORDER BY m.id").fetchall()
        vocab = [{w.lower() for w in _WORD.findall(t)} for _, t in rows]
        rng = random.Random(17)
        rng.shuffle(rows)
        picked: list[tuple[str, str]] = []
        for mid, text in rows:
            phrase = _phrase(text, rng, vocab)
            if phrase:
                picked.append((mid, phrase))
            if len(picked) == 50:
                break
        assert len(picked) == 50
        misses = []
        for mid, phrase in picked:
            hits = mem.search(phrase, kinds=["message"], limit=5)
            if not hits or hits[0]["id"] != mid:
                misses.append((phrase, [h["id"][:8] for h in hits], mid[:8]))
        assert not misses, (len(misses), misses)
