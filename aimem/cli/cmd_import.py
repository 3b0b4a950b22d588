"""aimem import: files, zips, folders or standard input, all or nothing (aimem.store.runs)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import (
    JsonOpt,
    ProgressBar,
    console,
    open_memory,
    print_json,
    stderr_is_tty,
)
from aimem.errors import AimemError
from aimem.paths import db_path

EPILOG = """Examples:

  aimem import ~/Downloads/chatgpt-export.zip

  aimem import conversations-000.json conversations-001.json --tag work

  pbpaste | aimem import -

  aimem import export.jsonl --dry-run --json"""


class _ProgressBar(ProgressBar):
    """Bytes read and conversations found, once work takes a moment."""

    DELAY = 0.4

    def __init__(self) -> None:
        super().__init__()
        self.begun = time.monotonic()

    def __call__(self, done: int, total: int, conversations: int) -> None:
        if self.bar is None:
            if not stderr_is_tty() or time.monotonic() - self.begun < self.DELAY:
                return
            self.start("import", lambda p: [
                p.TextColumn("importing"), p.BarColumn(), p.DownloadColumn(),
                p.TextColumn("{task.fields[n]} conversations"), p.TimeRemainingColumn()],
                total or None, n=0)
        self.bar.update(self.task, completed=done, n=conversations)


@contextmanager
def _dry_run_db(ctx: typer.Context) -> Iterator[None]:
    """A dry run never creates a database: without one, it runs against a throwaway copy."""
    obj = ctx.find_root().obj
    if db_path(obj.get("db")).exists():
        yield
        return
    with tempfile.TemporaryDirectory(prefix="aimem-dry-run-") as tmp:
        saved = obj["db"]
        obj["db"] = str(Path(tmp) / "dry-run.db")
        try:
            yield
        finally:
            obj["db"] = saved


@app.command("import", epilog=EPILOG)
def import_(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(
        help="Export files, zips or folders; - reads standard input.", show_default=False)],
    format: Annotated[str, typer.Option(
        "--format", "-f", help="Force a format (auto detects by content).")] = "auto",
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", "-t", help="Tag every imported conversation; repeatable.",
        show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what would be imported; write nothing.")] = False,
    no_redact: Annotated[bool, typer.Option(
        "--no-redact", help="Keep secrets (API keys, tokens, passwords) instead of replacing "
        "them with [REDACTED:kind].")] = False,
    json: JsonOpt = False,
) -> None:
    """Import AI chat exports, session logs, aimem JSONL or pasted text.

    Formats (detected by content; --format forces one): ChatGPT, Claude.ai, Gemini
    Takeout, Claude Code, Codex CLI, Gemini CLI, llm's logs.db, Open WebUI, DeepSeek,
    Grok, aimem JSONL, Markdown/plain text.

    Re-importing the same or a newer export adds only what is new. Anything wrong
    with an input rolls the whole import back: the database stays as it was.
    """
    bar = _ProgressBar()
    try:
        with _dry_run_db(ctx) if dry_run else nullcontext(), \
                open_memory(ctx, create=True) as mem:
            try:
                report = mem.import_paths(paths, fmt=format, tags=tag or [], dry_run=dry_run,
                                          redact=not no_redact, progress=bar)
            finally:
                bar.stop()
            if not dry_run and (report.messages_added or report.memories_added):
                mem.embed_in_background()  # when an embed-model is configured
    except AimemError as e:
        if json:  # scripts read the error from stdout too; stderr still has the line
            print_json({"error": " ".join(str(e).split("\n"))})
        raise
    if json:
        print_json(report.to_dict())
        return
    con = console()
    verb = "Would import" if dry_run else "Imported"
    for f in report.files:
        what = f"{f.conversations} conversations" + (f", {f.memories} memories" if f.memories
                                                     else "")
        con.print(f"{verb} [bold]{f.path}[/] ({f.format}): {what}")
    r = report
    con.print(f"conversations: {r.conversations_added} added, {r.conversations_updated} updated, "
              f"{r.conversations_unchanged} unchanged; messages added: {r.messages_added}"
              + (f"; memories: {r.memories_added} added, {r.memories_unchanged} unchanged"
                 if r.memories_added or r.memories_unchanged else ""))
    if r.forgotten:
        con.print(f"forgotten: {r.forgotten} items were forgotten (aimem forget) and stay so")
    if r.messages_kept:
        con.print(f"messages kept: {r.messages_kept} that the imported copy no longer has "
                  "(an older or shorter copy, or another branch; aimem show ID --branches)")
    if r.messages_deleted:
        con.print(f"messages deleted: {r.messages_deleted} (the source says they were: a "
                  "rewind or rollback)")
    if r.redactions:
        con.print("secrets redacted: " + ", ".join(f"{n} {k}" for k, n in r.redactions.items())
                  + " (--no-redact keeps them)")
    if r.skipped:
        con.print(f"skipped {len(r.skipped)}:")
        for s in r.skipped[:20]:
            con.print(f"  {s.where}: {s.reason}", markup=False)
        if len(r.skipped) > 20:
            con.print(f"  … and {len(r.skipped) - 20} more (see --json)")
    if dry_run:
        con.print("dry run: nothing was written")
