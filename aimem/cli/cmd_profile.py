"""aimem profile: what your memories say about you, grouped by kind."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, console, open_memory, print_json, short, warn

EPILOG = """Examples:

  aimem profile

  aimem profile --json

  aimem profile --synthesize --model gpt-4o-mini"""


@app.command(epilog=EPILOG)
def profile(ctx: typer.Context, json: JsonOpt = False, synthesize: Annotated[bool, typer.Option(
        "--synthesize", help="First write the short paragraph about you from your memories, "
        "through an llm model (stored; shown on top).")] = False,
        model: Annotated[str | None, typer.Option(
            "--model", "-m", help="With --synthesize: an llm model id or alias (default: "
            "llm's default model).", show_default=False)] = None) -> None:
    """Your profile: pinned memories, preferences and instructions.

    This is what inject puts first and what MCP clients get from get_user_profile.
    """
    with open_memory(ctx, create=False) as mem:
        if synthesize:
            made = mem.synthesize_profile(model=model)
            u = made["usage"]
            warn(f"synthesized with {made['model']} from {made['memories_used']} memories; "
                 f"tokens: {u['input_tokens']:,} in, {u['output_tokens']:,} out")
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
