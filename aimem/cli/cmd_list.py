"""aimem list: conversations, newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import (
    HereOpt,
    JsonOpt,
    ProjectOpt,
    RoleOpt,
    SinceOpt,
    SourceOpt,
    TagOpt,
    UntilOpt,
    day,
    filters,
    open_memory,
    print_json,
    short,
)

EPILOG = """Examples:

  aimem list

  aimem list --source chatgpt --since 30d --limit 50

  aimem list --tag work --json | jq -r '.[].title'

  aimem list --memories"""


@app.command("list", epilog=EPILOG)
def list_(
    ctx: typer.Context,
    source: SourceOpt = None, tag: TagOpt = None, since: SinceOpt = None,
    until: UntilOpt = None, role: RoleOpt = None,
    project: ProjectOpt = None, here: HereOpt = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 20,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    memories: Annotated[bool, typer.Option(
        "--memories", "-m", help="List saved memories instead of conversations.")] = False,
    json: JsonOpt = False,
) -> None:
    """List conversations, most recently updated first (or memories, with --memories)."""
    if memories:
        from aimem.cli._memories import show_memories

        show_memories(ctx, kind=None, tag=tag, pinned=False, limit=limit, offset=offset,
                      json=json, project=project, here=here)
        return
    with open_memory(ctx, create=False) as mem:
        convs = mem.list_conversations(filters(mem, source, tag, since, until, role,
                                               project=project, here=here),
                                       limit=limit, offset=offset)
    if json:
        print_json(convs)
        return
    from rich.table import Table

    from aimem.cli._common import console

    table = Table(box=None, header_style="bold dim", pad_edge=False)
    for col in ("id", "updated", "source", "msgs", "title"):
        table.add_column(col, justify="right" if col == "msgs" else "left",
                         no_wrap=col != "title", overflow="ellipsis")
    for c in convs:
        title = c["title"] or "(untitled)"
        if c["tags"]:
            title += "  [dim]#" + " #".join(c["tags"]) + "[/]"
        table.add_row(f"[cyan]{short(c['id'])}[/]", day(c["updated_at"]), c["source"],
                      str(c["messages"]), title)
    con = console()
    if not convs:
        con.print("no conversations", style="dim")
    else:
        con.print(table)
