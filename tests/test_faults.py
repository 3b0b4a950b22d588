"""No traceback, ever: what a person sees when the database or the disk fails under aimem.

Every case runs the real command line in a subprocess and checks what a person sees:
one line on stderr, exit code 1, no "Traceback", and the database as it was. The faults
are real where the machine allows it (a read-only file, a full tmpfs, bytes overwritten
in the file, a schema from a newer aimem, a lock held by another process); a full disk is
also simulated with SQLite's own page limit, which works everywhere.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_aimem

TEXT = "User: how do I keep my sourdough starter alive?\nAssistant: feed it flour and water daily\n"
BIG = "User: " + "a long walrus paragraph about tides and ice. " * 6000 + "\nAssistant: ok\n"
LONG_MEMORY = "the walrus log: " + "tides and ice, " * 600  # under the 10,000 character limit

# The real CLI in a subprocess, with one fault injected before it starts (see FAULT below).
WRAPPER = r"""
import os, sqlite3, sys
fault = os.environ.get("AIMEM_TEST_FAULT", "")
if fault == "page-limit":  # SQLite's SQLITE_FULL: the file may not grow by a single page
    _connect = sqlite3.connect
    def connect(*args, **kwargs):
        conn = _connect(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return conn
    sqlite3.connect = connect
elif fault == "short-busy-timeout":  # "database is locked" in a moment, not after 30 s
    import aimem.store.db as db
    if hasattr(db, "BUSY_TIMEOUT_MS"):
        db.BUSY_TIMEOUT_MS = 200
elif fault in ("bug", "oserror"):  # an exception no code path expects, inside a command
    import errno
    import aimem.services
    def stats(self):
        if fault == "bug":
            raise KeyError("by_month")
        raise OSError(errno.ENOSPC, "No space left on device", "/tmp/some-file")
    aimem.services.Archive.stats = stats
from aimem.cli import main
sys.argv[0] = "aimem"
main()
"""


def run_faulty(fault: str, *args: str, input: bytes | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", WRAPPER, *args], input=input,
                          capture_output=True, timeout=120,
                          env={**os.environ, "AIMEM_TEST_FAULT": fault, **(env or {})})


def one_line_failure(proc: subprocess.CompletedProcess[bytes], *words: str) -> str:
    """Exit 1 with exactly one line on stderr (an aimem line), no traceback; returns it."""
    err = proc.stderr.decode()
    assert proc.returncode == 1, (proc.returncode, err)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("aimem: "), err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def clean_success(proc: subprocess.CompletedProcess[bytes]) -> None:
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr and b"aimem: error" not in proc.stderr


@pytest.fixture
def populated(tmp_path: Path) -> tuple[Path, str]:
    """A database with one conversation and one memory; returns (path, conversation id)."""
    db = tmp_path / "data" / "aimem.db"
    db.parent.mkdir()
    run_aimem("--db", str(db), "import", "-", input=TEXT.encode(), check=True)
    run_aimem("--db", str(db), "remember", "the boat is called Walrus", check=True)
    conv = run_aimem("--db", str(db), "list", "--json", check=True)
    import json

    return db, json.loads(conv.stdout)[0]["id"]


def memory_texts(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return sorted(r[0] for r in conn.execute("SELECT text FROM memories"))
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def commands(db: Path, conv: str, big_file: Path) -> dict[str, tuple[list[str], bytes | None]]:
    """The commands each fault is tried with: (argv, stdin)."""
    d = ["--db", str(db)]
    return {
        "search": ([*d, "search", "sourdough"], None),
        "stats": ([*d, "stats"], None),
        "show": ([*d, "show", conv[:8]], None),
        "import": ([*d, "import", str(big_file)], None),
        "remember": ([*d, "remember", "-"], LONG_MEMORY.encode()),
    }


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    p = tmp_path / "big.md"
    p.write_text(BIG)
    return p


# -- a read-only database file ----------------------------------------------------------


def _as_unprivileged(args: list[str]) -> list[str]:
    """root ignores file modes: drop the capabilities that let it (setpriv, util-linux)."""
    if os.geteuid() != 0:
        return args
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only file cannot be simulated")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", *args]


def test_read_only_database_file(populated: tuple[Path, str], big_file: Path) -> None:
    db, conv = populated
    db.chmod(0o444)
    before = memory_texts(db)
    for name, (argv, stdin) in commands(db, conv, big_file).items():
        proc = subprocess.run(_as_unprivileged([sys.executable, "-m", "aimem", *argv]),
                              input=stdin, capture_output=True, timeout=120)
        if name in ("search", "stats", "show"):  # reading a read-only database works
            clean_success(proc)
        else:
            one_line_failure(proc, "read-only", str(db))
    db.chmod(0o600)
    assert memory_texts(db) == before and integrity(db) == "ok"


# -- a full disk ------------------------------------------------------------------------


def test_full_disk_simulated_with_sqlite_page_limit(populated: tuple[Path, str],
                                                    big_file: Path) -> None:
    db, conv = populated
    before = memory_texts(db)
    for name, (argv, stdin) in commands(db, conv, big_file).items():
        proc = run_faulty("page-limit", *argv, input=stdin)
        if name in ("search", "stats", "show"):
            clean_success(proc)
        else:
            line = one_line_failure(proc, "full")
            assert "database or disk is full" in line, line
    assert memory_texts(db) == before and integrity(db) == "ok"


@pytest.fixture
def small_tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 2 MB tmpfs: a real disk that fills up (needs root and permission to mount)."""
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a size-limited tmpfs needs root (the simulated variant still runs)")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mnt)],
                          capture_output=True, timeout=30)
    if proc.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here (the simulated variant still runs): "
                    + proc.stderr.decode().strip())
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30)


