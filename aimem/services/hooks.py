"""``aimem hooks install|uninstall|status``: aimem's entries in the agents' own settings.

Each agent runs a command at session start (its output becomes context) and at session
end or after a turn (with the transcript's path on stdin). Install adds one entry per
event, calling ``aimem hook <event> --tool <tool>`` by the absolute path of this aimem,
to the agent's settings file; everything else in the file is kept as it was:

- JSON files are loaded and written back with the indent, separators and ASCII escaping
  they had, keys in their order (a file written by the agent itself comes back
  byte-for-byte apart from aimem's entries);
- Codex's ``config.toml`` is edited as text: one line (and a ``[features]`` header when
  there is none), each marked ``# added by aimem hooks install``; tomllib only reads;
- a file that does not parse is refused (AimemError, exit 1) before anything is written;
- a changed file is first copied to ``<name>.aimem-backup-<UTC time>``;
- a second install changes nothing; uninstall removes exactly the entries whose command
  is an ``aimem hook`` call (and the marked lines), nothing else.

Where each schema comes from (checked December 2026):

- Claude Code: https://code.claude.com/docs/en/hooks (``hooks`` in settings.json,
  event -> [{"matcher"?, "hooks": [{"type": "command", "command", "timeout" (s)}]}]);
- Codex CLI: https://developers.openai.com/codex/hooks (``hooks.json`` next to the config
  layer, same shape; the feature flag ``[features] codex_hooks = true`` in config.toml,
  which later versions turned on by default and keep as an alias of ``hooks``; there is
  no SessionEnd event, so capture runs on ``Stop``, after each turn);
- Gemini CLI: https://geminicli.com/docs/hooks/reference (``hooks`` in settings.json,
  same shape with a ``name`` and a ``timeout`` in milliseconds; on by default since
  v0.27, off when ``hooksConfig.enabled`` is false).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aimem.errors import AimemError

MARK = "# added by aimem hooks install"
EVENTS = ("session-start", "session-end", "stop")
_OURS = re.compile(r"\bhook\s+(session-start|session-end|stop)\s+--tool\s+"
                   r"(claude-code|codex|gemini-cli)\b")


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    label: str
    folder: str  # the project-level folder (.claude, .codex, .gemini)
    file: str  # the settings file in it
    events: tuple[tuple[str, str, int], ...]  # (the tool's event, aimem's event, timeout)
    named: bool = False  # entries carry a "name" (Gemini CLI)

    def user_dir(self) -> Path:
        if self.name == "claude-code":
            return Path(os.environ.get("CLAUDE_CONFIG_DIR") or "~/.claude").expanduser()
        if self.name == "codex":
            return Path(os.environ.get("CODEX_HOME") or "~/.codex").expanduser()
        return Path("~/.gemini").expanduser()

    def settings_path(self, project: Path | None) -> Path:
        return (project / self.folder if project else self.user_dir()) / self.file


TOOLS: dict[str, Tool] = {
    "claude-code": Tool("claude-code", "Claude Code", ".claude", "settings.json",
                        (("SessionStart", "session-start", 10),
                         ("SessionEnd", "session-end", 30))),
    "codex": Tool("codex", "Codex CLI", ".codex", "hooks.json",
                  (("SessionStart", "session-start", 10), ("Stop", "stop", 30))),
    "gemini-cli": Tool("gemini-cli", "Gemini CLI", ".gemini", "settings.json",
                       (("SessionStart", "session-start", 10_000),
                        ("SessionEnd", "session-end", 30_000)), named=True),
}


def tools_for(name: str) -> list[Tool]:
    if name == "all":
        return list(TOOLS.values())
    if name not in TOOLS:
        raise AimemError(f"unknown tool {name!r}: use {', '.join(TOOLS)} or all")
    return [TOOLS[name]]


def aimem_executable() -> str:
    """How to start this aimem from anywhere: its absolute path (no PATH needed)."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 and argv0.name in ("aimem", "aimem.exe"):
        found = argv0 if argv0.is_file() else shutil.which(str(argv0))
        if found:
            return shlex.quote(str(Path(found).absolute()))
    # python -m aimem (or an embedding): this interpreter, whatever aimem is on PATH
    return f"{shlex.quote(sys.executable)} -m aimem"


