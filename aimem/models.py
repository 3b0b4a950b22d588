"""Plain data objects shared by importers, the store and the front ends.

Importers yield these; the store persists them; services return them. Times
are UTC epoch seconds (floats) everywhere inside aimem, ISO 8601 only at the
edges (see :mod:`aimem.timeutil`).
"""

from __future__ import annotations

import hashlib
import operator
import re
from dataclasses import dataclass, field, fields
from typing import Any

ROLES = ("user", "assistant", "system", "tool")
MEMORY_KINDS = ("fact", "preference", "instruction", "project", "person", "other")


_SPACES = re.compile(r"\s+")


def memory_hash(text: str) -> str:
    """Hash of a memory's normalised text: case, spacing and end punctuation do not count."""
    norm = _SPACES.sub(" ", text.casefold()).strip().rstrip(".!?;: ")
    return hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def make_id(*parts: str | None) -> str:
    """A stable 16-hex-digit id derived from its parts (source + source id, or content)."""
    joined = "\x1f".join("" if p is None else p for p in parts)
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


@dataclass(slots=True)
class Message:
    role: str
    text: str
    source_id: str | None = None
    author: str | None = None
    created_at: float | None = None
    id: str | None = None
    extra: dict[str, Any] | None = None
    # Off-branch messages only (Conversation.branches): the source id of the message this
    # one follows in the source's tree (on the visible branch or another branch), or None.
    parent: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled in bulk by the process that reads a large import ahead
        # (aimem.services.prepare_ahead): the fields as one tuple pickle in half the time
        # of the default state (25k messages: 51 -> 26 ms, unpickled 30 -> 15 ms).
        return (Message, _message_fields(self))


_message_fields = operator.attrgetter(*(f.name for f in fields(Message)))


@dataclass(slots=True)
class Conversation:
    source: str
    messages: list[Message] = field(default_factory=list)
    source_id: str | None = None
    id: str | None = None
    title: str | None = None
    created_at: float | None = None
    updated_at: float | None = None
    model: str | None = None
    project: str | None = None
    tags: list[str] = field(default_factory=list)
    summary: str | None = None
    extra: dict[str, Any] | None = None
    # Tree-shaped sources (ChatGPT edits and regenerations, Claude.ai retries, Open WebUI):
    # the messages that are not on the visible branch, kept outside ``messages``.
    branches: list[Message] = field(default_factory=list)
    # Source ids of messages the source itself says were deleted (Gemini CLI ``$rewindTo``):
    # the only messages a re-import may drop from a stored copy.
    deleted: list[str] = field(default_factory=list)


@dataclass(slots=True)
class MemoryItem:
    text: str
    kind: str = "fact"
    id: str | None = None
    tags: list[str] = field(default_factory=list)
    created_at: float | None = None
    updated_at: float | None = None
    source: str = "manual"
    pinned: bool = False
    extra: dict[str, Any] | None = None
    use_count: int = 0  # recalls: shown, injected, fetched through MCP
    last_used: float | None = None
    conversation: int | None = None  # rowid of the conversation it was distilled from
    project: str | None = None  # the project folder it belongs to; None: global


@dataclass(slots=True)
class Skipped:
    """Something in an input that was deliberately not imported, and why."""

    where: str
    reason: str


@dataclass(slots=True)
class Filters:
    """The filters every command accepts (interface.md), already parsed."""

    sources: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    since: float | None = None
    until: float | None = None
    roles: list[str] = field(default_factory=list)
    conversation: str | None = None  # a full conversation id
    project: str | None = None  # a project folder: items in it or in a folder below it

    @property
    def conversation_only(self) -> bool:
        """True when a filter only makes sense for messages (memories drop out)."""
        return bool(self.roles or self.conversation)


@dataclass(slots=True)
class FileReport:
    path: str
    format: str | None
    conversations: int = 0
    memories: int = 0
    error: str | None = None


@dataclass(slots=True)
class ImportReport:
    conversations_added: int = 0
    conversations_updated: int = 0
    conversations_unchanged: int = 0
    messages_added: int = 0
    # messages of a stored copy that the imported copy lacks, kept (never silently dropped)
    messages_kept: int = 0
    # messages dropped because the source says they were deleted (Gemini CLI $rewindTo)
    messages_deleted: int = 0
    memories_added: int = 0
    memories_unchanged: int = 0
    # items another device (or this one) forgot: never brought back by an import (sync)
    forgotten: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    redactions: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversations_added": self.conversations_added,
            "conversations_updated": self.conversations_updated,
            "conversations_unchanged": self.conversations_unchanged,
            "messages_added": self.messages_added,
            "messages_kept": self.messages_kept,
            "messages_deleted": self.messages_deleted,
            "memories_added": self.memories_added,
            "memories_unchanged": self.memories_unchanged,
            "forgotten": self.forgotten,
            "skipped": [{"where": s.where, "reason": s.reason} for s in self.skipped],
            "files": [
                {"path": f.path, "format": f.format, "conversations": f.conversations,
                 "memories": f.memories, **({"error": f.error} if f.error else {})}
                for f in self.files
            ],
            "redactions": self.redactions,
            "dry_run": self.dry_run,
        }
