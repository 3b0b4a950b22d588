"""aimem inject: a token-budgeted context block for pasting into any chat."""

from __future__ import annotations

import base64
import os
import sys
from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import (
    ConversationOpt,
    HereOpt,
    ProjectOpt,
    RoleOpt,
    SinceOpt,
    SourceOpt,
    TagOpt,
    UntilOpt,
    err_console,
    filters,
    open_memory,
)
from aimem.errors import AimemError

EPILOG = """Examples:

  aimem inject "postgres slow query" | pbcopy

  aimem inject "kyoto trip" --budget 800 --since 1y

  aimem inject "rust port" --format xml --copy

  aimem inject "deploy" --source claude-code --format json | jq .excerpts"""


@app.command(epilog=EPILOG)
def inject(
    ctx: typer.Context,
    query: Annotated[list[str], typer.Argument(help="What the new chat is about.",
                                               show_default=False)],
    source: SourceOpt = None, tag: TagOpt = None, since: SinceOpt = None,
    until: UntilOpt = None, role: RoleOpt = None, conversation: ConversationOpt = None,
    project: ProjectOpt = None, here: HereOpt = False,
    budget: Annotated[int, typer.Option(
        "--budget", "-b", min=1, help="Token budget for the whole block (estimated, never "
        "exceeded).")] = 1500,
    format: Annotated[str, typer.Option(
        "--format", "-f", help="markdown (a fenced block), xml or json.")] = "markdown",
    copy: Annotated[bool, typer.Option(
        "--copy", help="Put the block on the clipboard (OSC 52 over SSH) instead of printing "
        "it to a terminal.")] = False,
    mode: Annotated[str | None, typer.Option(
        "--mode", help="lexical, semantic or hybrid, as for search (default: hybrid when "
        "the configured embed-model has vectors, else lexical).", show_default=False)] = None,
) -> None:
    """Print your profile, the relevant memories and conversation excerpts as one block.

    Only the block goes to stdout, so `aimem inject "q" | pbcopy` works. The block
    says that it is recalled reference data and not instructions. With nothing
    relevant, a short block says so (exit 0).
    """
    with open_memory(ctx, create=False) as mem:
        f = filters(mem, source, tag, since, until, role, conversation, project, here)
        block = mem.inject(" ".join(query), f, budget=budget, format=format,
                           mode=mode.lower() if mode else None)
    if copy:
        how = copy_to_clipboard(block)
        err_console().print(f"copied the context block to the clipboard ({how})", style="dim")
        if sys.stdout.isatty():
            return
    sys.stdout.write(block)
    sys.stdout.flush()


def copy_to_clipboard(text: str) -> str:
    """Copy through the system clipboard, or the terminal (OSC 52) over SSH; say which."""
    remote = bool(os.environ.get("SSH_TTY") or os.environ.get("SSH_CONNECTION"))
    if not remote:
        try:
            import pyperclip

            pyperclip.copy(text)
            return "system clipboard"
        except Exception:  # noqa: BLE001 - pyperclip raises its own error types per platform
            pass
    seq = "\x1b]52;c;" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "\a"
    if os.environ.get("TMUX"):
        seq = "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    try:
        with open("/dev/tty", "w") as tty:
            tty.write(seq)
        return "OSC 52 terminal escape"
    except OSError:
        if sys.stderr.isatty():
            sys.stderr.write(seq)
            sys.stderr.flush()
            return "OSC 52 terminal escape"
    raise AimemError("no clipboard here (no system clipboard and no terminal for OSC 52); "
                     "pipe the block instead: aimem inject \"…\" | pbcopy")
