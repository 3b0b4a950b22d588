"""aimem doctor and aimem backup: check and repair the database; copy it safely."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, console, print_json, warn
from aimem.errors import ExitCode

DOCTOR_EPILOG = """Exit codes: 0 healthy (warnings allowed), 1 problems remain (after --fix: the
ones it could not repair).

Examples:

  aimem doctor

  aimem doctor --fix

  aimem --db ~/backups/aimem-20250101-120000.db doctor      # check a backup

  aimem doctor --json | jq '.checks[] | select(.status != "ok")'"""

BACKUP_EPILOG = """Restoring is copying the file back. With no aimem running (quit the TUI, MCP
clients and sync --watch), remove the old database's -wal and -shm files and copy the
backup over it:

  rm -f ~/.local/share/aimem/aimem.db-wal ~/.local/share/aimem/aimem.db-shm

  cp ~/backups/aimem-20250101-120000.db ~/.local/share/aimem/aimem.db

(aimem stats prints where your database is.)

Examples:

  aimem backup ~/backups/          # a dated file: aimem-YYYYMMDD-HHMMSS.db

  aimem backup /media/usb/aimem.db --force

  aimem --db ~/notes/aimem.db backup notes-copy.db"""

_MARK = {"ok": "ok", "warning": "warning", "problem": "PROBLEM"}
_STYLE = {"ok": "green", "warning": "yellow", "problem": "bold red"}


@app.command(epilog=DOCTOR_EPILOG)
def doctor(
    ctx: typer.Context,
    fix: Annotated[bool, typer.Option(
        "--fix", help="Repair what can be repaired: rebuild full-text indexes, remove orphan "
        "rows (one transaction), fold back a large write-ahead log, tighten file modes.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Check the database: file integrity, full-text indexes, orphan rows, schema version,
    write-ahead log size and file modes.

    It never migrates or creates a database, so it can look at a damaged one, a backup,
    or one written by a newer aimem. Without --fix it changes nothing.
    """
    from aimem.services import health

    report = health.diagnose((ctx.find_root().obj or {}).get("db"), fix=fix)
    if json:
        print_json(report)
    else:
        con = console()
        for line in report["fixed"]:
            con.print("fixed: ", end="")
            con.print(line, markup=False)
        con.print(f"[bold]{report['path']}[/]")
        width = max(len(c["name"]) for c in report["checks"])
        for c in report["checks"]:
            con.print(f"  [{_STYLE[c['status']]}]{_MARK[c['status']]:<8}[/] "
                      f"{c['name']:<{width}}  ", end="")
            con.print(c["detail"], markup=False, highlight=False)
        if report["healthy"]:
            con.print("healthy" + (f" ({report['warnings']} warnings)" if report["warnings"]
                                   else ""))
        else:
            fixable = sum(c["fixable"] and c["status"] == "problem" for c in report["checks"])
            con.print(f"{report['problems']} problem(s)"
                      + (f"; aimem doctor --fix repairs {fixable} of them"
                         if fixable and not fix else "")
                      + ("; --fix cannot repair them" if fix and not fixable else ""))
    if not report["healthy"]:
        raise typer.Exit(int(ExitCode.FAILURE))


@app.command(epilog=BACKUP_EPILOG)
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

    result = health.backup(path, (ctx.find_root().obj or {}).get("db"), force=force)
    if json:
        print_json(result)
        return
    warn(f"backed up {result['source']} to {result['path']} ({result['bytes'] / 1e6:,.1f} MB: "
         f"{result.get('conversations', 0):,} conversations, {result.get('messages', 0):,} "
         f"messages, {result.get('memories', 0):,} memories)")
