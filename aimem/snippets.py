"""The markers around the matched words in a search snippet, and what front ends do with them.

The store asks SQLite (``snippet()``) to wrap every matched word in :data:`MARK_OPEN` /
:data:`MARK_CLOSE`, two control characters no real text contains; each front end turns
them into its own highlight (a style in the TUI, ``[brackets]`` in plain output). They
live here, below both, so that a front end never imports the store to read a snippet.
"""

from __future__ import annotations

MARK_OPEN, MARK_CLOSE = "\x02", "\x03"


def bracketed(snippet: str, open: str = "[", close: str = "]") -> str:
    """The snippet with its markers replaced by ``open`` / ``close`` (plain text)."""
    return snippet.replace(MARK_OPEN, open).replace(MARK_CLOSE, close)


__all__ = ["MARK_CLOSE", "MARK_OPEN", "bracketed"]
