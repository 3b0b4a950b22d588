"""The token estimate errs on the safe side of a real BPE tokenizer, on realistic text."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from aimem.services.tokens import estimate
from conftest import FIXTURES, ROOT, SHARED_FIXTURES


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    import anthropic
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(Path(anthropic.__file__).parent / "tokenizer.json"))


def corpus() -> dict[str, list[str]]:
    chat: list[str] = []
    for path in [*SHARED_FIXTURES.glob("chatgpt/*.json")]:
        for conv in json.loads(path.read_text()):
            for node in (conv.get("mapping") or {}).values():
                msg = node.get("message") or {}
                for part in (msg.get("content") or {}).get("parts") or []:
                    if isinstance(part, str) and part.strip():
                        chat.append(part)
    for line in (FIXTURES / "jsonl" / "sample.jsonl").read_text().splitlines():
        chat += [m["text"] for m in json.loads(line).get("messages", [])]
    code = [p.read_text() for p in sorted((ROOT / "aimem").rglob("*.py"))]
    cjk = ["京都の旅行計画について話しましょう。紅葉の季節は混雑します。" * 4,
           "数据库被锁定的问题：请检查是否有长时间运行的事务。" * 4,
           "데이터베이스 잠금 문제를 해결하려면 트랜잭션을 확인하세요." * 4]
    return {"chat": chat, "code": code, "cjk": cjk}


def test_estimate_never_undercounts_a_block(tokenizer) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    worst = float("inf")
    for texts in corpus().values():
        assert texts
        for _ in range(150):
            block = "\n".join(rng.sample(texts, min(len(texts), rng.randint(3, 30))))
            real = len(tokenizer.encode(block).ids)
            worst = min(worst, estimate(block) / real)
    assert worst >= 1.0, f"the estimate undercounted a block by {1 - worst:.1%}"


def test_estimate_is_not_wildly_pessimistic(tokenizer) -> None:  # type: ignore[no-untyped-def]
    texts = corpus()["chat"]
    block = "\n".join(texts)
    ratio = estimate(block) / len(tokenizer.encode(block).ids)
    assert ratio < 1.6  # budget is not wasted by more than ~60 %


def test_estimate_basics() -> None:
    assert estimate("") == 0
    assert estimate("hello") >= 1
    assert estimate("a " * 100) > estimate("a " * 10)