def test_full_disk_on_a_real_small_filesystem(populated: tuple[Path, str], big_file: Path,
                                              small_tmpfs: Path) -> None:
    src, conv = populated
    db = small_tmpfs / "aimem.db"
    shutil.copy(src, db)
    before = memory_texts(db)
    # fill the disk, leaving room for SQLite's shared-memory index (32 KB) and a page or
    # two of its write-ahead log, but not for a memory of 9 KB with its index entries
    st = os.statvfs(small_tmpfs)
    filler = small_tmpfs / "filler"
    filler.write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - 40 * 1024))
    for name, (argv, stdin) in commands(db, conv, big_file).items():
        proc = run_aimem(*argv, input=stdin)
        if name in ("search", "stats", "show"):
            clean_success(proc)
        else:
            one_line_failure(proc, "full")
    filler.unlink()
    assert memory_texts(db) == before and integrity(db) == "ok"


def test_backup_onto_a_full_disk_names_the_backup(populated: tuple[Path, str],
                                                  small_tmpfs: Path) -> None:
    db, _ = populated
    st = os.statvfs(small_tmpfs)  # leave 64 KB: less than the database
    filler = small_tmpfs / "filler"
    filler.write_bytes(b"\0" * (st.f_bavail * st.f_frsize - 64 * 1024))
    assert db.stat().st_size > 64 * 1024
    before = db.read_bytes()
    line = one_line_failure(run_aimem("--db", str(db), "backup", str(small_tmpfs / "b.db")),
                            "the backup was not written", "full", str(small_tmpfs / "b.db"))
    assert str(db) not in line
    assert list(small_tmpfs.iterdir()) == [filler] and db.read_bytes() == before


# -- a corrupt file ---------------------------------------------------------------------


def _overwrite_pages(db: Path, first: int, last: int | None = None) -> None:
    """Random bytes over pages first..last (1-based; last None: to the end of the file)."""
    page = 4096
    conn = sqlite3.connect(db)
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size = db.stat().st_size
    end = size if last is None else min(size, last * page)
    with open(db, "r+b") as fh:
        fh.seek((first - 1) * page)
        fh.write(os.urandom(end - (first - 1) * page))


def test_corrupt_file_random_bytes_from_page_2(populated: tuple[Path, str],
                                               big_file: Path) -> None:
    db, conv = populated
    _overwrite_pages(db, 2)
    for argv, stdin in commands(db, conv, big_file).values():
        one_line_failure(run_aimem(*argv, input=stdin), "not a usable aimem database",
                         "aimem doctor")


def test_corrupt_messages_table_fails_in_the_middle_of_a_command(
        populated: tuple[Path, str], big_file: Path) -> None:
    db, conv = populated
    conn = sqlite3.connect(db)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").fetchone()[0]
    conn.close()
    _overwrite_pages(db, root, root)  # the database opens; reading a message fails
    cmds = commands(db, conv, big_file)
    one_line_failure(run_aimem(*cmds["search"][0]), "not a usable aimem database")
    one_line_failure(run_aimem(*cmds["show"][0]), "not a usable aimem database")


