"""aimem serve-mcp against a real third-party client: the MCP Inspector CLI (npm, pinned).

``make test`` installs it into .venv/inspector (``make inspector``); run alone, this test
installs it there itself. It is skipped only when npm is not installed (failed under CI=true).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aimem.services import Archive
from conftest import FIXTURES, ROOT, require_tool

INSPECTOR_VERSION = "2.12.0"  # keep in step with the Makefile's INSPECTOR_VERSION
INSPECTOR_DIR = Path(os.environ.get("AIMEM_INSPECTOR_DIR", ROOT / ".venv" / "inspector"))
PACKAGE = INSPECTOR_DIR / "node_modules" / "@modelcontextprotocol" / "inspector" / "package.json"
BIN = INSPECTOR_DIR / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = pytest.mark.slow


def installed_version() -> str | None:
    try:
        return json.loads(PACKAGE.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="module")
def inspector() -> Path:
    if installed_version() != INSPECTOR_VERSION or not BIN.exists():
        npm = require_tool("npm", f"the MCP Inspector CLI @modelcontextprotocol/inspector@"
                                  f"{INSPECTOR_VERSION} is installed with it")
        INSPECTOR_DIR.mkdir(parents=True, exist_ok=True)
        with open(INSPECTOR_DIR / ".lock", "w") as lock:  # xdist workers install once
            fcntl.flock(lock, fcntl.LOCK_EX)
            if installed_version() != INSPECTOR_VERSION or not BIN.exists():
                proc = subprocess.run(
                    [npm, "install", "--prefix", str(INSPECTOR_DIR), "--no-audit", "--no-fund",
                     "--loglevel=error", f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}"],
                    capture_output=True, text=True, timeout=600)
                assert proc.returncode == 0, f"npm install failed:\n{proc.stderr}"
    assert installed_version() == INSPECTOR_VERSION
    return BIN


def run(inspector: Path, db: Path, tmp_path: Path, *method: str, read_only: bool = False,
        tools: str | None = "all") -> tuple[int, Any, str]:
    server = [sys.executable, "-m", "aimem", "--db", str(db), "serve-mcp"]
    if read_only:
        server.append("--read-only")
    if tools is not None:
        server += ["--tools", tools]
    env = {**os.environ, "MCP_CATALOG_PATH": str(tmp_path / "catalog.json")}
    proc = subprocess.run([str(inspector), "--cli", "-q", "--format", "json", *server,
                           "--method", *method], capture_output=True, text=True, env=env,
                          timeout=120)
    out = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, out, proc.stderr


def test_inspector_lists_tools_and_calls_search(inspector: Path, db: Path,
                                                tmp_path: Path) -> None:
    with Archive.open(db) as m:
        m.import_paths([str(FIXTURES / "jsonl" / "sample.jsonl")])
        saved = m.remember("Dana keeps her dotfiles in a bare git repository", kind="fact")

    rc, out, err = run(inspector, db, tmp_path, "tools/list")
    assert rc == 0, err
    tools = {t["name"]: t for t in out["result"]["tools"]}
    assert {"search_memory", "save_memory", "delete_memory", "get_conversation"} <= set(tools)
    assert tools["search_memory"]["annotations"] == {"readOnlyHint": True,
                                                     "openWorldHint": False}
    assert tools["delete_memory"]["annotations"]["destructiveHint"] is True

    rc, out, err = run(inspector, db, tmp_path, "tools/call", "--tool-name", "search_memory",
                       "--tool-arg", "query=dotfiles", "--tool-arg", "limit=5")
    assert rc == 0, err
    result = out["result"]
    assert result["isError"] is False
    assert [h["id"] for h in result["structuredContent"]["hits"]] == [saved["id"]]

    rc, out, err = run(inspector, db, tmp_path, "tools/call", "--tool-name",
                       "search_conversations", "--tool-args-json", '{"query": "kyoto"}')
    assert rc == 0, err
    assert out["result"]["structuredContent"]["hits"][0]["title"] == "Kyoto in November"

    rc, out, err = run(inspector, db, tmp_path, "resources/read", "--uri",
                       f"aimem://memory/{saved['id']}")
    assert rc == 0, err
    assert json.loads(out["result"]["contents"][0]["text"])["text"] == saved["text"]

    # an unknown id is a tool error (exit 5), not a crash
    rc, out, err = run(inspector, db, tmp_path, "tools/call", "--tool-name", "get_memory",
                       "--tool-arg", "id=nope")
    assert rc == 5 and out["result"]["isError"] is True
    assert "nothing has the id 'nope'" in out["result"]["content"][0]["text"]


def test_inspector_strict_schema_lint_and_read_only(inspector: Path, db: Path,
                                                    tmp_path: Path) -> None:
    with Archive.open(db) as m:
        m.remember("Erin runs Arch Linux on the laptop")
    rc, out, err = run(inspector, db, tmp_path, "tools/list", "--strict")
    assert rc == 0, err  # exit 6 would mean schema-portability errors
    # the default profile, core: small, and just as portable
    rc, out, err = run(inspector, db, tmp_path, "tools/list", "--strict", tools=None)
    assert rc == 0, err
    assert {t["name"] for t in out["result"]["tools"]} == {
        "search", "read", "recall", "remember", "edit_memory", "forget"}
    assert len(json.dumps(out["result"]["tools"])) <= 6_000
    rc, out, err = run(inspector, db, tmp_path, "tools/call", "--tool-name", "search",
                       "--tool-arg", "query=arch", tools=None)
    assert rc == 0, err
    hit = out["result"]["structuredContent"]["hits"][0]
    assert hit["kind"] == "memory" and "Arch" in hit["snippet"]
    rc, out, err = run(inspector, db, tmp_path, "tools/list", read_only=True)
    assert rc == 0, err
    assert all(t["annotations"]["readOnlyHint"] for t in out["result"]["tools"])
    assert "save_memory" not in {t["name"] for t in out["result"]["tools"]}
