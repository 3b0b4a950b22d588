"""Secrets are redacted at import, before anything is stored.

Each rule in ``RULES`` has a kind (what ``[REDACTED:kind]`` says), a regular
expression, and the literal strings one of which must occur in a text for the
rule to be tried at all: plain substring tests are much cheaper than regular
expressions, and almost no message contains any of them, so redaction costs
little on a large import. When a pattern has a group named ``secret`` only that
group is replaced (``Bearer [REDACTED:bearer]``, ``https://user:[REDACTED:url-password]@``),
otherwise the whole match is.

No rule crosses a line break, except the private-key block, which is bounded by its
BEGIN and END lines and holds only base64 and header characters. The ``password``
rule is the one that meets code: ``password = value`` only redacts a value that is
a literal (a quoted string without spaces, or a bare word with a digit or a symbol,
or a plain word on a ``KEY=value`` line of a .env file), never a comparison
(``==``), a call, a subscript, an attribute (``os.environ[...]``, ``getenv(...)``,
``process.env.X``, ``self.password``), a variable name, a type or a placeholder
(``<your-password>``, ``****``, ``${PASS}``, ``{{ pw }}``, ``%s``, ``:param``).

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
          r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s:,.-]*?"
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
          r"(?i:aws_?secret_?(?:access_?)?key)[\"']?[ \t]*[:=][ \t]*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})",
          "ecret", "ECRET"),
    _rule("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "xox"),
    _rule("stripe-key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{20,}", "_live_", "_test_"),
    _rule("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}", "hf_"),
    _rule("groq-key", r"\bgsk_[A-Za-z0-9]{40,}", "gsk_"),
    _rule("xai-key", r"\bxai-[A-Za-z0-9]{60,}", "xai-"),
    _rule("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", "eyJ"),
    _rule("bearer", r"(?i:\bbearer)[ \t]+(?P<secret>[A-Za-z0-9._~+/-]{20,}=*)",
          "earer", "EARER"),
    _rule("url-password",
          r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+:(?P<secret>[^\s/@]+)@", "://"),
    _rule("password",
          # key, optional closing quote, an assignment operator (never ``==``, ``=~``,
          # ``!=``), then a quoted or bare value; nothing here crosses a line break.
          r"(?i:(?:passw(?:or)?d|(?<![a-z])pwd)(?![a-z]))[\"']?[ \t]*"
          r"(?P<op>:=|=>|:(?!:)|(?<![=!<>])=(?![=~]))[ \t]*"
          r"(?:\"(?P<dq>[^\"\n]*)\"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s\"'`,;]+))",
          "assword", "ASSWORD", "asswd", "ASSWD", "pwd", "PWD", "Pwd"),
)

# What a value is when it is not a secret: a placeholder, a template, a type or a label.
_PLACEHOLDER = re.compile(r"^(?:\*+|x+|\.+|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|"
                          r"\[REDACTED:[a-z-]+\]|your[_-]?\w*|changeme|example\w*)$", re.I)
_SAME_CHAR = re.compile(r"^(.)\1*$")
_WORDS = frozenset("""password passwd pwd pass pw passwort contrasena contraseña passphrase secret
    foo bar baz test example token apikey api-key
    string str text bytes char varchar int integer number bool boolean any none null nil
    true false undefined optional required hidden redacted masked empty unset default
    new-password current-password old-password""".split())
# A bare value that starts like this is a variable, template or parameter, not a secret.
_SIGILS = tuple("$%{<:?@*&#!\\/~")
_DOTTED = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
_VARIABLE_WORD = re.compile(r"pass|pwd|hash", re.I)
_CONSTANT = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_LABEL = re.compile(r"^[A-Za-z]+(?:[-_][A-Za-z]+)*$")
_ENV_LINE_PREFIX = re.compile(r"^[ \t]*(?:export[ \t]+)?[A-Za-z0-9_]*$")


def _password_value(m: re.Match[str]) -> tuple[str, int, int] | None:
    """The secret in a ``password = value`` match and its span, or None when it is code."""
    for group in ("dq", "sq", "bare"):
        value = m.group(group)
        if value is not None:
            break
    else:  # pragma: no cover - the pattern always has one of them
        return None
    start, end = m.span(group)
    low = value.lower()
    if len(value) < 6 or _PLACEHOLDER.match(value) or _SAME_CHAR.match(value) or low in _WORDS:
        return None
    if group != "bare":  # a string literal: a secret unless a label, template or sentence
        if any(c.isspace() for c in value) or "{" in value or "%s" in value \
                or value.startswith(("$", "<", "%", "*")) or _CONSTANT.match(value) \
                or (_LABEL.match(value) and _VARIABLE_WORD.search(value)):
            return None  # FORCE_CHANGE_PASSWORD, "no-password-required", "challengePassword"
        return value, start, end
    if value.startswith(_SIGILS) or any(c in value for c in "()[]{}<>"):
        return None  # a call, subscript, template, parameter, path, type or pointer
    if _DOTTED.match(value):
        return None  # attribute access: self.password, process.env.DB_PASSWORD
    if _IDENT.match(value):
        has_digit = any(c.isdigit() for c in value)
        if has_digit and "_" in value and _VARIABLE_WORD.search(value):
            return None  # new_password2, pwd_hash_v1
        if not has_digit and not _env_assignment(m):
            return None  # a variable name; only a KEY=value line makes a plain word a secret
    return value, start, end


def _env_assignment(m: re.Match[str]) -> bool:
    """Is the match a whole ``KEY=value`` line (a .env file or a shell assignment)?"""
    text = m.string
    line_start = text.rfind("\n", 0, m.start()) + 1
    line_end = text.find("\n", m.end())
    rest = text[m.end():len(text) if line_end < 0 else line_end]
    return (m.group("op") == "=" and m.group(0).count(" ") == 0 and "\t" not in m.group(0)
            and bool(_ENV_LINE_PREFIX.match(text[line_start:m.start()]))
            and (not rest.strip() or rest.lstrip().startswith("#")))


def redact(text: str, counts: Counter[str] | None = None) -> str:
    """``text`` with every secret replaced by ``[REDACTED:kind]``; counts go into ``counts``."""
    if not text or not _may_hold_secret(text):  # most texts: a few fast scans, done
        return text
    for rule in RULES:
        if not any(t in text for t in rule.triggers):
            continue
        text = rule.pattern.sub(lambda m, rule=rule: _replace(m, rule, counts), text)
    return text


_TRIGGERS = tuple(sorted({t for rule in RULES for t in rule.triggers}))
# Characters from rare to common in chat text (the rest after them). Each trigger is
# looked for only in a text that holds its rarest character: a one-character test is a
# memchr, much faster than a substring search, and most texts lack most of these
# characters, so a text costs a dozen fast scans instead of one search per trigger.
_RARE_FIRST = "/K_:JVYDE-RBPCOWIASzTxvkgbwfpycdulhsnriatoe "


def _rarity(ch: str) -> int:
    i = _RARE_FIRST.find(ch)
    return len(_RARE_FIRST) if i < 0 else i


_BY_GATE: dict[str, list[str]] = {}
for _t in _TRIGGERS:
    _BY_GATE.setdefault(min(_t, key=_rarity), []).append(_t)
_GATES = tuple((gate, tuple(triggers)) for gate, triggers in _BY_GATE.items())


def _may_hold_secret(text: str) -> bool:
    """Whether ``text`` contains one of the rules' trigger strings (any of ``_TRIGGERS``)."""
    for gate, triggers in _GATES:
        if gate in text:
            for t in triggers:
                if t in text:
                    return True
    return False


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value) or _SAME_CHAR.match(value)
                or value.startswith(("$", "{", "<", "%")) or value.lower() in _WORDS
                or value.endswith("EXAMPLE") or "[" in value or "]" in value)


def _replace(m: re.Match[str], rule: Rule, counts: Counter[str] | None) -> str:
    if rule.kind == "password":
        found = _password_value(m)
        if found is None:
            return m.group(0)
        _, start, end = found
    elif "secret" in rule.pattern.groupindex:
        if _is_placeholder(m.group("secret")):
            return m.group(0)
        start, end = m.span("secret")
    else:
        if _is_placeholder(m.group(0)):
            return m.group(0)  # AKIAIOSFODNN7EXAMPLE, the documented example key
        start, end = m.span()
    offset = m.start()
    whole = m.group(0)
    if counts is not None:
        counts[rule.kind] += 1
    return whole[:start - offset] + f"[REDACTED:{rule.kind}]" + whole[end - offset:]
