"""aimem doctor: check the database, and repair what can be repaired."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, console, db_option, print_json
from aimem.errors import ExitCode

EPILOG = """Exit codes: 0 healthy (warnings allowed), 1 problems remain (after --fix: the
ones it could not repair).

Examples:

  aimem doctor

  aimem doctor --fix

  aimem --db ~/backups/aimem-20250101-120000.db doctor      # check a backup

  aimem doctor --json | jq '.checks[] | select(.status != "ok")'"""

_MARK = {"ok": "ok", "warning": "warning", "problem": "PROBLEM"}
_STYLE = {"ok": "green", "warning": "yellow", "problem": "bold red"}


@app.command(epilog=EPILOG)
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

    report = health.diagnose(db_option(ctx), fix=fix)
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
