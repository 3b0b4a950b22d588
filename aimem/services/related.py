"""``aimem related``: the conversations and memories closest to one conversation or memory.

By embeddings when the configured model has vectors for the item; otherwise by its most
distinctive words: its twelve most frequent words of four letters or more (stopwords
left out) searched without a phrase tier, ranked by bm25 (which favours the rare ones),
and the hits' scores summed per conversation or memory.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from aimem.store import search as fts
from aimem.timeutil import iso

if TYPE_CHECKING:
    from aimem.services import Archive


def related(archive: Archive, prefix: str, *, limit: int = 10) -> list[dict[str, Any]]:
    kind, full = archive.resolve(prefix, ("conversation", "memory"))
    store = archive.store
    rowid = (store.conversation_rowid(full) if kind == "conversation"
             else store.memory_rowid(full))
    assert rowid is not None
    model = archive._semantic_model(None)
    if model is not None:
        from aimem.services import semantic

        near = semantic.related_by_vectors(store, model, kind, rowid, limit)
        if near is not None:
            hits = fts.hits_for_rows(store.conn, near, None)
            return [_out(h, "embeddings") for h in hits]
    return _by_terms(archive, kind, full, limit)


def _out(h: dict[str, Any], by: str) -> dict[str, Any]:
    return {"kind": h["kind"], "id": h["id"], "title": h.get("title"),
            "text": h.get("text") if h["kind"] == "memory" else None,
            "source": h.get("source"), "created_at": iso(h.get("created_at")),
            "score": float(f"{h['score']:.6g}"), "by": by}


def _by_terms(archive: Archive, kind: str, full: str, limit: int) -> list[dict[str, Any]]:
    store = archive.store
    if kind == "memory":
        mem = store.get_memory(full)
        text, own_conv = (mem.text if mem else ""), None
    else:
        conv = store.get_conversation(full)
        text = " ".join([conv.title or ""] + [m.text for m in conv.messages]) if conv else ""
        own_conv = full
    words = Counter(w for w in re.findall(r"[^\W\d_]{4,}", text.lower())
                    if w not in fts.STOPWORDS)
    terms = [w for w, _ in words.most_common(12)]
    if not terms:
        return []
    q = fts.parse(" ".join(terms))
    q.typed = []  # no phrase tier: these words were never typed in this order
    hits = archive._lexical(q, None, limit * 20, ("message", "memory"), final=False)
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for h in hits:
        key = ("memory", h["id"]) if h["kind"] == "memory" else ("conversation",
                                                                 h["conversation_id"])
        if key == (kind, full) or key[1] == own_conv:
            continue
        if key in best:
            best[key]["score"] += h["score"]
        else:
            best[key] = {**h, "kind": key[0], "id": key[1], "score": h["score"]}
    ranked = sorted(best.values(), key=lambda h: -h["score"])[:limit]
    return [_out(h, "terms") for h in ranked]
