"""aimem serve-mcp: every tool in memory (SDK Client), over stdio and HTTP, and under load.

In-memory tests use ``Client(build_server(db))`` (no subprocess). The subprocess tests
start the real ``aimem serve-mcp`` and talk to it with the SDK's stdio and streamable
HTTP clients.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from aimem.mcp.server import build_server
from aimem.services import Archive
from aimem.services.tokens import estimate
from conftest import FIXTURES, run_aimem

pytestmark = pytest.mark.anyio

READ_TOOLS = {"search_memory", "search_conversations", "get_memory", "list_memories",
              "get_conversation", "get_message", "list_conversations", "inject_context",
              "get_user_profile", "get_stats", "list_tags", "export_data"}
WRITE_TOOLS = {"save_memory", "update_memory", "delete_memory", "import_data"}
CORE_READ = {"search", "read", "recall"}  # the core profile (aimem.mcp.profiles.CORE)
CORE_WRITE = {"remember", "edit_memory", "forget"}
SAMPLE = FIXTURES / "jsonl" / "sample.jsonl"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def write_jsonl(path: Path, objs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs))
    return path


@pytest.fixture
def seeded(db: Path) -> Path:
    with Archive.open(db) as m:
        m.import_paths([str(SAMPLE)])
        m.remember("I like green tea in the morning", kind="preference", tags=["drinks"])
        m.remember("The staging database is Postgres 16 on db-stage-2", kind="project")
    return db


@pytest.fixture
async def client(seeded: Path) -> AsyncIterator[Client]:
    async with Client(build_server(seeded, tools="all"), raise_exceptions=True) as c:
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


def uses(db: Path, memory_id: str) -> int:
    with Archive.open(db) as m:
        return m.show(memory_id, record=False)["use_count"]


def conv_id(db: Path, title: str) -> str:
    with Archive.open(db) as m:
        return next(c["id"] for c in m.list_conversations(limit=100) if c["title"] == title)


# -- listing, annotations, read-only ------------------------------------------------------------


async def test_tools_annotations_and_schemas(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == READ_TOOLS | WRITE_TOOLS | CORE_READ | CORE_WRITE | {"memory", "related"}
    for name, t in tools.items():
        a = t.annotations
        assert a is not None and a.open_world_hint is False, name
        assert t.output_schema and t.output_schema["type"] == "object", name
        assert t.description and "\n" not in t.description and len(t.description) > 40, name
        assert t.title, name
        assert a.read_only_hint is (name in READ_TOOLS | CORE_READ | {"related"}), name
    for name in ("delete_memory", "update_memory"):
        assert tools[name].annotations.destructive_hint is True  # type: ignore[union-attr]
    for name in ("save_memory", "import_data"):
        a = tools[name].annotations
        assert a.destructive_hint is False and a.idempotent_hint is True  # type: ignore[union-attr]
    schema = tools["search_memory"].input_schema
    assert schema["required"] == ["query"]
    assert {"query", "limit", "source", "tag", "since", "until"} <= set(schema["properties"])
    assert set(tools["get_conversation"].input_schema["properties"]) >= {"id", "max_messages",
                                                                         "offset"}
    assert set(tools["list_memories"].input_schema["properties"]) >= {"limit", "offset", "tag",
                                                                      "kind"}


async def test_read_only_offers_no_writing_tool(seeded: Path) -> None:
    srv = build_server(seeded, read_only=True, tools="all")
    async with Client(srv, raise_exceptions=True) as c:
        tools = (await c.list_tools()).tools
        assert {t.name for t in tools} == READ_TOOLS | CORE_READ | {"related"}
        assert all(t.annotations and t.annotations.read_only_hint for t in tools)
        assert "save_memory" not in (srv.instructions or "")
        text = await error(c, "save_memory", text="x")
        assert "Unknown tool" in text or "not found" in text.lower()
        assert (await call(c, "search_memory", query="tea"))["hits"]
    with Archive.open(seeded) as m:
        assert not [x for x in m.list_memories() if x["text"] == "x"]


async def test_read_only_on_a_missing_database_is_a_tool_error(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    async with Client(build_server(missing, read_only=True, tools="all")) as c:
        assert "no database" in await error(c, "get_stats")
        assert "no database" in await error(c, "search", query="x")
    assert not missing.exists()


async def test_instructions_resources_and_prompt_are_offered(client: Client, seeded: Path) -> None:
    templates = {t.uri_template for t in (await client.list_resource_templates())
                 .resource_templates}
    assert {"aimem://memory/{id}", "aimem://conversation/{id}"} <= templates
    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert [a.name for a in prompts["recall"].arguments or []] == ["topic"]
    srv = build_server(seeded, tools="all")
    assert "search_memory" in (srv.instructions or "") and "save_memory" in (srv.instructions
                                                                             or "")


# -- memories ------------------------------------------------------------------------------------


async def test_save_search_get_update_delete(client: Client, seeded: Path) -> None:
    saved = await call(client, "save_memory", text="Prefers pytest over unittest",
                       kind="preference", tags=["python"])
    assert saved["created"] is True and saved["source"] == "mcp" and saved["tags"] == ["python"]
    again = await call(client, "save_memory", text="prefers  PYTEST over unittest.")
    assert again["created"] is False and again["id"] == saved["id"]

    hits = (await call(client, "search_memory", query="pytest"))["hits"]
    assert [h["id"] for h in hits] == [saved["id"]] and hits[0]["kind"] == "preference"

    got = await call(client, "get_memory", id=saved["id"][:6])
    assert got["text"] == "Prefers pytest over unittest" and got["truncated"] is False
    assert uses(seeded, saved["id"]) == 2  # the search hit and the get both count as use

    up = await call(client, "update_memory", id=saved["id"], text="Prefers pytest with xdist",
                    tags="testing")
    assert up["text"] == "Prefers pytest with xdist" and up["tags"] == ["testing"]
    assert up["kind"] == "preference"

    done = await call(client, "delete_memory", id=saved["id"])
    assert done["deleted"] == [{"id": saved["id"], "kind": "memory",
                                "title": "Prefers pytest with xdist"}]
    assert "nothing has the id" in await error(client, "get_memory", id=saved["id"])


async def test_memory_errors(client: Client, seeded: Path) -> None:
    conv = conv_id(seeded, "Kyoto in November")
    assert "nothing has the id 'nope'" in await error(client, "get_memory", id="nope")
    assert "is a conversation, not a memory" in await error(client, "get_memory", id=conv)
    assert "validation error" in await error(client, "get_memory", id="")
    assert "validation error" in await error(client, "save_memory", text="x", kind="gossip")
    assert "a memory needs some text" in await error(client, "save_memory", text="   ")
    assert "nothing to change" in await error(client, "update_memory", id="nope")
    assert "nothing has the id" in await error(client, "update_memory", id="nope", text="y")
    # delete_memory never deletes a conversation
    assert "not a memory" in await error(client, "delete_memory", id=conv)
    with Archive.open(seeded) as m:
        assert m.show(conv, record=False)["title"] == "Kyoto in November"
    assert "validation error" in await error(client, "list_memories", limit=0)
    assert "Unknown tool" in await error(client, "no_such_tool")


async def test_list_memories_pages_and_cuts_long_texts(client: Client, seeded: Path) -> None:
    with Archive.open(seeded) as m:
        for i in range(25):
            m.remember(f"Fact number {i} about walruses", tags=["walrus"])
        long = m.remember("Long " + "word " * 1500, kind="other")
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = await call(client, "list_memories", limit=10, offset=offset, tag="walrus")
        seen += [x["id"] for x in page["memories"]]
        offset = page["next_offset"]
    assert len(seen) == len(set(seen)) == 25
    page = await call(client, "list_memories", kind="other")
    item = page["memories"][0]
    assert item["id"] == long["id"] and item["truncated"] is True
    assert len(item["text"]) < 700 and f"get_memory(id={long['id']!r})" in item["text"]
    full = await call(client, "get_memory", id=long["id"])
    assert full["text"] == long["text"] and full["truncated"] is False


async def test_profile_stats_tags(client: Client) -> None:
    prof = await call(client, "get_user_profile")
    assert [m["text"] for m in prof["pinned"]] == ["Works mostly in Python and Rust."]
    assert "I like green tea in the morning" in [m["text"] for m in prof["kinds"]["preference"]]
    stats = await call(client, "get_stats")
    assert stats["conversations"] == 2 and stats["memories"] == 4
    assert Path(stats["path"]).is_absolute() or stats["path"]
    tags = await call(client, "list_tags")
    assert {t["name"] for t in tags["tags"]} == {"cooking", "drinks"}
    assert tags["next_offset"] is None
    one = await call(client, "list_tags", limit=1)
    assert len(one["tags"]) == 1 and one["next_offset"] == 1


# -- conversations -------------------------------------------------------------------------------


async def test_search_and_list_conversations(client: Client, seeded: Path) -> None:
    res = await call(client, "search_conversations", query="kyoto crowded")
    hit = res["hits"][0]
    assert hit["kind"] == "message" and hit["title"] == "Kyoto in November"
    assert "[Kyoto]" in hit["snippet"] and "\x02" not in hit["snippet"]
    assert hit["conversation_id"] == conv_id(seeded, "Kyoto in November")
    only_claude = await call(client, "search_conversations", query="kyoto starter",
                             source="claude")
    assert {h["source"] for h in only_claude["hits"]} == {"claude"}
    assert "cannot read 'soon'" in await error(client, "search_conversations", query="kyoto",
                                               since="soon")
    assert "validation error" in await error(client, "search_conversations", query="")
    # a query can never crash the search
    await call(client, "search_conversations", query='"unbalanced AND (')

    lst = await call(client, "list_conversations")
    assert [c["title"] for c in lst["conversations"]] == ["Sourdough starter schedule",
                                                          "Kyoto in November"]
    assert lst["conversations"][0]["messages"] == 2 and lst["next_offset"] is None
    lst = await call(client, "list_conversations", tag=["cooking"])
    assert [c["title"] for c in lst["conversations"]] == ["Sourdough starter schedule"]
    first = await call(client, "list_conversations", limit=1)
    assert first["next_offset"] == 1
    second = await call(client, "list_conversations", limit=1, offset=1)
    assert second["conversations"][0]["title"] == "Kyoto in November"


async def test_get_conversation_pages_and_counts_as_use(client: Client, seeded: Path,
                                                        tmp_path: Path) -> None:
    big = "x" * 9000 + " the end"
    msgs = [{"role": "user" if i % 2 == 0 else "assistant", "text": f"turn {i} about otters"}
            for i in range(45)]
    msgs[30]["text"] = big
    write_jsonl(tmp_path / "long.jsonl", [{"source": "jsonl", "source_id": "long-1",
                                           "title": "Long chat", "messages": msgs}])
    with Archive.open(seeded) as m:
        m.import_paths([str(tmp_path / "long.jsonl")])
    cid = conv_id(seeded, "Long chat")

    got: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = await call(client, "get_conversation", id=cid[:8], max_messages=20,
                          offset=offset)
        assert page["message_count"] == 45 and page["offset"] == offset
        got += page["messages"]
        offset = page["next_offset"]
    assert [m["text"] for m in got[:3]] == ["turn 0 about otters", "turn 1 about otters",
                                           "turn 2 about otters"]
    assert len(got) == 45
    cut = got[30]
    assert cut["truncated"] is True and cut["chars"] == len(big)
    assert f"get_message(id={cut['id']!r}, offset=4000)" in cut["text"]

    # the rest of the long message, a page at a time
    text, off = "", 0
    while off is not None:
        part = await call(client, "get_message", id=cut["id"], offset=off, max_chars=5000)
        text += part["text"]
        off = part["next_offset"]
    assert text == big

    # a message id starts the page just before that message
    focus = await call(client, "get_conversation", id=got[10]["id"], max_messages=5)
    assert focus["focus"] == got[10]["id"] and focus["offset"] == 8

    with Archive.open(seeded) as m:
        heat = m.store.use_stats("conversation", [cid])
    assert heat[cid][0] >= 3  # each read counted as a recall

    assert "past the end" in await error(client, "get_conversation", id=cid, offset=99)
    assert "is a memory" in await error(client, "get_conversation",
                                        id=(await call(client, "list_memories"))["memories"][0]
                                        ["id"])
    assert "nothing has the id" in await error(client, "get_conversation", id="ffffffffff")
    assert "not a message" in await error(client, "get_message", id=cid)


async def test_inject_context_and_recall_prompt(client: Client, seeded: Path) -> None:
    res = await call(client, "inject_context", query="kyoto november", budget=400)
    assert "aimem-context" in res["context"] and "Kyoto" in res["context"]
    assert 0 < res["tokens"] <= 400
    assert "validation error" in await error(client, "inject_context", query="x", budget=10)
    with Archive.open(seeded) as m:
        pinned = m.profile()["pinned"][0]["id"]
    assert uses(seeded, pinned) >= 1  # injected items count as used

    p = await client.get_prompt("recall", {"topic": "sourdough starter"})
    text = p.messages[0].content.text  # type: ignore[union-attr]
    assert "sourdough" in text.lower() and "aimem-context" in text


# -- resources -----------------------------------------------------------------------------------


async def test_resources(client: Client, seeded: Path) -> None:
    with Archive.open(seeded) as m:
        mid = m.search("green tea", kinds=("memory",))[0]["id"]
    res = await client.read_resource(f"aimem://memory/{mid[:7]}")
    body = json.loads(res.contents[0].text)  # type: ignore[union-attr]
    assert body["id"] == mid and body["text"] == "I like green tea in the morning"
    assert uses(seeded, mid) == 1
    cid = conv_id(seeded, "Sourdough starter schedule")
    res = await client.read_resource(f"aimem://conversation/{cid}")
    md = res.contents[0].text  # type: ignore[union-attr]
    assert md.startswith("# Sourdough starter schedule") and "rye sourdough starter" in md
    prof = json.loads((await client.read_resource("aimem://profile")).contents[0].text)  # type: ignore[union-attr]
    assert prof["pinned"]
    with pytest.raises(MCPError, match="nothing has the id"):
        await client.read_resource("aimem://memory/nope")
    with pytest.raises(MCPError, match="not a memory"):
        await client.read_resource(f"aimem://memory/{cid}")


# -- export / import ------------------------------------------------------------------------------


async def test_export_data_pages_rebuild_the_export(client: Client, seeded: Path,
                                                    tmp_path: Path) -> None:
    with Archive.open(seeded) as m:
        expected = b"".join(m.export_jsonl()).decode()
    text, offset = "", 0
    while offset is not None:
        page = await call(client, "export_data", limit=2, offset=offset)
        assert page["format"] == "jsonl" and page["count"] <= 2
        text += page["text"]
        offset = page["next_offset"]
    assert text == expected
    js = await call(client, "export_data", format="json")
    assert [o["type"] for o in js["items"]] == ["conversation"] * 2 + ["memory"] * 4
    assert js["next_offset"] is None
    mem_only = await call(client, "export_data", format="json", tag="drinks")
    assert [o.get("text") for o in mem_only["items"] if o["type"] == "memory"] == [
        "I like green tea in the morning"]
    # the pages import back into an empty database as the same items
    copy = tmp_path / "copy.db"
    write_jsonl(tmp_path / "back.jsonl", [json.loads(line) for line in text.splitlines()])
    with Archive.open(copy) as m:
        m.import_paths([str(tmp_path / "back.jsonl")])
        assert b"".join(m.export_jsonl()).decode() == expected


async def test_import_data(client: Client, seeded: Path, tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "new.jsonl", [
        {"source": "jsonl", "source_id": "n1", "title": "Walrus facts",
         "messages": [{"role": "user", "text": "How heavy is a walrus?"}]}])
    dry = await call(client, "import_data", path=str(f), dry_run=True)
    assert dry["dry_run"] is True and dry["conversations_added"] == 1
    assert not (await call(client, "search_conversations", query="walrus"))["hits"]
    rep = await call(client, "import_data", path=str(f), tags=["zoo"])
    assert rep["conversations_added"] == 1 and rep["messages_added"] == 1
    rep = await call(client, "import_data", path=str(f))
    assert rep["conversations_added"] == 0 and rep["conversations_unchanged"] == 1
    hits = (await call(client, "search_conversations", query="walrus", tag="zoo"))["hits"]
    assert hits and hits[0]["title"] == "Walrus facts"
    assert "absolute path" in await error(client, "import_data", path="new.jsonl")
    assert "does not exist" in await error(client, "import_data", path=str(tmp_path / "no.json"))
    (tmp_path / "junk.json").write_text('{"nothing": "to see here"}\n')
    msg = await error(client, "import_data", path=str(tmp_path / "junk.json"))
    assert "junk.json" in msg and "not a recognised export" in msg


# -- result sizes ---------------------------------------------------------------------------------


async def test_every_result_stays_well_under_10k_tokens(client: Client, seeded: Path,
                                                        tmp_path: Path) -> None:
    with Archive.open(seeded) as m:
        for i in range(60):
            m.remember(f"walrus memory {i} " + "lorem ipsum dolor sit amet " * 350, tags=["w"])
        biggest = m.remember(("walrus " + "x" * 60 + " ") * 147, kind="other")  # ~10,000 chars
    convs = [{"source": "jsonl", "source_id": f"c{i}", "title": f"Walrus chat {i}",
              "summary": "walrus " * 2000,
              "messages": [{"role": "user", "text": f"walrus {j} " + "blah " * 1800}
                           for j in range(30)]} for i in range(8)]
    write_jsonl(tmp_path / "big.jsonl", convs)
    with Archive.open(seeded) as m:
        m.import_paths([str(tmp_path / "big.jsonl")], fmt="jsonl")
        cid = conv_id(seeded, "Walrus chat 0")
        msg_id = m.show(cid, record=False)["messages"][0]["id"]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("search_memory", {"query": "walrus", "limit": 50}),
        ("search_conversations", {"query": "walrus", "limit": 50}),
        ("list_memories", {"limit": 100}),
        ("list_conversations", {"limit": 100}),
        ("get_conversation", {"id": cid, "max_messages": 100, "max_chars_per_message": 6000}),
        ("get_message", {"id": msg_id, "max_chars": 6000}),
        ("inject_context", {"query": "walrus", "budget": 4000}),
        ("get_user_profile", {}),
        ("get_memory", {"id": biggest["id"]}),
        ("export_data", {"limit": 200}),
        ("export_data", {"limit": 200, "format": "json"}),
    ]
    for tool, args in calls:
        r = await client.call_tool(tool, args)
        assert not r.is_error, (tool, r.content)
        structured = json.dumps(r.structured_content)
        wire = structured + "".join(c.text for c in r.content)  # type: ignore[union-attr]
        assert estimate(wire) < 10_000, (tool, estimate(wire))
        assert len(structured) < 20_000, (tool, len(structured))
    page = await call(client, "list_memories", limit=100)
    assert page["next_offset"] is not None  # cut by size, more to come
    exp = await call(client, "export_data", limit=200)
    assert exp["next_offset"] is not None
    assert '"omitted"' in exp["text"]  # a conversation too large for any page says so


# -- subprocesses: stdio, HTTP, concurrent writers -------------------------------------------------


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def stdio_params(db: Path, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable,
                                 args=["-m", "aimem", "--db", str(db), "serve-mcp", *extra],
                                 env=_env())


async def save_search_read(c: Client) -> None:
    saved = await call(c, "save_memory", text="Carol prefers dark mode in every editor",
                       kind="preference", tags=["ui"])
    hits = (await call(c, "search_memory", query="dark mode"))["hits"]
    assert hits[0]["id"] == saved["id"]
    res = await c.read_resource(f"aimem://memory/{saved['id']}")
    assert json.loads(res.contents[0].text)["text"] == saved["text"]  # type: ignore[union-attr]


@pytest.mark.slow
async def test_stdio_subprocess(seeded: Path, tmp_path: Path) -> None:
    errlog = tmp_path / "stderr.txt"
    with errlog.open("w") as err:
        async with Client(stdio_client(stdio_params(seeded, "--tools", "all"), errlog=err)) as c:
            await save_search_read(c)
        async with Client(stdio_client(stdio_params(seeded, "--read-only", "--tools", "all"),
                                       errlog=err), mode="legacy") as c:
            assert {t.name for t in (await c.list_tools()).tools} == READ_TOOLS | CORE_READ | {"related"}
            assert (await call(c, "search_memory", query="dark mode"))["hits"]
    assert "Traceback" not in errlog.read_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"serve-mcp exited: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("serve-mcp --http did not start listening")


@pytest.mark.slow
async def test_http_subprocess(seeded: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "aimem", "--db", str(seeded), "serve-mcp",
                             "--http", f"127.0.0.1:{port}", "--tools", "all"],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env())
    try:
        wait_for_port(port, proc)
        async with Client(f"http://127.0.0.1:{port}/mcp") as c:
            await save_search_read(c)
        async with Client(f"http://127.0.0.1:{port}/mcp", mode="legacy") as c:
            assert (await call(c, "search_memory", query="dark mode"))["hits"]
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert out == b""  # nothing but the protocol, and over HTTP not even that on stdout
    assert f"http://127.0.0.1:{port}/mcp" in err.decode()


@pytest.mark.slow
async def test_serving_while_other_commands_write(seeded: Path, tmp_path: Path) -> None:
    import anyio

    convs = [{"source": "jsonl", "source_id": f"bulk-{i}", "title": f"Bulk {i}",
              "messages": [{"role": "user", "text": f"bulk message {i} {j} about herons " * 8}
                           for j in range(12)]} for i in range(3000)]
    bulk = write_jsonl(tmp_path / "bulk.jsonl", convs)
    errlog = tmp_path / "stderr.txt"
    with errlog.open("w") as err:
        async with Client(stdio_client(stdio_params(seeded, "--tools", "all"), errlog=err)) as c:
            await call(c, "get_stats")
            cmd = [sys.executable, "-m", "aimem", "--db", str(seeded)]
            importer = subprocess.Popen([*cmd, "import", str(bulk)], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=_env())
            rememberers = [subprocess.Popen([*cmd, "remember", f"cli fact {i} about herons"],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            env=_env()) for i in range(4)]
            n = during = 0
            while importer.poll() is None or n < 10:
                during += importer.poll() is None
                await call(c, "save_memory", text=f"mcp fact {n} about herons")
                await call(c, "search_conversations", query="herons")
                await call(c, "list_memories", limit=5)
                n += 1
                await anyio.sleep(0.01)
            outs = [p.communicate(timeout=120) for p in (importer, *rememberers)]
            for p, (_out, perr) in zip((importer, *rememberers), outs, strict=True):
                assert p.returncode == 0, perr.decode()
                assert b"locked" not in perr
            stats = await call(c, "get_stats")
    assert during >= 2  # the server wrote and read while the import was running
    assert stats["conversations"] == 3002
    assert stats["memories"] >= 4 + 4 + n
    assert "locked" not in errlog.read_text()


# -- the commands ----------------------------------------------------------------------------------


def test_serve_mcp_refuses_a_non_loopback_host_without_allow_remote(db: Path) -> None:
    r = run_aimem("--db", str(db), "serve-mcp", "--http", "0.0.0.0:8765")
    assert r.returncode == 1 and b"--allow-remote" in r.stderr and r.stdout == b""
    assert not db.exists()
    r = run_aimem("--db", str(db), "serve-mcp", "--http", "nonsense")
    assert r.returncode == 2


def test_serve_mcp_read_only_needs_a_database(db: Path) -> None:
    r = run_aimem("--db", str(db), "serve-mcp", "--read-only")
    assert r.returncode == 1 and b"no database" in r.stderr and r.stdout == b""
    assert not db.exists()


def test_allow_remote_warns_on_stderr(db: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "aimem", "--db", str(db), "serve-mcp",
                             "--http", f"0.0.0.0:{port}", "--allow-remote", "--read-only"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    out, err = proc.communicate(timeout=60)  # read-only on a missing db: warns, then exits 1
    assert b"WITHOUT authentication" in err and out == b""


def test_parse_http() -> None:
    from aimem.cli.cmd_mcp import is_loopback, parse_http

    assert parse_http("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert parse_http(":9000") == ("127.0.0.1", 9000)
    assert parse_http("9000") == ("127.0.0.1", 9000)
    assert parse_http("[::1]:9000") == ("::1", 9000)
    assert parse_http("localhost:80") == ("localhost", 80)
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert not is_loopback("example.com")


@pytest.mark.parametrize("client", ["claude-desktop", "cursor", "vscode"])
def test_mcp_config_json_snippets(db: Path, client: str) -> None:
    r = run_aimem("--db", str(db), "mcp-config", "--client", client, check=True)
    doc = json.loads(r.stdout)
    entry = doc["servers" if client == "vscode" else "mcpServers"]["aimem"]
    assert Path(entry["command"]).is_absolute()
    assert entry["args"][-3:] == ["--db", str(db.absolute()), "serve-mcp"]
    if client == "vscode":
        assert entry["type"] == "stdio"
    # the snippet starts a working aimem
    proc = subprocess.run([entry["command"], *entry["args"][:-1], "--version"],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith(b"aimem ")


def test_mcp_config_claude_code_and_all_clients(tmp_path: Path) -> None:
    r = run_aimem("mcp-config", "--client", "claude-code", "--read-only",
                  env={"AIMEM_DB": str(tmp_path / "x.db")}, check=True)
    argv = shlex.split(r.stdout.decode())
    assert argv[:3] == ["claude", "mcp", "add"] and f"--env=AIMEM_DB={tmp_path / 'x.db'}" in argv
    assert argv[-2:] == ["serve-mcp", "--read-only"]
    assert Path(argv[argv.index("--") + 1]).is_absolute()
    r = run_aimem("mcp-config", check=True)
    out = r.stdout.decode()
    for what in ("Claude Desktop", "Claude Code", "Cursor", "VS Code"):
        assert f"# {what}" in out
    assert run_aimem("mcp-config", "--client", "emacs").returncode == 2


def test_mcp_config_and_help_do_not_import_mcp(db: Path) -> None:
    for argv in (["mcp-config"], ["serve-mcp", "--help"]):
        code = ("import runpy, sys\nsys.argv = ['aimem', *%r]\ntry:\n    runpy.run_module("
                "'aimem', run_name='__main__')\nexcept SystemExit:\n    pass\n"
                "sys.stderr.write(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
                % argv)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
        assert "mcp" not in r.stderr.split(), argv


async def test_search_tools_take_a_project(seeded: Path, tmp_path: Path) -> None:
    proj = tmp_path / "heron"
    (proj / ".git").mkdir(parents=True)
    with Archive.open(seeded) as m:
        m.remember("Heron staging uses Postgres 17", project=str(proj))
    async with Client(build_server(seeded, tools="all"), raise_exceptions=True) as c:
        everywhere = await call(c, "search_memory", query="postgres staging")
        assert len(everywhere["hits"]) == 2
        scoped = await call(c, "search_memory", query="postgres staging",
                            project=str(proj / "sub"))  # a folder below: its git root
        assert [h["text"] for h in scoped["hits"]] == ["Heron staging uses Postgres 17"]
        convs = await call(c, "search_conversations", query="postgres", project=str(proj))
        assert convs["hits"] == []  # the sample's conversations have no project


async def test_related_tool_by_terms(client: Client, seeded: Path) -> None:
    conv = conv_id(seeded, "Kyoto in November")
    assert (await call(client, "related", id=conv, limit=5))["hits"] == []  # nothing yet
    with Archive.open(seeded) as m:
        saved = m.remember("Book a ryokan in Kyoto for the autumn leaves", kind="project")
    out = await call(client, "related", id=conv, limit=5)
    assert [(h["id"], h["kind"]) for h in out["hits"]] == [(saved["id"], "memory")]
    assert all(h["snippet"].startswith("terms ") for h in out["hits"])
    assert "nothing has the id" in await error(client, "related", id="nope")
