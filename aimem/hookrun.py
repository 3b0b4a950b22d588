"""``aimem hook <event>``: what the agents' hooks run (installed by ``aimem hooks install``).

It reads the hook's JSON on stdin and:

- ``session-start``: prints the context block for the session's project, in the shape
  the agents read (``{"hookSpecificOutput": {"hookEventName": "SessionStart",
  "additionalContext": …}}``, the same for Claude Code, Codex and Gemini CLI), or
  nothing at all when there is nothing to recall;
- ``session-end`` / ``stop``: imports the session's transcript (``transcript_path``)
  through the import pipeline, like ``aimem sync`` does for a changed file; a large
  file (over ``$AIMEM_HOOK_INLINE_BYTES``, 512 kB), a database another process is
  writing, or a Gemini CLI session end (Gemini does not wait for it) is handed to a
  detached background process so the agent never waits.

A hook never breaks the agent: whatever happens it exits 0 within its time limit,
prints nothing but that one JSON object, and writes what went wrong to the hook log
(:mod:`aimem.hooklog`, shown by ``aimem hooks status``). This module is the fast path
of ``aimem hook``: it does not load Typer or rich (see aimem.cli.main).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

EVENTS = ("session-start", "session-end", "stop")
TOOLS = ("claude-code", "codex", "gemini-cli")
DEFAULT_BUDGET = 1000
START_LIMIT_S = 5.0  # the agents' own limits are larger (10 s as installed)
END_LIMIT_S = 20.0
BACKGROUND_LIMIT_S = 600.0
INLINE_BYTES = 512_000  # transcripts larger than this are imported in the background
USAGE = ("usage: aimem hook session-start|session-end|stop [--tool claude-code|codex|gemini-cli] "
         "[--budget TOKENS] [--db PATH]")


class _TimeUp(BaseException):
    pass


class _Usage(Exception):
    pass


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


def parse_args(argv: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {"event": None, "tool": None, "budget": None, "db": None,
                            "path": None, "project": None}
    i = 0
    while i < len(argv):
        arg = argv[i]
        key, eq, val = arg.partition("=")
        if key in ("--tool", "--budget", "--db", "--path", "--project"):
            if not eq:
                if i + 1 >= len(argv):
                    raise _Usage(f"{key} needs a value")
                val = argv[i + 1]
                i += 1
            opts[key[2:]] = val
        elif arg.startswith("-"):
            raise _Usage(f"unknown option {arg}")
        elif opts["event"] is None:
            opts["event"] = arg
        else:
            raise _Usage(f"unexpected argument {arg}")
        i += 1
    if opts["event"] not in (*EVENTS, "_import"):
        raise _Usage(f"unknown event {opts['event']!r}")
    if opts["tool"] is not None and opts["tool"] not in TOOLS:
        raise _Usage(f"unknown tool {opts['tool']!r}")
    if opts["budget"] is not None:
        try:
            opts["budget"] = int(opts["budget"])
        except ValueError:
            raise _Usage("--budget needs a number of tokens") from None
    return opts


def main(argv: list[str]) -> int:
    """Run one hook; always returns 0 (problems go to the hook log)."""
    from aimem import hooklog

    started = time.monotonic()
    try:
        opts = parse_args(argv)
    except _Usage as e:
        hooklog.write("error", " ".join(argv[:1]) or "?", None, f"{e} ({USAGE})")
        print(f"aimem hook: {e}\n{USAGE}", file=sys.stderr)
        return 0
    event, tool = opts["event"], opts["tool"]
    limit = {"session-start": _env_number("AIMEM_HOOK_TIMEOUT", START_LIMIT_S),
             "_import": BACKGROUND_LIMIT_S}.get(event, END_LIMIT_S)
    alarm = hasattr(signal, "setitimer")
    if alarm:
        def _up(signum: int, frame: Any) -> None:
            raise _TimeUp()

        signal.signal(signal.SIGALRM, _up)
        signal.setitimer(signal.ITIMER_REAL, limit)
    out = ""
    try:
        if event == "_import":
            _import(opts, opts["path"], opts["project"], background=True)
        else:
            payload = _read_payload()
            if event == "session-start":
                out = _session_start(opts, payload)
            else:
                _session_end(opts, payload)
    except _TimeUp:
        hooklog.write("error", event, tool, f"gave up after {limit:g} s (time limit)")
        out = ""
    except _Quiet as e:
        hooklog.write(e.level, event, tool, str(e), ms=_ms(started))
        out = ""
    except Exception as e:  # noqa: BLE001 - a hook must never fail the agent
        hooklog.write("error", event, tool, f"{type(e).__name__}: {e}", ms=_ms(started))
        out = ""
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
    if out:
        try:
            sys.stdout.write(out)
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
    return 0


class _Quiet(Exception):
    """An expected stop (no database, no transcript): logged at its level, no output."""

    def __init__(self, message: str, level: str = "error"):
        super().__init__(message)
        self.level = level


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _read_payload() -> dict[str, Any]:
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        raise _Quiet("no hook JSON on stdin")
    raw = stdin.buffer.read()
    try:
        payload = json.loads(raw.decode("utf-8-sig")) if raw.strip() else None
    except (ValueError, UnicodeDecodeError) as e:
        raise _Quiet(f"the hook JSON on stdin is not valid JSON ({e}): {raw[:200]!r}") from None
    if not isinstance(payload, dict):
        raise _Quiet(f"the hook JSON on stdin is not an object: {raw[:200]!r}")
    return payload


def _db(opts: dict[str, Any]) -> Path:
    from aimem.paths import db_path

    return db_path(opts["db"])


def _project(cwd: Any) -> str | None:
    """The session's project: the git root above its cwd, else the cwd (never $HOME or /)."""
    from aimem.projects import project_root

    if not isinstance(cwd, str) or not cwd:
        cwd = os.getcwd()
    root = project_root(cwd)
    if root in (str(Path.home()), "/", os.path.abspath(os.sep)):
        return None
    return root


