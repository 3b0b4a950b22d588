"""aimem distill: durable memories extracted from conversations, by a model."""

from __future__ import annotations

from typing import Any

from aimem.cli._app import app
from aimem.cli._batch import batch_command
from aimem.cli._common import short

EPILOG = """Examples:

  aimem distill --since 7d

  aimem distill --source chatgpt --limit 50 --model claude-3.5-haiku

  aimem distill 6141097f --dry-run -v"""


def _show_memories(con: Any, item: dict[str, Any]) -> None:
    new = sum(1 for m in item["memories"] if m["created"])
    con.print(f"[cyan]{short(item['id'])}[/]  ", end="")
    con.print(item["title"] or "(untitled)", markup=False, highlight=False, end="")
    con.print(f"  [dim]{new} new, {len(item['memories']) - new} already saved[/]")
    for m in item["memories"]:
        con.print(f"  {'+' if m['created'] else '='} [dim]{short(m['id'])} {m['kind']}[/] ",
                  end="")
        con.print(m["text"], markup=False, highlight=False)


@app.command(epilog=EPILOG)
@batch_command("distill", _show_memories)
def distill() -> None:
    """Extract durable memories (facts, preferences, instructions, projects, people).

    Each memory is linked to the conversation it came from (source "distill"); one
    that is already saved is not added again. Conversations with memories distilled
    since their last import are skipped (--force redoes them).
    """
