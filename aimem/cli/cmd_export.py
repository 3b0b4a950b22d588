"""aimem export: aimem JSONL, the lossless exchange format."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from aimem.cli._app import app
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

  aimem export | aimem --db copy.db import -

  aimem export --format markdown -o notes/      # one .md file per conversation

  aimem export --format html --tag work -o work.html

  aimem export --format csv --role user > my-prompts.csv"""

FORMATS = ("jsonl", "json", "markdown", "html", "csv")


@app.command(epilog=EPILOG)
def export(
    ctx: typer.Context,
    source: SourceOpt = None, tag: TagOpt = None, since: SinceOpt = None,
    until: UntilOpt = None, role: RoleOpt = None, conversation: ConversationOpt = None,
    format: Annotated[str, typer.Option(
        "--format", "-f", help="jsonl (lossless, re-importable), json, markdown, html or csv."
    )] = "jsonl",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file (a folder for markdown: one file per "
        "conversation) instead of standard output.", show_default=False)] = None,
) -> None:
    """Export conversations and memories; importing a JSONL export gives them back exactly."""
    if format not in FORMATS:
        raise AimemError(f"unknown export format {format!r}: use {', '.join(FORMATS)}")
    with open_memory(ctx, create=False) as mem:
        f = filters(mem, source, tag, since, until, role, conversation)
        if output is None:
            out = sys.stdout.buffer
            for chunk in mem.export(f, format):
                out.write(chunk)
            out.flush()
            return
        if format == "markdown":
            if output.exists() and not output.is_dir():
                raise AimemError(f"{output} is a file: markdown exports to a folder")
            try:
                n = mem.export_markdown_dir(output, f)
            except OSError as e:
                raise AimemError(f"cannot write {output}: {e.strerror or e}") from None
            warn(f"wrote {n} files to {output}")
            return
        tmp = output.with_name(output.name + ".part")
        size = 0
        try:
            with open(tmp, "wb") as fh:
                for chunk in mem.export(f, format):
                    fh.write(chunk)
                    size += len(chunk)
            os.replace(tmp, output)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise AimemError(f"cannot write {output}: {e.strerror or e}") from None
    warn(f"wrote {size:,} bytes to {output}")
