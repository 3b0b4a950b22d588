"""aimem memories: the saved memories, newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import HereOpt, JsonOpt, ProjectOpt
from aimem.cli._memories import KindOpt, show_memories

EPILOG = """Examples:

  aimem memories

  aimem memories --kind preference --json

  aimem memories --pinned --tag python"""


@app.command(epilog=EPILOG)
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
