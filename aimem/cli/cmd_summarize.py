"""aimem summarize: a short summary (and a missing title) of each conversation, by a model."""

from __future__ import annotations

from typing import Any

from aimem.cli._app import app
from aimem.cli._batch import batch_command
from aimem.cli._common import short

EPILOG = """Examples:

  aimem summarize --since 30d

  aimem summarize 6141097f --force --model gpt-4o-mini

  aimem summarize --source claude --limit 20 --dry-run

  aimem summarize --model llama3.2 --json"""


def _show_summary(con: Any, item: dict[str, Any]) -> None:
    con.print(f"[cyan]{short(item['id'])}[/]  ", end="")
    con.print(item["title"] or "(untitled)", markup=False, highlight=False, style="bold",
              end="")
    con.print("  [dim](new title)[/]" if item["new_title"] else "")
    con.print("  " + item["summary"], markup=False, highlight=False)


@app.command(epilog=EPILOG)
@batch_command("summarize", _show_summary)
def summarize() -> None:
    """Write a short summary of each conversation (and a title where it has none).

    Only conversations without a summary, or whose content changed since theirs was
    written, are done (--force redoes them). A summary is stored with the model id,
    the time and a hash of what it summarised; it is searched like a title. Long
    conversations are summarised in parts that fit the model's context, then combined.
    Ctrl-C stops; what is done is kept.
    """
