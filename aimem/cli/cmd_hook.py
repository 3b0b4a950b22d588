"""aimem hook: what the installed session hooks run (see aimem hooks install).

``aimem hook EVENT`` normally never gets here: :func:`aimem.cli.main` hands it to
:mod:`aimem.hookrun` without loading Typer; this is the command for --help and the
man page, and it runs the same code.
"""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import db_option

EPILOG = """Examples (the agents run it; aimem hooks install sets that up):

  echo '{"cwd": "'$PWD'", "hook_event_name": "SessionStart"}' | aimem hook session-start

  aimem hook session-end --tool claude-code < hook-input.json"""


@app.command("hook", epilog=EPILOG)
def hook(
    ctx: typer.Context,
    event: Annotated[str, typer.Argument(help="session-start, session-end or stop.",
                                         show_default=False)],
    tool: Annotated[str | None, typer.Option(
        "--tool", help="Which agent calls: claude-code, codex or gemini-cli.",
        show_default=False)] = None,
    budget: Annotated[int | None, typer.Option(
        "--budget", "-b", help="Token budget of the session-start block (default "
        "$AIMEM_HOOK_BUDGET, else 1000).", show_default=False)] = None,
) -> None:
    """Run one hook event with the agent's hook JSON on stdin (always exits 0).

    session-start prints the context block for the session's project (memories, recent
    excerpts, profile) as hookSpecificOutput.additionalContext, or nothing. session-end
    and stop import the session's transcript. Problems go to the hook log (aimem hooks
    status), never to the agent.
    """
    from aimem import hookrun

    argv = [event]
    if tool:
        argv += ["--tool", tool]
    if budget is not None:
        argv += ["--budget", str(budget)]
    db = db_option(ctx)
    if db:
        argv += ["--db", db]
    raise typer.Exit(hookrun.main(argv))
