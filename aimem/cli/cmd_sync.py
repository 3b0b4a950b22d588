"""aimem sync: import what changed in the local AI tools' folders, once or continuously."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from aimem.cli._app import app
from aimem.cli._common import JsonOpt, console, err_console, open_memory, print_json

EPILOG = """Examples:

  aimem sync                          # Claude Code, Codex, Gemini CLI, llm logs.db

  aimem sync --add ~/Documents/ai-exports

  aimem sync --list

  aimem sync --watch --interval 60    # keep importing until Ctrl-C

  aimem sync --to ~/Sync/aimem        # and exchange with other devices through a folder

  aimem sync --to git+ssh://nas/srv/aimem.git   # or through a git remote

  aimem sync --dry-run                # what would be sent to and applied from other devices

  aimem sync compact                  # snapshot; drop own logs all devices have read"""


@app.command(epilog=EPILOG)
def sync(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Argument(
        metavar="[compact]", help="compact: write this device's snapshot and drop its log "
        "files that every other device has read.", show_default=False)] = None,
    add: Annotated[list[str] | None, typer.Option(
        "--add", metavar="PATH", help="Also sync this folder or file from now on; repeatable.",
        show_default=False)] = None,
    remove: Annotated[list[str] | None, typer.Option(
        "--remove", metavar="PATH", help="Stop syncing an added folder; repeatable.",
        show_default=False)] = None,
    list_: Annotated[bool, typer.Option(
        "--list", help="Show the sources and how many files each has; import nothing.")] = False,
    watch: Annotated[bool, typer.Option(
        "--watch", help="Keep syncing every --interval seconds until interrupted.")] = False,
    interval: Annotated[float, typer.Option(
        "--interval", min=1.0, help="Seconds between two syncs with --watch.")] = 30.0,
    to: Annotated[str | None, typer.Option(
        "--to", metavar="FOLDER|git+URL",
        help="Exchange with your other devices through this synced folder or git remote, "
             "now and on every later sync.", show_default=False)] = None,
    encrypt: Annotated[bool, typer.Option(
        "--encrypt", help="With --to: encrypt everything written there (AES-256-GCM, a "
        "passphrase from AIMEM_SYNC_PASSPHRASE, the OS keyring or a prompt).")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Say what would be sent to and applied from other devices; change "
                          "nothing (local sources are not scanned).")] = False,
    no_redact: Annotated[bool, typer.Option(
        "--no-redact", help="Keep secrets instead of replacing them with [REDACTED:kind].")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Import what changed in the AI tools' own folders on this machine.

    Known sources: Claude Code (~/.claude/projects), Codex CLI (~/.codex/sessions),
    Gemini CLI (~/.gemini/tmp) and llm's logs.db, plus folders added with --add. Only
    files whose size or modification time changed since the last sync are read again.

    With a sync location (--to, once), it then sends this device's changes there and
    applies the other devices' (see `aimem devices`). Each device only appends to its own
    files: the live database is never copied.
    """
    if encrypt and not to:
        raise typer.BadParameter("--encrypt goes with --to (a new sync location)")
    if dry_run and (add or remove or action is not None or list_ or watch):
        raise typer.BadParameter("--dry-run goes only with --to (or alone): it changes nothing")
    if dry_run:
        _dry_run(ctx, to, json)
        return
    with open_memory(ctx, create=True) as mem:
        for path in add or []:
            typer.echo(f"added {mem.add_sync_source(path)}", err=True)
        for path in remove or []:
            typer.echo(f"removed {mem.remove_sync_source(path)}", err=True)
        if to:
            where = mem.set_sync_target(to, encrypt=encrypt)
            typer.echo(f"syncing with other devices through {where}", err=True)
        if list_:
            _list(mem, json)
            return
        if action is not None:
            if action != "compact":
                raise typer.BadParameter(f"unknown action {action!r} (only: compact)")
            r = mem.compact_sync()
            if json:
                print_json(r)
            else:
                console().print(f"snapshot {r['snapshot']} ({r['records']} records); dropped "
                                f"{len(r['dropped'])} log files every device has read, kept "
                                f"{len(r['kept'])}", markup=False, highlight=False)
            return
        while True:
            report = mem.sync(redact=not no_redact, on_file=_progress())
            if getattr(report, "messages_added", 0) or getattr(report, "memories_added", 0):
                mem.embed_in_background()  # when an embed-model is configured
            devices = mem.sync_devices() if mem.sync_target() else None
            if json:
                print_json({**report.to_dict(), "devices": devices})
            else:
                _print(report, json, quiet_when_idle=watch)
                if devices is not None:
                    _print_devices(devices, False, quiet_when_idle=watch)
            if not watch:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                err_console().print("stopped", style="dim")
                return


def _dry_run(ctx: typer.Context, to: str | None, json: bool) -> None:
    """What a sync with the other devices would send and apply; nothing changes: not the
    saved location (a new --to is not kept), and on a device without a database yet, the
    dry run works on an empty scratch one instead of creating it."""
    import tempfile
    from pathlib import Path

    from aimem.paths import db_path
    from aimem.services import Archive

    if db_path((ctx.find_root().obj or {}).get("db")).exists():
        with open_memory(ctx, create=False) as mem:
            report = mem.sync_devices(dry_run=True, where=to)
    else:
        with tempfile.TemporaryDirectory(prefix="aimem-dry-") as tmp, \
                Archive.open(Path(tmp) / "aimem.db") as mem:
            report = mem.sync_devices(dry_run=True, where=to)
    _print_devices(report, json, quiet_when_idle=False)


def _progress():  # type: ignore[no-untyped-def]
    from aimem.cli._common import stderr_is_tty

    if not stderr_is_tty():
        return None
    con = err_console()

    def show(path: str, i: int, n: int) -> None:
        con.print(f"[{i}/{n}] {path}", markup=False, highlight=False, end="\r")

    return show


def _list(mem, json: bool) -> None:  # type: ignore[no-untyped-def]
    sources = mem.sync_sources()
    if json:
        print_json(sources)
        return
    from rich.table import Table

    t = Table(box=None, pad_edge=False)
    for col in ("source", "path", "status"):
        t.add_column(col)
    for s in sources:
        t.add_row(s["name"], s["path"], "found" if s["exists"] else "not on this machine")
    console().print(t)


def _print(report, json: bool, *, quiet_when_idle: bool) -> None:  # type: ignore[no-untyped-def]
    if json:
        print_json(report.to_dict())
        return
    if quiet_when_idle and not report.files_changed:
        return
    stamp = time.strftime("%H:%M:%S ") if quiet_when_idle else ""
    r = report
    found = [s for s in r.sources if s["exists"]]
    typer.echo(f"{stamp}{r.files_seen} files in {len(found)} sources, {r.files_changed} changed: "
               f"{r.conversations_added} conversations added, {r.conversations_updated} "
               f"updated, {r.messages_added} messages added"
               + (f", {r.messages_kept} kept that a file no longer had" if r.messages_kept
                  else "")
               + (f", {r.messages_deleted} deleted by a rewind" if r.messages_deleted else ""))
    for item in r.imported[:20]:
        typer.echo(f"  {item['path']} ({item['source']}): +{item['added']} "
                   f"~{item['updated']} conversations")
    if len(r.imported) > 20:
        typer.echo(f"  … and {len(r.imported) - 20} more files")
    for e in r.errors:
        typer.echo(f"aimem: warning: {e['path']}: {e['error']}", err=True)


def _print_devices(r: dict, json: bool, *, quiet_when_idle: bool) -> None:  # type: ignore[type-arg]
    if json:
        print_json(r)
        return
    for e in r["errors"]:
        typer.echo(f"aimem: warning: {e['path']}: {e['error']}", err=True)
    if quiet_when_idle and not (r["sent"] or r["applied"]):
        return
    would = "would be " if r["dry_run"] else ""
    line = (f"devices: {r['sent']} changes {would}sent, {r['applied']} of {r['received']} "
            f"received {would}applied")
    if r["forgotten"]:
        line += f", {r['forgotten']} items {would}removed (forgotten on another device)"
    if r["waiting"]:
        line += f"; {len(r['waiting'])} files still arriving (read next time)"
    if r.get("git"):
        line += f"; git: {r['git']}"
    typer.echo(line)
