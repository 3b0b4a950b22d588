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
