"""Secrets are redacted at import, before anything is stored.

Each rule in ``RULES`` has a kind (what ``[REDACTED:kind]`` says), a regular
expression, and the literal strings one of which must occur in a text for the
rule to be tried at all: plain substring tests are much cheaper than regular
expressions, and almost no message contains any of them, so redaction costs
little on a large import. When a pattern has a group named ``secret`` only that
group is replaced (``Bearer [REDACTED:bearer]``, ``https://user:[REDACTED:url-password]@``),
otherwise the whole match is.

To add a provider, add a rule and a test case in ``tests/test_redact.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    triggers: tuple[str, ...]


def _rule(kind: str, pattern: str, *triggers: str, flags: int = 0) -> Rule:
    return Rule(kind, re.compile(pattern, flags), triggers)


# Order matters where patterns overlap: the more specific rule comes first.
RULES: tuple[Rule, ...] = (
    _rule("private-key",
          r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
          r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----", "PRIVATE KEY"),
    _rule("anthropic-key", r"\bsk-ant-[a-z]{2,8}\d{0,3}-[A-Za-z0-9_-]{20,}", "sk-ant-"),
    _rule("openai-key", r"\bsk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}",
          "sk-"),
    _rule("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})",
          "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    _rule("gitlab-token", r"\bglpat-[A-Za-z0-9_-]{20,}", "glpat-"),
    _rule("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}", "AIza"),
    _rule("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b",
          "AKIA", "ASIA", "ABIA", "ACCA"),
    _rule("aws-secret-key",
          r"(?i:aws_?secret_?(?:access_?)?key)[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})",
          "ecret", "ECRET"),
    _rule("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "xox"),
    _rule("stripe-key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{20,}", "_live_", "_test_"),
    _rule("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}", "hf_"),
    _rule("groq-key", r"\bgsk_[A-Za-z0-9]{40,}", "gsk_"),
    _rule("xai-key", r"\bxai-[A-Za-z0-9]{60,}", "xai-"),
    _rule("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", "eyJ"),
    _rule("bearer", r"(?i:\bbearer)\s+(?P<secret>[A-Za-z0-9._~+/-]{20,}=*)",
          "earer", "EARER"),
    _rule("url-password",
          r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+:(?P<secret>[^\s/@]+)@", "://"),
    _rule("password",
          r"(?i:(?<![a-z])(?:password|passwd|pwd)(?![a-z]))[\"']?\s*[:=]\s*[\"']?(?P<secret>[^\s\"'`,;]{6,})",
          "assword", "ASSWORD", "asswd", "pwd", "PWD"),
)

_PLACEHOLDER = re.compile(r"^(?:\*+|x+|\.+|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|"
                          r"\[REDACTED:[a-z-]+\]|your[_-]?\w*|changeme|example\w*)$", re.I)


def redact(text: str, counts: Counter[str] | None = None) -> str:
    """``text`` with every secret replaced by ``[REDACTED:kind]``; counts go into ``counts``."""
    if not text:
        return text
    for rule in RULES:
        if not any(t in text for t in rule.triggers):
            continue
        text = rule.pattern.sub(lambda m, rule=rule: _replace(m, rule, counts), text)
    return text


def _replace(m: re.Match[str], rule: Rule, counts: Counter[str] | None) -> str:
    if "secret" in rule.pattern.groupindex:
        secret = m.group("secret")
        if _PLACEHOLDER.match(secret):
            return m.group(0)
        start, end = m.span("secret")
        whole = m.group(0)
        offset = m.start()
        replaced = whole[:start - offset] + f"[REDACTED:{rule.kind}]" + whole[end - offset:]
    else:
        replaced = f"[REDACTED:{rule.kind}]"
    if counts is not None:
        counts[rule.kind] += 1
    return replaced
