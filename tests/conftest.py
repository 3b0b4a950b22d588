"""Test isolation: nothing a test does touches the developer's own aimem or llm files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = ROOT.parent / "shared"
SHARED_FIXTURES = SHARED / "fixtures"


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMEM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AIMEM_DB", raising=False)
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "llm"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "test.db"


def run_aimem(*args: str, input: bytes | None = None, env: dict[str, str] | None = None,
              check: bool = False) -> subprocess.CompletedProcess[bytes]:
    """Run the real command line in a subprocess, the way a person does."""
    proc = subprocess.run([sys.executable, "-m", "aimem", *args], input=input,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"aimem {' '.join(args)} failed:\n{proc.stderr.decode()}")
    return proc


def dump_db(path: Path) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """Every row of every table (FTS shadow tables included): 'the database as it was'."""
    import sqlite3

    if not path.exists():
        return {}
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]
        out = {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"'))) for t in tables}
        out["_user_version"] = [conn.execute("PRAGMA user_version").fetchone()]
        return out  # type: ignore[return-value]
    finally:
        conn.close()
