"""Errors a user can fix, and the exit codes the CLI maps them to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # bad input, unknown id, missing database, model error
    USAGE = 2  # Typer/Click's own usage errors
    INTERRUPTED = 130


class AimemError(Exception):
    """A failure the user can fix. Front ends print ``str(err)`` on one line."""

    exit_code = ExitCode.FAILURE


class NotFound(AimemError):
    """An id or prefix that matches nothing, or more than one thing."""


class DatabaseMissing(AimemError):
    """A read-only command pointed at a database that does not exist."""


class Interrupted(AimemError):
    """A running query was stopped on purpose (``Archive.interruptible``): its result would
    only be thrown away. Front ends catch it instead of ``sqlite3``'s own error."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, why: str = "interrupted"):
        super().__init__(why)


class ImportFailed(AimemError):
    """An input that cannot be imported: nothing was written."""

    def __init__(self, where: str, why: str):
        self.where = where
        self.why = why
        super().__init__(f"{where}: {why}")

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # pickled by the process that reads a large input (aimem.services.prepare_ahead)
        return (type(self), (self.where, self.why))


# SQLite's primary result codes (``exc.sqlite_errorcode & 0xff``) that a person can act on.
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_INTERRUPT = 5, 6, 8, 9
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26


def database_error_message(exc: Exception, path: object) -> str:
    """One line saying what an ``sqlite3.Error`` on the database at ``path`` means to a person.

    Front ends use it for the failures no code path expects (a read-only file, a full
    disk, a damaged file, another process holding the lock) instead of a traceback.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    why = " ".join(str(exc).split()) or type(exc).__name__
    if primary is None:  # no code: recognise SQLite's usual wording
        for text, guess in (("locked", _SQLITE_BUSY), ("readonly", _SQLITE_READONLY),
                            ("disk is full", _SQLITE_FULL), ("malformed", _SQLITE_CORRUPT),
                            ("not a database", _SQLITE_NOTADB)):
            if text in why:
                primary = guess
                break
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return (f"the database {path} is busy ({why}): another aimem process is writing to it; "
                "try again when it has finished")
    if primary == _SQLITE_READONLY:
        return (f"cannot write to {path} ({why}): the file, or its folder, is read-only; "
                "reading commands still work")
    if primary == _SQLITE_FULL:
        return (f"the disk holding {path} is full ({why}): this change was not saved; "
                "free some space and try again")
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return (f"{path} is not a usable aimem database ({why}): the file is damaged or is "
                "not an aimem database; aimem doctor says more, or restore a backup")
    if primary == _SQLITE_IOERR:
        return f"cannot read or write {path} ({why}): check the disk and its free space"
    if primary == _SQLITE_CANTOPEN:
        return f"cannot open {path} ({why}): check that its folder exists and is writable"
    if primary == _SQLITE_INTERRUPT:
        return "interrupted"
    return f"database error on {path}: {why}"


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "interrupted" (a progress handler or ``interrupt()``)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == _SQLITE_INTERRUPT
    return "interrupted" in str(exc)


def os_error_message(exc: OSError) -> str:
    """One line for a failed file operation: what failed, on which file."""
    what = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return what[:1].lower() + what[1:] + (f": {' -> '.join(names)}" if names else "")
