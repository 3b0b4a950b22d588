"""aimem remember: save a memory, or change one."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, err_console, open_memory, print_json, short
from aimem.cli._memories import KindOpt
from aimem.errors import AimemError

EPILOG = """Examples:

  aimem remember "I prefer pytest over unittest" --kind preference --tag python

  aimem remember "Answer with code first, then explain" --kind instruction --pin

  echo "The staging DB is Postgres 16 on db-stage-2" | aimem remember - --kind project

  aimem remember --update 33c3d5fe "I prefer pytest, with pytest-xdist for speed"

  aimem remember --update 33c3d5fe --unpin

  aimem remember "Tests run with make test-fast" --here     # only for this project"""


@app.command(epilog=EPILOG)
def remember(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(
        help="The memory; - reads it from standard input.", show_default=False)] = None,
    kind: KindOpt = None,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", "-t", help="Tag it; repeatable.", show_default=False)] = None,
    pin: Annotated[bool | None, typer.Option(
        "--pin/--unpin", help="Pinned memories always come first in inject and the profile.",
        show_default=False)] = None,
    update: Annotated[str | None, typer.Option(
        "--update", "-u", metavar="ID",
        help="Change this memory instead of saving a new one (text, kind, tags, pin).",
        show_default=False)] = None,
    project: Annotated[str | None, typer.Option(
        "--project", metavar="PATH", help="Save it for this project (its git root, else the "
        "folder): it is recalled there first, and hidden from other projects' session hooks.",
        show_default=False)] = None,
    here: Annotated[bool, typer.Option(
        "--here", help="Save it for the project of the current folder (like --project .).")
    ] = False,
    global_: Annotated[bool, typer.Option(
        "--global", help="Save it for every project (the default).")] = False,
    json: JsonOpt = False,
) -> None:
    """Save a memory: a fact, preference, instruction or project detail worth keeping.

    Saving the same text again (case, spacing and end punctuation do not count)
    refreshes the existing memory instead of storing it twice. Prints the memory's id.
    A memory is global unless --project or --here says which project it belongs to.
    """
    if sum(map(bool, (project, here, global_))) > 1:
        raise AimemError("use one of --project PATH, --here and --global")
    if (project or here or global_) and update:
        raise AimemError("--project, --here and --global apply to a new memory, not --update")
    if text == "-":
        text = sys.stdin.read()
    with open_memory(ctx, create=update is None) as mem:
        if update:
            result = mem.update_memory(update, text=text, kind=kind,
                                       tags=tag if tag is not None else None, pin=pin)
            verb = "updated"
        else:
            if not text or not text.strip():
                raise AimemError("nothing to remember: give the text, or - to read stdin")
            result = mem.remember(text, kind=kind or "fact", tags=tag or [], pin=bool(pin),
                                  project=project or ("." if here else None))
            verb = "saved" if result["created"] else "already known, refreshed"
        mem.embed_in_background()  # when an embed-model is configured
    if json:
        print_json(result)
        return
    typer.echo(result["id"])
    err_console().print(f"{verb}: {short(result['id'])} ({result['kind']}"
                        f"{', pinned' if result['pinned'] else ''}"
                        f"{', project ' + result['project'] if result.get('project') else ''})",
                        markup=False)
