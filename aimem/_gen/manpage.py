"""The man page (roff), from the command tree and the prose below."""

from __future__ import annotations

from aimem._gen.cmdtree import HEADER, Cmd, Opt, paragraphs, walk

# Prose that is not in the command tree, for the man page.
ENVIRONMENT = [
    ("AIMEM_DB", "Path of the database file. --db overrides it."),
    ("AIMEM_HOME", "Folder for aimem.db and demo.db, instead of the user data directory."),
    ("NO_COLOR", "When set, no colours."),
    ("LLM_USER_PATH", "Where llm keeps its keys, default model and logs.db (read by sync)."),
    ("CLAUDE_CONFIG_DIR", "Claude Code's folder (default ~/.claude), read by sync."),
    ("CODEX_HOME", "Codex CLI's folder (default ~/.codex), read by sync."),
]
EXIT_STATUS = {
    "OK": "Success.",
    "FAILURE": "A failure you can fix: a bad input file, an unknown id, a missing database, a "
               "model error. One line on standard error says what; a failed import writes "
               "nothing.",
    "USAGE": "Usage error: an unknown command or option, or a bad option value.",
    "INTERRUPTED": "Interrupted (Ctrl-C).",
}


def _roff(text: str) -> str:
    r"""Text for roff: backslashes, hyphens (\-, so they copy as ASCII), non-ASCII, and a
    leading . or ' that would be read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line
                     for line in text.splitlines())


def _b(text: str) -> str:
    return f"\\fB{_roff(text)}\\fR"


def _i(text: str) -> str:
    return f"\\fI{_roff(text)}\\fR"


def _opt_line(o: Opt) -> str:
    return ", ".join(_b(n) for n in o.names) + ("" if o.flag else " " + _i(o.metavar))


def _usage(c: Cmd) -> str:
    parts = [_b("aimem " + c.name)]
    if [o for o in c.options if not o.is_help]:
        parts.append("[" + _i("OPTIONS") + "]")
    if c.children:
        parts.append(_i("COMMAND"))
    for a in c.args:
        if a.metavar.startswith("["):
            parts.append("[" + _i(a.metavar[1:-1]) + "]")
        else:
            parts.append(_i(a.metavar))
    return " ".join(parts)


def _option_text(o: Opt) -> str:
    text = o.help
    if o.values:
        text += f" One of: {', '.join(o.values)}."
    if o.default is not None:
        text += f" Default: {o.default}."
    return _roff(text.strip())


def man(root: Cmd) -> str:
    from aimem import paths
    from aimem._version import __version__
    from aimem.errors import ExitCode

    helps = [o for o in root.options if o.is_help]
    lines = [f".\\\" Man page for aimem, {HEADER}.",
             f'.TH AIMEM 1 "" "aimem {__version__}" "User Commands"',
             ".SH NAME", "aimem \\- " + _roff(root.short),
             ".SH SYNOPSIS",
             _b("aimem") + " " + " ".join(
                 "[" + _opt_line(o) + "]" for o in root.options if not o.is_help)
             + " " + _i("COMMAND") + " [" + _i("OPTIONS") + "] [" + _i("ARGUMENTS") + "]",
             ".br",
             _b("aimem") + " " + _i("COMMAND") + " " + " | ".join(
                 _b(n) for o in helps for n in o.names),
             ".SH DESCRIPTION"]
    for i, p in enumerate(paragraphs(root.help)[1:] or paragraphs(root.help)):
        lines += ([".PP"] if i else []) + [_roff(p)]
    lines += [".PP", "Every command and subcommand prints its own help, with examples, with "
              + " or ".join(_b(n) for o in helps for n in o.names) + ".",
              ".SH OPTIONS", "These go before the command."]
    for o in root.options:
        lines += [".TP", _opt_line(o), _option_text(o)]

    lines.append(".SH COMMANDS")
    for c in walk(root)[1:]:
        lines += [".SS " + _usage(c)] if len(c.path) == 1 else [".TP", _usage(c)]
        for i, p in enumerate(paragraphs(c.help) + paragraphs(c.epilog)):
            lines += ([".IP"] if i and len(c.path) > 1 else [".PP"] if i else []) + [_roff(p)]
        if c.children:
            lines += [".IP" if len(c.path) > 1 else ".PP",
                      "Subcommands: " + ", ".join(_b(ch.path[-1]) for ch in c.children) + "."]
        shown = [a for a in c.args if a.help]
        opts = [o for o in c.options if not o.is_help]
        if len(c.path) == 1:
            for a in shown:
                lines += [".TP", _i(a.metavar.strip("[]")), _roff(a.help)]
            for o in opts:
                lines += [".TP", _opt_line(o), _option_text(o)]
        else:  # nested: keep the subcommand's items indented under it
            for item, text in [(_i(a.metavar.strip("[]")), _roff(a.help)) for a in shown] + [
                    (_opt_line(o), _option_text(o)) for o in opts]:
                lines += [".RS", ".TP", item, text, ".RE"]

    lines.append(".SH EXAMPLES")
    seen: set[str] = set()
    for c in walk(root):  # a group's examples often repeat its subcommands': once is enough
        fresh = [ex for ex in dict.fromkeys(c.examples) if ex not in seen]
        seen.update(fresh)
        if fresh:
            lines += [".PP", ".nf", *(_roff(ex) for ex in fresh), ".fi"]

    home = f"$AIMEM_HOME/{paths.DB_NAME}"
    lines += [
        ".SH FILES",
        ".TP", _i(paths.DB_NAME),
        "The database: one SQLite file (mode 0600, its folder 0700), created on the first "
        "command that writes. The first match wins: " + _b("--db")
        + ", " + _b("$AIMEM_DB") + ", " + _i(home) + ", then the user data directory: "
        + _i("~/.local/share/aimem/") + " (or " + _i("$XDG_DATA_HOME/aimem/")
        + ") on Linux, " + _i("~/Library/Application Support/aimem/") + " on macOS, "
        + _i("%LOCALAPPDATA%\\aimem\\") + " on Windows. Commands that only read never create "
        "it.",
        ".TP", _i("demo.db"),
        "The database of " + _b("aimem demo") + ", in the same folder as the default "
        + _i(paths.DB_NAME) + " (" + _i("$AIMEM_HOME") + " or the user data directory).",
        ".SH ENVIRONMENT"]
    for name, text in ENVIRONMENT:
        lines += [".TP", _b(name), _roff(text)]
    lines.append(".SH EXIT STATUS")
    for code in ExitCode:
        if code.name not in EXIT_STATUS:
            raise KeyError(f"aimem._gen.manpage.EXIT_STATUS has no description of ExitCode.{code.name}")
        lines += [".TP", _b(str(int(code))), _roff(EXIT_STATUS[code.name])]
    lines += [".SH SEE ALSO", _b("llm") + "(1), " + _b("sqlite3") + "(1)", ""]
    return "\n".join(lines)
