"""What the screens use, handed to each screen when it is made (never read from ``self.app``).

:class:`Context` holds the database helper and whether summaries can be written. The app
makes one and passes it to every screen it pushes; a screen passes it on to the screens
it opens. Tests can build a screen around their own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from aimem.errors import AimemError
from aimem.tui.db import Database

SUMMARIZE_HINT = "summaries need an llm model"


class ModelStatus:
    """Whether an llm model is configured and ready (``aimem summarize`` would work).

    :meth:`check` asks llm (through :mod:`aimem.llm_bridge`: the model named by
    ``$LLM_MODEL``, else llm's default model, and its key). It imports llm and its plugins
    (about a second of CPU), so it runs on a worker thread, and only once something needs
    the answer (a footer showing "Summarize"), a moment after that screen is shown: not
    while the first query is typed, nor while a conversation is being laid out.
    Until it has answered, summaries count as possible: a summary started meanwhile
    reports its own failure.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = False
        self._checked = False
        self._problem: str | None = None

    def start(self) -> bool:
        """True the first time only: the caller runs :meth:`check` (on a worker thread)."""
        with self._lock:
            first, self._started = not self._started, True
        return first

    def check(self) -> str | None:
        """Ask llm now; the problem in one line (None: a model is ready). Thread-safe."""
        from aimem import llm_bridge

        try:
            llm_bridge.get_model().check_ready()
            problem = None
        except AimemError as e:
            problem = " ".join(str(e).split())
        except Exception as e:  # noqa: BLE001 - a broken llm plugin must not stop the browser
            problem = " ".join(str(e).split()) or type(e).__name__
        with self._lock:
            self._checked, self._problem = True, problem
        return problem

    @property
    def started(self) -> bool:
        return self._started

    @property
    def checked(self) -> bool:
        return self._checked

    @property
    def ready(self) -> bool:
        """False only once :meth:`check` found no usable model."""
        return self._problem is None

    @property
    def hint(self) -> str:
        """Why summaries cannot be written, for a notification."""
        return f"{SUMMARIZE_HINT}: {self._problem}" if self._problem else SUMMARIZE_HINT


@dataclass(frozen=True, slots=True)
class Context:
    db: Database
    model: ModelStatus = field(default_factory=ModelStatus)
