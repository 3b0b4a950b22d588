"""The background embedder: what ``import``, ``sync``, ``remember`` and the hooks start
after they add text, once an embedding model is configured.

``start()`` launches ``python -m aimem.services.embed_job DB`` as a detached process
(output in ``embed.log`` beside the database) and returns at once, so adding text never
waits for, or fails because of, the model. At most one embedder runs per database: it
holds an flock on ``<db>-locks/embed``. A job started while another runs only leaves a
mark (``embed.again``) and exits; the running one sees the mark when it finishes and
embeds once more, so nothing added meanwhile is left out and no two jobs embed the same
items side by side.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

from aimem.store.runs import lock_dir

ROUNDS = 5  # a job embeds again at most this many times for marks left while it ran


def _paths(db: Path) -> tuple[Path, Path]:
    folder = lock_dir(db)
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / "embed", folder / "embed.again"


def start(db: Path) -> bool:
    """Start the background embedder for ``db`` (see the module's docstring); False when
    it could not be started (no log file can be written there): what was added stays,
    and ``aimem embed`` picks it up later."""
    import subprocess

    log = db.parent / "embed.log"
    try:
        with open(log, "ab") as out:
            subprocess.Popen([sys.executable, "-m", "aimem.services.embed_job", str(db)],
                             stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                             start_new_session=True, close_fds=True)
    except OSError:
        return False
    return True


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _embed_once(db: Path) -> None:
    from aimem.services import Archive

    with Archive.open(db, create=False) as archive:
        report = archive.embed()
    line = f"embedded {report['embedded']:,} with {report['model']}"
    if report["failed"]:
        line += f"; {report['failed']:,} failed: " + "; ".join(report["errors"][:3])
    if report["stopped"]:
        line += f"; stopped: {report['stopped']}"
    print(line, flush=True)


def run(db: Path) -> int:
    """Embed until no mark is left; return how many passes this process made (0: another
    job was running and was left a mark)."""
    lock, again = _paths(db)
    passes = 0
    while True:
        fd = _try_lock(lock)
        if fd is None:
            again.touch()
            return passes
        try:
            for _ in range(ROUNDS):
                again.unlink(missing_ok=True)
                _embed_once(db)
                passes += 1
                if not again.exists():
                    break
        finally:
            os.close(fd)  # releases the flock
        if not again.exists() or passes >= ROUNDS:
            return passes  # else a mark arrived between the last check and the release


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m aimem.services.embed_job DB", file=sys.stderr)
        return 2
    from aimem.errors import AimemError

    try:
        run(Path(argv[0]))
    except AimemError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
