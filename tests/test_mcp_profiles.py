"""serve-mcp tool profiles (--tools core|all|names), the core tools, and Claude's memory tool
(the MCP tool ``memory`` and aimem.services.memory_tool), through the SDK's in-memory client."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from aimem.errors import AimemError
from aimem.mcp.profiles import ALL, CORE, UnknownTools, resolve
from aimem.mcp.server import build_server
from aimem.services import Archive
from aimem.services.memory_tool import MemoryTool, MemoryToolError, anthropic_tool, check_path
from conftest import FIXTURES, run_aimem

pytestmark = pytest.mark.anyio

SAMPLE = FIXTURES / "jsonl" / "sample.jsonl"
CORE_BUDGET = 6_000  # characters of the core profile's tools/list (issue 13)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def seeded(db: Path) -> Path:
    with Archive.open(db) as m:
        m.import_paths([str(SAMPLE)])
        m.remember("The staging database is Postgres 16 on db-stage-2", kind="project")
    return db


@pytest.fixture
async def core(seeded: Path) -> AsyncIterator[Client]:
    async with Client(build_server(seeded), raise_exceptions=True) as c:
        yield c


async def call(c: Client, tool: str, **args: Any) -> dict[str, Any]:
    r = await c.call_tool(tool, args)
    assert not r.is_error, r.content[0].text  # type: ignore[union-attr]
    assert r.structured_content is not None
    return r.structured_content


async def error(c: Client, tool: str, **args: Any) -> str:
    r = await c.call_tool(tool, args)
    assert r.is_error, r
    return r.content[0].text  # type: ignore[union-attr]


async def listing(db: Path, **kw: Any) -> tuple[list[str], int]:
    """Tool names and the size of tools/list as JSON (json.dumps defaults: the larger of
    the usual ways to count)."""
    async with Client(build_server(db, **kw)) as c:
        tools = (await c.list_tools()).tools
    dumped = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    return [t.name for t in tools], len(json.dumps({"tools": dumped}))


# -- profiles ----------------------------------------------------------------------------------


async def test_core_profile_is_the_default_and_fits_its_budget(seeded: Path) -> None:
    names, size = await listing(seeded)
    assert names == list(CORE)
    assert size <= CORE_BUDGET, size
    all_names, all_size = await listing(seeded, tools="all")
    assert all_names == list(ALL) and all_size > 5 * size
    ro, _ = await listing(seeded, read_only=True)
    assert ro == ["search", "read", "recall"]


async def test_core_tools_schemas_and_descriptions(core: Client) -> None:
    tools = {t.name: t for t in (await core.list_tools()).tools}
    for name, t in tools.items():
        assert t.output_schema and t.output_schema["type"] == "object", name
        assert t.description and "\n" not in t.description and len(t.description) > 40, name
        assert t.annotations and t.annotations.open_world_hint is False, name
        assert t.annotations.read_only_hint is (name in ("search", "read", "recall")), name
    assert tools["search"].input_schema["required"] == ["query"]
    assert tools["forget"].annotations.destructive_hint is True  # type: ignore[union-attr]


@pytest.mark.parametrize("spec,want", [
    ("search,read", ["search", "read"]),
    ("core,memory", [*CORE, "memory"]),
    (" get_memory , search ", ["get_memory", "search"]),
    (["all"], list(ALL)),
])
def test_resolve_tool_names(spec: Any, want: list[str]) -> None:
    assert resolve(spec) == want


def test_unknown_tool_names() -> None:
    with pytest.raises(UnknownTools) as exc:
        resolve("search,nope,zap")
    assert "'nope', 'zap'" in str(exc.value) and "search_memory" in str(exc.value)
    with pytest.raises(UnknownTools):
        resolve(" , ")


async def test_named_tools_and_read_only(seeded: Path) -> None:
    names, _ = await listing(seeded, tools="search,get_memory,memory,remember")
    assert names == ["get_memory", "search", "remember", "memory"]
    names, _ = await listing(seeded, tools="search,get_memory,memory,remember", read_only=True)
    assert names == ["get_memory", "search"]


def test_serve_mcp_unknown_tool_is_a_usage_error(db: Path) -> None:
    r = run_aimem("--db", str(db), "serve-mcp", "--tools", "search,bogus")
    assert r.returncode == 2 and r.stdout == b""
    err = r.stderr.decode()
    assert "bogus" in err and "search_memory" in err and "memory" in err
    assert not db.exists()


def test_mcp_config_passes_tools(db: Path) -> None:
    r = run_aimem("--db", str(db), "mcp-config", "--client", "cursor", "--tools", "core,memory",
                  check=True)
    entry = json.loads(r.stdout)["mcpServers"]["aimem"]
    assert entry["args"][-3:] == ["serve-mcp", "--tools", "core,memory"]
    assert run_aimem("mcp-config", "--tools", "nope").returncode == 2


# -- the core tools ---------------------------------------------------------------------------


async def test_search_then_read_with_progressive_detail(core: Client, seeded: Path) -> None:
    hits = (await call(core, "search", query="kyoto"))["hits"]
    assert hits and all(set(h) == {"id", "kind", "title", "date", "snippet"} for h in hits)
    assert all("\n" not in h["snippet"] and len(h["snippet"]) <= 160 for h in hits)
    msg = next(h for h in hits if h["kind"] == "message")
    assert msg["title"] == "Kyoto in November" and "[Kyoto]" in msg["snippet"]
    with Archive.open(seeded) as m:
        conv = m.show(msg["id"], record=False)
    ids = [x["id"] for x in conv["messages"]]
    i = ids.index(msg["id"])

    window = await call(core, "read", id=msg["id"], around=1)
    assert window["kind"] == "message"
    text = window["text"]
    assert text.startswith("# Kyoto in November")
    assert f"{msg['id']} ← hit" in text
    shown = [x for x in ids if x in text]
    assert shown == ids[max(0, i - 1):i + 2]

    full = await call(core, "read", id=msg["id"], around=0)
    assert full["text"] == conv["messages"][i]["text"] and full["next_offset"] is None

    page = await call(core, "read", id=conv["id"])
    assert page["kind"] == "conversation" and all(x in page["text"] for x in ids)
    assert page["next_offset"] is None
    later = await call(core, "read", id=conv["id"], offset=len(ids) - 1)
    assert ids[-1] in later["text"] and ids[0] not in later["text"]
    assert "past the end" in await error(core, "read", id=conv["id"], offset=len(ids) + 1)
    assert "nothing has the id" in await error(core, "read", id="zzzz")


async def test_remember_edit_forget_recall(core: Client, seeded: Path) -> None:
    saved = await call(core, "remember", text="Frank deploys on Fridays only after 3pm",
                       kind="project")
    assert saved["created"] is True
    assert (await call(core, "remember", text="frank deploys on fridays only after 3pm."))[
        "created"] is False
    hits = (await call(core, "search", query="deploys", scope="memories"))["hits"]
    assert [(h["id"], h["kind"]) for h in hits] == [(saved["id"], "memory")]
    with Archive.open(seeded) as m:
        assert m.show(saved["id"], record=False)["use_count"] == 0  # a snippet is no use
    got = await call(core, "read", id=saved["id"][:8])
    assert got == {"id": saved["id"], "kind": "memory",
                   "text": "[project] Frank deploys on Fridays only after 3pm",
                   "next_offset": None}
    with Archive.open(seeded) as m:
        assert m.show(saved["id"], record=False)["use_count"] == 1  # a deliberate read is

    await call(core, "edit_memory", id=saved["id"], text="Frank deploys on Thursdays")
    assert (await call(core, "search", query="thursdays"))["hits"][0]["id"] == saved["id"]
    r = await core.call_tool("recall", {"topic": "Frank deploys", "budget": 300})
    assert "Frank deploys on Thursdays" in r.content[0].text  # type: ignore[union-attr]
    assert r.structured_content and r.structured_content["tokens"] <= 300

    assert (await call(core, "forget", id=saved["id"]))["id"] == saved["id"]
    assert (await call(core, "search", query="thursdays"))["hits"] == []
    assert "not a memory" in await error(core, "forget", id=(await call(
        core, "search", query="kyoto", scope="conversations"))["hits"][0]["id"])


# -- Claude's memory tool -----------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/etc/passwd", "memories/x.md", "/memoriesx/a", "/memories/../etc/passwd",
    "/memories/a/../../b", "/memories/%2e%2e/x", "/memories/a%2Fb", "/memories//x",
    "/memories/./x", "/memories/a\\..\\b", "/memories/a\x00b", "", "..", "/",
])
def test_paths_outside_memories_are_refused(path: str) -> None:
    with pytest.raises(MemoryToolError):
        check_path(path)


def test_memory_tool_commands(db: Path) -> None:
    with Archive.open(db) as m:
        t = m.memory_tool()
        assert isinstance(t, MemoryTool)
        assert t.create("/memories/prefs.md", "# Prefs\n- likes tea\n- uses vim") == \
            "File created successfully at: /memories/prefs.md"
        t.create("/memories/work/aimem/notes.md", "SQLite FTS5 does the search")
        t.create("/memories/work/aimem/deep/more.md", "a third level file")
        t.create("/memories/.hidden.md", "not listed")
        assert t.view("/memories").splitlines() == [
            "Here're the files and directories up to 2 levels deep in /memories, excluding "
            "hidden items:", "75B\t/memories", "30B\t/memories/prefs.md",
            "45B\t/memories/work/", "45B\t/memories/work/aimem/"]
        assert t.view("/memories/prefs.md") == ("Here's the content of /memories/prefs.md with "
                                                "line numbers:\n     1\t# Prefs\n     2\t- likes "
                                                "tea\n     3\t- uses vim")
        assert t.view("/memories/prefs.md", [3, -1]).endswith("\n     3\t- uses vim")
        with pytest.raises(MemoryToolError, match="already exists"):
            t.create("/memories/prefs.md", "overwrite?")
        with pytest.raises(MemoryToolError, match="did not appear verbatim"):
            t.str_replace("/memories/prefs.md", "coffee", "x")
        t.create("/memories/twice.md", "a\na")
        with pytest.raises(MemoryToolError, match="Multiple occurrences of old_str `a` in "
                                                  "lines: 1, 2"):
            t.str_replace("/memories/twice.md", "a", "b")
        out = t.str_replace("/memories/prefs.md", "likes tea", "likes oolong tea")
        assert out.endswith("     2\t- likes oolong tea\n     3\t- uses vim")
        assert t.insert("/memories/prefs.md", 1, "- lives in Lyon") == \
            "The file /memories/prefs.md has been edited."
        with pytest.raises(MemoryToolError, match=r"within the range \[0, 4\]"):
            t.insert("/memories/prefs.md", 9, "x")
        assert t.rename("/memories/work", "/memories/projects") == \
            "Successfully renamed /memories/work to /memories/projects"
        with pytest.raises(MemoryToolError, match="already exists"):
            t.rename("/memories/twice.md", "/memories/prefs.md")
        with pytest.raises(MemoryToolError, match="does not exist"):
            t.view("/memories/work")
        # each file is an ordinary memory: searchable and injected
        hits = m.search("oolong")
        assert [h["text"] for h in hits] == ["# Prefs\n- lives in Lyon\n- likes oolong tea\n"
                                             "- uses vim"]
        assert "oolong" in m.inject("what tea do I like", budget=400)
        assert t.delete("/memories/projects") == "Successfully deleted /memories/projects"
        assert m.search("FTS5") == []
        with pytest.raises(MemoryToolError, match="Cannot delete the /memories directory"):
            t.delete("/memories")
        with pytest.raises(MemoryToolError, match="Path must start with /memories"):
            t.create("/tmp/x.md", "escape")
        assert {x["source"] for x in m.list_memories()} == {"memory-tool"}


async def test_memory_tool_over_mcp(seeded: Path) -> None:
    async with Client(build_server(seeded, tools="core,memory"), raise_exceptions=True) as c:
        r = await call(c, "memory", command="create", path="/memories/user.md",
                       file_text="Prefers metric units")
        assert r == {"result": "File created successfully at: /memories/user.md"}
        view = await c.call_tool("memory", {"command": "view", "path": "/memories"})
        assert "/memories/user.md" in view.content[0].text  # type: ignore[union-attr]
        hits = (await call(c, "search", query="metric"))["hits"]
        assert hits[0]["kind"] == "memory" and "metric" in hits[0]["snippet"]
        for bad in ("/memories/../secrets", "/etc/passwd", "/memories/%2e%2e/x"):
            text = await error(c, "memory", command="view", path=bad)
            assert "escape" in text or "must start" in text or "not allowed" in text
            await error(c, "memory", command="create", path=bad, file_text="x")
        assert "needs the parameter" in await error(c, "memory", command="create",
                                                    path="/memories/x.md")
        await call(c, "memory", command="rename", old_path="/memories/user.md",
                   new_path="/memories/me/units.md")
        r = await call(c, "memory", command="view", path="/memories/me/units.md")
        assert r["result"].endswith("     1\tPrefers metric units")
    names, _ = await listing(seeded, tools="all", read_only=True)
    assert "memory" not in names


def test_anthropic_adapter_degrades_without_the_sdk_class(db: Path) -> None:
    try:
        from anthropic.lib.tools import BetaAbstractMemoryTool  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("this anthropic SDK has BetaAbstractMemoryTool")
    with Archive.open(db) as m, pytest.raises(AimemError, match="BetaAbstractMemoryTool"):
        anthropic_tool(m.store)


def test_anthropic_adapter_delegates(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter against the SDK's interface (methods taking command objects, ToolError
    for failures): a stand-in module when the installed SDK predates the class."""
    try:
        from anthropic.lib.tools import BetaAbstractMemoryTool, ToolError
    except ImportError:
        fake = types.ModuleType("anthropic.lib.tools")

        class ToolError(Exception):  # type: ignore[no-redef]
            pass

        class BetaAbstractMemoryTool:  # type: ignore[no-redef]
            pass

        fake.ToolError = ToolError  # type: ignore[attr-defined]
        fake.BetaAbstractMemoryTool = BetaAbstractMemoryTool  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "anthropic.lib.tools", fake)
    with Archive.open(db) as m:
        tool = anthropic_tool(m.store)
        assert isinstance(tool, BetaAbstractMemoryTool)
        cmd = types.SimpleNamespace
        assert tool.create(cmd(path="/memories/a.md", file_text="Gina plays the oboe")) == \
            "File created successfully at: /memories/a.md"
        assert tool.view(cmd(path="/memories/a.md", view_range=None)).endswith(
            "     1\tGina plays the oboe")
        with pytest.raises(ToolError, match="would escape"):
            tool.view(cmd(path="/memories/../x", view_range=None))
        assert m.search("oboe")[0]["text"] == "Gina plays the oboe"


