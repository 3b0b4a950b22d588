"""What aimem summarize, distill and tag auto share: batch work through an llm model.

The model is whatever llm is set up with (``llm models default``, ``llm keys set …``,
plugins such as llm-ollama); ``--model`` picks another. llm itself is imported only
when one of these commands runs (by :mod:`aimem.llm_bridge`). The three commands take
the same arguments and options: :func:`batch_command` declares them once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from aimem.cli._common import (
    ConversationOpt,
    JsonOpt,
    ProgressBar,
    RoleOpt,
    SinceOpt,
    SourceOpt,
    TagOpt,
    UntilOpt,
    console,
    filters,
    open_memory,
    print_json,
    short,
    stderr_is_tty,
    warn,
)
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
Show = Callable[[Any, dict[str, Any]], None]  # prints one conversation's result


class _Bar(ProgressBar):
    """Counts, ETA and the conversation at hand."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def __call__(self, done: int, total: int, now: str) -> None:
        if self.bar is None:
            if not stderr_is_tty() or not total:
                return
            self.start(self.label, lambda p: [
                p.TextColumn(self.label), p.BarColumn(), p.MofNCompleteColumn(),
                p.TimeElapsedColumn(), p.TextColumn("eta"), p.TimeRemainingColumn(),
                p.TextColumn("[dim]{task.fields[now]}[/]")], total, now="")
        self.bar.update(self.task, completed=done, now=(now[:40] + "…") if len(now) > 41 else now)


def _run(ctx: typer.Context, task: str, ids: list[str] | None, flt: dict[str, Any],
         model: str | None, force: bool, limit: int | None, dry_run: bool, json: bool,
         verbose: bool, show: Show) -> None:
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
           show: Show) -> None:
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


def batch_command(task: str, show: Show) -> Callable[[Callable[[], None]], Callable[..., None]]:
    """A decorator that makes the stub below it one of the batch commands: the stub gives
    the command its name and help (its docstring), ``task`` the Archive method to run and
    ``show`` how to print one conversation's result.

        @app.command(epilog=EPILOG)
        @batch_command("summarize", _show_summary)
        def summarize() -> None:
            '''Write a short summary of each conversation.'''
    """

    def make(stub: Callable[[], None]) -> Callable[..., None]:
        def command(
            ctx: typer.Context, ids: IdsArg = None, source: SourceOpt = None, tag: TagOpt = None,
            since: SinceOpt = None, until: UntilOpt = None, role: RoleOpt = None,
            conversation: ConversationOpt = None, model: ModelOpt = None, force: ForceOpt = False,
            limit: LimitOpt = None, dry_run: DryRunOpt = False, verbose: VerboseOpt = False,
            json: JsonOpt = False,
        ) -> None:
            _run(ctx, task, ids, dict(source=source, tag=tag, since=since, until=until,
                                      role=role, conversation=conversation),
                 model, force, limit, dry_run, json, verbose, show)

        # the stub's name, help and module; not __wrapped__, which would hide the options
        for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
            setattr(command, attr, getattr(stub, attr))
        return command

    return make
