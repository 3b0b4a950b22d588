"""Heat: recalled and recent items rank a little higher, matching ones only.

An item's final score is its BM25 score times its heat::

    heat = 1 + min(0.3, 0.1 * ln(1 + uses)) + 0.2 * 0.5 ** (days_since_last_touch / 30)

``uses`` counts recalls (``aimem show``, ``inject``, MCP reads). The last touch is
the last recall, or for a memory the last time it was saved or edited; an item
never recalled (or, for messages, whose conversation was never recalled) gets no
recency bonus. So heat lies between 1.0 and 1.5: it reorders items that match a
query about equally well, and it is applied to search hits only, so it can never
bring in an item that does not match. Pinned memories are not ranked by heat: they
always come first in ``inject``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from aimem.store.db import Store

USE_WEIGHT = 0.1
USE_CAP = 0.3
RECENCY_WEIGHT = 0.2
HALF_LIFE_DAYS = 30.0


def heat(uses: int, last_touch: float | None, now: float | None = None) -> float:
    """The multiplier for an item used ``uses`` times, last touched at ``last_touch``."""
    h = 1.0 + min(USE_CAP, USE_WEIGHT * math.log1p(max(uses, 0)))
    if last_touch is not None:
        days = max(0.0, ((time.time() if now is None else now) - last_touch) / 86400)
        h += RECENCY_WEIGHT * 0.5 ** (days / HALF_LIFE_DAYS)
    return h


def apply(store: Store, hits: Sequence[dict[str, Any]], now: float | None = None
          ) -> list[dict[str, Any]]:
    """Hits re-scored by heat and re-sorted, best first (``score`` is the final score).

    Hits keep their tier: every all-words match stays ahead of any-word matches.
    """
    now = time.time() if now is None else now
    mem_ids = [h["id"] for h in hits if h["kind"] == "memory"]
    conv_ids = list({h["conversation_id"] for h in hits if h["kind"] != "memory"})
    mem_use = store.use_stats("memory", mem_ids)
    conv_use = store.use_stats("conversation", conv_ids)
    touched = store.memory_touch_times(mem_ids) if mem_ids else {}
    out = []
    for h in hits:
        if h["kind"] == "memory":
            uses, last = mem_use.get(h["id"], (0, None))
            times = [t for t in (last, touched.get(h["id"])) if t is not None]
            last = max(times) if times else None
        else:
            uses, last = conv_use.get(h["conversation_id"], (0, None))
        factor = heat(uses, last, now)
        if factor != 1.0:
            h = {**h, "score": h["score"] * factor}
        out.append(h)
    out.sort(key=lambda h: (h.get("tier", 0), -h["score"]))
    return out
