"""The marker around context that aimem hooks inject into an agent's session.

A session-start hook hands the agent a block wrapped in ``<aimem_recall …>`` …
``</aimem_recall>``. Agents keep that text in their transcripts; when aimem imports
the transcript later, the import pipeline cuts the block out again
(:func:`strip_recalled`), so recalled memories never come back as new content.
No imports beyond ``re``: the hook and the importers both load this module.
"""

from __future__ import annotations

import re

TAG = "aimem_recall"
OPEN = f'<{TAG} source="aimem hook"'
_BLOCK = re.compile(rf"{re.escape(OPEN)}[^>]*>.*?</{TAG}>[ \t]*\n?", re.S)
_OPEN_ONLY = re.compile(rf"{re.escape(OPEN)}[^>]*>.*\Z", re.S)  # cut off: the rest is ours


def wrap(body: str, project: str | None) -> str:
    """``body`` inside the marker (the project as an attribute, escaped)."""
    from html import escape

    attr = f' project="{escape(project, quote=True)}"' if project else ""
    body = body.replace(f"</{TAG}", f"&lt;/{TAG}")  # nothing inside can close the block
    return f"{OPEN}{attr}>\n{body.rstrip()}\n</{TAG}>\n"


def contains(text: str) -> bool:
    return OPEN in text


def strip_recalled(text: str) -> str:
    """``text`` without any aimem recall block (a truncated one is cut to its end)."""
    if OPEN not in text:
        return text
    out = _BLOCK.sub("", text)
    return _OPEN_ONLY.sub("", out)
