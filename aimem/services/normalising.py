"""What makes an imported conversation safe to store and to import again: ids and times
filled in (:func:`normalise`), its content hash, the merge that keeps the messages a
shorter copy lacks (:func:`merge`), and the cutting of what an aimem hook injected."""

from __future__ import annotations

import hashlib

from aimem import jsonio, recall
from aimem.models import Conversation, Message, make_id
from aimem.timeutil import valid_epoch


def _message_key(m: Message) -> tuple[object, ...]:
    return (m.id, m.source_id, m.role, m.author, m.text, m.created_at, m.extra)


def _content_hash(c: Conversation) -> str:
    data: list[object] = [c.source, c.source_id, c.title, c.created_at, c.updated_at, c.model,
                          c.project, c.summary, c.extra, [_message_key(m) for m in c.messages]]
    if c.branches:  # only then: the hashes of conversations without branches stay as they were
        data.append([(*_message_key(m), m.parent) for m in c.branches])
    return hashlib.blake2b(jsonio.dumps(data), digest_size=16).hexdigest()


def _interleave(old: list[Message], new: list[Message], keep: set[str]) -> list[Message]:
    """``new`` with the ``keep`` messages of ``old`` put back where they were: each right
    after the message it followed in ``old`` that ``new`` still has (at the start when
    none)."""
    new_ids = {m.id for m in new}
    after: dict[str | None, list[Message]] = {}
    anchor: str | None = None
    for m in old:
        if m.id in new_ids:
            anchor = m.id
        elif m.id in keep:
            after.setdefault(anchor, []).append(m)
    out = list(after.get(None, ()))
    for m in new:
        out.append(m)
        out += after.get(m.id, ())
    return out


def merge(c: Conversation, old: list[Message], old_branches: list[Message],
          tree: bool) -> tuple[int, int]:
    """Fold the stored copy's messages that ``c`` lacks back into ``c``; (kept, deleted).

    A re-import adds and updates, it never drops: a message of the stored copy that the
    new copy lacks is kept, unless the source says it was deleted (``c.deleted``: only
    Codex's ``thread_rolled_back`` and Gemini CLI's ``$rewindTo`` and whole-list ``$set``
    of ``messages`` record deletions; ChatGPT, Claude.ai and Open WebUI exports keep every
    branch, and the other formats cannot say). In a tree-shaped conversation
    ``messages`` is the visible branch, so a message that left it becomes off-branch; in a
    log it stays in ``messages``, after the message it followed.
    """
    present = {m.id for m in c.messages}
    present.update(m.id for m in c.branches)
    deleted = set(c.deleted)
    dropped = 0

    def lost(m: Message) -> bool:
        nonlocal dropped
        if m.id in present:
            return False
        if m.source_id is not None and m.source_id in deleted:
            dropped += 1
            return False
        return True

    gone = [m for m in old if lost(m)]
    gone_branches = [m for m in old_branches if lost(m)]
    if gone and tree:
        previous: dict[str | None, str | None] = {}
        last: str | None = None
        for m in old:
            previous[m.id] = last
            last = m.source_id or last
        for m in gone:
            m.parent = previous.get(m.id)
        c.branches = c.branches + gone
    elif gone:
        c.messages = _interleave(old, c.messages, {m.id for m in gone if m.id})
    c.branches = c.branches + gone_branches
    return len(gone) + len(gone_branches), dropped


def _default_title(c: Conversation) -> str | None:
    for m in c.messages:
        if m.role == "user" and m.text.strip():
            line = m.text.strip().splitlines()[0].strip()
            return line if len(line) <= 80 else line[:79].rstrip() + "…"
    return None


def normalise(c: Conversation) -> Conversation:
    """Fill in ids, title and times that the source did not give."""
    if not c.id:
        if c.source_id:
            c.id = make_id(c.source, c.source_id)
        else:
            digest = hashlib.blake2b(jsonio.dumps([(m.role, m.text) for m in c.messages]),
                                     digest_size=16).hexdigest()
            c.id = make_id(c.source, "content", digest)
    used: set[str] = set()
    c.created_at, c.updated_at = valid_epoch(c.created_at), valid_epoch(c.updated_at)
    for m in c.branches:
        m.created_at = valid_epoch(m.created_at)
    for i, m in enumerate(c.messages):
        m.created_at = valid_epoch(m.created_at)  # an importer's raw number may be no date
        if not m.id:
            m.id = make_id(c.id, m.source_id) if m.source_id else make_id(c.id, str(i), m.role,
                                                                           m.text)
            if m.id in used:
                m.id = make_id(c.id, str(i), m.source_id, m.text)
        used.add(m.id)
    for i, m in enumerate(c.branches):
        if not m.id:
            m.id = make_id(c.id, m.source_id) if m.source_id else make_id(
                c.id, "branch", str(i), m.parent, m.role, m.text)
            if m.id in used:
                m.id = make_id(c.id, "branch", str(i), m.source_id, m.text)
        used.add(m.id)
    if not (c.title or "").strip():
        c.title = _default_title(c)
    times = [m.created_at for m in c.messages if m.created_at is not None]
    if c.created_at is None and times:
        c.created_at = min(times)
    if c.updated_at is None:
        c.updated_at = max(times) if times else c.created_at
    return c


def _drop_recalled(c: Conversation) -> None:
    """Cut out what an aimem hook injected (aimem.recall): it is not the session's content."""
    if not any(recall.contains(m.text) for m in c.messages):
        return
    kept = []
    for m in c.messages:
        if recall.contains(m.text):
            m.text = recall.strip_recalled(m.text)
            if not m.text.strip():
                continue
        kept.append(m)
    c.messages = kept
