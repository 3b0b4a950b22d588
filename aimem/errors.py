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


class ImportFailed(AimemError):
    """An input that cannot be imported: nothing was written."""

    def __init__(self, where: str, why: str):
        self.where = where
        self.why = why
        super().__init__(f"{where}: {why}")
