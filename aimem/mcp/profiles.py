"""The tool names of ``aimem serve-mcp`` and its profiles (``--tools``), without importing
``mcp``: ``mcp-config`` and the command line check names with it. The tools themselves
are in :mod:`aimem.mcp.tools` (``reads``, ``writes``: the detailed tools of aimem 1.x; ``core``:
the lean default profile, ``related`` and Claude's ``memory`` tool)."""

from __future__ import annotations

from collections.abc import Sequence

DETAILED = ("search_memory", "search_conversations", "get_memory", "list_memories",
            "get_conversation", "get_message", "list_conversations", "inject_context",
            "get_user_profile", "get_stats", "list_tags", "export_data", "save_memory",
            "update_memory", "delete_memory", "import_data")
CORE = ("search", "read", "recall", "remember", "edit_memory", "forget")
ALL = DETAILED + CORE + ("related", "memory")
WRITES = {"save_memory", "update_memory", "delete_memory", "import_data", "remember",
          "edit_memory", "forget", "memory"}
PROFILES = {"core": CORE, "all": ALL}


class UnknownTools(ValueError):
    """A --tools value naming tools that do not exist."""


def resolve(spec: str | Sequence[str]) -> list[str]:
    """The tool names a ``--tools`` value stands for, in the order of :data:`ALL`."""
    names = [spec] if isinstance(spec, str) else list(spec)
    names = [n.strip() for part in names for n in part.split(",") if n.strip()]
    if not names:
        raise UnknownTools("--tools is empty: give core, all or tool names")
    wanted: set[str] = set()
    unknown = []
    for n in names:
        if n in PROFILES:
            wanted.update(PROFILES[n])
        elif n in ALL:
            wanted.add(n)
        else:
            unknown.append(n)
    if unknown:
        raise UnknownTools(f"unknown tool{'s' if len(unknown) > 1 else ''} "
                           f"{', '.join(map(repr, unknown))}: use core, all or names from "
                           f"{', '.join(ALL)}")
    return [n for n in ALL if n in wanted]
