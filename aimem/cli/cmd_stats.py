"""aimem stats: what is in the database."""

from __future__ import annotations

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, open_memory, print_json

EPILOG = """Examples:

  aimem stats

  aimem stats --json | jq .by_source"""


@app.command(epilog=EPILOG)
def stats(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Counts by source, role and month, and the size of the database."""
    with open_memory(ctx, create=False) as mem:
        s = mem.stats()
    if json:
        print_json(s)
        return
    from rich.table import Table

    from aimem.cli._common import console

    con = console()
    con.print(f"[bold]{s['path']}[/]  {s['size_bytes'] / 1e6:.1f} MB, schema {s['schema_version']}")
    con.print(f"{s['conversations']} conversations, {s['messages']} messages, "
              f"{s['memories']} memories, {s['tags']} tags, {s['summaries']} summaries"
              + (f"; from {(s['first'] or '')[:10]} to {(s['last'] or '')[:10]}"
                 if s["first"] else ""))
    t = Table("source", "conversations", "messages", box=None, header_style="bold dim")
    for row in s["by_source"]:
        t.add_row(row["source"], str(row["conversations"]), str(row["messages"]))
    con.print(t)
    if s["by_role"]:
        con.print("roles: " + ", ".join(f"{r['role']} {r['messages']}" for r in s["by_role"]))
    if s["by_month"]:
        peak = max(m["conversations"] for m in s["by_month"])
        for m in s["by_month"][-12:]:
            bar = "█" * max(1, round(24 * m["conversations"] / peak))
            con.print(f"  {m['month']}  {bar} {m['conversations']}")
