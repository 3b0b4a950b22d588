"""aimem show: one conversation with its messages, or one memory."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, open_memory, print_json

EPILOG = """Examples:

  aimem show 3f9a2c

  aimem show 3f9a2c --markdown > chat.md

  aimem show 3f9a2c --branches    # also the edited questions and regenerated answers

  aimem search kyoto --json | jq -r '.[0].id' | xargs aimem show"""


def to_markdown(d: dict[str, Any]) -> str:
    if d["type"] == "memory":
        return f"> {d['text']}\n\n— {d['kind']} memory, {d['updated_at']}, id {d['id']}\n"
    lines = [f"# {d['title'] or '(untitled)'}", "",
             f"- source: {d['source']}", f"- created: {d['created_at']}", f"- id: {d['id']}"]
    if d["tags"]:
        lines.append(f"- tags: {', '.join(d['tags'])}")
    if d["summary"]:
        lines += ["", d["summary"]]
    for m in d["messages"]:
        who = m["author"] or m["role"]
        lines += ["", f"## {who.capitalize()}" + (f" · {m['created_at']}" if m["created_at"]
                                                   else ""), "", m["text"]]
    if d.get("branches"):
        lines += ["", "---", "", f"# Other branches ({len(d['branches'])} messages)"]
        for m in d["branches"]:
            who = m["author"] or m["role"]
            lines += ["", f"## {who.capitalize()} · {_follows(d, m)}", "", m["text"]]
    return "\n".join(lines) + "\n"


def _follows(d: dict[str, Any], m: dict[str, Any]) -> str:
    """Where an off-branch message forks: after which message (id and a few words)."""
    pid = m.get("parent_id")
    if not pid:
        return "at the start" if m.get("parent") is None else f"after {m['parent']}"
    text = next((x["text"] for x in d["messages"] + d["branches"] if x["id"] == pid), "")
    words = " ".join(text.split())
    return f"after {pid[:8]} “{words[:40] + ('…' if len(words) > 40 else '')}”"


@app.command(epilog=EPILOG)
def show(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(help="A conversation, message or memory id, or a unique "
                                           "prefix of one.", show_default=False)],
    json: JsonOpt = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print it as Markdown.")] = False,
    branches: Annotated[bool, typer.Option(
        "--branches", help="Also show the messages off the visible branch (edited questions, "
                           "regenerated answers, messages a later copy no longer had), "
                           "each saying which message it follows.")] = False,
) -> None:
    """Show one conversation (all its messages) or one memory."""
    with open_memory(ctx, create=False) as mem:
        d = mem.show(id, branches=branches)
    if json:
        print_json(d)
        return
    if markdown:
        typer.echo(to_markdown(d), nl=False)
        return
    _print(d)


def _print(d: dict[str, Any]) -> None:
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.text import Text

    from aimem.cli._common import console

    con = console()
    if d["type"] == "memory":
        con.print(Text(d["text"]))
        con.print(f"[dim]{d['kind']} memory · {d['source']} · {d['updated_at']} · {d['id']}"
                  + (f" · tags: {', '.join(d['tags'])}" if d["tags"] else "") + "[/]")
        return
    con.print(Text(d["title"] or "(untitled)", style="bold"))
    meta = [d["source"], d["created_at"] or "", d["id"]]
    if d["model"]:
        meta.insert(1, d["model"])
    if d["tags"]:
        meta.append("tags: " + ", ".join(d["tags"]))
    con.print(Text(" · ".join(meta), style="dim"))
    for m in d["messages"]:
        style = {"user": "bold green", "assistant": "bold blue"}.get(m["role"], "bold")
        label = m["author"] or m["role"]
        mark = "  ◀ match" if d.get("focus") == m["id"] else ""
        con.print(Rule(Text(f"{label} · {m['created_at'] or ''}{mark}", style=style),
                       align="left"))
        con.print(Markdown(m["text"]) if m["role"] == "assistant" else Text(m["text"]))
    if "branches" not in d:
        return
    if not d["branches"]:
        con.print(Text("no other branches", style="dim"))
        return
    con.print(Rule(Text(f"other branches: {len(d['branches'])} messages, not part of the "
                        "conversation above", style="bold magenta")))
    for m in d["branches"]:
        style = {"user": "green", "assistant": "blue"}.get(m["role"], "")
        label = m["author"] or m["role"]
        con.print(Rule(Text(f"↳ {label} · {m['created_at'] or ''} · {_follows(d, m)}",
                            style=style), align="left", characters="┄"))
        con.print(Markdown(m["text"]) if m["role"] == "assistant" else Text(m["text"]))
