"""The man page and completions are generated from the command tree and kept fresh."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from aimem import _gen
from aimem.cli import app
from conftest import ROOT

COMMANDS = [c for c in _gen.walk(_gen.tree())[1:]]


def test_generated_files_are_up_to_date() -> None:
    proc = subprocess.run([sys.executable, "-m", "aimem._gen", "--check"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, f"{proc.stderr.strip()} (run: make gen)"


def test_every_command_is_in_the_man_page_and_completions() -> None:
    man = (ROOT / "man" / "aimem.1").read_text()
    bash = (ROOT / "completions" / "aimem.bash").read_text()
    zsh = (ROOT / "completions" / "_aimem").read_text()
    fish = (ROOT / "completions" / "aimem.fish").read_text()
    assert {"import", "search", "tag add", "inject", "sync", "export"} <= {c.name for c in COMMANDS}
    for c in COMMANDS:
        assert f"aimem {c.name}".replace("-", "\\-") in man or c.children, c.name
        assert f'"{c.name}")' in bash, c.name
        assert f"'{c.path[-1]}:" in zsh, c.name
        assert f"-a {c.path[-1]} " in fish, c.name


@pytest.mark.parametrize("shell, flag, path", [
    ("bash", "-n", "aimem.bash"), ("zsh", "-n", "_aimem"), ("fish", "--no-execute", "aimem.fish")])
def test_completion_scripts_parse(shell: str, flag: str, path: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed here")
    proc = subprocess.run([shell, flag, str(ROOT / "completions" / path)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


def complete(*words: str) -> list[str]:
    script = (f"source {ROOT / 'completions' / 'aimem.bash'}; COMP_WORDS=(aimem "
              + " ".join(f"'{w}'" for w in words) + f"); COMP_CWORD={len(words)}; _aimem; "
              'printf "%s\\n" "${COMPREPLY[@]}"')
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                          check=True).stdout.split()


def test_bash_completion_works() -> None:
    assert complete("imp") == ["import"]
    assert {"auto", "chatgpt", "jsonl", "claude"} <= set(complete("import", "--format", ""))
    assert complete("search", "--kind", "") == ["message", "memory", "conversation"]
    assert complete("--db", "x.db", "tag", "a") == ["add"]
    assert "--budget" in complete("inject", "--b")
    assert "user" in complete("search", "walrus", "--role", "")


def test_man_page_renders_without_warnings() -> None:
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed here")
    proc = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-P", "-cbou", str(ROOT / "man" / "aimem.1")],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "EXIT STATUS" in proc.stdout and "AIMEM_HOME" in proc.stdout


@pytest.mark.parametrize("cmd", [c.path for c in COMMANDS if not c.children],
                         ids=lambda p: " ".join(p))
def test_every_command_has_help_with_examples(cmd: list[str]) -> None:
    result = CliRunner().invoke(app, [*cmd, "--help"])
    assert result.exit_code == 0
    assert "Examples" in result.output, f"aimem {' '.join(cmd)} --help has no examples"
