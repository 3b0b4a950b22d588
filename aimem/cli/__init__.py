"""The aimem command line: a thin Typer front end over :class:`aimem.services.Archive`.

Each command lives in the module named after it (``aimem/cli/cmd_NAME.py``; a group's
subcommands in the group's module) and registers itself on the Typer app of
:mod:`aimem.cli._app` when imported. To add a command, write its module and add one
line to ``COMMANDS``. ``main()`` imports only the module of the command being run (all
of them for ``--help`` or anything it does not know, none for ``--version``), which
keeps a command like ``aimem search`` quick; ``aimem.cli.app`` is the app with every
command loaded.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

# command name -> the module that defines it, in the order `aimem --help` lists them
# (Typer lists the commands in the order they are registered, then the groups).
COMMANDS: dict[str, str] = {
    "import": "cmd_import", "search": "cmd_search", "show": "cmd_show", "list": "cmd_list",
    "stats": "cmd_stats", "export": "cmd_export", "sync": "cmd_sync",
    "remember": "cmd_remember", "forget": "cmd_forget", "memories": "cmd_memories",
    "tag": "cmd_tag", "inject": "cmd_inject", "profile": "cmd_profile", "demo": "cmd_demo",
    "serve-mcp": "cmd_mcp", "mcp-config": "cmd_mcp", "browse": "cmd_browse",
    "summarize": "cmd_summarize", "distill": "cmd_distill", "hooks": "cmd_hooks",
    "hook": "cmd_hook", "doctor": "cmd_doctor", "backup": "cmd_backup",
    "devices": "cmd_devices", "embed": "cmd_embed", "config": "cmd_config",
    "related": "cmd_related",
}
MODULES = tuple(dict.fromkeys(COMMANDS.values()))  # each once, in the order above
_GLOBAL_WITH_VALUE = {"--db"}


def load_commands(modules: tuple[str, ...] = MODULES) -> Any:
    """Import command modules (only those named in COMMANDS); return the Typer app."""
    from aimem.cli._app import app

    for name in modules:
        if name in MODULES:
            importlib.import_module(f"aimem.cli.{name}")
    return app


def _wanted(argv: list[str]) -> tuple[str, ...]:
    """The command modules ``argv`` needs: its command's, none for ``--version`` (it
    prints and exits before any command), or every one."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _GLOBAL_WITH_VALUE:
            i += 2
            continue
        if arg.startswith("-"):
            if arg.split("=", 1)[0] in _GLOBAL_WITH_VALUE:
                i += 1
                continue
            if arg == "--version":
                return ()
            return MODULES  # --help, or a mistake: load everything
        return (COMMANDS[arg],) if arg in COMMANDS else MODULES
    return MODULES


def _hook_argv(argv: list[str]) -> list[str] | None:
    """``aimem [--db PATH] hook …`` as hookrun's arguments, or None for anything else."""
    db: list[str] = []
    i = 0
    while i < len(argv) and argv[i].split("=", 1)[0] in _GLOBAL_WITH_VALUE:
        if "=" in argv[i]:
            db, i = ["--db", argv[i].split("=", 1)[1]], i + 1
        elif i + 1 < len(argv):
            db, i = ["--db", argv[i + 1]], i + 2
        else:
            return None
    rest = argv[i + 1:]
    if i >= len(argv) or argv[i] != "hook" or not rest or any(a in ("-h", "--help")
                                                               for a in rest):
        return None
    return rest + db


def main() -> None:
    """The ``aimem`` command: never a traceback (see ``AimemGroup.invoke``), and a reader
    that closes the pipe early (``aimem export | head -1``) is a normal end, exit 0."""
    hook = _hook_argv(sys.argv[1:])
    if hook is not None:  # the agents' hooks: no Typer, no rich (start-up time)
        from aimem import hookrun

        sys.exit(hookrun.main(hook))
    from aimem.cli import _common

    try:
        load_commands(_wanted(sys.argv[1:]))()
    except SystemExit as e:
        code = e.code
    except BrokenPipeError:
        code = 0
        _common.stdout_gone()
    except KeyboardInterrupt:
        _common.say_error("aimem: interrupted")
        code = 130
    except Exception as e:  # outside any command (loading one, Typer itself): still one line
        if _common.debugging():
            raise
        _common.say_error(_common.error_line(e, None))
        code = 1
    else:
        code = 0
    try:
        sys.stdout.flush()  # what is still buffered; a gone reader is not an error here either
    except BrokenPipeError:
        _common.stdout_gone()
    except (OSError, ValueError):
        pass
    raise SystemExit(code)


def __getattr__(name: str) -> Any:
    if name == "app":
        return load_commands()
    raise AttributeError(name)


__all__ = ["COMMANDS", "MODULES", "app", "load_commands", "main"]
