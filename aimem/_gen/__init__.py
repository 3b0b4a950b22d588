"""Generate the man page and the shell completions from the command tree.

    python -m aimem._gen           # rewrite man/aimem.1 and completions/*
    python -m aimem._gen --check   # exit 1, naming the stale files, if any is out of date

Everything comes from ``typer.main.get_command(aimem.cli.app)``, walked recursively (in
:mod:`.cmdtree`), so a new command, subcommand or option appears here by itself: run
``make gen`` after changing the CLI (tests/test_gen.py fails until you do). Option
values that Typer sees as plain strings but that have a fixed set are listed in
:func:`choices`, from the registries that define them. :mod:`.manpage` writes the man page,
:mod:`.completions` the bash, zsh and fish scripts. The output is static and
deterministic: no dates, no terminal width, no environment, and the completion scripts
never run aimem.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aimem._gen.cmdtree import HEADER, Arg, Cmd, Opt, choices, tree, walk
from aimem._gen.completions import bash, fish, zsh
from aimem._gen.manpage import man

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = {"man": ROOT / "man" / "aimem.1", "bash": ROOT / "completions" / "aimem.bash",
           "zsh": ROOT / "completions" / "_aimem", "fish": ROOT / "completions" / "aimem.fish"}


def render() -> dict[str, str]:
    root = tree()
    return {"man": man(root), "bash": bash(root), "zsh": zsh(root), "fish": fish(root)}


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str], outputs: dict[str, Path] | None = None) -> int:
    outputs = outputs or OUTPUTS
    unknown = [a for a in argv if a != "--check"]
    if unknown:
        print(f"usage: python -m aimem._gen [--check]  (unknown: {' '.join(unknown)})",
              file=sys.stderr)
        return 2
    check = "--check" in argv
    stale = []
    for key, text in render().items():
        path = outputs[key]
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(_shown(path))
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if check and stale:
        print("out of date: " + ", ".join(stale) + " (run `make gen`, or python -m aimem._gen, "
              "and commit the result)", file=sys.stderr)
        return 1
    if not check:
        print("wrote " + (", ".join(stale) if stale else "nothing (all up to date)"),
              file=sys.stderr)
    return 0


__all__ = ["HEADER", "OUTPUTS", "Arg", "Cmd", "Opt", "bash", "choices", "fish", "main", "man",
           "render", "tree", "walk", "zsh"]
