"""aimem: a terminal-first personal memory for AI conversations.

``import aimem`` stays light: the public API is loaded on first use (PEP 562).

    import aimem
    hits = aimem.search("deploy walrus", db="/path/aimem.db", limit=20, source=["chatgpt"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aimem._version import __version__

if TYPE_CHECKING:
    from aimem.services import Archive


def search(query: str, db: str | None = None, limit: int = 20, *,
           source: list[str] | None = None, tag: list[str] | None = None,
           since: str | None = None, until: str | None = None, role: list[str] | None = None,
           conversation: str | None = None, kind: list[str] | None = None,
           mode: str | None = None) -> list[dict[str, Any]]:
    """Search in one call: the same hits, in the same shape, as ``aimem search --json``.

    ``mode`` is ``lexical``, ``semantic`` or ``hybrid``, as ``aimem search --mode``;
    None picks hybrid when the configured embedding model has vectors, else lexical.

    The database stays open between calls (one connection per thread; see
    :mod:`aimem.services.kept`), so a loop of searches does not open it each time;
    :func:`close` closes it.
    """
    from aimem.services import kept
    from aimem.services.filters import make_filters

    mem = kept.archive(db)
    filters = make_filters(mem, source=source, tag=tag, since=since, until=until, role=role,
                           conversation=conversation)
    return mem.search(query, filters, limit=limit, kinds=kind, mode=mode)


def close() -> None:
    """Close the databases :func:`search` keeps open in this thread (reopened when needed)."""
    from aimem.services import kept

    kept.close_all()


def __getattr__(name: str) -> Any:
    if name == "Archive":
        from aimem.services import Archive

        return Archive
    if name == "Memory":  # the first name of Archive
        import warnings

        from aimem.services import Archive

        warnings.warn("aimem.Memory is now aimem.Archive; the old name will go in a future release",
                      DeprecationWarning, stacklevel=2)
        return Archive
    raise AttributeError(f"module 'aimem' has no attribute {name!r}")


__all__ = ["Archive", "__version__", "close", "search"]
