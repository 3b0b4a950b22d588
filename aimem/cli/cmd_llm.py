"""aimem summarize / distill / tag auto: batch work through an llm model.

The model is whatever llm is set up with (``llm models default``, ``llm keys set …``,
plugins such as llm-ollama); ``--model`` picks another. llm itself is imported only
when one of these commands runs (by :mod:`aimem.llm_bridge`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from aimem.cli._app import app
from aimem.cli._common import (
    ConversationOpt,
    JsonOpt,
    RoleOpt,
    SinceOpt,
    SourceOpt,
    TagOpt,
    UntilOpt,
    console,
    err_console,
    filters,
    open_memory,
    print_json,
    short,
    stderr_is_tty,
    warn,
)
from aimem.cli.cmd_tag import tag_app
from aimem.errors import ExitCode

IdsArg = Annotated[list[str] | None, typer.Argument(
    help="Conversation ids (or unique prefixes); none: every conversation the filters match.",
    show_default=False)]
ModelOpt = Annotated[str | None, typer.Option(
    "--model", "-m", help="An llm model id or alias (llm models lists them); default: "
    "llm's default model ($LLM_MODEL, or llm models default).", show_default=False)]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Redo conversations that were already done.")]
LimitOpt = Annotated[int | None, typer.Option(
    "--limit", "-n", min=0, help="Do at most N conversations.", show_default=False)]
DryRunOpt = Annotated[bool, typer.Option(
    "--dry-run", help="Show what would be sent and about how many tokens; call no model, "
    "write nothing.")]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", "-v", help="With --dry-run: print every prompt in full.")]

VERBS = {"summarize": ("summarize", "summarized"), "auto_tag": ("tag", "tagged"),
         "distill": ("distill", "distilled")}


class _Bar:
    """A progress bar on stderr (counts, ETA, the conversation at hand); terminals only."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int, now: str) -> None:
        if self.bar is None:
            if not stderr_is_tty() or not total:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                TextColumn("[dim]{task.fields[now]}[/]"), console=err_console(),
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total, now="")
        self.bar.update(self.task, completed=done, now=(now[:40] + "…") if len(now) > 41 else now)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _run(ctx: typer.Context, task: str, ids: list[str] | None, flt: dict[str, Any],
         model: str | None, force: bool, limit: int | None, dry_run: bool, json: bool,
         verbose: bool, show: Callable[[Any, dict[str, Any]], None]) -> None:
    from aimem.services.llm_tasks import BatchStopped

    verb, done_verb = VERBS[task]
    bar = _Bar(verb if not dry_run else "planning")
    error: BatchStopped | None = None
    with open_memory(ctx, create=False) as mem:
        f = filters(mem, **flt)
        try:
            report = getattr(mem, task)(ids or [], f, model=model, force=force, limit=limit,
                                        dry_run=dry_run, progress=bar)
        except BatchStopped as e:
            error, report = e, e.report
        finally:
            bar.stop()
    if json:
        print_json(report if verbose or not dry_run else _without_prompts(report))
    else:
        _print(report, done_verb, verbose, show)
    if error is not None:
        if report["stopped"] or report["interrupted"]:  # else: every item failed, listed above
            typer.echo("aimem: error: " + " ".join(str(error).split()), err=True)
        if report["done"] and not dry_run:
            warn(f"the {report['done']} conversation(s) {done_verb} before that are kept")
        raise typer.Exit(int(error.exit_code))
    if report["failed"]:
        raise typer.Exit(int(ExitCode.FAILURE))


def _without_prompts(report: dict[str, Any]) -> dict[str, Any]:
    items = [{k: v for k, v in i.items() if k != "prompts"} for i in report["items"]]
    return {**report, "items": items}


def _print(report: dict[str, Any], done_verb: str, verbose: bool,
           show: Callable[[Any, dict[str, Any]], None]) -> None:
    con = console()
    for item in report["items"]:
        if report["dry_run"]:
            con.print(f"[cyan]{short(item['id'])}[/]  ", end="")
            con.print(f"{item['title'] or '(untitled)'}", markup=False, highlight=False, end="")
            con.print(f"  [dim]{item['calls']} call(s), ~{item['tokens']:,} tokens[/]")
            if verbose:
                for call in item["prompts"]:
                    con.print(f"[dim]--- system ---[/]\n{call['system']}\n[dim]--- prompt "
                              f"(~{call['tokens']:,} tokens) ---[/]", highlight=False)
                    con.print(call["prompt"], markup=False, highlight=False)
        else:
            show(con, item)
    for fail in report["failed"]:
        warn(f"failed: {short(fail['id'])} {fail['title'] or ''}: {fail['error']}")
    _totals(report, done_verb)


def _totals(r: dict[str, Any], done_verb: str) -> None:
    model = r["model"]
    if (r["stopped"] or r["interrupted"]) and not (r["done"] or r["failed"]):
        return  # stopped before anything was done: the error line says it all
    if r["dry_run"]:
        calls = sum(i["calls"] for i in r["items"])
        line = (f"dry run: would send {calls} prompt(s) for {r['done']} conversation(s) to "
                f"{model}, about {r['estimated_tokens']:,} tokens in; nothing was written")
    elif not r["candidates"] and not r["failed"]:
        line = f"nothing to do with {model}"
    else:
        u = r["usage"]
        line = (f"{done_verb} {r['done']} of {r['candidates']} conversation(s) with {model}"
                + (f", {len(r['failed'])} failed" if r["failed"] else "")
                + f"; tokens: {u['input_tokens']:,} in, {u['output_tokens']:,} out"
                + (f" ({u['calls_without_usage']} of {u['calls']} calls reported no usage)"
                   if u["calls_without_usage"] else ""))
    if r["up_to_date"]:
        line += f"; {r['up_to_date']} already done (--force redoes them)"
    warn(line)


