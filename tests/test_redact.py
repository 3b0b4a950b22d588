"""Secret redaction at import: one case per rule, the things it must leave alone, the wiring."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from aimem.redact import RULES, redact
from conftest import run_aimem

# Fake secrets built at run time, shaped like the real ones.
A40 = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"
CASES = {
    "private-key": ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n"
                    "-----END OPENSSH PRIVATE KEY-----", "[REDACTED:private-key]"),
    "anthropic-key": ("sk-ant-api03-" + A40 + "_xyz", "[REDACTED:anthropic-key]"),
    "openai-key": ("sk-proj-" + A40, "[REDACTED:openai-key]"),
    "github-token": ("ghp_" + A40[:36], "[REDACTED:github-token]"),
    "gitlab-token": ("glpat-" + A40[:20], "[REDACTED:gitlab-token]"),
    "google-api-key": ("AIza" + A40[:35], "[REDACTED:google-api-key]"),
    "aws-access-key": ("AKIA" + "IOSFODNN7EXAMPLE", "[REDACTED:aws-access-key]"),
    "aws-secret-key": ("aws_secret_access_key = " + A40,
                       "aws_secret_access_key = [REDACTED:aws-secret-key]"),
    "slack-token": ("xoxb-1234567890-abcdefghij", "[REDACTED:slack-token]"),
    "stripe-key": ("sk_live_" + A40[:24], "[REDACTED:stripe-key]"),
    "huggingface-token": ("hf_" + A40[:34], "[REDACTED:huggingface-token]"),
    "groq-key": ("gsk_" + A40 + "abcd", "[REDACTED:groq-key]"),
    "xai-key": ("xai-" + A40 + A40[:25], "[REDACTED:xai-key]"),
    "jwt": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6y",
            "[REDACTED:jwt]"),
    "bearer": ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
               "Authorization: Bearer [REDACTED:bearer]"),
    "url-password": ("postgres://app:s3cr3t-Pa55@db.internal:5432/prod",
                     "postgres://app:[REDACTED:url-password]@db.internal:5432/prod"),
    "password": ('DB_PASSWORD="Tr0ub4dor&3"', 'DB_PASSWORD="[REDACTED:password]"'),
}


def test_every_rule_has_a_case() -> None:
    assert {r.kind for r in RULES} == set(CASES)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_rule_redacts_and_counts(kind: str) -> None:
    secret, expected = CASES[kind]
    counts: Counter[str] = Counter()
    text = f"here it is:\n{secret}\nthanks"
    assert redact(text, counts) == f"here it is:\n{expected}\nthanks"
    assert counts == Counter({kind: 1})


@pytest.mark.parametrize("text", [
    "Use scikit-learn and task-management-system-architecture docs",
    "sk-this-is-just-a-long-hyphenated-phrase-without-digits",
    "password: <your password>",
    "password = ${DB_PASSWORD}",
    "set PASSWORD=changeme for local dev",
    "https://example.com/path?x=1 and mailto:someone@example.invalid",
    "a bearer of good news",
    "The AKIA prefix marks AWS access keys",
    "eyJ is how base64 JSON starts",
    "",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    counts: Counter[str] = Counter()
    assert redact(text, counts) == text
    assert not counts


def test_import_redacts_by_default_and_no_redact_keeps(tmp_path: Path) -> None:
    key = CASES["openai-key"][0]
    line = json.dumps({"title": "keys", "messages": [
        {"role": "user", "text": f"my key is {key}, why does it fail?"},
        {"role": "assistant", "text": "Never paste keys. Use OPENAI_API_KEY."}]})
    src = tmp_path / "k.jsonl"
    src.write_text(line + "\n")
    db = tmp_path / "r.db"
    report = json.loads(run_aimem("--db", str(db), "import", str(src), "--json",
                                  check=True).stdout)
    assert report["redactions"] == {"openai-key": 1}
    hits = json.loads(run_aimem("--db", str(db), "search", "key", "--json", check=True).stdout)
    texts = " ".join(h["text"] for h in hits)
    assert "[REDACTED:openai-key]" in texts and key not in texts
    assert key.encode() not in db.read_bytes()  # nor anywhere in the file
    plain = tmp_path / "plain.db"
    report = json.loads(run_aimem("--db", str(plain), "import", str(src), "--no-redact",
                                  "--json", check=True).stdout)
    assert report["redactions"] == {}
    out = run_aimem("--db", str(plain), "export", check=True).stdout.decode()
    assert key in out
