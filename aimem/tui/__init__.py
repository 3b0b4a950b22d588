"""``aimem browse``: a Textual browser over :class:`aimem.services.Archive`.

Textual is imported only here, and only when ``browse`` runs: importing this package
loads nothing heavy (the app is imported inside :func:`run`).
"""

from __future__ import annotations

from pathlib import Path


def run(db: Path, query: str = "") -> int:
    """Run the browser on the database at ``db`` until the user quits; the exit code."""
    from aimem.tui.app import BrowseApp

    app = BrowseApp(db, query=query)
    app.run()
    return app.return_code or 0


__all__ = ["run"]