def test_not_a_database_at_all(tmp_path: Path, big_file: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_bytes(os.urandom(50_000))
    for argv, stdin in commands(db, "0123456789", big_file).values():
        one_line_failure(run_aimem(*argv, input=stdin), "not a usable aimem database")


# -- a database from a newer aimem ------------------------------------------------------


def test_database_from_a_newer_aimem(populated: tuple[Path, str], big_file: Path) -> None:
    db, conv = populated
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    for argv, stdin in commands(db, conv, big_file).values():
        one_line_failure(run_aimem(*argv, input=stdin), "newer aimem", "upgrade aimem")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 999  # left as it was
    conn.close()


# -- another process holds the write lock -----------------------------------------------


def test_locked_database_is_one_line(populated: tuple[Path, str], big_file: Path) -> None:
    db, conv = populated
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO tags (name) VALUES ('held')")
    try:
        cmds = commands(db, conv, big_file)
        clean_success(run_faulty("short-busy-timeout", *cmds["search"][0]))  # WAL: reads go on
        for name in ("remember", "import"):
            argv, stdin = cmds[name]
            one_line_failure(run_faulty("short-busy-timeout", *argv, input=stdin), "busy")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert integrity(db) == "ok"


# -- anything else is a bug: one line, and the traceback on request ---------------------


def test_unexpected_exception_is_one_line_naming_it_a_bug(populated: tuple[Path, str]) -> None:
    db, _ = populated
    line = one_line_failure(run_faulty("bug", "--db", str(db), "stats"), "a bug in aimem",
                            "KeyError", "AIMEM_DEBUG=1")
    assert "by_month" in line
    debug = run_faulty("bug", "--db", str(db), "stats", env={"AIMEM_DEBUG": "1"})
    assert debug.returncode == 1 and b"Traceback" in debug.stderr and b"KeyError" in debug.stderr


def test_unexpected_os_error_is_one_line(populated: tuple[Path, str]) -> None:
    db, _ = populated
    one_line_failure(run_faulty("oserror", "--db", str(db), "stats"),
                     "no space left on device: /tmp/some-file")


# -- a reader that leaves early: `| head -1` ------------------------------------------


@pytest.fixture
def many(tmp_path: Path) -> tuple[Path, Path]:
    """A database whose search and export output is far larger than a pipe's buffer,
    and the JSONL file it came from."""
    import json

    src = tmp_path / "many.jsonl"
    with open(src, "w") as fh:
        for i in range(300):
            fh.write(json.dumps({"id": f"conv-{i}", "source": "test", "title": f"walrus {i}",
                                 "messages": [{"role": "user", "text": f"walrus question {i} "
                                               + "tusks and ice " * 40},
                                              {"role": "assistant", "text": f"walrus answer {i} "
                                               + "cold water " * 40}]}) + "\n")
    db = tmp_path / "many.db"
    run_aimem("--db", str(db), "import", str(src), check=True)
    return db, src


def _first_line_then_leave(args: list[str]) -> tuple[bytes, int, bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "aimem", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does
    err = proc.stderr.read()
    return first, proc.wait(timeout=120), err


@pytest.mark.parametrize("args", [
    ["search", "walrus", "--jsonl", "--limit", "500"],
    ["search", "walrus", "--limit", "500"],
    ["export"],
    ["export", "--format", "markdown"],
    ["list", "--limit", "300"],
])
def test_closed_pipe_is_a_quiet_normal_end(many: tuple[Path, Path], args: list[str]) -> None:
    db, _ = many
    first, code, err = _first_line_then_leave(["--db", str(db), *args])
    assert first.strip()
    assert code == 0 and err == b"", err.decode()


@pytest.mark.parametrize("json_out", [False, True])
def test_import_into_a_closed_pipe_commits_and_exits_0(tmp_path: Path, many: tuple[Path, Path],
                                                       json_out: bool) -> None:
    _, src = many
    db = tmp_path / "fresh.db"
    proc = subprocess.Popen([sys.executable, "-m", "aimem", "--db", str(db), "import", str(src),
                             *(["--json"] if json_out else [])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before aimem prints its report
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0 and err == b"", err.decode()
    stats = run_aimem("--db", str(db), "stats", "--json", check=True)
    import json

    assert json.loads(stats.stdout)["conversations"] == 300  # committed


def test_shell_pipe_into_head(many: tuple[Path, Path]) -> None:
    """The way a person types it: `aimem … | head -1` in a shell, exit status of aimem."""
    db, src = many
    if shutil.which("bash") is None or shutil.which("head") is None:
        pytest.skip("needs bash and head")
    aimem = f"{sys.executable} -m aimem --db {db}"
    for cmd in (f"{aimem} search walrus --jsonl --limit 500", f"{aimem} export",
                f"{aimem} import {src}"):
        proc = subprocess.run(["bash", "-c", f"{cmd} 2>err.txt | head -1 >/dev/null; "
                               "echo ${PIPESTATUS[0]}; cat err.txt"], capture_output=True,
                              timeout=120, cwd=db.parent)
        out = proc.stdout.decode().splitlines()
        assert out[0] == "0" and out[1:] == [], (cmd, proc.stdout.decode())
