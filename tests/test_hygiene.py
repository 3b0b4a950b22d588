"""Architecture as a failing check: start-up stays light, layers stay apart."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

HEAVY = ("textual", "llm", "mcp")


def loaded_after(code: str) -> set[str]:
    probe = (f"import sys\n{code}\n"
             "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_aimem_is_light() -> None:
    mods = loaded_after("import aimem")
    assert not mods & {*HEAVY, "typer", "rich", "sqlite3", "orjson"}


def test_core_does_not_load_front_end_libraries() -> None:
    mods = loaded_after("import aimem.services, aimem.importers, aimem.store.search")
    assert not mods & {*HEAVY, "typer", "rich"}


@pytest.mark.parametrize("argv", [["--help"], ["search", "--help"], ["import", "--help"]])
def test_help_loads_no_heavy_library(argv: list[str]) -> None:
    code = ("import runpy\nsys.argv = ['aimem', *%r]\ntry:\n    runpy.run_module('aimem', "
            "run_name='__main__')\nexcept SystemExit:\n    pass" % argv)
    assert not loaded_after(code) & set(HEAVY)


def test_search_json_does_not_load_rich(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    jsonl = ROOT / "tests" / "fixtures" / "jsonl" / "sample.jsonl"
    subprocess.run([sys.executable, "-m", "aimem", "--db", str(db), "import", str(jsonl)],
                   check=True, capture_output=True)
    code = ("import runpy\nsys.argv = ['aimem', '--db', %r, 'search', '--json', 'kyoto']\n"
            "try:\n    runpy.run_module('aimem', run_name='__main__')\nexcept SystemExit:\n"
            "    pass" % str(db))
    assert not loaded_after(code) & {*HEAVY, "rich"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_layers() -> None:
    """SQL only in store; typer only in cli; importers never touch the store."""
    pkg = ROOT / "aimem"
    # llm's logs.db is an export format that happens to be SQLite: its importer reads it
    # (read-only) with sqlite3; it never sees aimem's own store.
    foreign_sqlite = {"importers/llm_logs.py", "importers/llm_logs_db.py"}
    for path in pkg.rglob("*.py"):
        rel = path.relative_to(pkg).as_posix()
        imports = _imports(path)
        tops = {i.split(".")[0] for i in imports}
        if not rel.startswith("cli/") and rel != "_gen.py":
            assert "typer" not in tops and "rich" not in tops, rel
        if rel.startswith("importers/"):
            assert not any(i.startswith(("aimem.store", "aimem.services")) for i in imports), rel
            assert "sqlite3" not in tops or rel in foreign_sqlite, rel
        if rel.startswith(("cli/", "services/", "importers/")) and rel not in foreign_sqlite:
            assert "sqlite3" not in tops or rel == "services/importing.py", rel
        if not rel.startswith("store/") and rel not in foreign_sqlite:
            src = path.read_text()
            assert "SELECT " not in src and "INSERT INTO" not in src, f"SQL outside store: {rel}"
