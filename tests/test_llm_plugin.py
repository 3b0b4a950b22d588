"""aimem as an llm plugin: the ``aimem:`` fragment loader and the aimem_search /
aimem_remember tools, through llm's own CLI in a subprocess (the way a user runs it).

The subprocess loads the installed entry-point plugins (``sys._called_from_test`` is only
set in this process): aimem's, found through ``[project.entry-points.llm]`` once the
package is installed (``pip install -e .``), and llm-echo 0.5 (a test extra), an offline
model that answers with a JSON dump of what it was sent and runs the tool calls a JSON
prompt asks for. AIMEM_DB points at the test database; LLM_USER_PATH at a temporary
directory (conftest).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aimem.services import Archive
from conftest import FIXTURES, run_aimem

LLM = Path(sys.executable).with_name("llm")


@pytest.fixture
def loaded(db: Path) -> Path:
    with Archive.open(db) as m:
        m.import_paths([str(FIXTURES / "jsonl" / "sample.jsonl")])
        m.remember("The user lives in Kyoto and cycles to work", kind="fact")
    return db


def llm_cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    if not LLM.exists():
        pytest.skip("llm's command is not installed in this environment")
    env = {**os.environ, "AIMEM_DB": str(db)}
    env.pop("LLM_LOAD_PLUGINS", None)
    return subprocess.run([str(LLM), *args], capture_output=True, text=True, env=env,
                          timeout=120)


def tool_prompt(name: str, **arguments: Any) -> str:
    return json.dumps({"prompt": "x", "tool_calls": [{"name": name, "arguments": arguments}]})


def test_the_plugin_is_installed_with_its_hooks(loaded: Path) -> None:
    proc = llm_cli("plugins", db=loaded)
    assert proc.returncode == 0, proc.stderr
    plugins = {p["name"]: p for p in json.loads(proc.stdout)}
    if "aimem" not in plugins:
        pytest.fail("aimem's llm entry point is not installed: run .venv/bin/pip install -e .")
    assert plugins["aimem"]["hooks"] == ["register_embedding_models", "register_fragment_loaders",
                                         "register_tools"]
    assert "llm-echo" in plugins, "pip install -e '.[test]' installs llm-echo"
    loaders = llm_cli("fragments", "loaders", db=loaded).stdout
    assert "aimem:" in loaders and "aimem inject" in loaders
    tools = llm_cli("tools", db=loaded).stdout
    assert "aimem_search(query: 'str', limit: 'int' = 10)" in tools and "aimem_remember(" in tools


def test_fragment_injects_exactly_what_aimem_inject_prints(loaded: Path,
                                                           tmp_path: Path) -> None:
    # inject counts what it recalls (ranking heat), so compare against a copy in the same state
    twin = tmp_path / "twin.db"
    shutil.copy(loaded, twin)
    expected = run_aimem("--db", str(twin), "inject", "kyoto", check=True).stdout.decode()
    assert "Kyoto" in expected
    proc = llm_cli("-m", "echo", "-f", "aimem:kyoto", "what should I pack?", "--no-log",
                   db=loaded)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["prompt"] == expected + "\nwhat should I pack?"
    # into the system prompt with --sf; logged with its source when logging is on
    proc = llm_cli("-m", "echo", "--sf", "aimem:sourdough", "hi", db=loaded)
    assert proc.returncode == 0, proc.stderr
    assert "Sourdough starter schedule" in json.loads(proc.stdout)["system"]
    frags = llm_cli("fragments", "list", "--json", db=loaded)
    assert [f["source"] for f in json.loads(frags.stdout)] == ["aimem:sourdough"]


def test_fragment_errors_are_one_line(tmp_path: Path, loaded: Path) -> None:
    proc = llm_cli("-m", "echo", "-f", "aimem:kyoto", "hi", "--no-log", db=tmp_path / "none.db")
    assert proc.returncode == 1 and "Could not load fragment aimem:kyoto: no database" in proc.stderr
    assert not (tmp_path / "none.db").exists()
    proc = llm_cli("-m", "echo", "-f", "aimem:", "hi", "--no-log", db=loaded)
    assert proc.returncode == 1 and "say what to recall" in proc.stderr


def test_search_tool(loaded: Path) -> None:
    proc = llm_cli("-m", "echo", "-T", "aimem_search", tool_prompt("aimem_search", query="kyoto"),
                   "--no-log", db=loaded)
    assert proc.returncode == 0, proc.stderr
    last = json.loads(proc.stdout[proc.stdout.rindex('{\n  "prompt": ""'):])
    (result,) = last["tool_results"]
    hits = json.loads(result["output"])
    assert hits[0]["kind"] == "memory" and "cycles to work" in hits[0]["text"]
    assert any(h["kind"] == "message" and h["title"] == "Kyoto in November" for h in hits)


def test_remember_tool_saves_a_memory(loaded: Path) -> None:
    prompt = tool_prompt("aimem_remember", text="The user drinks green tea",
                         kind="preference", tags="tea, food")
    proc = llm_cli("-m", "echo", "-T", "aimem_remember", prompt, "--no-log", db=loaded)
    assert proc.returncode == 0, proc.stderr
    with Archive.open(loaded, create=False) as m:
        (saved,) = [x for x in m.list_memories() if "green tea" in x["text"]]
    assert saved["kind"] == "preference" and saved["source"] == "llm"
    assert saved["tags"] == ["food", "tea"]


def test_hooks_in_process(loaded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same hooks through llm's Python API (entry points are off under pytest)."""
    import llm
    from llm.plugins import pm

    import aimem.llm_plugin as plugin

    monkeypatch.setenv("AIMEM_DB", str(loaded))
    pm.register(plugin, name="aimem-under-test")
    try:
        frag = llm.get_fragment_loaders()["aimem"]("kyoto")
        assert isinstance(frag, llm.Fragment) and frag.source == "aimem:kyoto"
        assert "cycles to work" in frag
        tools = llm.get_tools()
        assert {"aimem_search", "aimem_remember"} <= set(tools)
        assert tools["aimem_search"].input_schema["required"] == ["query"]
    finally:
        pm.unregister(name="aimem-under-test")
