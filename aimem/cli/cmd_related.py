"""aimem related: what is closest to one conversation or memory."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, console, err_console, open_memory, print_json, short

EPILOG = """Examples:

  aimem related 3f2a

  aimem related 3f2a --limit 5 --json"""


@app.command(epilog=EPILOG)
def related(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="A conversation or memory id (or unique prefix).",
                                        show_default=False)],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 10,
    json: JsonOpt = False,
) -> None:
    """Conversations and memories closest to one conversation or memory: by embeddings
    when there are some, else by its most distinctive words."""
    with open_memory(ctx, create=False) as mem:
        out = mem.related(item, limit=limit)
    if json:
        print_json(out)
        return
    if not out:
        err_console().print("nothing related found", style="dim")
        return
    from rich.text import Text

    con = console()
    for i, h in enumerate(out, 1):
        line = Text(f"{i:>2}. ")
        if h["kind"] == "memory":
            line.append(f"memory: {(h.get('text') or '')[:70]}", style="bold magenta")
        else:
            line.append(h.get("title") or "(untitled)", style="bold")
        line.append(f"  {h['by']} {h['score']:.3f}", style="dim")
        line.append(f"  {short(h['id'])}", style="cyan")
        con.print(line)
