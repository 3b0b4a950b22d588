"""Architecture as a failing check: start-up stays light, layers stay apart."""

from __future__ import annotations

import ast
import os
import re
import shutil
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


# -- where each library and each kind of code may live ------------------------------------

# Modules (paths under aimem/) that may import a library; a directory ends with "/".
LIBRARY_HOMES = {
    "typer": ("cli/", "_gen/"), "click": ("cli/", "_gen/"), "rich": ("cli/", "_gen/"),
    "textual": ("tui/",),
    "mcp": ("mcp/",),
    "llm": ("llm_bridge.py",),
    # aimem's own database is opened in store/ only. Exceptions: llm's logs.db is an export
    # format that happens to be SQLite (its importer reads it, read-only); the import
    # pipeline and the agent hook tell a database error from an input error.
    "sqlite3": ("store/", "importers/llm_logs.py", "importers/llm_logs_db.py",
                "services/importing.py", "hookrun.py"),
}
# Where SQL may be written: the store, and the importer of llm's own SQLite logs.
SQL_HOMES = ("store/", "importers/llm_logs.py", "importers/llm_logs_db.py")
# SQL in a string, in any case: a statement's opening words, not English prose that
# happens to say "select" (a pragma must end the string or be followed by = ( or ;).
SQL = re.compile(r"\b(select\s+(distinct\s+)?[\w*(\"'][^;]*?\bfrom\s+[\w\"(]|insert\s+(or\s+\w+\s+)?"
                 r"into\b|update\s+\w+\s+set\b|delete\s+from\b|(create|drop)\s+(virtual\s+)?"
                 r"(table|index|trigger|view)\b|alter\s+table\b|with\s+recursive\b|"
                 r"pragma\s+\w+\s*($|[=(;]))", re.IGNORECASE | re.DOTALL)


def _home(rel: str, homes: tuple[str, ...]) -> bool:
    return any(rel.startswith(h) if h.endswith("/") else rel == h for h in homes)


def _module_name(rel: str) -> str:
    parts = ["aimem", *rel.removesuffix(".py").split("/")]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, rel: str) -> set[str]:
    """Every module ``path`` imports, anywhere in it, relative imports made absolute."""
    names: set[str] = set()
    package = _module_name(rel).split(".")
    if not rel.endswith("__init__.py"):
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[:len(package) - node.level + 1], *filter(None, [base])])
            names.add(base)
            names |= {f"{base}.{a.name}" for a in node.names}  # `from aimem import store`
    return names


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """The string literals of a module (f-strings with {} for their fields), not docstrings."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.append((node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}"
                                             for v in node.values)))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            out.append((node.lineno, node.value))
    return out


def hygiene_violations(pkg: Path) -> list[str]:
    """What the import contracts cannot see in the tree ``pkg`` (an aimem/ directory):
    a library imported outside its home, SQL written outside the store."""
    found = []
    for path in sorted(pkg.rglob("*.py")):
        rel = path.relative_to(pkg).as_posix()
        for name in sorted(_imports(path, rel)):
            top = name.split(".")[0]
            if top in LIBRARY_HOMES and not _home(rel, LIBRARY_HOMES[top]):
                found.append(f"{rel} imports {name}: only {', '.join(LIBRARY_HOMES[top])} may")
        if not _home(rel, SQL_HOMES):
            for line, text in _strings(ast.parse(path.read_text(encoding="utf-8"))):
                if m := SQL.search(text):
                    found.append(f"{rel}:{line}: SQL outside aimem/store/: {m.group(0)[:40]!r}")
    return found


def test_layers() -> None:
    """Each library in its home, SQL only in store/ (the import contracts do the rest)."""
    assert hygiene_violations(ROOT / "aimem") == []


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the project at ``root`` (its pyproject.toml, its aimem/)."""
    env = {**os.environ, "PYTHONPATH": str(root)}  # this tree's aimem, not the installed one
    return subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-logo",
                           "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def test_import_contracts_are_kept() -> None:
    """pyproject.toml's [tool.importlinter] contracts (also run by make lint)."""
    out = lint_imports(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


# -- the checks catch what they are meant to: violations planted in a copy -------------

PLANTS = [
    # (file under aimem/, the line planted at its top, what must catch it, what it says)
    pytest.param("cli/cmd_stats.py", "from aimem.store.db import Store", "contracts",
                 "aimem.cli is not allowed to import aimem.store", id="store-in-a-cli-command"),
    pytest.param("services/tokens.py", 'PLANTED = "select id, text from messages where id = ?"',
                 "hygiene", "services/tokens.py:", id="lowercase-sql-in-services"),
    pytest.param("tui/screens/search.py", "from aimem.importers import chatgpt", "contracts",
                 "aimem.tui is not allowed to import aimem.importers", id="importer-in-a-tui-screen"),
    pytest.param("tui/db.py", "import sqlite3", "contracts",
                 "aimem.tui is not allowed to import sqlite3", id="sqlite3-in-the-tui"),
    pytest.param("services/filters.py", "import rich", "contracts",
                 "aimem.services is not allowed to import rich", id="rich-in-services"),
    pytest.param("store/runs.py", "import aimem.services.ranking", "contracts",
                 "aimem.store is not allowed to import aimem.services", id="store-over-services"),
    pytest.param("tui/formatting.py", "import aimem.tui.app", "contracts",
                 "No cycles are allowed in aimem.tui", id="cycle-in-the-tui"),
    pytest.param("tui/screens/help.py", "import textual, mcp", "hygiene",
                 "tui/screens/help.py imports mcp", id="mcp-in-the-tui"),
]


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """aimem/ and pyproject.toml, copied; each test plants in its own copy of this."""
    root = tmp_path_factory.mktemp("clean")
    shutil.copytree(ROOT / "aimem", root / "aimem",
                    ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(ROOT / "pyproject.toml", root)
    return root


def test_the_unplanted_copy_passes(project_copy: Path) -> None:
    assert hygiene_violations(project_copy / "aimem") == []
    out = lint_imports(project_copy)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize(("where", "line", "check", "says"), PLANTS)
def test_a_planted_violation_is_caught(project_copy: Path, tmp_path: Path, where: str,
                                       line: str, check: str, says: str) -> None:
    root = tmp_path / "planted"
    shutil.copytree(project_copy, root)
    target = root / "aimem" / where
    source = target.read_text(encoding="utf-8")
    # after `from __future__` (which must stay first), before everything else
    head, sep, rest = source.partition("from __future__ import annotations\n")
    target.write_text(head + sep + line + "\n" + rest if sep else line + "\n" + source,
                      encoding="utf-8")
    if check == "hygiene":
        found = hygiene_violations(root / "aimem")
        assert any(says in v for v in found), found
    else:
        out = lint_imports(root)
        assert out.returncode != 0 and says in out.stdout, out.stdout + out.stderr
