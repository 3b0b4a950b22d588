"""aimem tag add / remove / list / auto: tags on conversations and memories (auto: by a model)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aimem.cli._app import app
from aimem.cli._batch import batch_command
from aimem.cli._common import JsonOpt, console, open_memory, print_json, short

tag_app = typer.Typer(
    name="tag", no_args_is_help=True, help="Tag conversations and memories.",
    epilog="Examples:\n\n  aimem tag add 6141097f python snippets\n\n"
           "  aimem tag remove 6141097f snippets\n\n  aimem tag list --json")
app.add_typer(tag_app)

IdArg = Annotated[str, typer.Argument(help="A conversation or memory id (or unique prefix).",
                                      show_default=False)]
TagsArg = Annotated[list[str], typer.Argument(help="One or more tags.", show_default=False)]


@tag_app.command("add", epilog="Examples:\n\n  aimem tag add 6141097f python snippets")
def tag_add(ctx: typer.Context, id: IdArg, tags: TagsArg, json: JsonOpt = False) -> None:
    """Add tags to a conversation or memory."""
    with open_memory(ctx, create=False) as mem:
        now = mem.add_tags(id, tags)
    _done(id, now, json)


@tag_app.command("remove", epilog="Examples:\n\n  aimem tag remove 6141097f snippets")
def tag_remove(ctx: typer.Context, id: IdArg, tags: TagsArg, json: JsonOpt = False) -> None:
    """Remove tags from a conversation or memory."""
    with open_memory(ctx, create=False) as mem:
        now = mem.remove_tags(id, tags)
    _done(id, now, json)


@tag_app.command("list", epilog="Examples:\n\n  aimem tag list\n\n  aimem tag list --json")
def tag_list(ctx: typer.Context, json: JsonOpt = False) -> None:
    """All tags, with how many conversations and memories carry each."""
    with open_memory(ctx, create=False) as mem:
        tags = mem.list_tags()
    if json:
        print_json(tags)
        return
    from rich.table import Table

    t = Table(box=None, header_style="bold dim", pad_edge=False)
    for col in ("tag", "conversations", "memories"):
        t.add_column(col, justify="left" if col == "tag" else "right")
    for row in tags:
        t.add_row(row["name"], str(row["conversations"]), str(row["memories"]))
    console().print(t if tags else "[dim]no tags[/]")


def _done(id: str, tags: list[str], json: bool) -> None:
    if json:
        print_json({"id": id, "tags": tags})
    else:
        console().print(f"{short(id)}: " + (" ".join(f"#{t}" for t in tags) or "(no tags)"),
                        markup=False, highlight=False)


TAG_AUTO_EPILOG = """Examples:

  aimem tag auto --since 30d

  aimem tag auto --source claude-code --model llama3.2 --limit 100

  aimem tag auto 6141097f --force"""


def _show_tags(con: Any, item: dict[str, Any]) -> None:
    con.print(f"[cyan]{short(item['id'])}[/]  ", end="")
    con.print(f"{item['title'] or '(untitled)'}  ", markup=False, highlight=False, end="")
    con.print(" ".join(f"#{t}" for t in item["tags"]) or "(no tags)", markup=False,
              highlight=False, style="green")


@tag_app.command("auto", epilog=TAG_AUTO_EPILOG)
@batch_command("auto_tag", _show_tags)
def tag_auto() -> None:
    """Tag conversations through a model, reusing your existing tags where they fit.

    The tags are ordinary tags marked automatic. Conversations that already have
    automatic tags are skipped; --force replaces them (manual tags always stay).
    """
