"""aimem hooks install|uninstall|status: the agents' session hooks (aimem hook runs them)."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, console, db_option, print_json

INSTALL_EPILOG = """Examples:

  aimem hooks install all

  aimem hooks install claude-code --project

  aimem hooks uninstall codex

  aimem hooks status --json"""

hooks_app = typer.Typer(
    name="hooks", no_args_is_help=True, epilog=INSTALL_EPILOG,
    help="Let Claude Code, Codex CLI and Gemini CLI recall and capture by themselves: "
    "install aimem's session hooks.")
app.add_typer(hooks_app, name="hooks")

ToolArg = Annotated[str, typer.Argument(
    help="claude-code, codex, gemini-cli or all.", show_default=False)]
ProjectFlag = Annotated[bool, typer.Option(
    "--project", help="The current project's settings (.claude/settings.json, "
    ".codex/hooks.json, .gemini/settings.json) instead of your user settings.")]


def _say(lines: list[str]) -> None:
    out = console()
    for line in lines:
        out.print(line, markup=False, highlight=False)


@hooks_app.command("install", epilog=INSTALL_EPILOG)
def install(ctx: typer.Context, tool: ToolArg, project: ProjectFlag = False,
            json: JsonOpt = False) -> None:
    """Add aimem's hooks to the tool's settings: recall at session start, capture at the end.

    Everything else in the file is kept; a backup of the old file is written first
    (<file>.aimem-backup-<time>); installing twice changes nothing. The hooks call this
    aimem by its absolute path, with the --db given here (if any).
    """
    from aimem.services import hooks

    reports = hooks.install(tool, project=project, db=db_option(ctx))
    _report(reports, json, "changed", "added {} to {}", "already installed in {}; nothing changed")


@hooks_app.command("uninstall", epilog=INSTALL_EPILOG)
def uninstall(tool: ToolArg, project: ProjectFlag = False, json: JsonOpt = False) -> None:
    """Remove exactly what install added (entries that call aimem hook); keep the rest."""
    from aimem.services import hooks

    reports = hooks.uninstall(tool, project=project)
    _report(reports, json, "removed", "removed {} from {}", "no aimem hooks in {}")


def _report(reports: list[dict], json: bool, key: str, did: str, nothing: str) -> None:  # type: ignore[type-arg]
    """What install/uninstall did per tool: ``did`` with the entries and the file,
    ``nothing`` with the file."""
    from aimem.services import hooks

    if json:
        print_json(reports)
        return
    lines = []
    for r in reports:
        label = hooks.TOOLS[r["tool"]].label
        if r[key]:
            lines.append(f"{label}: " + did.format(", ".join(r[key]), r["file"])
                         + (f" (backup: {r['backup']})" if r["backup"] else ""))
        else:
            lines.append(f"{label}: " + nothing.format(r["file"]))
        lines += [f"  {n}" for n in r["notes"]]
    _say(lines)


@hooks_app.command("status", epilog=INSTALL_EPILOG)
def status(json: JsonOpt = False) -> None:
    """Where aimem's hooks are installed, and the last hook runs and errors."""
    from aimem.services import hooks

    st = hooks.status()
    if json:
        print_json(st)
        return
    lines = []
    for t in st["tools"]:
        if not t["events"] and not t["problem"] and t["scope"] == "project":
            continue
        label = hooks.TOOLS[t["tool"]].label
        what = ", ".join(t["events"]) if t["events"] else "not installed"
        lines.append(f"{label} ({t['scope']}): {what}  [{t['file']}]")
        if t["problem"]:
            lines.append(f"  problem: {t['problem']}")
    lines.append(f"log: {st['log']}")
    if st["last_runs"]:
        lines.append("last runs:")
        lines += [f"  {e.get('time')} {e.get('level')} {e.get('tool') or '-'} {e.get('event')}: "
                  f"{e.get('message')}" for e in st["last_runs"]]
    if st["last_errors"]:
        lines.append("last errors:")
        lines += [f"  {e.get('time')} {e.get('tool') or '-'} {e.get('event')}: "
                  f"{e.get('message')}" for e in st["last_errors"]]
    else:
        lines.append("no errors logged")
    _say(lines)
