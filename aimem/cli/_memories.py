"""What aimem remember, memories and list --memories share: the --kind option, the table."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._common import console, err_console, filters, open_memory, print_json, short
from aimem.models import MEMORY_KINDS

KindOpt = Annotated[str | None, typer.Option(
    "--kind", "-k", help=f"What it is: {', '.join(MEMORY_KINDS)} (default fact).",
    show_default=False)]


def show_memories(ctx: typer.Context, *, kind: str | None, tag: list[str] | None, pinned: bool,
                  limit: int, offset: int, json: bool, project: str | None = None,
                  here: bool = False) -> None:
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
