"""aimem demo: load the bundled sample export into a demo database and try it."""

from __future__ import annotations

from importlib import resources
from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import console
from aimem.paths import home_dir

EPILOG = """Examples:

  aimem demo

  aimem demo --reset"""

QUERY = "sourdough starter"
INJECT_QUERY = "rust port"


@app.command(epilog=EPILOG)
def demo(
    reset: Annotated[bool, typer.Option("--reset", help="Start from an empty demo database.")
                     ] = False,
) -> None:
    """Import a small invented sample history into a demo database and search it.

    The demo database is DATA_DIR/demo.db (or $AIMEM_HOME/demo.db): your own database
    is not touched.
    """
    from aimem.cli.cmd_search import _print_hits
    from aimem.services import Archive

    db = home_dir() / "demo.db"
    if reset:
        for suffix in ("", "-wal", "-shm"):
            db.with_name(db.name + suffix).unlink(missing_ok=True)
    sample = resources.files("aimem") / "data" / "sample"
    con = console()
    with resources.as_file(sample) as folder, Archive.open(db) as mem:
        report = mem.import_paths([str(folder)])
        con.print(f"[bold]Demo database[/] {db}")
        con.print(f"sample import: {report.conversations_added} conversations added, "
                  f"{report.conversations_unchanged} already there, "
                  f"{report.messages_added} messages added, {report.memories_added} memories")
        con.print(f"\n[bold]$ aimem search {QUERY}[/]")
        _print_hits(mem.search(QUERY, limit=5, kinds=("message", "memory")))
        con.print(f'\n[bold]$ aimem inject "{INJECT_QUERY}" --budget 400[/]  '
                  "[dim](the block to paste into a new chat)[/]")
        con.print(mem.inject(INJECT_QUERY, budget=400), markup=False, highlight=False,
                  end="")
    con.print("\n[bold]Try next[/]")
    for cmd in (f'aimem --db {db} search "database is locked"',
                f"aimem --db {db} search kyoto --source gemini",
                f'aimem --db {db} inject "kyoto trip" | pbcopy',
                f"aimem --db {db} list",
                f"aimem --db {db} stats",
                "aimem import ~/Downloads/<your ChatGPT export>.zip"):
        con.print(f"  {cmd}", markup=False, soft_wrap=True)
