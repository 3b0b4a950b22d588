"""aimem browse: the full-screen browser (Textual), imported only when it runs."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import open_memory
from aimem.errors import AimemError

EPILOG = """Examples:

  aimem browse

  aimem browse sourdough starter

Type to search, Enter opens, ? lists every key, q or Esc goes back and quits."""


@app.command(epilog=EPILOG)
def browse(
    ctx: typer.Context,
    query: Annotated[list[str] | None, typer.Argument(
        help="Start with this search (the same syntax as aimem search).", metavar="QUERY",
        show_default=False)] = None,
) -> None:
    """Search and read everything in a terminal UI: results change as you type."""
    with open_memory(ctx, create=False) as mem:  # a missing database fails here, plainly
        path = mem.path
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise AimemError("browse needs a terminal; for scripts use aimem search --json")
    from aimem.tui import run

    raise typer.Exit(run(path, " ".join(query or [])))
