"""The aimem command line: a thin Typer front end over :class:`aimem.services.Memory`.

Each command lives in its own ``cmd_*.py`` module and registers itself on ``app``.
Heavy libraries are imported inside the commands that need them, so ``aimem --help``
and shell completion stay fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from aimem._version import __version__
from aimem.errors import AimemError, ExitCode


class AimemGroup(TyperGroup):
    """Turns aimem's own errors into one line on stderr and the documented exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except AimemError as e:
            typer.echo("aimem: error: " + " ".join(str(e).split("\n")), err=True)
            raise typer.Exit(int(e.exit_code)) from None
        except KeyboardInterrupt:
            typer.echo("aimem: interrupted", err=True)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            sys.stderr.close()  # `aimem search … | head`: the reader left, nothing to say
            raise typer.Exit(0) from None


app = typer.Typer(
    name="aimem", cls=AimemGroup, no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False, context_settings={"help_option_names": ["-h", "--help"]},
    help="Your AI conversations, in one local place: import every export, search it all, "
         "remember what matters.",
    epilog="Start with: aimem import conversations.json, then aimem search \"your words\". "
           "Docs: man aimem.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aimem {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", envvar=None, show_default=False, metavar="PATH",
        help="Database file (default: $AIMEM_DB, $AIMEM_HOME/aimem.db, or the user data dir).")
    ] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    ctx.obj = {"db": db}


# Each command lives in its own module and registers itself on ``app`` when imported.
# To add a command, write aimem/cli/cmd_NAME.py and add its module name here.
COMMANDS = ("cmd_import", "cmd_search", "cmd_show", "cmd_list", "cmd_stats", "cmd_export",
            "cmd_sync", "cmd_remember", "cmd_tag", "cmd_inject", "cmd_profile", "cmd_demo")
for _name in COMMANDS:
    importlib.import_module(f"aimem.cli.{_name}")

__all__ = ["COMMANDS", "app", "main"]


def main() -> None:
    app()