def _show_summary(con: Any, item: dict[str, Any]) -> None:
    con.print(f"[cyan]{short(item['id'])}[/]  ", end="")
    con.print(item["title"] or "(untitled)", markup=False, highlight=False, style="bold",
              end="")
    con.print("  [dim](new title)[/]" if item["new_title"] else "")
    con.print("  " + item["summary"], markup=False, highlight=False)


def _show_tags(con: Any, item: dict[str, Any]) -> None:
    con.print(f"[cyan]{short(item['id'])}[/]  ", end="")
    con.print(f"{item['title'] or '(untitled)'}  ", markup=False, highlight=False, end="")
    con.print(" ".join(f"#{t}" for t in item["tags"]) or "(no tags)", markup=False,
              highlight=False, style="green")


def _show_memories(con: Any, item: dict[str, Any]) -> None:
    new = sum(1 for m in item["memories"] if m["created"])
    con.print(f"[cyan]{short(item['id'])}[/]  ", end="")
    con.print(item["title"] or "(untitled)", markup=False, highlight=False, end="")
    con.print(f"  [dim]{new} new, {len(item['memories']) - new} already saved[/]")
    for m in item["memories"]:
        con.print(f"  {'+' if m['created'] else '='} [dim]{short(m['id'])} {m['kind']}[/] ",
                  end="")
        con.print(m["text"], markup=False, highlight=False)


SUMMARIZE_EPILOG = """Examples:

  aimem summarize --since 30d

  aimem summarize 6141097f --force --model gpt-4o-mini

  aimem summarize --source claude --limit 20 --dry-run

  aimem summarize --model llama3.2 --json"""


@app.command(epilog=SUMMARIZE_EPILOG)
def summarize(
    ctx: typer.Context, ids: IdsArg = None, source: SourceOpt = None, tag: TagOpt = None,
    since: SinceOpt = None, until: UntilOpt = None, role: RoleOpt = None,
    conversation: ConversationOpt = None, model: ModelOpt = None, force: ForceOpt = False,
    limit: LimitOpt = None, dry_run: DryRunOpt = False, verbose: VerboseOpt = False,
    json: JsonOpt = False,
) -> None:
    """Write a short summary of each conversation (and a title where it has none).

    Only conversations without a summary, or whose content changed since theirs was
    written, are done (--force redoes them). A summary is stored with the model id,
    the time and a hash of what it summarised; it is searched like a title. Long
    conversations are summarised in parts that fit the model's context, then combined.
    Ctrl-C stops; what is done is kept.
    """
    _run(ctx, "summarize", ids, dict(source=source, tag=tag, since=since, until=until,
                                     role=role, conversation=conversation),
         model, force, limit, dry_run, json, verbose, _show_summary)


DISTILL_EPILOG = """Examples:

  aimem distill --since 7d

  aimem distill --source chatgpt --limit 50 --model claude-3.5-haiku

  aimem distill 6141097f --dry-run -v"""


@app.command(epilog=DISTILL_EPILOG)
def distill(
    ctx: typer.Context, ids: IdsArg = None, source: SourceOpt = None, tag: TagOpt = None,
    since: SinceOpt = None, until: UntilOpt = None, role: RoleOpt = None,
    conversation: ConversationOpt = None, model: ModelOpt = None, force: ForceOpt = False,
    limit: LimitOpt = None, dry_run: DryRunOpt = False, verbose: VerboseOpt = False,
    json: JsonOpt = False,
) -> None:
    """Extract durable memories (facts, preferences, instructions, projects, people).

    Each memory is linked to the conversation it came from (source "distill"); one
    that is already saved is not added again. Conversations with memories distilled
    since their last import are skipped (--force redoes them).
    """
    _run(ctx, "distill", ids, dict(source=source, tag=tag, since=since, until=until, role=role,
                                   conversation=conversation),
         model, force, limit, dry_run, json, verbose, _show_memories)


TAG_AUTO_EPILOG = """Examples:

  aimem tag auto --since 30d

  aimem tag auto --source claude-code --model llama3.2 --limit 100

  aimem tag auto 6141097f --force"""


@tag_app.command("auto", epilog=TAG_AUTO_EPILOG)
def tag_auto(
    ctx: typer.Context, ids: IdsArg = None, source: SourceOpt = None, tag: TagOpt = None,
    since: SinceOpt = None, until: UntilOpt = None, role: RoleOpt = None,
    conversation: ConversationOpt = None, model: ModelOpt = None, force: ForceOpt = False,
    limit: LimitOpt = None, dry_run: DryRunOpt = False, verbose: VerboseOpt = False,
    json: JsonOpt = False,
) -> None:
    """Tag conversations through a model, reusing your existing tags where they fit.

    The tags are ordinary tags marked automatic. Conversations that already have
    automatic tags are skipped; --force replaces them (manual tags always stay).
    """
    _run(ctx, "auto_tag", ids, dict(source=source, tag=tag, since=since, until=until, role=role,
                                    conversation=conversation),
         model, force, limit, dry_run, json, verbose, _show_tags)

