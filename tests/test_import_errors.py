"""How a failed import reports itself: one stderr line, exit 1, and JSON on stdout with --json."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import dump_db, run_aimem


def test_json_import_failure_prints_an_error_object(db: Path, tmp_path: Path) -> None:
    src = tmp_path / "nothing.json"
    src.write_text('{"hello": "world"}')
    cases = [
        (str(src), "not a recognised export"),
        (str(tmp_path / "missing.json"), "no such file or directory"),
    ]
    for arg, why in cases:
        proc = run_aimem("--db", str(db), "import", arg, "--json")
        assert proc.returncode == 1
        out = json.loads(proc.stdout)
        assert set(out) == {"error"} and out["error"].startswith(f"{arg}: {why}")
        assert proc.stderr.decode() == f"aimem: error: {out['error']}\n"
    cut = tmp_path / "cut.json"
    cut.write_text('{"title": "x", "create_time": 1.5, "mapping": {"a": {"id"')
    proc = run_aimem("--db", str(db), "import", str(cut), "--json")
    assert proc.returncode == 1 and "truncated" in json.loads(proc.stdout)["error"]
    assert not db.exists() or dump_db(db).get("conversations") == []


def test_json_import_success_has_no_error_key(db: Path) -> None:
    proc = run_aimem("--db", str(db), "import", "-", "--json",
                     input=b"User: hello\nAssistant: hi\n", check=True)
    assert "error" not in json.loads(proc.stdout)


def test_truncated_single_claude_object_says_truncated(db: Path, tmp_path: Path) -> None:
    from conftest import SHARED_FIXTURES

    src = SHARED_FIXTURES / "claude_ai" / "simonw_claude-to-sqlite_artifacts_2024-10.json"
    if not src.exists():
        import pytest

        pytest.skip("../shared/fixtures is absent")
    data = json.dumps(json.loads(src.read_text())[0], indent=2).encode()
    for cut in (30, 200, len(data) // 2):
        path = tmp_path / f"cut{cut}.json"
        path.write_bytes(data[:cut])
        proc = run_aimem("--db", str(db), "import", str(path))
        assert proc.returncode == 1
        err = proc.stderr.decode()
        assert err.startswith(f"aimem: error: {path}: truncated"), err
    # whole JSON in no known format is still "not a recognised export"
    other = tmp_path / "other.json"
    other.write_text('{"a": [1, 2, 3]}')
    proc = run_aimem("--db", str(db), "import", str(other))
    assert "not a recognised export" in proc.stderr.decode()
    assert not db.exists() or dump_db(db).get("conversations") == []
