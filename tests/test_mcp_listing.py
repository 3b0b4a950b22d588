"""What an MCP client sees of aimem's server, held to a snapshot: every tool's name, title,
description, annotations and input and output schemas, which tools each profile lists and
in what order, the instructions, resources and prompts. The model reads all of it, so a
change here changes how models use aimem: make it on purpose, then review the snapshot's
diff and rewrite it with ``pytest tests/test_mcp_listing.py --snapshot-update``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from aimem.mcp.profiles import ALL, WRITES
from aimem.mcp.server import build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def plain(items: list[Any]) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json", by_alias=True, exclude_none=True) for i in items]


async def listing(db: Path, tools: str, read_only: bool) -> dict[str, Any]:
    async with Client(build_server(db, tools=tools, read_only=read_only)) as c:
        info = c.server_info.model_dump(mode="json", by_alias=True, exclude_none=True)  # type: ignore[union-attr]
        info.pop("version")
        return {"server": info, "instructions": c.instructions,
                "tools": plain((await c.list_tools()).tools),
                "templates": plain((await c.list_resource_templates()).resource_templates),
                "resources": plain((await c.list_resources()).resources),
                "prompts": plain((await c.list_prompts()).prompts)}


async def test_what_clients_see_matches_the_snapshot(db: Path, snapshot: SnapshotAssertion
                                                     ) -> None:
    full = await listing(db, "all", read_only=False)
    by_name = {t["name"]: t for t in full["tools"]}
    assert list(by_name) == list(ALL)
    seen: dict[str, Any] = {"definitions": full}
    for tools in ("core", "all"):
        for read_only in (False, True):
            got = await listing(db, tools, read_only)
            # a tool is the same in every profile; the profile picks which and the instructions
            assert got["tools"] == [by_name[t["name"]] for t in got["tools"]]
            assert {k: got[k] for k in ("server", "templates", "resources", "prompts")} == {
                k: full[k] for k in ("server", "templates", "resources", "prompts")}
            names = [t["name"] for t in got["tools"]]
            assert not (read_only and set(names) & WRITES)
            seen[f"{tools}{' --read-only' if read_only else ''}"] = {
                "tools": names, "instructions": got["instructions"]}
    assert seen == snapshot(extension_class=JSONSnapshotExtension)
