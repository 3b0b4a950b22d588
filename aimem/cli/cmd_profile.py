"""aimem profile: what your memories say about you, grouped by kind."""

from __future__ import annotations

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, console, open_memory, print_json, short

EPILOG = """Examples:

  aimem profile

  aimem profile --json"""


@app.command(epilog=EPILOG)
def profile(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Your profile: pinned memories, preferences and instructions.

    This is what inject puts first and what MCP clients get from get_user_profile.
    """
    with open_memory(ctx, create=False) as mem:
        prof = mem.profile()
    if json:
        print_json(prof)
        return
    con = console()
    if prof["synthesized"]:
        con.print(prof["synthesized"], markup=False)
        con.print()
    sections = [("pinned", prof["pinned"])] + list(prof["kinds"].items())
    if not any(items for _, items in sections):
        con.print("[dim]no profile yet: save preferences with "
                  "aimem remember \"…\" --kind preference[/]")
        return
    for name, items in sections:
        if not items:
            continue
        con.print(f"[bold]{name}[/]")
        for m in items:
            con.print(f"  [cyan]{short(m['id'])}[/] ", end="")
            con.print(m["text"], markup=False, highlight=False)
