"""Word search inside Chinese, Japanese and Korean text.

The main FTS5 tokenizer (unicode61) makes a whole run of CJK characters one token, so a
word inside a sentence (数据库 in 我们需要更新数据库配置) cannot match. Rows whose text
holds CJK characters are therefore indexed a second time, in ``*_cjk`` FTS5 tables, over
a form of the text where every CJK run is cut into overlapping bigrams followed by its
last character alone (``更新数据库`` -> ``更新 新数 数据 据库 库``); everything else is
left as it is, so Latin words in the same row behave as in the main index.

A query term is cut the same way and matched as a phrase (``数据库`` -> ``"数据" + "据库"``);
a single character is a prefix of a bigram (``"茶" *``), which also finds it at the end of
a run thanks to the trailing unigram. Snippets are cut from the original text here, so
they mark the word itself, not the bigrams.

The index form is computed by Python functions registered on every connection
(:func:`register`); the ``*_cjk_content`` views use them, so FTS5 ``rebuild`` and
``integrity-check`` work on these indexes as on the others. Changing ``CJK`` means
rebuilding the indexes in a migration.
"""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3
from collections.abc import Iterable

# Letters (and number letters) of the CJK scripts: what unicode61 keeps as token
# characters, so a bigram stays one token. Punctuation (。、・「」) is left out.
CJK = (
    "\u1100-\u11ff"  # Hangul Jamo
    "\u3005-\u3007\u3021-\u3029\u3031-\u3035"  # 々〆〇, Hangzhou numerals, kana repeat marks
    "\u3041-\u3096\u309d-\u309f"  # Hiragana
    "\u30a1-\u30fa\u30fc-\u30ff"  # Katakana (without ・)
    "\u3105-\u312f\u3131-\u318e\u31a0-\u31bf\u31f0-\u31ff"  # Bopomofo, compat. Jamo, kana ext.
    "\u3400-\u4dbf\u4e00-\u9fff"  # CJK ideographs (ext. A, unified)
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff"  # Hangul syllables and Jamo extensions
    "\uf900-\ufaff"  # compatibility ideographs
    "\uff66-\uff9f\uffa0-\uffdc"  # half-width Katakana and Hangul
    "\U0001b000-\U0001b16f"  # kana supplement / extended
    "\U00020000-\U0003134f"  # CJK ideographs ext. B-G
)


# Compiled on first use: classes of this many ranges take 2-5 ms each to compile, 11 ms
# for the three, which every command importing the store paid although only CJK text and
# snippets cut in Python use them.
@functools.cache
def _run() -> re.Pattern[str]:
    return re.compile(f"[{CJK}]+")


@functools.cache
def _parts() -> re.Pattern[str]:
    return re.compile(f"[{CJK}]+|[^{CJK}]+")


def has_cjk(text: object) -> bool:
    """Whether ``text`` holds a CJK letter (the rows the CJK indexes cover)."""
    return isinstance(text, str) and not text.isascii() and _run().search(text) is not None


def _grams(run: re.Match[str]) -> str:
    r = run.group()
    return " " + " ".join(map(str.__add__, r, r[1:])) + " " + r[-1] + " "


def index_text(text: object) -> object:
    """The text as the CJK indexes see it: CJK runs as bigrams plus the run's last letter."""
    if not isinstance(text, str):
        return text
    return _run().sub(_grams, text)


def register(conn: sqlite3.Connection) -> None:
    """Make the functions the CJK views use available on ``conn``."""
    conn.create_function("aimem_cjk", 1, index_text, deterministic=True)
    conn.create_function("aimem_has_cjk", 1, has_cjk, deterministic=True)


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def query(words: list[str], prefix: bool) -> str:
    """FTS5 phrase for a term (one word, or the words of a phrase) on a CJK index.

    A CJK run becomes its bigrams; it ends with its last letter alone only where the
    query itself ends the run (Latin or another word follows), since the text may go on
    where the query stops. A one-letter run the query ends on is a prefix of a bigram.
    """
    tokens: list[str] = []
    stars: list[bool] = []
    for wi, word in enumerate(words):
        parts = _parts().findall(word)
        for pi, part in enumerate(parts):
            last = wi == len(words) - 1 and pi == len(parts) - 1
            if _run().fullmatch(part):
                grams = [part[i:i + 2] for i in range(len(part) - 1)]
                if not last or len(part) == 1:
                    grams.append(part[-1])
                tokens += grams
                stars += [False] * len(grams)
                if last and len(part) == 1:
                    stars[-1] = True
            else:
                tokens.append(part)
                stars.append(False)
    if prefix and stars:
        stars[-1] = True
    return " + ".join(_quote(t) + (" *" if s else "") for t, s in zip(tokens, stars, strict=True))


# -- snippets ---------------------------------------------------------------------------

_LATIN = f"[^\\W{CJK}]"  # a word character outside the CJK letters


@functools.cache
def _unit() -> re.Pattern[str]:
    """What a snippet counts: a CJK letter, a word."""
    return re.compile(f"([{CJK}])|{_LATIN}+")


@functools.lru_cache(maxsize=64)
def pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """A regex finding the searched words in the original text (for snippets)."""
    alts = []
    for w in sorted(set(words), key=len, reverse=True):
        for part in _parts().findall(w):
            if _run().fullmatch(part):
                alts.append(re.escape(part))
            else:
                # a Latin word (or its start: the index stems it), not inside another word
                alts += [rf"(?<!{_LATIN}){re.escape(p)}{_LATIN}*" for p in re.findall(r"\w+", part)]
    return re.compile("|".join(alts), re.I) if alts else None


def _window(text: str, at: int, budget: int) -> tuple[int, int]:
    """(start, end) of about ``budget`` weight of text, ``at`` a quarter of the way in.

    Only the neighbourhood of ``at`` is looked at, so a long text costs no more.
    """
    back, region = budget // 4, max(0, at - budget * 2)
    lo, used = at, 0
    before = [(m.start(), 1 if m.lastindex else 2) for m in _unit().finditer(text, region, at)]
    for start, weight in reversed(before):
        if used + weight > back:
            break
        used, lo = used + weight, start
    else:
        if region == 0:
            lo = 0
    hi = at
    for m in _unit().finditer(text, at):
        used += 1 if m.lastindex else 2
        if used > budget:
            break
        hi = m.end()
    else:
        hi = len(text)
    return lo, hi


def snippet(text: str | None, words: Iterable[str], open_: str, close: str,
            ellipsis: str = "…", tokens: int = 24) -> str:
    """A window of ``text`` around the best cluster of ``words``, each match marked.

    About ``tokens`` words long, a CJK letter counting as half a word (like FTS5's
    ``snippet()``, whose output it replaces for the CJK indexes).
    """
    if not text:
        return ""
    pat = pattern(tuple(words))
    spans = ([(m.start(), m.end()) for m in itertools.islice(pat.finditer(text), 500)
              if m.end() > m.start()] if pat else [])
    # start at the match with the most different matches close after it
    best, best_count = 0, -1
    for at, _ in spans[:50]:
        count = len({text[a:b].lower() for a, b in spans if at - 24 <= a < at + 96})
        if count > best_count:
            best, best_count = at, count
    lo, hi = _window(text, best, tokens * 2)
    out, pos = [], lo
    for a, b in spans:
        if a < pos or b > hi:
            continue
        out += [text[pos:a], open_, text[a:b], close]
        pos = b
    out.append(text[pos:hi])
    return (ellipsis if lo > 0 else "") + "".join(out) + (ellipsis if hi < len(text) else "")
