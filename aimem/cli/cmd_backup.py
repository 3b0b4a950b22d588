"""aimem backup: a consistent copy of the database, even while aimem writes to it."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, db_option, print_json, warn

EPILOG = """Restoring is copying the file back. With no aimem running (quit the TUI, MCP
clients and sync --watch), remove the old database's -wal and -shm files and copy the
backup over it:

  rm -f ~/.local/share/aimem/aimem.db-wal ~/.local/share/aimem/aimem.db-shm

  cp ~/backups/aimem-20250101-120000.db ~/.local/share/aimem/aimem.db

(aimem stats prints where your database is.)

Examples:

  aimem backup ~/backups/          # a dated file: aimem-YYYYMMDD-HHMMSS.db

  aimem backup /media/usb/aimem.db --force

  aimem --db ~/notes/aimem.db backup notes-copy.db"""


@app.command(epilog=EPILOG)
def backup(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(
        help="The backup file to write, or a folder (then aimem-YYYYMMDD-HHMMSS.db in it).",
        show_default=False)],
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the file if it exists.")] = False,
    json: JsonOpt = False,
) -> None:
    """Copy the database to PATH, consistently, even while other aimem processes write.

    The copy (mode 0600) is a snapshot of everything committed when it began, made with
    SQLite's online backup API. Restore it by copying it back (see below).
    """
    from aimem.services import health

    result = health.backup(path, db_option(ctx), force=force)
    if json:
        print_json(result)
        return
    warn(f"backed up {result['source']} to {result['path']} ({result['bytes'] / 1e6:,.1f} MB: "
         f"{result.get('conversations', 0):,} conversations, {result.get('messages', 0):,} "
         f"messages, {result.get('memories', 0):,} memories)")