def hook_command(tool: Tool, event: str, db: str | None = None) -> str:
    cmd = f"{aimem_executable()} hook {event} --tool {tool.name}"
    if db:
        cmd += f" --db {shlex.quote(str(Path(db).expanduser().absolute()))}"
    return cmd


def is_ours(command: Any) -> bool:
    return isinstance(command, str) and "aimem" in command and bool(_OURS.search(command))


# -- JSON settings, written back the way they were ------------------------------------------


@dataclass(slots=True)
class JsonStyle:
    indent: int | str | None = 2
    separators: tuple[str, str] = (",", ": ")
    ensure_ascii: bool = False
    newline_at_end: bool = True


def _style(raw: str) -> JsonStyle:
    style = JsonStyle()
    m = re.search(r"[{\[]\r?\n([ \t]+)\S", raw)
    if m:
        ws = m.group(1)
        style.indent = "\t" if ws.startswith("\t") else len(ws)
    elif raw.strip() and "\n" not in raw.strip():
        style.indent = None
        style.separators = ("," if not re.search(r",\s", raw) else ", ",
                            ":" if not re.search(r'":\s', raw) else ": ")
    style.ensure_ascii = bool(re.search(r"\\u[0-9a-fA-F]{4}", raw))
    style.newline_at_end = raw.endswith("\n") or not raw
    return style


def _dump(data: Any, style: JsonStyle) -> str:
    text = json.dumps(data, indent=style.indent, separators=style.separators,
                      ensure_ascii=style.ensure_ascii)
    return text + ("\n" if style.newline_at_end else "")


def _read_json(path: Path) -> tuple[str | None, dict[str, Any], JsonStyle]:
    if not path.exists():
        return None, {}, JsonStyle()
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise AimemError(f"{path}: cannot read it ({e}); nothing was changed") from None
    if not raw.strip():
        return raw, {}, JsonStyle()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise AimemError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: "
                         f"{e.msg}); fix it first, nothing was changed") from None
    if not isinstance(data, dict):
        raise AimemError(f"{path}: expected a JSON object at the top; nothing was changed")
    hooks = data.get("hooks")
    if hooks is not None and not isinstance(hooks, dict):
        raise AimemError(f"{path}: \"hooks\" is not an object; nothing was changed")
    for ev, groups in (hooks or {}).items():
        if not isinstance(groups, list) and ev not in ("enabled", "disabled"):
            raise AimemError(f"{path}: hooks.{ev} is not a list; nothing was changed")
    return raw, data, _style(raw)


def backup_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    candidate = path.with_name(f"{path.name}.aimem-backup-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.aimem-backup-{stamp}-{n}")
    return candidate


def _write(path: Path, old: str | None, new: str) -> str | None:
    """Write ``new`` (after backing up the old file); return the backup's path."""
    backup = None
    if old is not None:
        b = backup_name(path)
        shutil.copy2(path, b)
        backup = str(b)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".aimem-tmp")
    tmp.write_text(new, encoding="utf-8")
    if path.exists():
        shutil.copymode(path, tmp)
    os.replace(tmp, path)
    return backup


def _entry(tool: Tool, event: str, timeout: int, db: str | None) -> dict[str, Any]:
    hook: dict[str, Any] = {}
    if tool.named:
        hook["name"] = f"aimem-{event}"
    hook.update({"type": "command", "command": hook_command(tool, event, db),
                 "timeout": timeout})
    return hook


def _add(data: dict[str, Any], tool: Tool, db: str | None) -> list[str]:
    """Add the missing entries (or refresh an outdated command); the events changed."""
    changed = []
    hooks = data.setdefault("hooks", {})
    for tool_event, event, timeout in tool.events:
        want = _entry(tool, event, timeout, db)
        groups = hooks.setdefault(tool_event, [])
        found = False
        for group in groups:
            for h in (group.get("hooks") or []) if isinstance(group, dict) else []:
                if isinstance(h, dict) and is_ours(h.get("command")) \
                        and _OURS.search(h["command"]).group(1) == event:  # type: ignore[union-attr]
                    found = True
                    if h.get("command") != want["command"]:
                        h["command"] = want["command"]
                        changed.append(tool_event)
        if not found:
            groups.append({"hooks": [want]})
            changed.append(tool_event)
    return changed


