"""Which project a folder belongs to: its git root where there is one, else the folder.

Conversations from coding agents record the working directory they ran in; memories
can be saved for a project. A project is named by an absolute path, and a project
filter matches that folder and every folder below it (so a session started in
``repo/src`` belongs to ``repo``).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root(path: str | os.PathLike[str]) -> str:
    """The absolute git root above ``path`` (``.git`` folder or file), else ``path`` itself."""
    p = Path(path).expanduser()
    try:
        p = p.resolve()
    except OSError:
        p = Path(os.path.abspath(p))
    for d in (p, *p.parents):
        try:
            if (d / ".git").exists():
                return str(d)
        except OSError:
            break
    return str(p)
