"""aimem export: aimem JSONL, the lossless exchange format."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from aimem.cli import app
from aimem.cli._common import (
    ConversationOpt,
    RoleOpt,
    SinceOpt,
    SourceOpt,
    TagOpt,
    UntilOpt,
    filters,
    open_memory,
    warn,
)
from aimem.errors import AimemError

EPILOG = """Examples:

  aimem export > backup.jsonl

  aimem export --source chatgpt --since 1y -o chatgpt.jsonl

  aimem export | aimem --db copy.db import -"""

FORMATS = ("jsonl",)


@app.command(epilog=EPILOG)
def export(
    ctx: typer.Context,
    source: SourceOpt = None, tag: TagOpt = None, since: SinceOpt = None,
    until: UntilOpt = None, role: RoleOpt = None, conversation: ConversationOpt = None,
    format: Annotated[str, typer.Option("--format", "-f", help="jsonl (lossless).")] = "jsonl",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file instead of standard output.",
        show_default=False)] = None,
) -> None:
    """Export conversations and memories; importing a JSONL export gives them back exactly."""
    if format not in FORMATS:
        raise AimemError(f"unknown export format {format!r}: use {', '.join(FORMATS)}")
    with open_memory(ctx, create=False) as mem:
        f = filters(mem, source, tag, since, until, role, conversation)
        if output is None:
            out = sys.stdout.buffer
            for line in mem.export_jsonl(f):
                out.write(line)
            out.flush()
            return
        tmp = output.with_name(output.name + ".part")
        n = 0
        try:
            with open(tmp, "wb") as fh:
                for line in mem.export_jsonl(f):
                    fh.write(line)
                    n += 1
            os.replace(tmp, output)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise AimemError(f"cannot write {output}: {e.strerror or e}") from None
    warn(f"wrote {n} lines to {output}")