def _session_start(opts: dict[str, Any], payload: dict[str, Any]) -> str:
    from aimem import hooklog

    started = time.monotonic()
    path = _db(opts)
    if not path.exists():
        raise _Quiet(f"no database at {path} yet: nothing to recall", level="info")
    from aimem.services import inject
    from aimem.store.db import Store

    budget = opts["budget"] or int(_env_number("AIMEM_HOOK_BUDGET", DEFAULT_BUDGET))
    project = _project(payload.get("cwd"))
    session = payload.get("session_id")
    store = Store.open(path, create=False, busy_timeout_ms=1000)
    try:
        text = inject.recall(store, project, budget=max(budget, inject.MIN_BUDGET),
                             skip_sources=(session,) if isinstance(session, str) else ())
    finally:
        store.close()
    hooklog.write("ok", "session-start", opts["tool"],
                  f"recalled {len(text)} characters" if text else "nothing to recall",
                  project=project, ms=_ms(started))
    if not text:
        return ""
    return json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart",
                                              "additionalContext": text}},
                      ensure_ascii=False) + "\n"


def _session_end(opts: dict[str, Any], payload: dict[str, Any]) -> None:
    transcript = payload.get("transcript_path")
    if not isinstance(transcript, str) or not transcript:
        raise _Quiet("no transcript_path in the hook JSON: nothing to import", level="info")
    p = Path(transcript).expanduser()
    if not p.is_file():
        raise _Quiet(f"transcript {transcript} is not a readable file")
    if not os.access(p, os.R_OK):
        raise _Quiet(f"transcript {transcript} is not readable (permissions)")
    project = _project(payload.get("cwd"))
    inline = _env_number("AIMEM_HOOK_INLINE_BYTES", INLINE_BYTES)
    if opts["tool"] == "gemini-cli" and opts["event"] == "session-end":
        # Gemini CLI does not wait for SessionEnd hooks (hooks reference): do not race it
        _spawn(opts, p, project, "Gemini CLI does not wait for session-end hooks")
        return
    if p.stat().st_size > inline:
        _spawn(opts, p, project, f"{p.stat().st_size:,} bytes")
        return
    _import(opts, str(p), project, background=False)


def _import(opts: dict[str, Any], transcript: str | None, project: str | None, *,
            background: bool) -> None:
    import sqlite3

    from aimem import hooklog
    from aimem.errors import AimemError, ImportFailed
    from aimem.services import sync
    from aimem.services.importing import import_paths
    from aimem.store.db import Store

    if not transcript:
        raise _Quiet("no transcript to import")
    started = time.monotonic()
    p = Path(transcript)
    event = "_import" if background else opts["event"]
    try:
        store = Store.open(_db(opts), create=True,
                           busy_timeout_ms=30_000 if background else 2_000)
    except AimemError as e:
        if not background and "locked" in str(e):
            _spawn(opts, p, project, "the database is locked")
            return
        raise
    try:
        if not sync.changed(store, p):
            hooklog.write("ok", event, opts["tool"], f"{p} unchanged since its last import",
                          ms=_ms(started))
            return
        try:
            r = import_paths(store, [str(p)], project=project)
        except ImportFailed as e:
            raise _Quiet(f"{p}: {e.why}") from None
        except AimemError as e:
            if not background and "locked" in str(e):
                _spawn(opts, p, project, "the database is locked")
                return
            raise
        except sqlite3.OperationalError as e:
            if not background and "locked" in str(e):
                _spawn(opts, p, project, "the database is locked")
                return
            raise
        if r.messages_added or r.conversations_updated:
            _embed_later(store)
    finally:
        store.close()
    hooklog.write("ok", event, opts["tool"],
                  f"imported {p}: {r.conversations_added} added, {r.conversations_updated} "
                  f"updated, {r.messages_added} new messages", project=project,
                  ms=_ms(started))


def _embed_later(store: Any) -> None:
    """Embed what the import added in the background, when a model is configured."""
    from aimem.services import embed_job, semantic

    if semantic.configured_model(store) and semantic.has_numpy():
        embed_job.start(store.path)


def _spawn(opts: dict[str, Any], p: Path, project: str | None, why: str) -> None:
    """Import ``p`` in a detached process (this hook returns at once)."""
    import subprocess

    from aimem import hooklog

    cmd = [sys.executable, "-m", "aimem.hookrun", "_import", "--path", str(p),
           "--db", str(_db(opts))]
    if opts["tool"]:
        cmd += ["--tool", opts["tool"]]
    if project:
        cmd += ["--project", project]
    subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    hooklog.write("info", opts["event"], opts["tool"],
                  f"importing {p} in the background ({why})")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
