"""aimem search: ranked full-text search over messages and memories."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import (
    ConversationOpt,
    HereOpt,
    ProjectOpt,
    RoleOpt,
    SinceOpt,
    SourceOpt,
    TagOpt,
    UntilOpt,
    day,
    filters,
    open_memory,
    print_json,
    print_jsonl,
    short,
    warn,
)
from aimem.snippets import MARK_CLOSE, MARK_OPEN

EPILOG = """Examples:

  aimem search sourdough starter

  aimem search '"database is locked"' --source chatgpt --since 3m

  aimem search 'rust tok*' -deprecated role:assistant --json

  aimem search title:kyoto --kind conversation"""

KIND_NAMES = ("message", "memory", "conversation", "all")


def _plain_snippet(s: str) -> str:
    return s.replace(MARK_OPEN, "[").replace(MARK_CLOSE, "]")


@app.command(epilog=EPILOG)
def search(
    ctx: typer.Context,
    query: Annotated[list[str], typer.Argument(
        help='Words (any of them, all-words first), "phrases", prefix*, -excluded, '
             "title:, role:, source:, tag:.", show_default=False)],
    source: SourceOpt = None, tag: TagOpt = None, since: SinceOpt = None,
    until: UntilOpt = None, role: RoleOpt = None, conversation: ConversationOpt = None,
    project: ProjectOpt = None, here: HereOpt = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many hits.")] = 20,
    kind: Annotated[list[str] | None, typer.Option(
        "--kind", "-k", help="message, memory, conversation or all (default: messages and "
        "memories); repeatable.", show_default=False)] = None,
    mode: Annotated[str | None, typer.Option(
        "--mode", help="lexical (words), semantic (meaning; needs aimem embed) or hybrid "
        "(both). Default: hybrid when the configured embed-model has vectors, else lexical.",
        show_default=False)] = None,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON array of hits.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Print one JSON hit per line.")] = False,
) -> None:
    """Search everything you imported and remembered, best match first."""
    from aimem.services import search_kinds

    kinds = search_kinds(kind)
    with open_memory(ctx, create=False) as mem:
        f = filters(mem, source, tag, since, until, role, conversation, project, here)
        hits = mem.search(" ".join(query), f, limit=limit, kinds=kinds,
                          mode=mode.lower() if mode else None)
        if mem.warning:
            warn(mem.warning)
    if json or jsonl:
        for h in hits:
            h["snippet"] = _plain_snippet(h["snippet"])
        (print_json if json else print_jsonl)(hits)
        return
    _print_hits(hits)


def _print_hits(hits: list[dict]) -> None:  # type: ignore[type-arg]
    from rich.text import Text

    from aimem.cli._common import console, err_console

    con = console()
    if not hits:
        err_console().print("no matches", style="dim")
        return
    for i, h in enumerate(hits, 1):
        head = Text(f"{i:>2}. ")
        if h["kind"] == "memory":
            head.append(f"memory ({h.get('memory_kind')})", style="bold magenta")
        else:
            head.append(h["title"] or "(untitled)", style="bold")
        meta = [h["source"], day(h["created_at"])]
        if h["role"]:
            meta.append(h["author"] or h["role"])
        head.append("  " + " · ".join(meta), style="dim")
        head.append(f"  {short(h['id'])}", style="cyan")
        con.print(head)
        snip = Text("    ")
        parts = h["snippet"].replace("\n", " ").split(MARK_OPEN)
        snip.append(parts[0])
        for p in parts[1:]:
            hit, _, rest = p.partition(MARK_CLOSE)
            snip.append(hit, style="bold yellow")
            snip.append(rest)
        con.print(snip)
