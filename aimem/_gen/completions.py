"""The bash, zsh and fish completion scripts, from the command tree (they never run aimem)."""

from __future__ import annotations

import re

from aimem._gen.cmdtree import HEADER, Cmd, Opt, walk

# -- bash --------------------------------------------------------------------------------


def _bq(text: str) -> str:
    """A bash double-quoted string (only names and values go in, but be safe)."""
    return '"' + re.sub(r'(["\\$`])', r"\\\1", text) + '"'


def bash(root: Cmd) -> str:
    cmds = walk(root)
    paths = "|" + "|".join(c.name for c in cmds[1:]) + "|"
    out = [f"# bash completion for aimem, {HEADER}.",
           "# Source it, or install it as share/bash-completion/completions/aimem.",
           "",
           "# Does option $2 of command path $1 take a value?",
           "__aimem_takes_value() {",
           '    case "$1" in']
    for c in cmds:
        if c.valued:
            out.append(f'        {_bq(c.name)}) case "$2" in {"|".join(c.valued)}) return 0 ;; esac ;;')
    out += ["    esac",
            "    return 1",
            "}",
            "",
            "__aimem_words() {",
            '    mapfile -t COMPREPLY < <(compgen -P "$pre" -W "$1" -- "$cur")',
            "}",
            "",
            "__aimem_files() {",
            "    compopt -o filenames 2>/dev/null",
            '    mapfile -t COMPREPLY < <(compgen -P "$pre" -f -- "$cur")',
            "}",
            "",
            "_aimem() {",
            '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" pre=""',
            '    (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"',
            "    # --opt=value: bash splits it into --opt, = and value (when = is in COMP_WORDBREAKS)",
            '    if [[ "$cur" == "=" ]]; then',
            '        cur=""',
            '    elif [[ "$prev" == "=" ]] && (( COMP_CWORD > 1 )); then',
            '        prev="${COMP_WORDS[COMP_CWORD-2]}"',
            '    elif [[ "$cur" == --*=* ]]; then',
            '        prev="${cur%%=*}" pre="${cur%%=*}=" cur="${cur#*=}"',
            "    fi",
            "    # the command path typed so far (\"tag add\"), skipping options and their values",
            f'    local paths={_bq(paths)}',
            '    local cmd="" word i=1',
            "    while (( i < COMP_CWORD )); do",
            '        word="${COMP_WORDS[i]}"',
            '        if [[ "$word" == -* ]]; then',
            '            if __aimem_takes_value "$cmd" "$word"; then',
            '                [[ "${COMP_WORDS[i+1]}" == "=" ]] && (( i++ ))',
            "                (( i++ ))",
            "            fi",
            '        elif [[ "$paths" == *"|${cmd:+$cmd }$word|"* ]]; then',
            '            cmd="${cmd:+$cmd }$word"',
            "        fi",
            "        (( i++ ))",
            "    done",
            '    case "$cmd" in']
    for c in cmds:
        out.append(f"        {_bq(c.name)})")
        valued = [o for o in c.options if o.takes_value]
        if valued:
            out.append('            case "$prev" in')
            for o in valued:
                pat = "|".join(o.names)
                if o.values:
                    out.append(f"                {pat}) __aimem_words {_bq(' '.join(o.values))}; return ;;")
                elif o.path:
                    out.append(f"                {pat}) __aimem_files; return ;;")
                else:
                    out.append(f"                {pat}) return ;;  # {o.metavar}: free text")
            out.append("            esac")
        opts = " ".join(n for o in c.options for n in o.names)
        out += ['            if [[ "$cur" == -* ]]; then',
                f"                __aimem_words {_bq(opts)}"]
        if c.children:
            out += ["            else",
                    f"                __aimem_words {_bq(' '.join(ch.path[-1] for ch in c.children))}"]
        elif any(a.path for a in c.args):
            out += ["            else", "                __aimem_files"]
        out += ["            fi", "            ;;"]
    out += ["    esac", "}", "", "complete -F _aimem aimem", ""]
    return "\n".join(out)


# -- zsh ---------------------------------------------------------------------------------


def _zq(text: str) -> str:
    """Text for inside a single-quoted _arguments or _describe spec."""
    return text.replace("'", "'\\''")


def _zexpl(text: str) -> str:
    """An option's [explanation]: brackets and backslashes escaped."""
    return _zq(text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]"))


def _zmsg(text: str) -> str:
    """The message of an action (between colons): no colons in it."""
    return _zq(re.sub(r"[:\[\]\\]+", " ", text).strip().lower() or "value")


def _zfn(c: Cmd) -> str:
    return "_aimem" + "".join("_" + re.sub(r"\W", "_", p) for p in c.path)


