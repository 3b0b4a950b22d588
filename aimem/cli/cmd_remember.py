"""aimem remember / forget: save, update and delete memories (and forget conversations)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import (
    HereOpt,
    JsonOpt,
    ProjectOpt,
    console,
    err_console,
    open_memory,
    print_json,
    short,
)
from aimem.errors import AimemError
from aimem.models import MEMORY_KINDS

KindOpt = Annotated[str | None, typer.Option(
    "--kind", "-k", help=f"What it is: {', '.join(MEMORY_KINDS)} (default fact).",
    show_default=False)]

REMEMBER_EPILOG = """Examples:

  aimem remember "I prefer pytest over unittest" --kind preference --tag python

  aimem remember "Answer with code first, then explain" --kind instruction --pin

  echo "The staging DB is Postgres 16 on db-stage-2" | aimem remember - --kind project

  aimem remember --update 33c3d5fe "I prefer pytest, with pytest-xdist for speed"

  aimem remember --update 33c3d5fe --unpin

  aimem remember "Tests run with make test-fast" --here     # only for this project"""


@app.command(epilog=REMEMBER_EPILOG)
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


FORGET_EPILOG = """Examples:

  aimem forget 33c3d5fe

  aimem forget 6141097f 38abbc25 --yes

  aimem forget 6141097f --yes --vacuum     # also scrub the deleted text from the file"""


@app.command(epilog=FORGET_EPILOG)
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


MEMORIES_EPILOG = """Examples:

  aimem memories

  aimem memories --kind preference --json

  aimem memories --pinned --tag python"""


@app.command(epilog=MEMORIES_EPILOG)
def memories(
    ctx: typer.Context,
    kind: KindOpt = None,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", "-t", help="Only memories with this tag; repeatable.", show_default=False)
    ] = None,
    pinned: Annotated[bool, typer.Option("--pinned", help="Only pinned memories.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    project: ProjectOpt = None, here: HereOpt = False,
    json: JsonOpt = False,
) -> None:
    """List saved memories, most recently updated first (also: aimem list --memories)."""
    show_memories(ctx, kind=kind, tag=tag, pinned=pinned, limit=limit, offset=offset, json=json,
                  project=project, here=here)


def show_memories(ctx: typer.Context, *, kind: str | None, tag: list[str] | None, pinned: bool,
                  limit: int, offset: int, json: bool, project: str | None = None,
                  here: bool = False) -> None:
    from aimem.cli._common import filters

    with open_memory(ctx, create=False) as mem:
        rows = mem.list_memories(filters(mem, tag=tag, project=project, here=here),
                                 limit=limit, offset=offset, kind=kind,
                                 pinned=True if pinned else None)
    if json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold dim", pad_edge=False)
    for col in ("id", "updated", "kind", "memory"):
        table.add_column(col, no_wrap=col != "memory")
    for m in rows:
        text = ("[bold]📌[/] " if m["pinned"] else "") + m["text"].replace("[", r"\[")
        if m["tags"]:
            text += "  [dim]#" + " #".join(m["tags"]) + "[/]"
        table.add_row(f"[cyan]{short(m['id'])}[/]", (m["updated_at"] or "")[:10], m["kind"],
                      text)
    if rows:
        console().print(table)
    else:
        err_console().print("no memories (save one: aimem remember \"…\")", style="dim")
