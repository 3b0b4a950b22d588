"""Generate the man page and the shell completions from the command tree.

    python -m aimem._gen           # rewrite man/aimem.1 and completions/*
    python -m aimem._gen --check   # exit 1 if any of them is out of date (tests run this)

Everything comes from ``typer.main.get_command(aimem.cli.app)``, so a new command or
option appears here by itself; ``make gen`` after changing the CLI. Option values
that Typer sees as plain strings but that have a fixed set are listed in ``CHOICES``.
The output is static and deterministic: completion scripts never run aimem.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = {"man": ROOT / "man" / "aimem.1", "bash": ROOT / "completions" / "aimem.bash",
           "zsh": ROOT / "completions" / "_aimem", "fish": ROOT / "completions" / "aimem.fish"}
PATH_OPTIONS = {"--db", "--output", "-o", "--add", "--remove"}
PATH_ARGS = {"paths", "path"}


def choices() -> dict[tuple[str, str], list[str]]:
    """(command path, option) -> the values it takes."""
    from aimem import importers
    from aimem.cli.cmd_export import FORMATS as EXPORT_FORMATS
    from aimem.models import MEMORY_KINDS, ROLES

    sources = sorted({m.SOURCE for m in importers.IMPORTERS.values()} | {"manual"})
    table: dict[tuple[str, str], list[str]] = {
        ("import", "--format"): ["auto", *importers.IMPORTERS],
        ("search", "--kind"): ["message", "memory", "conversation"],
        ("export", "--format"): list(EXPORT_FORMATS),
        ("inject", "--format"): ["markdown", "xml", "json"],
        ("remember", "--kind"): list(MEMORY_KINDS),
        ("memories", "--kind"): list(MEMORY_KINDS),
        ("mcp-config", "--client"): ["claude-desktop", "claude-code", "cursor", "vscode"],
    }
    for opt, values in (("--role", list(ROLES)), ("--source", sources)):
        table[("*", opt)] = values
    return table


@dataclass
class Opt:
    names: list[str]
    help: str
    flag: bool
    metavar: str
    values: list[str] = field(default_factory=list)
    path: bool = False


@dataclass
class Cmd:
    path: list[str]
    help: str
    epilog: str
    options: list[Opt]
    args: list[tuple[str, bool]]  # (name, is a path)
    children: list[Cmd] = field(default_factory=list)

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def short(self) -> str:
        return (self.help.strip().splitlines() or [""])[0].strip()


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").replace("\b", "")).strip()


def tree() -> Cmd:
    import typer.main

    from aimem.cli import app

    table = choices()

    def build(c: Any, path: list[str]) -> Cmd:
        opts, args = [], []
        for p in c.params:
            if p.param_type_name == "argument":
                args.append((p.name, p.name in PATH_ARGS))
                continue
            names = [*p.opts, *p.secondary_opts]
            if "--help" in names:
                continue
            key = " ".join(path)
            values = next((table[(k, n)] for n in names for k in (key, "*") if (k, n) in table),
                          [])
            ptype = getattr(p.type, "choices", None)
            if not values and ptype:
                values = list(ptype)
            opts.append(Opt(names=names, help=_clean(getattr(p, "help", "")),
                            flag=bool(getattr(p, "is_flag", False)),
                            metavar=(p.metavar or p.name or "VALUE").upper(), values=values,
                            path=bool(set(names) & PATH_OPTIONS)))
        node = Cmd(path=path, help=c.help or "", epilog=c.epilog or "", options=opts, args=args)
        for name, sub in sorted(getattr(c, "commands", {}).items()):
            if not getattr(sub, "hidden", False):
                node.children.append(build(sub, [*path, name]))
        return node

    return build(typer.main.get_command(app), [])


def walk(c: Cmd) -> list[Cmd]:
    out = [c]
    for ch in c.children:
        out += walk(ch)
    return out


# -- man page ----------------------------------------------------------------------------


def _roff(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line
                     for line in text.splitlines())


def _examples(epilog: str) -> list[str]:
    if "Examples:" not in epilog:
        return []
    body = epilog.split("Examples:", 1)[1]
    return [line.strip() for line in body.splitlines() if line.strip()]


def man(root: Cmd) -> str:
    from aimem._version import __version__

    lines = [f'.TH AIMEM 1 "" "aimem {__version__}" "User Commands"', ".SH NAME",
             "aimem \\- " + _roff(_clean(root.short) or "memory for AI conversations"),
             ".SH SYNOPSIS", ".B aimem", "[\\-\\-db \\fIPATH\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]",
             ".SH DESCRIPTION", _roff(_clean(root.help)),
             ".PP", "Global options:"]
    for o in root.options:
        lines += [".TP", ".B " + _roff(", ".join(o.names)) + ("" if o.flag else f" {o.metavar}"),
                  _roff(o.help)]
    lines.append(".SH COMMANDS")
    examples: list[str] = []
    for c in walk(root)[1:]:
        if c.children:
            continue
        usage = " ".join(f"\\fI{a.upper()}\\fR" for a, _ in c.args)
        lines += [".SS " + _roff(f"aimem {c.name}") + (f" {usage}" if usage else ""),
                  _roff(_clean(c.help))]
        for o in c.options:
            meta = "" if o.flag else " \\fI" + o.metavar + "\\fR"
            text = o.help + (f" One of: {', '.join(o.values)}." if o.values else "")
            lines += [".TP", ".B " + _roff(", ".join(o.names)) + meta, _roff(text)]
        examples += _examples(c.epilog)
    lines += [".SH EXAMPLES"]
    for ex in examples:
        lines += [".PP", ".nf", _roff(ex), ".fi"]
    lines += [
        ".SH FILES",
        ".TP", ".I $AIMEM_HOME/aimem.db",
        "The database (one SQLite file, mode 0600). Without AIMEM_HOME it lives in the user "
        "data directory, e.g. \\fI~/.local/share/aimem/aimem.db\\fR on Linux.",
        ".SH ENVIRONMENT",
        ".TP", ".B AIMEM_DB", "Path of the database file (overridden by \\-\\-db).",
        ".TP", ".B AIMEM_HOME", "Folder for the database and the demo database.",
        ".TP", ".B NO_COLOR", "Turn off colours.",
        ".TP", ".B LLM_USER_PATH", "Where llm keeps its keys, default model and logs.db.",
        ".SH EXIT STATUS",
        "0 success; 1 a failure you can fix (bad input file, unknown id, missing database, "
        "model error), with a one\\-line message on stderr; 2 usage error; 130 interrupted.",
        ".SH SEE ALSO", "llm(1), sqlite3(1)", ""]
    return "\n".join(lines)


# -- bash --------------------------------------------------------------------------------


def bash(root: Cmd) -> str:
    cmds = walk(root)
    paths = "|" + "|".join(c.name for c in cmds[1:]) + "|"
    out = ["# bash completion for aimem (generated by python -m aimem._gen; do not edit)",
           "_aimem() {", "    local cur prev", "    cur=\"${COMP_WORDS[COMP_CWORD]}\"",
           "    prev=\"${COMP_WORDS[COMP_CWORD-1]}\"",
           f"    local paths=\"{paths}\"",
           "    local i cmd=\"\" word",
           "    for ((i = 1; i < COMP_CWORD; i++)); do",
           "        word=\"${COMP_WORDS[i]}\"",
           "        if [[ \"$paths\" == *\"|${cmd:+$cmd }$word|\"* ]]; then",
           "            cmd=\"${cmd:+$cmd }$word\"",
           "        fi",
           "    done",
           "    case \"$cmd\" in"]
    for c in cmds:
        subs = [ch.path[-1] for ch in c.children]
        opts = [n for o in c.options for n in o.names] + ["--help"]
        out.append(f"        \"{c.name}\")")
        valued = [o for o in c.options if not o.flag]
        if valued:
            out.append("            case \"$prev\" in")
            for o in valued:
                pat = "|".join(o.names)
                if o.values:
                    out.append(f"                {pat}) COMPREPLY=($(compgen -W \"{' '.join(o.values)}\""
                               " -- \"$cur\")); return ;;")
                elif o.path:
                    out.append(f"                {pat}) COMPREPLY=($(compgen -f -- \"$cur\")); "
                               "return ;;")
                else:
                    out.append(f"                {pat}) return ;;")
            out.append("            esac")
        out.append("            if [[ \"$cur\" == -* ]]; then")
        out.append(f"                COMPREPLY=($(compgen -W \"{' '.join(opts)}\" -- \"$cur\"))")
        if subs:
            out.append("            else")
            out.append(f"                COMPREPLY=($(compgen -W \"{' '.join(subs)}\" -- \"$cur\"))")
        elif any(is_path for _, is_path in c.args):
            out.append("            else")
            out.append("                COMPREPLY=($(compgen -f -- \"$cur\"))")
        out.append("            fi")
        out.append("            return ;;")
    out += ["    esac", "}", "complete -o default -F _aimem aimem", ""]
    return "\n".join(out)


# -- zsh ---------------------------------------------------------------------------------


def _zq(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "'\\''").replace("[", "\\[").replace(
        "]", "\\]").replace(":", "\\:")


def zsh(root: Cmd) -> str:
    out = ["#compdef aimem", "# zsh completion for aimem (generated by python -m aimem._gen; "
           "do not edit)", ""]

    def fn_name(c: Cmd) -> str:
        return "_aimem" + "".join("_" + re.sub(r"\W", "_", p) for p in c.path)

    for c in reversed(walk(root)):
        specs = []
        for o in c.options:
            names = o.names
            excl = "(" + " ".join(names) + ")" if len(names) > 1 else ""
            action = ""
            if not o.flag:
                if o.values:
                    action = f":{o.metavar.lower()}:({' '.join(o.values)})"
                elif o.path:
                    action = f":{o.metavar.lower()}:_files"
                else:
                    action = f":{o.metavar.lower()}:"
            spec_names = "{" + ",".join(names) + "}" if len(names) > 1 else names[0]
            specs.append(f"'{excl}'{spec_names}'[{_zq(o.help)}]{action}'" if excl else
                         f"'{spec_names}[{_zq(o.help)}]{action}'")
        out.append(f"{fn_name(c)}() {{")
        if c.children:
            out.append("    local -a commands")
            out.append("    commands=(")
            for ch in c.children:
                out.append(f"        '{ch.path[-1]}:{_zq(ch.short)}'")
            out.append("    )")
            out.append("    _arguments -C \\")
            for s in specs:
                out.append(f"        {s} \\")
            out.append("        '1: :->cmd' '*:: :->args'")
            out.append("    case $state in")
            out.append("        cmd) _describe 'command' commands ;;")
            out.append("        args)")
            out.append("            case $words[1] in")
            for ch in c.children:
                out.append(f"                {ch.path[-1]}) {fn_name(ch)} ;;")
            out.append("            esac ;;")
            out.append("    esac")
        else:
            rest = "'*:file:_files'" if any(p for _, p in c.args) else "'*: :'"
            out.append("    _arguments \\")
            for s in specs:
                out.append(f"        {s} \\")
            out.append(f"        {rest}")
        out.append("}")
        out.append("")
    out.append('_aimem "$@"')
    out.append("")
    return "\n".join(out)


# -- fish --------------------------------------------------------------------------------


def _fq(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(root: Cmd) -> str:
    out = ["# fish completion for aimem (generated by python -m aimem._gen; do not edit)",
           "complete -c aimem -f"]
    top = [ch.path[-1] for ch in root.children]
    for c in walk(root):
        if not c.path:
            cond = "__fish_use_subcommand"
        elif len(c.path) == 1:
            cond = f"__fish_seen_subcommand_from {c.path[0]}"
        else:
            cond = (f"__fish_seen_subcommand_from {c.path[0]}; and "
                    f"__fish_seen_subcommand_from {c.path[-1]}")
        if c.path and len(c.path) == 1 and c.children:
            subs = " ".join(ch.path[-1] for ch in c.children)
            for ch in c.children:
                out.append(f"complete -c aimem -n '__fish_seen_subcommand_from {c.path[0]}; and "
                           f"not __fish_seen_subcommand_from {subs}' -a {ch.path[-1]} "
                           f"-d {_fq(ch.short)}")
        elif not c.path:
            for ch in c.children:
                out.append(f"complete -c aimem -n '__fish_use_subcommand' -a {ch.path[-1]} "
                           f"-d {_fq(ch.short)}")
        for o in c.options:
            parts = [f"complete -c aimem -n '{cond}'"]
            for n in o.names:
                parts.append(f"-l {n[2:]}" if n.startswith("--") else f"-s {n[1:]}")
            if not o.flag:
                parts.append("-r")
                if o.values:
                    parts.append(f"-a {_fq(' '.join(o.values))}")
                elif o.path:
                    parts.append("-F")
            parts.append(f"-d {_fq(o.help[:80])}")
            out.append(" ".join(parts))
        if c.path and not c.children and any(p for _, p in c.args):
            out.append(f"complete -c aimem -n '{cond}' -F")
    del top
    out.append("")
    return "\n".join(out)


def render() -> dict[str, str]:
    root = tree()
    return {"man": man(root), "bash": bash(root), "zsh": zsh(root), "fish": fish(root)}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for key, text in render().items():
        path = OUTPUTS[key]
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date (run: make gen): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
