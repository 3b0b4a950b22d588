"""``aimem sync``: import what changed in the AI tools' own folders on this machine.

The known sources are the session folders of Claude Code, Codex CLI and Gemini CLI
and ``llm``'s logs.db, plus any path the user added (``aimem sync --add PATH``), in
which Aider's ``.aider.chat.history.md`` and SpecStory's ``.specstory/history/*.md``
are found too, as they are in every project folder a Claude Code, Codex or Gemini CLI
session ran in (:func:`project_sources`). A
file is imported again only when its size or mtime differs from what the import log
recorded for it (or, for SQLite files, when its ``-wal`` file changed since), so a
sync over thousands of session files costs a ``stat`` each. Each changed file is its
own transaction: one bad file is reported and the others are still imported.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimem.errors import AimemError, ImportFailed
from aimem.store.db import Store

# The importers (every format's module, and entry points) load only when a file changed:
# a sync with nothing new costs a stat per file, not the import of fourteen parsers.

# Files some tools keep under a hidden name inside the project folder (SpecStory's
# .specstory/history/*.md are ordinary names inside a hidden folder, found as they are).
HIDDEN_HISTORIES = {".aider.chat.history.md"}


@dataclass(slots=True)
class Source:
    name: str
    path: Path
    pattern: str | None  # a glob under path; None when path is one file

    def files(self) -> Iterator[Path]:
        if self.pattern is None:
            if self.path.is_file():
                yield self.path
            return
        if not self.path.is_dir():
            return
        # only an added folder's "**/*" can match media; the tools' own patterns name a suffix
        media = _media_suffixes() if self.name == "added" else frozenset()
        for p in sorted(self.path.glob(self.pattern)):
            if p.is_file() and (not p.name.startswith(".") or p.name in HIDDEN_HISTORIES) and \
                    p.suffix.lower() not in media and not _companion(p):
                yield p

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "exists": self.path.exists()}


def _media_suffixes() -> frozenset[str]:
    from aimem.importers import MEDIA_SUFFIXES

    return frozenset(MEDIA_SUFFIXES)


def _companion(p: Path) -> bool:
    return p.name.endswith(("-wal", "-shm", "-journal"))


def _env_path(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or default).expanduser()


def llm_logs_path() -> Path:
    """Where ``llm`` keeps logs.db ($LLM_USER_PATH, else its user config folder)."""
    if os.environ.get("LLM_USER_PATH"):
        return Path(os.environ["LLM_USER_PATH"]).expanduser() / "logs.db"
    from platformdirs import user_config_dir

    return Path(user_config_dir("io.datasette.llm", appauthor=False)) / "logs.db"


def known_sources() -> list[Source]:
    """The AI tools' own folders, where they are on this machine (they may not exist)."""
    return [
        Source("claude-code", _env_path("CLAUDE_CONFIG_DIR", "~/.claude") / "projects",
               "**/*.jsonl"),
        Source("codex", _env_path("CODEX_HOME", "~/.codex") / "sessions", "**/*.jsonl"),
        # chats/<session>.json(l), and sub-agents in chats/<parent session>/
        Source("gemini-cli", Path("~/.gemini/tmp").expanduser(), "**/chats/**/*.json*"),
        Source("llm", llm_logs_path(), None),
    ]


# Agents whose sessions name the project folder they ran in (their cwd): aimem sync looks
# there for the histories other tools keep inside a project (Aider, SpecStory).
PROJECT_AGENTS = ("claude-code", "codex", "gemini-cli")


def project_sources(store: Store) -> list[Source]:
    """Aider's and SpecStory's histories in the projects the agents (and their hooks) ran
    in: a user who works there with Aider too gets those chats without adding the folder."""
    out = []
    for raw in store.projects_of(PROJECT_AGENTS):
        p = Path(raw)
        if not p.is_absolute():
            continue
        out.append(Source("aider", p / ".aider.chat.history.md", None))
        out.append(Source("specstory", p / ".specstory" / "history", "*.md"))
    return out


def sources(store: Store) -> list[Source]:
    added = []
    for raw in store.sync_sources():
        p = Path(raw)
        added.append(Source("added", p, None if p.is_file() else "**/*"))
    return known_sources() + added + project_sources(store)


def add_source(store: Store, path: str) -> str:
    p = Path(path).expanduser().resolve()
    if not p.exists():
        raise AimemError(f"{path}: no such file or directory")
    with store.transaction():
        store.add_sync_source(str(p))
    return str(p)


def remove_source(store: Store, path: str) -> str:
    p = str(Path(path).expanduser().resolve())
    with store.transaction():
        if not store.remove_sync_source(p) and not store.remove_sync_source(path):
            raise AimemError(f"{path} is not an added sync folder (see aimem sync --list)")
    return p


@dataclass(slots=True)
class SyncReport:
    files_seen: int = 0
    files_changed: int = 0
    conversations_added: int = 0
    conversations_updated: int = 0
    messages_added: int = 0
    messages_kept: int = 0  # of stored copies, that the newer file no longer had
    messages_deleted: int = 0  # because the source said so (Gemini CLI $rewindTo)
    memories_added: int = 0
    redactions: int = 0
    imported: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


def changed(store: Store, path: Path) -> bool:
    """Whether ``path`` differs from what its last import recorded."""
    last = store.last_import(str(path))
    if last is None:
        return True
    size, mtime, finished = last
    st = path.stat()
    if size != st.st_size or mtime != st.st_mtime:
        return True
    wal = path.with_name(path.name + "-wal")  # SQLite writes go here before a checkpoint
    return wal.exists() and finished is not None and wal.stat().st_mtime > finished


def sync(store: Store, *, redact: bool = True,
         on_file: Callable[[str, int, int], None] | None = None) -> SyncReport:
    """Import every changed file of every source; returns what was done."""
    report = SyncReport()
    todo: list[tuple[Source, Path]] = []
    for src in sources(store):
        files = list(src.files())
        report.sources.append({**src.to_dict(), "files": len(files)})
        report.files_seen += len(files)
        todo += [(src, f) for f in files if changed(store, f)]
    report.files_changed = len(todo)
    if todo:
        from aimem.services.importing import import_paths
    for i, (src, path) in enumerate(todo, 1):
        if on_file:
            on_file(str(path), i, len(todo))
        try:
            r = import_paths(store, [str(path)], redact=redact, in_folder=src.name == "added")
        except ImportFailed as e:
            if src.name == "added" and "no recognised export" in e.why:
                _remember_failure(store, path, e.why)  # not an export: do not retry it
                continue
            report.errors.append({"path": str(path), "error": e.why})
            _remember_failure(store, path, e.why)
            continue
        except AimemError as e:
            report.errors.append({"path": str(path), "error": str(e)})
            continue
        report.conversations_added += r.conversations_added
        report.conversations_updated += r.conversations_updated
        report.messages_added += r.messages_added
        report.messages_kept += r.messages_kept
        report.messages_deleted += r.messages_deleted
        report.memories_added += r.memories_added
        report.redactions += sum(r.redactions.values())
        if r.conversations_added or r.conversations_updated or r.memories_added:
            report.imported.append({"path": str(path), "source": src.name,
                                    "added": r.conversations_added,
                                    "updated": r.conversations_updated,
                                    "messages_added": r.messages_added})
    return report


def _remember_failure(store: Store, path: Path, why: str) -> None:
    """Log a failed file with its size and mtime, so it is retried only once it changes."""
    st = path.stat()
    with store.transaction():
        store.log_import(time.time(), str(path), None, st.st_size, st.st_mtime, None,
                         {"error": why})
