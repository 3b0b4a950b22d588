"""Turning what a person typed for the common filters into :class:`~aimem.models.Filters`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aimem.errors import AimemError
from aimem.models import ROLES, Filters
from aimem.timeutil import parse_when

if TYPE_CHECKING:
    from aimem.services import Archive


def make_filters(mem: Archive, *, source: Sequence[str] | None = None,
                 tag: Sequence[str] | None = None, since: str | None = None,
                 until: str | None = None, role: Sequence[str] | None = None,
                 conversation: str | None = None, project: str | None = None,
                 here: bool = False) -> Filters | None:
    """Filters from strings; None when nothing is filtered. Raises AimemError on bad values."""
    roles = [r.lower() for r in role or []]
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise AimemError(f"unknown role {bad[0]!r}: use one of {', '.join(ROLES)}")
    try:
        f = Filters(sources=[s.lower() for s in source or []], tags=list(tag or []),
                    since=parse_when(since) if since else None,
                    until=parse_when(until, end=True) if until else None, roles=roles,
                    conversation=mem.conversation_filter(conversation),
                    project=project_filter(project, here))
    except ValueError as e:
        raise AimemError(str(e)) from None
    if not (f.sources or f.tags or f.since is not None or f.until is not None or f.roles
            or f.conversation or f.project):
        return None
    return f


def project_filter(project: str | None, here: bool) -> str | None:
    """The project folder for ``--project PATH`` / ``--here`` (the current one), or None."""
    if project and here:
        raise AimemError("use --project PATH or --here, not both")
    if not (project or here):
        return None
    from aimem.projects import project_root

    return project_root(project or ".")
