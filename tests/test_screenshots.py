"""scripts/screenshots.py (make screenshots): the README's pictures of aimem browse are made
by the TUI from the bundled sample, the same bytes every time, and the README shows them."""

from __future__ import annotations

import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "screenshots.py"
NAMES = ["browse-search.svg", "browse-conversation.svg", "browse-memories.svg"]


def svg_text(path: Path) -> str:
    """The terminal's text as Textual wrote it into the SVG (one <text> per run of cells)."""
    runs = re.findall(r"<text [^>]*>([^<]*)</text>", path.read_text())
    return unescape(" ".join(runs)).replace("\xa0", " ")


@pytest.mark.slow
def test_screenshots_are_made_by_the_tui_and_are_deterministic(tmp_path: Path) -> None:
    for out in ("a", "b"):
        proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / out)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    for name in NAMES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    search = svg_text(tmp_path / "a" / "browse-search.svg")
    assert "kyoto rain" in search and "Kyoto on a rainy day" in search and "results" in search
    conversation = svg_text(tmp_path / "a" / "browse-conversation.svg")
    assert "Kyoto on a rainy day" in conversation and "match 2/6" in conversation
    memories = svg_text(tmp_path / "a" / "browse-memories.svg")
    assert "Memories  (6)" in memories and "pinned" in memories
    # --check compares a fresh rendering with a folder
    (tmp_path / "a" / NAMES[0]).write_text("<svg/>")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--check", "--out", str(tmp_path / "a")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and NAMES[0] in proc.stderr


def test_the_readme_shows_the_checked_in_screenshots() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in NAMES:
        assert f"docs/screenshots/{name}" in readme, name
        svg = (ROOT / "docs" / "screenshots" / name).read_text()
        assert svg.startswith("<svg") and "aimem" in svg
