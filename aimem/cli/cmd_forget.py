"""aimem forget: delete conversations or memories, with everything derived from them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, console, err_console, open_memory, print_json, short
from aimem.errors import AimemError

EPILOG = """Examples:

  aimem forget 33c3d5fe

  aimem forget 6141097f 38abbc25 --yes

  aimem forget 6141097f --yes --vacuum     # also scrub the deleted text from the file"""


@app.command(epilog=EPILOG)
def forget(
    ctx: typer.Context,
    ids: Annotated[list[str], typer.Argument(
        help="Ids (or unique prefixes) of conversations or memories.", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
                   ] = False,
    vacuum: Annotated[bool, typer.Option(
        "--vacuum", help="Afterwards rebuild the database file so the deleted text does not "
        "linger in free pages.")] = False,
    json: JsonOpt = False,
) -> None:
    """Delete conversations or memories with everything derived from them.

    Messages, index entries, summaries, tags and use counters go too. Memories that
    were distilled from a forgotten conversation are kept (forget them by id).
    """
    with open_memory(ctx, create=False) as mem:
        targets = [mem.resolve(i, ("conversation", "memory")) for i in ids]
        if not yes:
            if not sys.stdin.isatty():
                raise AimemError("forget needs --yes when standard input is not a terminal")
            what = ", ".join(f"{k} {short(i)}" for k, i in targets)
            if not typer.confirm(f"Delete {what}?", err=True):
                raise typer.Exit(1)
        done = mem.forget(ids)
        if vacuum:
            mem.vacuum()
    if json:
        print_json(done)
        return
    for d in done:
        console().print(f"forgot {d['kind']} {short(d['id'])}: {d['title'] or '(untitled)'}",
                        markup=False, highlight=False)
    if vacuum:
        err_console().print("database file rebuilt (VACUUM)", style="dim")
