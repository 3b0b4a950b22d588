"""The git transport: a clone next to the database, pulled before and pushed after."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from aimem.errors import AimemError
from aimem.services.devices.base import GIT_BRANCH, LOG_DIR, DeviceReport, _h
from aimem.store.db import Store

if TYPE_CHECKING:
    import subprocess

# -- git transport ----------------------------------------------------------------------

def _git(repo: Path | None, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    import subprocess  # only a git location pays for it

    cmd = ["git", *(["-C", str(repo)] if repo else []), "-c", "user.name=aimem",
           "-c", "user.email=aimem@localhost", "-c", "commit.gpgsign=false", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError:
        raise AimemError("sync to a git remote needs git on the PATH") from None
    if check and proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise AimemError(f"git {args[0]} failed: {msg[-1] if msg else proc.returncode}")
    return proc


def _git_prepare(store: Store, url: str, report: DeviceReport,
                 scratch: Path | None = None) -> Path:
    """The clone of ``url`` next to the database, pulled; ``scratch``: a dry run's folder
    to clone into when there is no clone yet (nothing is left beside the database)."""
    repo = store.path.parent / "sync-git" / _h(url)
    if scratch is not None and not (repo / ".git").is_dir():
        repo = scratch / "clone"
    if not (repo / ".git").is_dir():
        repo.parent.mkdir(parents=True, exist_ok=True)
        _git(None, "clone", "--quiet", url, str(repo))
        _git(repo, "symbolic-ref", "HEAD", f"refs/heads/{GIT_BRANCH}", check=False)
    _git_pull(repo)
    return repo


def _git_pull(repo: Path) -> None:
    if _git(repo, "ls-remote", "--exit-code", "origin", f"refs/heads/{GIT_BRANCH}",
            check=False).returncode == 0:
        _git(repo, "pull", "--quiet", "--rebase", "origin", GIT_BRANCH)


def _git_publish(repo: Path, dev: str, name: str, report: DeviceReport) -> None:
    if not (repo / LOG_DIR / dev).is_dir():
        report.git = "nothing to push"
        return
    _git(repo, "add", "--", f"{LOG_DIR}/{dev}")
    if _git(repo, "diff", "--cached", "--quiet", check=False).returncode != 0:
        _git(repo, "commit", "--quiet", "-m", f"aimem sync from {name} ({dev})")
    ahead = _git(repo, "rev-list", "--count", f"origin/{GIT_BRANCH}..HEAD", check=False)
    if ahead.returncode == 0 and ahead.stdout.strip() == "0":
        report.git = "up to date"
        return
    for attempt in range(5):
        push = _git(repo, "push", "--quiet", "origin", f"HEAD:{GIT_BRANCH}", check=False)
        if push.returncode == 0:
            report.git = "pushed" + (f" after {attempt} retries" if attempt else "")
            return
        _git_pull(repo)  # another device pushed first: take theirs (other files), retry
    raise AimemError("git push was rejected five times: try again later")