async def test_read_pages_a_long_conversation(db: Path, tmp_path: Path) -> None:
    conv = {"type": "conversation", "source": "jsonl", "source_id": "long-1", "title": "Long one",
            "messages": [{"role": "user" if i % 2 == 0 else "assistant",
                          "text": f"part {i} about herons " + "x" * (3000 if i != 7 else 15000)}
                         for i in range(30)]}
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps(conv) + "\n")
    with Archive.open(db) as m:
        m.import_paths([str(path)], fmt="jsonl")  # one line longer than what sniff reads
        d = m.show(m.search("part", limit=1)[0]["conversation_id"], record=False)
    ids = [x["id"] for x in d["messages"]]
    async with Client(build_server(db), raise_exceptions=True) as c:
        win = await call(c, "read", id=ids[15], around=10)
        assert len(win["text"]) < 9_000 and win["next_offset"] is None
        assert all(x in win["text"] for x in ids[5:26]) and ids[4] not in win["text"]
        assert f"read(id={d['id']!r}, offset=5)" in win["text"]
        seen, offset, pages = set(), 0, 0
        while offset is not None:
            page = await call(c, "read", id=d["id"], offset=offset)
            assert len(page["text"]) < 9_000
            seen |= {x for x in ids if x in page["text"]}
            offset, pages = page["next_offset"], pages + 1
        assert seen == set(ids) and pages > 3
        text, offset = "", 0
        while offset is not None:  # a long message, a page of characters at a time
            page = await call(c, "read", id=ids[7], around=0, offset=offset)
            text, offset = text + page["text"], page["next_offset"]
        assert text == d["messages"][7]["text"]
