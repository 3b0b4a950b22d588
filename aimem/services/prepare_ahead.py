"""Parse and prepare a large input in a second process while this one writes.

An import does two kinds of work: reading the export (JSON parsing, building messages,
redaction, normalising, the content hash) and writing it (SQLite: tables and the
full-text index). In one process they take turns, and a thread does not help: both are
Python code holding the GIL most of the time (measured: an S import took 3.6 s with and
without a read-ahead thread). A forked child process has its own interpreter, so on a
machine with two cores the reading runs beside the writing.

The child only reads the input and never touches the database (it leaves with
``os._exit``, so nothing inherited from this process, the SQLite connection included,
is ever closed or flushed by it). It sends the prepared items back through a pipe in
pickled chunks, in the order the importer yields them; the pipe's capacity keeps it at
most a chunk or two ahead, so memory stays bounded. When this process stops reading
(an error, Ctrl-C, ``kill -9``), the child's next write fails and it exits; :meth:`close`
also kills it and reaps it.

The child closes the parent's flock descriptors first (a flock belongs to the open
file, which a forked child shares: a child holding the run lock would make a killed
import look alive to the next command).

Used for inputs of :data:`MIN_BYTES` or more on Linux with two or more cores;
``AIMEM_IMPORT_FORK=never`` turns it off. Everything else prepares in this process,
exactly as before.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Generator, Sequence
from typing import Any, BinaryIO

from aimem.errors import AimemError
from aimem.importers.base import Importer, Input, Item
from aimem.models import Conversation

# Below this the fork (a few milliseconds) and the pickling cost more than they save.
MIN_BYTES = 4 * 1024 * 1024
# A chunk goes to the pipe when it holds this many messages (or conversations): big
# enough that pickling is cheap per item, small enough that both processes stay busy.
CHUNK_MESSAGES = 2000
CHUNK_ITEMS = 200
# Linux lets a pipe hold up to 1 MB (the default is 64 kB): the child blocks less often.
_PIPE_SIZE = 1 << 20
_HEADER = struct.Struct("<Q")

Prepare = Callable[[Conversation], str]


def wanted(inp: Input) -> bool:
    """Whether ``inp`` is worth preparing in a second process.

    ``AIMEM_IMPORT_FORK``: ``never``, ``always`` (any size, any number of cores: for
    tests), or unset: Linux, two or more cores, and :data:`MIN_BYTES` or more."""
    how = os.environ.get("AIMEM_IMPORT_FORK", "auto")
    if how == "never" or not hasattr(os, "fork"):
        return False
    if how == "always":
        return True
    # Linux only: on macOS a forked child may crash in system frameworks a parent used
    return (sys.platform.startswith("linux") and (os.cpu_count() or 1) >= 2
            and (inp.size or 0) >= MIN_BYTES)


class Ahead:
    """``for item, content_hash in Ahead(...).items()``: the importer's items, prepared
    in a child.

    ``counts`` (the run's redaction counter, or None) receives the child's counts at the
    end; ``close_in_child``: descriptors the child closes at once (the parent's flocks).
    ``inp.bytes_read`` follows the child's reading (for progress bars), and its
    ``sha256`` is the child's once the input is read.
    """

    def __init__(self, importer: Importer, inp: Input, prepare: Prepare,
                 counts: Counter[str] | None, *, close_in_child: Sequence[int] = ()):
        self.inp = inp
        self.counts = counts
        r, w = os.pipe()
        _grow_pipe(w)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(r)
            for fd in close_in_child:  # the parent's flocks: see Store.flock_fds
                try:
                    os.close(fd)
                except OSError:
                    pass
            _child(importer, inp, prepare, counts, w)
        os.close(w)
        self.pid: int | None = pid
        self.stream: BinaryIO | None = os.fdopen(r, "rb", buffering=_PIPE_SIZE)

    def items(self) -> Generator[tuple[Item, str | None], None, None]:
        try:
            while True:
                kind, payload, bytes_read = self._frame()
                self.inp.bytes_read = bytes_read
                if kind == "items":
                    yield from payload
                elif kind == "end":
                    sha, counts = payload
                    self.inp.adopt_digest(sha)
                    if self.counts is not None and counts:
                        self.counts.update(counts)
                    return
                else:  # "error": the importer raised; raised here as it would have been
                    raise payload
        finally:
            self.close()

    def _frame(self) -> tuple[str, Any, int]:
        assert self.stream is not None
        head = self.stream.read(_HEADER.size)
        if len(head) < _HEADER.size:
            raise AimemError(f"{self.inp.name}: the process reading it stopped unexpectedly")
        (n,) = _HEADER.unpack(head)
        data = self.stream.read(n)
        if len(data) < n:
            raise AimemError(f"{self.inp.name}: the process reading it stopped unexpectedly")
        return pickle.loads(data)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop and reap the child (idempotent)."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        if self.pid is not None:
            pid, self.pid = self.pid, None
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done == 0:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
            except (ChildProcessError, ProcessLookupError):
                pass


def _grow_pipe(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_SIZE)
    except (ImportError, OSError):
        pass  # not Linux, or a lower limit: the default size works, only slower


def _child(importer: Importer, inp: Input, prepare: Prepare, counts: Counter[str] | None,
           fd: int) -> None:
    """Read, prepare and send; leave with ``os._exit`` whatever happens."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C does
        if counts is not None:
            counts.clear()  # send only what this child counted
        out = os.fdopen(fd, "wb", buffering=_PIPE_SIZE)

        def send(kind: str, payload: Any) -> None:
            data = pickle.dumps((kind, payload, inp.bytes_read), pickle.HIGHEST_PROTOCOL)
            out.write(_HEADER.pack(len(data)))
            out.write(data)

        chunk: list[tuple[Item, str | None]] = []
        messages = 0
        try:
            for item in importer.parse(inp):
                if isinstance(item, Conversation):
                    chunk.append((item, prepare(item)))
                    messages += len(item.messages) + len(item.branches)
                else:
                    chunk.append((item, None))
                if messages >= CHUNK_MESSAGES or len(chunk) >= CHUNK_ITEMS:
                    send("items", chunk)
                    chunk, messages = [], 0
        except Exception as e:  # noqa: BLE001 - handed to the parent, which decides
            if chunk:
                send("items", chunk)
            # what AIMEM_DEBUG=1 shows: where it happened, in this process
            e.add_note("in the process reading ahead (aimem.services.prepare_ahead):\n"
                       + traceback.format_exc().rstrip())
            send("error", _portable(e))
        else:
            if chunk:
                send("items", chunk)
            send("end", (inp.sha256, dict(counts) if counts else None))
        out.flush()
        status = 0
    except BaseException:  # noqa: BLE001 - the parent has gone or stopped reading
        pass
    finally:
        os._exit(status)


def _portable(e: Exception) -> Exception:
    """``e`` if it survives pickling, else the same message in a type that does."""
    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:  # noqa: BLE001
        other: Exception = (AimemError(str(e)) if isinstance(e, AimemError)
                            else RuntimeError(f"{type(e).__name__}: {e}"))
        for note in getattr(e, "__notes__", ()):
            other.add_note(note)
        return other
