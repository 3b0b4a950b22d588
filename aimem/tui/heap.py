"""Keep Python's garbage collector from pausing keystrokes.

Every keystroke in the browser builds and drops thousands of small objects (options,
styled text, strips), so Python's cyclic garbage collector runs often; its full
(generation 2) collections walk every object the process holds, most of them the
modules and widgets made at start-up, which never become garbage. Measured on the M
benchmark database (scripts/bench_tui.py): 1,666 collections in one run, the full ones
50–107 ms each, landing on keystrokes.

:func:`settle` runs once, when the first rows are on screen: it collects what start-up
left behind and moves every surviving object into the permanent generation
(``gc.freeze``), which later collections skip. They then walk only what was made since.
"""

from __future__ import annotations

import gc

_settled = False


def settle() -> None:
    """Collect start-up garbage once and freeze the survivors (later calls do nothing)."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
