"""The real ``aimem browse`` in a real terminal: tmux runs it, we type and read the screen.

``make test`` installs tmux when it is missing; without it this test is skipped
(failed under CI=true, see require_tool in conftest.py). The
tmux server is a private one (its own socket), so no session of the user is touched.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_tui import browse_db, template_db  # noqa: F401 (fixtures)

pytestmark = pytest.mark.requires_tool("tmux")


@pytest.fixture
def tmux() -> Iterator[Callable[..., str]]:
    socket = f"aimem-test-{uuid.uuid4().hex[:12]}"

    def run(*args: str) -> str:
        out = subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", *args],
                             capture_output=True, text=True, timeout=30, check=True)
        return out.stdout

    yield run
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30)


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_browse_in_tmux_types_a_query_finds_the_title_and_quits(
        tmux: Callable[..., str], browse_db: Path, tmp_path: Path) -> None:  # noqa: F811
    rc = tmp_path / "exit-code"
    env = {"AIMEM_HOME": str(tmp_path / "home"), "TERM": "xterm-256color",
           "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
    command = (" ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
               + f" {shlex.quote(sys.executable)} -m aimem --db {shlex.quote(str(browse_db))}"
               f" browse; echo $? > {shlex.quote(str(rc))}")
    tmux("new-session", "-d", "-s", "browse", "-x", "120", "-y", "40", "env", "-i", "sh", "-c",
         command)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "browse")

    assert wait_for(lambda: "newest conversations" in screen()), screen()
    tmux("send-keys", "-t", "browse", "-l", "kyoto rain")
    assert wait_for(lambda: "kyoto rain" in screen()
                    and re.search(r"\d+\+? results", screen()) is not None), screen()
    assert "Kyoto on a rainy day" in screen()
    tmux("send-keys", "-t", "browse", "Tab")  # out of the search box, into the results
    time.sleep(0.3)
    tmux("send-keys", "-t", "browse", "q")
    assert wait_for(lambda: rc.exists() and rc.read_text().strip() != ""), screen()
    assert rc.read_text().strip() == "0"