def _remove(data: dict[str, Any]) -> list[str]:
    """Remove every ``aimem hook`` entry (and the groups/events they leave empty)."""
    removed = []
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return removed
    for ev in list(hooks):
        groups = hooks[ev]
        if not isinstance(groups, list):
            continue
        keep = []
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if isinstance(inner, list) and any(isinstance(h, dict) and is_ours(h.get("command"))
                                               for h in inner):
                rest = [h for h in inner if not (isinstance(h, dict)
                                                 and is_ours(h.get("command")))]
                removed.append(ev)
                if rest:
                    keep.append({**group, "hooks": rest})
                continue
            keep.append(group)
        if ev in removed:
            if keep:
                hooks[ev] = keep
            else:
                del hooks[ev]
    if removed and not hooks:
        del data["hooks"]
    return removed


def installed_events(data: dict[str, Any]) -> dict[str, str]:
    """tool event -> our command, for the aimem entries in a settings object."""
    out = {}
    for ev, groups in (data.get("hooks") or {}).items():
        for group in groups if isinstance(groups, list) else []:
            for h in (group.get("hooks") or []) if isinstance(group, dict) else []:
                if isinstance(h, dict) and is_ours(h.get("command")):
                    out[ev] = h["command"]
    return out


# -- Codex's feature flag, edited as text ---------------------------------------------------


def _read_toml(path: Path) -> tuple[str | None, dict[str, Any]]:
    import tomllib

    if not path.exists():
        return None, {}
    try:
        raw = path.read_text(encoding="utf-8")
        return raw, tomllib.loads(raw)
    except (OSError, UnicodeDecodeError) as e:
        raise AimemError(f"{path}: cannot read it ({e}); nothing was changed") from None
    except tomllib.TOMLDecodeError as e:
        raise AimemError(f"{path}: not valid TOML ({e}); fix it first, nothing was changed"
                         ) from None


def codex_flag(data: dict[str, Any]) -> bool | None:
    """Codex's hooks feature as config.toml sets it (None: not set)."""
    feats = data.get("features")
    if not isinstance(feats, dict):
        return None
    for key in ("hooks", "codex_hooks"):
        if isinstance(feats.get(key), bool):
            return feats[key]
    return None


def _flag_on(raw: str | None, data: dict[str, Any]) -> tuple[str | None, str]:
    """(the new config.toml text or None, what was done) to turn Codex hooks on."""
    import tomllib

    state = codex_flag(data)
    if state is True:
        return None, "Codex hooks feature already on"
    if state is False:
        return None, ("WARNING: config.toml turns Codex hooks off ([features] hooks/codex_hooks "
                      "= false); aimem left that alone, so the hooks will not run until you "
                      "turn it on")
    text = raw or ""
    line = f"codex_hooks = true  {MARK}\n"
    header = re.search(r"(?m)^[ \t]*\[features\][ \t]*(#.*)?\r?\n", text)
    if header:
        new = text[:header.end()] + line + text[header.end():]
    elif "features" in data:
        return None, ("WARNING: config.toml defines features in a form aimem does not edit; "
                      "add codex_hooks = true to them yourself")
    else:
        sep = "" if not text else ("\n" if text.endswith("\n") else "\n\n")
        new = text + sep + f"[features]  {MARK}\n" + line
    if codex_flag(tomllib.loads(new)) is not True:  # never write a file Codex would misread
        return None, "WARNING: could not turn the Codex hooks feature on; add it yourself"
    return new, "turned the Codex hooks feature on: [features] codex_hooks = true"


def _flag_off(raw: str) -> str:
    out = re.sub(rf"(?m)^codex_hooks = true  {re.escape(MARK)}\r?\n", "", raw)
    out = re.sub(rf"(?m)\n?^\[features\]  {re.escape(MARK)}\r?\n(?=(\s*\n|\[|\Z))", "", out)
    return out


# -- the commands -------------------------------------------------------------------------


def _project_dir(project: bool) -> Path | None:
    if not project:
        return None
    from aimem.projects import project_root

    return Path(project_root("."))


