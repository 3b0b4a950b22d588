"""The man page and completions are generated from the command tree and kept fresh.

They are checked the way people use them: the bash, zsh and fish scripts complete real
command lines in the real shells, and the man page renders through groff without a
warning.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aimem import _gen
from aimem.cli import app
from aimem.cli.cmd_search import KIND_NAMES
from aimem.importers import IMPORTERS
from aimem.models import ROLES
from conftest import ROOT, require_tool

TREE = _gen.tree()
COMMANDS = _gen.walk(TREE)[1:]
MAN = ROOT / "man" / "aimem.1"
BASH = ROOT / "completions" / "aimem.bash"
ZSH = ROOT / "completions" / "_aimem"
FISH = ROOT / "completions" / "aimem.fish"
STALE = "man/aimem.1 and completions/ are out of date: run `make gen` and commit the result"


def _check(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aimem._gen", "--check"], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def test_generated_files_are_up_to_date() -> None:
    proc = _check()
    assert proc.returncode == 0, f"{STALE}\n{proc.stderr.strip()}"


def test_generated_files_do_not_depend_on_the_terminal_or_the_environment(tmp_path: Path) -> None:
    proc = _check({"COLUMNS": "33", "LINES": "5", "TERM": "dumb", "LANG": "C", "LC_ALL": "C",
                   "NO_COLOR": "", "AIMEM_HOME": str(tmp_path / "elsewhere"),
                   "AIMEM_DB": str(tmp_path / "other.db"), "HOME": str(tmp_path)})
    assert proc.returncode == 0, f"{STALE}\n{proc.stderr.strip()}"


def test_check_names_the_stale_files_and_a_rewrite_fixes_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {k: tmp_path / p.name for k, p in _gen.OUTPUTS.items()}
    assert _gen.main([], outputs) == 0
    assert _gen.main(["--check"], outputs) == 0
    outputs["fish"].write_text(outputs["fish"].read_text() + "# edited by hand\n")
    outputs["man"].unlink()
    capsys.readouterr()
    assert _gen.main(["--check"], outputs) == 1
    err = capsys.readouterr().err
    assert "aimem.fish" in err and "aimem.1" in err and "aimem.bash" not in err
    assert "make gen" in err
    assert _gen.main([], outputs) == 0
    assert _gen.main(["--check"], outputs) == 0
    assert _gen.render() == _gen.render()  # deterministic within a run too


def test_the_tree_has_every_command_including_nested_ones() -> None:
    names = {c.name for c in COMMANDS}
    assert {"import", "search", "show", "list", "export", "sync", "remember", "forget",
            "inject", "serve-mcp", "tag", "tag add", "tag list", "tag remove"} <= names
    tag = next(c for c in COMMANDS if c.name == "tag")
    assert [ch.name for ch in tag.children] == sorted(ch.name for ch in tag.children)


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.name)
def test_every_command_is_in_the_man_page_and_every_completion(cmd: _gen.Cmd) -> None:
    man, bash, zsh, fish = (p.read_text() for p in (MAN, BASH, ZSH, FISH))
    assert f"\\fBaimem {cmd.name}\\fR".replace("-", "\\-") in man, cmd.name
    assert f'        "{cmd.name}")' in bash, cmd.name
    assert f"{_gen._zfn(cmd)}() {{" in zsh, cmd.name
    assert f"-n '__aimem_is {cmd.name}'" in fish, cmd.name
    parent = " ".join(cmd.path[:-1])
    assert f"-n '__aimem_is{' ' + parent if parent else ''}' -a {cmd.path[-1]} " in fish
    for o in cmd.options:
        for n in o.names:
            assert n.replace("-", "\\-") in man and n in bash and n in zsh, (cmd.name, n)


def test_the_man_page_has_its_sections_and_every_example() -> None:
    man = MAN.read_text()
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "EXAMPLES",
                    "FILES", "ENVIRONMENT", "EXIT STATUS"):
        assert f"\n.SH {section}\n" in man, section
    for name in ("AIMEM_HOME", "AIMEM_DB"):
        assert f"\\fB{name}\\fR" in man
    for c in COMMANDS:
        for ex in c.examples:
            assert _gen._roff(ex) in man, ex


@pytest.mark.parametrize("shell, flag, path", [
    ("bash", "-n", BASH), ("zsh", "-n", ZSH), ("fish", "--no-execute", FISH)])
def test_completion_scripts_parse(shell: str, flag: str, path: Path) -> None:
    require_tool(shell)
    proc = subprocess.run([shell, flag, str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


def bash_complete(*words: str) -> list[str]:
    """COMPREPLY for `aimem WORDS...`, the last word being the one under the cursor."""
    require_tool("bash")
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    script = (f"source '{BASH}'; COMP_WORDS=(aimem {quoted}); COMP_CWORD={len(words)}; "
              'COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; _aimem; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_bash_completes_commands_options_and_values(tmp_path: Path) -> None:
    assert bash_complete("imp") == ["import"]
    assert bash_complete("import", "--format", "") == ["auto", *IMPORTERS]
    assert bash_complete("import", "--format", "=", "ch") == ["chatgpt"]
    assert bash_complete("search", "--kind", "") == list(KIND_NAMES)
    assert bash_complete("search", "walrus", "--role", "") == list(ROLES)
    assert "claude-code" in bash_complete("search", "-s", "")
    assert bash_complete("export", "--format", "") == ["jsonl", "json", "markdown", "html", "csv"]
    assert bash_complete("tag", "") == ["add", "auto", "list", "remove"]
    assert bash_complete("--db", "x.db", "tag", "a") == ["add", "auto"]
    assert bash_complete("--db", "tag", "tag", "a") == ["add", "auto"]  # `tag` here is the file name
    assert "--budget" in bash_complete("inject", "--b")
    assert {"--help", "-h", "--db", "--version"} <= set(bash_complete("-"))
    assert bash_complete("search", "walrus", "") == []  # free text: nothing made up
    assert bash_complete("search", "--since", "") == []
    (tmp_path / "chatgpt-export.zip").write_bytes(b"")
    assert bash_complete("import", str(tmp_path / "chat")) == [str(tmp_path / "chatgpt-export.zip")]
    assert bash_complete("export", "-o", str(tmp_path / "chat")) == [
        str(tmp_path / "chatgpt-export.zip")]


def zsh_complete(line: str, home: Path) -> list[str]:
    require_tool("zsh")
    proc = subprocess.run(["zsh", "-f", str(ROOT / "tests" / "complete.zsh"), str(ZSH.parent), line],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_zsh_completes_commands_options_and_values(tmp_path: Path) -> None:
    assert zsh_complete("aimem imp", tmp_path) == ["import"]
    assert zsh_complete("aimem import --format ", tmp_path) == ["auto", *IMPORTERS]
    assert zsh_complete("aimem search --kind ", tmp_path) == list(KIND_NAMES)
    assert zsh_complete("aimem --db x.db tag a", tmp_path) == ["add", "auto"]
    assert zsh_complete("aimem search x --source chatgpt --so", tmp_path) == ["--source"]
    (tmp_path / "chatgpt-export.zip").write_bytes(b"")
    assert "chatgpt-export.zip" in zsh_complete(f"aimem import {tmp_path}/chat", tmp_path)


def fish_complete(line: str, home: Path) -> list[str]:
    require_tool("fish")
    script = f"source {FISH}; complete -C {_gen._fq(line)}"
    proc = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    return [row.split("\t")[0] for row in proc.stdout.splitlines()]


def test_fish_completes_commands_options_and_values(tmp_path: Path) -> None:
    assert fish_complete("aimem imp", tmp_path) == ["import"]
    assert set(fish_complete("aimem import --format ", tmp_path)) == {"auto", *IMPORTERS}
    assert set(fish_complete("aimem search --kind ", tmp_path)) == set(KIND_NAMES)
    assert fish_complete("aimem --db x.db tag a", tmp_path) == ["add", "auto"]
    assert fish_complete("aimem search tag a", tmp_path) == []  # a word to search, not `tag`
    (tmp_path / "chatgpt-export.zip").write_bytes(b"")
    assert fish_complete(f"aimem import {tmp_path}/chat", tmp_path) == [
        f"{tmp_path}/chatgpt-export.zip"]


def test_man_page_renders_without_warnings() -> None:
    require_tool("groff")
    proc = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(MAN)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    proc = subprocess.run(["groff", "-man", "-Tutf8", "-P", "-cbou", str(MAN)],
                          capture_output=True, text=True, timeout=60)
    assert "EXIT STATUS" in proc.stdout and "AIMEM_HOME" in proc.stdout
    assert "aimem tag add" in proc.stdout


@pytest.mark.parametrize("cmd", [c.path for c in COMMANDS], ids=lambda p: " ".join(p))
def test_every_command_has_help_with_examples(cmd: list[str]) -> None:
    result = CliRunner().invoke(app, [*cmd, "--help"])
    assert result.exit_code == 0, result.output
    assert "Examples" in result.output, f"aimem {' '.join(cmd)} --help has no examples"
