"""The Typer application and its root options; commands register on ``app`` here."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from aimem._version import __version__
from aimem.errors import AimemError, ExitCode


class AimemGroup(TyperGroup):
    """Turns every failure into one line on stderr and the documented exit codes.

    aimem's own errors (AimemError) carry their message; a database or file failure
    nobody expected (locked, disk full, read-only, damaged file) becomes one line saying
    what to do; anything else is reported as a bug in one line (AIMEM_DEBUG=1 re-raises it
    for the traceback). A reader that left the pipe is a normal end: exit 0.
    """

    def invoke(self, ctx: Any) -> Any:
        from aimem.cli import _common

        try:
            return super().invoke(ctx)
        except _common.PASS_THROUGH:
            raise
        except AimemError as e:
            _common.say_error("aimem: error: " + " ".join(str(e).split("\n")))
            raise typer.Exit(int(e.exit_code)) from None
        except KeyboardInterrupt:
            _common.say_error("aimem: interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            _common.stdout_gone()  # `aimem search … | head`: the reader left, nothing to say
            raise typer.Exit(0) from None
        except Exception as e:
            if _common.debugging():
                raise
            _common.say_error(_common.error_line(e, (ctx.obj or {}).get("db")))
            raise typer.Exit(int(ExitCode.FAILURE)) from None


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