def install(name: str, *, project: bool = False, db: str | None = None) -> list[dict[str, Any]]:
    """Install the hooks of one tool (or all); one report per tool."""
    where = _project_dir(project)
    plans = []
    for tool in tools_for(name):  # read and check every file before writing any
        path = tool.settings_path(where)
        raw, data, style = _read_json(path)
        toml_path = path.with_name("config.toml")
        traw, tdata = _read_toml(toml_path) if tool.name == "codex" else (None, {})
        plans.append((tool, path, raw, data, style, toml_path, traw, tdata))
    reports = []
    for tool, path, raw, data, style, toml_path, traw, tdata in plans:
        rep: dict[str, Any] = {"tool": tool.name, "file": str(path), "changed": [],
                               "backup": None, "notes": []}
        changed = _add(data, tool, db)
        if changed:
            rep["changed"] = changed
            rep["backup"] = _write(path, raw, _dump(data, style))
        if tool.name == "codex":
            new, note = _flag_on(traw, tdata)
            if new is not None:
                rep["flag_backup"] = _write(toml_path, traw, new)
                rep["flag_file"] = str(toml_path)
            rep["notes"].append(note)
            rep["notes"].append("Codex asks you to review and trust new hooks (/hooks) before "
                                "they run")
        if tool.name == "gemini-cli":
            if ((data.get("hooksConfig") or {}).get("enabled")) is False:
                rep["notes"].append("WARNING: hooksConfig.enabled is false in this file, so "
                                    "Gemini CLI runs no hooks; aimem left that alone")
        reports.append(rep)
    return reports


def uninstall(name: str, *, project: bool = False) -> list[dict[str, Any]]:
    where = _project_dir(project)
    plans = []
    for tool in tools_for(name):
        path = tool.settings_path(where)
        raw, data, style = _read_json(path)
        toml_path = path.with_name("config.toml")
        traw, _ = _read_toml(toml_path) if tool.name == "codex" else (None, {})
        plans.append((tool, path, raw, data, style, toml_path, traw))
    reports = []
    for tool, path, raw, data, style, toml_path, traw in plans:
        rep: dict[str, Any] = {"tool": tool.name, "file": str(path), "removed": [],
                               "backup": None, "notes": []}
        removed = _remove(data)
        if removed and raw is not None:
            rep["removed"] = sorted(set(removed))
            rep["backup"] = _write(path, raw, _dump(data, style))
        if traw is not None and MARK in traw:
            new = _flag_off(traw)
            rep["flag_backup"] = _write(toml_path, traw, new)
            if not new.strip():
                toml_path.unlink()
            rep["notes"].append("removed the Codex hooks feature line aimem had added")
        reports.append(rep)
    return reports


def status(*, log_lines: int = 5) -> dict[str, Any]:
    """Where aimem's hooks are installed, and the hook runs' last log entries."""
    from aimem import hooklog

    here = _project_dir(True)
    out: dict[str, Any] = {"tools": [], "log": str(hooklog.log_path())}
    for tool in TOOLS.values():
        for scope, where in (("user", None), ("project", here)):
            path = tool.settings_path(where)
            entry: dict[str, Any] = {"tool": tool.name, "scope": scope, "file": str(path),
                                     "exists": path.exists(), "events": {}, "problem": None}
            try:
                _, data, _ = _read_json(path)
                entry["events"] = installed_events(data)
                if tool.name == "gemini-cli" and \
                        (data.get("hooksConfig") or {}).get("enabled") is False:
                    entry["problem"] = "hooksConfig.enabled is false: Gemini CLI runs no hooks"
                if tool.name == "codex" and entry["events"]:
                    _, tdata = _read_toml(path.with_name("config.toml"))
                    entry["feature_flag"] = codex_flag(tdata)
                    if codex_flag(tdata) is False:
                        entry["problem"] = "config.toml turns Codex hooks off"
            except AimemError as e:
                entry["problem"] = str(e)
            out["tools"].append(entry)
    entries = hooklog.read(200)
    out["last_runs"] = entries[-log_lines:]
    out["last_errors"] = [e for e in entries if e.get("level") == "error"][-log_lines:]
    return out
