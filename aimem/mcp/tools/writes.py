"""The detailed tools that write (aimem 1.x's, in ``--tools all``; none under
``--read-only``): save, update and delete a memory, import an export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from aimem.mcp.args import IdArg, Kind, Strs
from aimem.mcp.backend import ADD, CHANGE, MAX_SKIPPED, Backend, memory_out, strs, tool
from aimem.mcp.models import Deleted, DeleteResult, ImportResult, MemoryOut, SavedMemory


@tool(title="Save a memory", annotations=ADD)
def save_memory(
    b: Backend,
    text: Annotated[str, Field(description="One short standalone statement, e.g. 'Prefers "
                                           "pytest over unittest'.", min_length=1,
                               max_length=10_000)],
    kind: Annotated[Kind, Field(description="What it is.")] = "fact",
    tags: Annotated[Strs, Field(description="Tags to file it under.")] = None,
) -> SavedMemory:
    """Save a durable fact, preference, instruction, project detail or person to the
    user's memory. Saving the same text again refreshes the existing memory instead of
    storing a copy (created: false). Secrets are redacted."""
    with b.archive() as arc:
        d = arc.remember(text, kind=kind, tags=strs(tags) or (), source="mcp")
    return SavedMemory.model_validate(d)


@tool(title="Update a memory", annotations=CHANGE)
def update_memory(
    b: Backend, id: IdArg,
    text: Annotated[str | None, Field(description="The new text.", min_length=1,
                                      max_length=10_000)] = None,
    kind: Annotated[Kind | None, Field(description="The new kind.")] = None,
    tags: Annotated[Strs, Field(description="The new tags (replace the old ones).")] = None,
) -> MemoryOut:
    """Change a saved memory's text, kind or tags (what is not given stays). Use it when
    a memory is outdated or wrong."""
    if text is None and kind is None and tags is None:
        raise ToolError("nothing to change: give text, kind or tags")
    with b.archive() as arc:
        d = arc.update_memory(b.resolve(arc, id, "memory"), text=text, kind=kind,
                              tags=None if tags is None else (strs(tags) or []))
    return memory_out(d)


@tool(title="Delete a memory", annotations=CHANGE)
def delete_memory(b: Backend, id: IdArg) -> DeleteResult:
    """Delete a saved memory for good, with its tags and use counters. Only when the user
    asks to forget it."""
    with b.archive() as arc:
        done = arc.forget([b.resolve(arc, id, "memory")])
    return DeleteResult(deleted=[Deleted.model_validate(d) for d in done])


@tool(title="Import an export", annotations=ADD)
def import_data(
    b: Backend,
    path: Annotated[str, Field(description="Absolute path of a file, zip or folder on this "
                                           "machine (a ChatGPT/Claude/Gemini/… export, aimem "
                                           "JSONL, Markdown).", min_length=1)],
    format: Annotated[str, Field(description="auto (detect by content) or an importer name "
                                             "such as chatgpt, claude, jsonl.")] = "auto",
    tags: Annotated[Strs, Field(description="Tag everything imported.")] = None,
    dry_run: Annotated[bool, Field(description="Only report what would be imported.")
                       ] = False,
) -> ImportResult:
    """Import conversations and memories from an export on this machine. Re-importing
    the same or a newer export adds only what is new, never duplicates."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        raise ToolError(f"give an absolute path (got {path!r})")
    if not p.exists():
        raise ToolError(f"{p} does not exist")
    with b.archive() as arc:
        report = arc.import_paths([str(p)], fmt=format, tags=strs(tags) or (),
                                  dry_run=dry_run).to_dict()
    skipped = report.get("skipped", [])
    report["skipped"] = skipped[:MAX_SKIPPED]
    report["skipped_more"] = max(0, len(skipped) - MAX_SKIPPED)
    report["files"] = report.get("files", [])[:MAX_SKIPPED]
    return ImportResult.model_validate(report)