def _zspec(o: Opt) -> str:
    action = ""
    if o.takes_value:
        if o.values:
            action = f":{_zmsg(o.metavar)}:({' '.join(o.values)})"
        elif o.path:
            action = f":{_zmsg(o.metavar)}:_files"
        else:
            action = f":{_zmsg(o.metavar)}: "
    if o.is_help:
        excl = "(- *)"
    elif o.multiple:
        excl = "*"
    else:
        excl = "(" + " ".join(o.names) + ")" if len(o.names) > 1 else ""
    names = "{" + ",".join(o.names) + "}" if len(o.names) > 1 else o.names[0]
    body = f"[{_zexpl(o.help)}]{action}"
    if excl:
        return f"'{excl}'{names}'{body}'"
    return f"'{names}{body}'"


def zsh(root: Cmd) -> str:
    out = ["#compdef aimem", f"# zsh completion for aimem, {HEADER}.",
           "# Put this file (named _aimem) in a folder on $fpath, before compinit runs.", ""]
    for c in walk(root):
        specs = [_zspec(o) for o in c.options]
        out.append(f"{_zfn(c)}() {{")
        if c.children:
            out += ["    local curcontext=\"$curcontext\" state line ret=1",
                    "    typeset -A opt_args",
                    "    local -a commands",
                    "    commands=("]
            for ch in c.children:
                out.append(f"        '{ch.path[-1]}:{_zq(ch.short)}'")
            out += ["    )",
                    "    _arguments -C \\"]
            out += [f"        {s} \\" for s in specs]
            out += ["        '1: :->command' \\",
                    "        '*:: :->argument' && ret=0",
                    "    case $state in",
                    "        command) _describe -t commands 'aimem command' commands && ret=0 ;;",
                    "        argument)",
                    "            curcontext=\"${curcontext%:*:*}:aimem-$words[1]:\"",
                    "            case $words[1] in"]
            for ch in c.children:
                out.append(f"                {ch.path[-1]}) {_zfn(ch)} && ret=0 ;;")
            out += ["            esac ;;",
                    "    esac",
                    "    return ret"]
        else:
            for n, a in enumerate(c.args, 1):
                pos = "*" if a.many else str(n)
                action = "_files" if a.path else " "
                specs.append(f"'{pos}:{_zmsg(a.name)}:{action}'")
            out.append("    _arguments -s -S \\")
            out += [f"        {s} \\" for s in specs[:-1]]
            out.append(f"        {specs[-1]}")
        out += ["}", ""]
    out += ['_aimem "$@"', ""]
    return "\n".join(out)


# -- fish --------------------------------------------------------------------------------


def _fq(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(root: Cmd) -> str:
    cmds = walk(root)
    out = [f"# fish completion for aimem, {HEADER}.",
           "# Install it as ~/.config/fish/completions/aimem.fish (or vendor_completions.d).",
           "",
           "# Does option $argv[2] of command path $argv[1] take a value?",
           "function __aimem_takes_value",
           "    switch $argv[1]"]
    for c in cmds:
        if c.valued:
            out += [f"        case {_fq(c.name)}",
                    f"            contains -- $argv[2] {' '.join(c.valued)}; and return 0"]
    out += ["    end",
            "    return 1",
            "end",
            "",
            "# The command path typed so far (\"tag add\"), skipping options and their values.",
            "function __aimem_cmd",
            "    set -l paths " + " ".join(_fq(c.name) for c in cmds[1:]),
            "    set -l words (commandline -opc)",
            "    set -l cmd ''",
            "    set -l i 2",
            "    while test $i -le (count $words)",
            "        set -l word $words[$i]",
            "        if string match -q -- '-*' $word",
            '            __aimem_takes_value "$cmd" $word; and set i (math $i + 1)',
            "        else",
            '            set -l next (string trim -- "$cmd $word")',
            "            contains -- $next $paths; and set cmd $next",
            "        end",
            "        set i (math $i + 1)",
            "    end",
            '    echo "$cmd"',
            "end",
            "",
            "# Is the command path typed so far exactly $argv (\"\" for none yet)?",
            "function __aimem_is",
            "    set -l cmd (__aimem_cmd)",
            '    test "$cmd" = "$argv"',
            "end",
            "",
            "complete -c aimem -f"]
    for c in cmds:
        cond = _fq("__aimem_is" + "".join(" " + p for p in c.path))
        out += ["", f"# aimem {c.name}".rstrip()]
        for ch in c.children:
            out.append(f"complete -c aimem -n {cond} -a {ch.path[-1]} -d {_fq(ch.short)}")
        for o in c.options:
            parts = [f"complete -c aimem -n {cond}"]
            for n in o.names:
                if n.startswith("--"):
                    parts.append(f"-l {n[2:]}")
                elif len(n) == 2:
                    parts.append(f"-s {n[1:]}")
                else:
                    parts.append(f"-o {n[1:]}")
            if o.takes_value:
                if o.path:
                    parts.append("-r -F")
                else:
                    parts.append("-x")
                    if o.values:
                        parts.append(f"-a {_fq(' '.join(o.values))}")
            parts.append(f"-d {_fq(o.help)}")
            out.append(" ".join(parts))
        if not c.children and any(a.path for a in c.args):
            out.append(f"complete -c aimem -n {cond} -F")
    out.append("")
    return "\n".join(out)
