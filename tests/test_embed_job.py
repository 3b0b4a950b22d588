"""The background embedder: one job at a time per database, nothing added meanwhile missed."""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

import pytest

from aimem.services import Archive, embed_job

FAKE = "aimem-fake-embed"


@pytest.fixture
def archive(tmp_path: Path, llm_fakes) -> Archive:  # type: ignore[no-untyped-def]
    a = Archive.open(tmp_path / "aimem.db")
    a.remember("The walrus deploys on Tuesdays")
    a.set_config("embed-model", FAKE)
    yield a
    a.close()


def vector_count(a: Archive) -> int:
    return sum(s["vectors"] for s in a.embedding_stats())


def test_a_job_embeds_what_is_new(archive: Archive) -> None:
    assert embed_job.run(archive.path) == 1
    assert vector_count(archive) == 1
    lock, again = embed_job._paths(archive.path)
    assert not again.exists()


def test_a_job_started_while_one_runs_leaves_a_mark_and_the_runner_embeds_again(
        archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    lock, again = embed_job._paths(archive.path)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:  # another job holds the lock: this one only marks
        assert embed_job.run(archive.path) == 0
    finally:
        os.close(fd)
    assert again.exists() and vector_count(archive) == 0

    real = embed_job._embed_once
    calls: list[int] = []

    def once(db: Path) -> None:  # a memory arrives while the first pass runs
        real(db)
        calls.append(1)
        if len(calls) == 1:
            archive.remember("Herons nest in March")
            again.touch()  # what a job started now would do

    monkeypatch.setattr(embed_job, "_embed_once", once)
    assert embed_job.run(archive.path) == 2
    assert vector_count(archive) == 2 and not again.exists()


def test_embed_in_background_starts_the_job_only_with_a_model(
        tmp_path: Path, llm_fakes, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    started: list[list[str]] = []
    monkeypatch.setattr(subprocess, "Popen", lambda args, **kw: started.append(args))
    with Archive.open(tmp_path / "aimem.db") as a:
        assert a.embed_in_background() is False and started == []
        a.set_config("embed-model", FAKE)
        assert a.embed_in_background() is True
        assert started[0][-2:] == ["aimem.services.embed_job", str(a.path)]
        assert (a.path.parent / "embed.log").exists()


def test_main_reports_a_missing_database_in_one_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert embed_job.main([str(tmp_path / "none.db")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_no_log_file_means_no_job_and_no_error(tmp_path: Path, llm_fakes,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(subprocess, "Popen", lambda args, **kw: started.append(args))
    with Archive.open(tmp_path / "aimem.db") as a:
        a.set_config("embed-model", FAKE)
        (tmp_path / "embed.log").mkdir()  # cannot be opened for appending
        assert a.embed_in_background() is False and started == []
