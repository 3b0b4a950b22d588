"""What every command shares: the database option, filter options, output helpers.

stdout is data (``--json``, ``--jsonl``, exports) or output for people; messages,
warnings and progress go to stderr. rich is imported only for output meant for people.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from aimem import jsonio

if TYPE_CHECKING:
    from rich.console import Console

    from aimem.models import Filters
    from aimem.services import Archive


def db_option(ctx: typer.Context) -> str | None:
    """This invocation's --db, if it was given."""
    db: str | None = (ctx.find_root().obj or {}).get("db")
    return db


def open_memory(ctx: typer.Context, *, create: bool) -> Archive:
    """The Archive for this invocation's --db (read-only commands pass ``create=False``)."""
    from aimem.services import Archive

    mem = Archive.open(db_option(ctx), create=create)
    for u in mem.recovered:
        import time

        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(u["started_at"]))
        warn(f"undid an unfinished import started {when} ({' '.join(u['paths'])}): its "
             f"process stopped before it finished ({u['removed']} added items removed, "
             f"{u['restored']} updated conversations restored"
             + (f"; rebuilt the index {', '.join(u['rebuilt'])}" if u.get("rebuilt") else "")
             + ")")
    return mem


SourceOpt = Annotated[list[str] | None, typer.Option(
    "--source", "-s", help="Only this source (chatgpt, claude, jsonl…); repeatable.",
    show_default=False)]
TagOpt = Annotated[list[str] | None, typer.Option(
    "--tag", "-t", help="Only items with this tag; repeatable (any of them).", show_default=False)]
SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="From this time: 2024-05-01, 7d, 2w, 3m, 1y, yesterday.", show_default=False)]
UntilOpt = Annotated[str | None, typer.Option(
    "--until", help="Up to this time (a bare date includes that whole day).",
    show_default=False)]
RoleOpt = Annotated[list[str] | None, typer.Option(
    "--role", "-r", help="Only messages by this role: user, assistant, system, tool; repeatable.",
    show_default=False)]
ConversationOpt = Annotated[str | None, typer.Option(
    "--conversation", "-c", help="Only this conversation (an id or a unique prefix).",
    show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ProjectOpt = Annotated[str | None, typer.Option(
    "--project", metavar="PATH", help="Only this project (its git root, else the folder) and "
    "the folders below it.", show_default=False)]
HereOpt = Annotated[bool, typer.Option(
    "--here", help="Only the project of the current folder (like --project .).")]


def filters(mem: Archive, source: list[str] | None = None, tag: list[str] | None = None,
            since: str | None = None, until: str | None = None, role: list[str] | None = None,
            conversation: str | None = None, project: str | None = None,
            here: bool = False) -> Filters | None:
    from aimem.services.filters import make_filters

    return make_filters(mem, source=source, tag=tag, since=since, until=until, role=role,
                        conversation=conversation, project=project, here=here)


def print_json(obj: Any) -> None:
    sys.stdout.buffer.write(jsonio.dumps(obj, indent=True) + b"\n")
    sys.stdout.flush()


def print_jsonl(objs: list[Any]) -> None:
    out = sys.stdout.buffer
    for o in objs:
        out.write(jsonio.dumps(o) + b"\n")
    out.flush()


def console() -> Console:
    """Output for people on stdout; not wrapped when it goes to a pipe or a file."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # rich would exit 1: let the command handler decide
            self.quiet = True
            raise BrokenPipeError

    return _Console(highlight=False, soft_wrap=not sys.stdout.isatty())


def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


class ProgressBar:
    """A progress bar on stderr for people, gone when done. Subclasses decide when to
    :meth:`start` it (never unless stderr is a terminal: :func:`stderr_is_tty`) and what
    it shows: ``columns`` gets :mod:`rich.progress` and returns the bar's columns."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def start(self, label: str, columns: Callable[[Any], list[Any]], total: int | None,
              **fields: Any) -> None:
        from rich import progress

        self.bar = progress.Progress(*columns(progress), console=err_console(), transient=True)
        self.bar.start()
        self.task = self.bar.add_task(label, total=total, **fields)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def warn(message: str) -> None:
    """One line to stderr for people."""
    typer.echo(f"aimem: {message}", err=True)


def stderr_is_tty() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


def short(id_: str | None) -> str:
    return (id_ or "")[:10]


def day(ts: str | None) -> str:
    return (ts or "")[:10] or "—"


# -- the last line of defence: no traceback, ever ------------------------------------------

PASS_THROUGH = (typer.Exit, typer.Abort, typer.exceptions.TyperException)


def stdout_gone() -> None:
    """The reader of stdout left (``aimem export | head -1``): a normal end, not an error.

    Later writes, and the flush at exit, go to /dev/null instead of raising
    BrokenPipeError again (which Python would report as "Exception ignored")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def error_line(exc: BaseException, db: str | None) -> str:
    """The one line on stderr for an exception no command turned into an AimemError.

    A database or file failure says what happened and what to do; anything else is a
    bug in aimem, said as such (``AIMEM_DEBUG=1`` shows the traceback to report).
    """
    from aimem.errors import database_error_message, os_error_message

    sqlite3 = sys.modules.get("sqlite3")  # never imported: not an sqlite3 error
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        from aimem.paths import db_path

        try:
            where: object = db_path(db)
        except Exception:  # noqa: BLE001 (no location known: say so rather than fail here)
            where = "the database"
        return "aimem: error: " + database_error_message(exc, where)  # type: ignore[arg-type]
    if isinstance(exc, OSError):
        return "aimem: error: " + os_error_message(exc)
    if isinstance(exc, MemoryError):
        return "aimem: error: out of memory"
    why = " ".join(str(exc).split())[:300]
    return (f"aimem: internal error (a bug in aimem): {type(exc).__name__}"
            + (f": {why}" if why else "")
            + "; run again with AIMEM_DEBUG=1 to see the traceback, and please report it")


def debugging() -> bool:
    return os.environ.get("AIMEM_DEBUG", "") not in ("", "0")


def say_error(line: str) -> None:
    """Write the error line; a stderr that is gone too must not raise a second error."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
