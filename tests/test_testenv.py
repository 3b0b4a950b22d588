"""The test suite's own rules (tests/conftest.py), checked by running pytest on small
test files in a subprocess: a missing system tool skips locally and fails under CI=true;
an absent ../shared skips what needs it, with the reason, and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

MISSING = "aimem-no-such-tool-x7"

TOOL_TESTS = f'''
import pytest


@pytest.mark.requires_tool("{MISSING}")
def test_marked():
    pass


@pytest.mark.requires_tool("sh")
def test_present_tool_is_found():
    pass
'''

CALL_TESTS = f'''
from conftest import require_tool


def test_called():
    require_tool("{MISSING}")


def test_sh_is_there():
    assert require_tool("sh").endswith("/sh")
'''

SHARED_TESTS = '''
import json

import pytest
from conftest import FIXTURES, SHARED_FIXTURES

ONE = SHARED_FIXTURES / "chatgpt"


def read_one():
    return sorted(ONE.glob("*.json"))[0].read_text()


def test_uses_a_shared_constant():
    assert list(ONE.glob("*.json"))


def test_uses_a_helper_that_reads_shared():
    assert read_one()


@pytest.mark.parametrize("path", [SHARED_FIXTURES / "x.json"])
def test_parametrized_on_a_shared_path(path):
    assert path.exists()


def test_fails_on_a_shared_path_it_builds():
    base = str(SHARED_FIXTURES.parent)
    open(base + "/fixtures/chatgpt/none.json").read()


def test_needs_nothing_shared():
    assert (FIXTURES / "chatgpt").is_dir()


def test_a_real_failure_stays_a_failure():
    assert json.loads("1") == 2
'''


def pytest_run(tmp_path: Path, source: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(source)
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "AIMEM_TEST_SHARED")}
    clean["PYTHONPATH"] = str(ROOT / "tests")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-rA",
         "-q", "--rootdir", str(tmp_path), str(tmp_path / "test_probe.py")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env={**clean, **env})


@pytest.mark.parametrize("source", [TOOL_TESTS, CALL_TESTS], ids=["marker", "call"])
def test_a_missing_tool_skips_locally_and_fails_in_ci(tmp_path: Path, source: str) -> None:
    local = pytest_run(tmp_path, source)
    assert local.returncode == 0, local.stdout
    assert "1 passed, 1 skipped" in local.stdout
    assert f"{MISSING} is not installed here" in local.stdout

    ci = pytest_run(tmp_path, source, CI="true")
    assert ci.returncode == 1, ci.stdout
    # the marker fails the test in its setup (an error), the call in its body
    assert ("1 passed, 1 error" if source is TOOL_TESTS else "1 failed, 1 passed") in ci.stdout
    assert f"CI=true and a required tool is missing: {MISSING}" in ci.stdout


def test_absent_shared_skips_what_uses_it_and_nothing_else(tmp_path: Path) -> None:
    missing = tmp_path / "no-shared"
    proc = pytest_run(tmp_path, SHARED_TESTS, AIMEM_TEST_SHARED=str(missing))
    out = proc.stdout
    assert proc.returncode == 1, out  # the one real failure
    assert "1 failed, 1 passed, 4 skipped" in out, out
    assert f"needs the reference fixtures in ../shared ({missing / 'fixtures'})" in out
    assert "FAILED test_probe.py::test_a_real_failure_stays_a_failure" in out
    assert "PASSED test_probe.py::test_needs_nothing_shared" in out


def test_a_module_that_reads_shared_on_import_is_skipped_not_an_error(tmp_path: Path) -> None:
    source = "from conftest import SHARED_FIXTURES\n\nDATA = (SHARED_FIXTURES / 'a.json').read_bytes()\n" \
             "\n\ndef test_a():\n    assert DATA\n"
    proc = pytest_run(tmp_path, source, AIMEM_TEST_SHARED=str(tmp_path / "no-shared"))
    assert proc.returncode == 5, proc.stdout  # pytest's "no test ran": the module is skipped
    assert "1 skipped in" in proc.stdout and "error" not in proc.stdout.lower()
