"""The result models of aimem's MCP tools: each tool returns one, so results are
structured and their JSON schema is published in ``tools/list``.

What a client sees of a model is its class name, its fields and their descriptions: a
class docstring would become the schema's description too, so these classes have none
(comments instead), and renaming one changes the published schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- the detailed tools (reads, writes) -------------------------------------------------------


class MemoryOut(_Out):
    id: str
    text: str
    kind: str
    tags: list[str] = []
    created_at: str | None = None
    updated_at: str | None = None
    source: str | None = None
    pinned: bool = False
    use_count: int = 0
    last_used_at: str | None = None
    truncated: bool = Field(False, description="text was cut; get_memory(id) has all of it")


class SavedMemory(MemoryOut):
    created: bool = Field(description="False: the same memory existed and was refreshed")


class MemoryList(_Out):
    memories: list[MemoryOut]
    offset: int
    next_offset: int | None = Field(description="Pass as offset for the next page; null at the end")


class MemoryHit(_Out):
    id: str
    text: str
    kind: str | None = None
    source: str | None = None
    updated_at: str | None = None
    score: float
    truncated: bool = False


class MemorySearch(_Out):
    query: str
    hits: list[MemoryHit] = Field(description="Matching memories, best first")


class ConversationHit(_Out):
    kind: Literal["message", "conversation"] = Field(
        description="message: a matching message; conversation: a matching title or summary")
    conversation_id: str
    message_id: str | None = None
    title: str | None = None
    source: str | None = None
    role: str | None = None
    author: str | None = None
    created_at: str | None = None
    score: float
    snippet: str = Field(description="The match in context, matched words in [brackets]")
    text: str
    truncated: bool = False


class ConversationSearch(_Out):
    query: str
    hits: list[ConversationHit] = Field(description="Best first; open one with get_conversation")


class MessageOut(_Out):
    id: str
    role: str
    author: str | None = None
    created_at: str | None = None
    text: str
    chars: int = Field(description="Length of the full text")
    truncated: bool = Field(False, description="text was cut; get_message(id, offset) reads on")


class ConversationOut(_Out):
    id: str
    source: str
    source_id: str | None = None
    title: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    tags: list[str] = []
    summary: str | None = None
    model: str | None = None
    project: str | None = None
    message_count: int
    focus: str | None = Field(None, description="The message id that was asked for, if any")
    offset: int = Field(description="Index of the first message returned")
    next_offset: int | None = Field(description="Pass as offset for more messages; null at the end")
    messages: list[MessageOut]


class MessageText(_Out):
    id: str
    conversation_id: str
    role: str
    author: str | None = None
    created_at: str | None = None
    text: str
    offset: int
    total_chars: int
    next_offset: int | None = Field(description="Pass as offset to read on; null at the end")


class ConversationBrief(_Out):
    id: str
    source: str
    title: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    tags: list[str] = []
    summary: str | None = None
    model: str | None = None
    messages: int


class ConversationList(_Out):
    conversations: list[ConversationBrief] = Field(description="Newest first")
    offset: int
    next_offset: int | None


class InjectResult(_Out):
    query: str
    budget: int
    tokens: int = Field(description="Estimated tokens of context (never above budget)")
    context: str = Field(description="The context block (Markdown), quoted reference data")


class Profile(_Out):
    pinned: list[MemoryOut] = Field(description="Pinned memories: always relevant")
    kinds: dict[str, list[MemoryOut]] = Field(description="Preferences and instructions")
    synthesized: str | None = Field(None, description="A paragraph about the user, if made")
    more: int = Field(0, description="Memories left out to keep this short (list_memories has them)")


class Stats(_Out):
    model_config = ConfigDict(extra="allow")
    conversations: int
    messages: int
    memories: int
    tags: int = 0
    by_source: list[dict[str, Any]] = []
    first: str | None = None
    last: str | None = None
    path: str | None = None
    size_bytes: int | None = None


class TagOut(_Out):
    name: str
    conversations: int
    memories: int


class TagList(_Out):
    tags: list[TagOut]
    offset: int
    next_offset: int | None


class Deleted(_Out):
    id: str
    kind: str
    title: str | None = None


class DeleteResult(_Out):
    deleted: list[Deleted]


class ExportPage(_Out):
    format: Literal["jsonl", "json"]
    offset: int
    count: int = Field(description="Items on this page")
    next_offset: int | None = Field(description="Pass as offset for the next page; null at the end")
    items: list[dict[str, Any]] | None = Field(None, description="format json: the objects")
    text: str | None = Field(None, description="format jsonl: one aimem JSONL line per item")


class ImportResult(_Out):
    model_config = ConfigDict(extra="allow")
    conversations_added: int
    conversations_updated: int
    conversations_unchanged: int
    messages_added: int
    memories_added: int
    memories_unchanged: int
    skipped: list[dict[str, Any]] = []
    skipped_more: int = 0
    files: list[dict[str, Any]] = []
    dry_run: bool = False


# -- the core profile (small: their schemas are part of every session's context) --------


class Hit(_Out):
    id: str
    kind: str
    title: str = ""
    date: str = ""
    snippet: str


class Hits(_Out):
    hits: list[Hit]


class Page(_Out):
    id: str
    kind: str
    text: str
    next_offset: int | None = None


class Saved(_Out):
    id: str
    created: bool = True


class Context(_Out):
    tokens: int
    context: str


class Result(_Out):
    result: str

