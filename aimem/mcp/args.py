"""The input types the MCP tools share. Their descriptions and limits are part of each
tool's input schema, which clients (and the model) read."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from aimem.models import MEMORY_KINDS

Kind = Literal["fact", "preference", "instruction", "project", "person", "other"]
assert set(Kind.__args__) == set(MEMORY_KINDS)  # type: ignore[attr-defined]

Strs = str | list[str] | None
QueryArg = Annotated[str, Field(
    description='Search words. Plain words match any of them (all-words matches rank first); '
                '"quoted phrase", prefix*, -excluded, and title:/role:/source:/tag: operators '
                'work too.', min_length=1, max_length=1000)]
HitsArg = Annotated[int, Field(ge=1, le=50, description="At most this many hits.")]
SourceArg = Annotated[Strs, Field(
    description="Only these sources: chatgpt, claude, gemini, claude-code, codex, llm, jsonl, "
                "… (for memories: who saved it: manual, mcp).")]
TagArg = Annotated[Strs, Field(description="Only items with one of these tags.")]
SinceArg = Annotated[str | None, Field(
    description="From this time: an ISO date or datetime, or 7d, 2w, 3m, 1y, yesterday.")]
UntilArg = Annotated[str | None, Field(
    description="Up to this time (a bare date includes that whole day).")]
ProjectArg = Annotated[str | None, Field(
    description="Only this project: an absolute folder (its git root is used); items from it "
                "and the folders below it.")]
IdArg = Annotated[str, Field(description="The id, or a unique prefix of it.", min_length=1,
                             max_length=100)]
OffsetArg = Annotated[int, Field(ge=0, description="Skip this many first (next_offset of the "
                                                   "previous page).")]
PageArg = Annotated[int, Field(ge=1, le=100, description="Page size.")]

# the core profile's (short: every session reads them)
CoreProjectArg = Annotated[str | None, Field(description="Only this project folder (absolute).")]
CoreIdArg = Annotated[str, Field(min_length=1, max_length=100)]
