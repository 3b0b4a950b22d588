"""The Typer application and its root options; commands register on ``app`` here."""

from __future__ import annotations

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
