"""The release a stranger installs: the sdist and wheel that ``make dist`` builds, the
wheel installed into a fresh venv and used from outside the source tree.

The wheel is built once for this module (``python -m build --no-isolation``: sdist, then
the wheel from the sdist, as PyPI users get it) and installed with ``--no-deps`` into a new
venv with no pip. Its dependencies come from the test venv's site-packages, added to the
new venv's path by a ``.pth`` line *after* its own site-packages (the test venv's ``.pth``
files, among them the editable install of this checkout, are not read from there). Every
command runs from an empty folder with no PYTHONPATH, and the test checks that ``aimem``
is imported from the new venv and that the checkout is nowhere on ``sys.path``.

``pytest -m dist`` selects these tests; they are part of ``make test``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, require_tool

pytestmark = [pytest.mark.dist, pytest.mark.slow]

VERSION = re.search(r'__version__ = "([^"]+)"', (ROOT / "aimem" / "_version.py").read_text())[1]
SHARE = {  # wheel shared data -> the file it came from
    "share/man/man1/aimem.1": "man/aimem.1",
    "share/bash-completion/completions/aimem": "completions/aimem.bash",
    "share/zsh/site-functions/_aimem": "completions/_aimem",
    "share/fish/vendor_completions.d/aimem.fish": "completions/aimem.fish",
}
TCSS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "aimem").rglob("*.tcss"))


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                           str(ROOT)], capture_output=True, text=True, timeout=300, cwd=out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (whl,) = dist.glob("aimem-*.whl")
    assert whl.name == f"aimem-{VERSION}-py3-none-any.whl"
    return whl


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (no deps), the test venv's packages behind it."""
    v = tmp_path_factory.mktemp("venv") / "stranger"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(v)], check=True, timeout=120)
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(v / "bin" / "python"),
                           "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=300, cwd=v)
    assert proc.returncode == 0, proc.stderr
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(v), "platbase": str(v)}))
    (purelib / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return v


@pytest.fixture
def outside(tmp_path: Path, venv: Path) -> dict[str, Any]:
    """How to run a program as a stranger: from an empty folder, the venv's bin first on
    PATH, a home of its own, nothing of the checkout in the environment."""
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MANPATH", "XDG_DATA_DIRS", "PYTHONHOME")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", HOME=str(tmp_path),
               AIMEM_HOME=str(tmp_path / "aimem-home"), NO_COLOR="1")
    return {"cwd": cwd, "env": env}


def run(outside: dict[str, Any], *cmd: str) -> str:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=120, **outside)
    assert proc.returncode == 0, f"{cmd}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


def test_sdist_holds_what_make_test_needs(dist: Path) -> None:
    (sdist,) = dist.glob("aimem-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "Makefile",
            "aimem/_version.py", "tests/conftest.py", "tests/test_dist.py",
            *SHARE.values(), *TCSS} <= names
    assert not [n for n in names if n.startswith((".venv/", ".git/", "dist/"))
                or "__pycache__" in n or n.endswith("snapshot_report.html")]


def test_wheel_holds_the_package_data_and_pypi_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        data = f"aimem-{VERSION}.data/data/"
        for target, source in SHARE.items():
            assert z.read(data + target) == (ROOT / source).read_bytes(), target
        assert set(TCSS) <= names and TCSS
        assert "aimem/data/sample/chatgpt/conversations.json" in names
        assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]
        meta = z.read(f"aimem-{VERSION}.dist-info/METADATA").decode()
        assert z.read(f"aimem-{VERSION}.dist-info/licenses/LICENSE").startswith(b"MIT License")
    headers = [line for line in meta.split("\n\n", 1)[0].splitlines()]
    assert f"Version: {VERSION}" in headers
    assert "License-Expression: MIT" in headers and "Requires-Python: >=3.11" in headers
    assert "Description-Content-Type: text/markdown" in headers
    assert sum(h.startswith("Classifier: ") for h in headers) >= 10
    assert sum(h.startswith("Project-URL: ") for h in headers) >= 3
    # the long description is the README
    assert meta.split("\n\n", 1)[1].strip() == (ROOT / "README.md").read_text().strip()


def test_the_installed_program_runs_from_the_new_venv(venv: Path, outside: dict[str, Any],
                                                      tmp_path: Path) -> None:
    where = json.loads(run(outside, str(venv / "bin" / "python"), "-c",
                           "import aimem, json, sys; print(json.dumps([aimem.__file__, sys.path]))"))
    assert Path(where[0]).is_relative_to(venv)
    assert not [p for p in where[1] if p and Path(p).resolve().is_relative_to(ROOT.resolve())
                and not Path(p).resolve().is_relative_to((ROOT / ".venv").resolve())]

    assert run(outside, "aimem", "--version").strip() == f"aimem {VERSION}"

    out = run(outside, "aimem", "demo")
    demo = tmp_path / "aimem-home" / "demo.db"
    assert f"Demo database {demo}" in out.replace("\n", "")
    assert re.search(r"sample import: [1-9]\d* conversations added", out), out
    assert "$ aimem search sourdough starter" in out

    hits = json.loads(run(outside, "aimem", "--db", str(demo), "search", "kyoto", "--json"))
    assert hits and all("kyoto" in json.dumps(h).lower() for h in hits[:3])


def test_serve_mcp_from_the_new_venv_answers_a_real_client(venv: Path, outside: dict[str, Any],
                                                          tmp_path: Path) -> None:
    from mcp import Client, StdioServerParameters, stdio_client

    run(outside, "aimem", "demo")
    demo = tmp_path / "aimem-home" / "demo.db"
    errlog = tmp_path / "serve-mcp.stderr"

    async def talk() -> dict[str, Any]:
        params = StdioServerParameters(command=str(venv / "bin" / "aimem"),
                                       args=["--db", str(demo), "serve-mcp"],
                                       env=outside["env"], cwd=str(outside["cwd"]))
        with errlog.open("w") as err:
            async with Client(stdio_client(params, errlog=err)) as c:
                assert c.server_info is not None and c.server_info.version == VERSION
                result = await c.call_tool("search", {"query": "sourdough starter"})
                assert not result.is_error, result.content
                assert result.structured_content is not None
                return result.structured_content

    found = asyncio.run(asyncio.wait_for(talk(), 120))
    assert found["hits"] and "sourdough" in json.dumps(found["hits"][0]).lower()
    assert "Traceback" not in errlog.read_text()


def test_man_page_and_completions_are_found_from_the_install(venv: Path,
                                                            outside: dict[str, Any]) -> None:
    for target, source in SHARE.items():
        assert (venv / target).read_bytes() == (ROOT / source).read_bytes()
    # man finds share/man beside a bin folder on PATH (no MANPATH needed)
    require_tool("man")
    assert run(outside, "man", "-w", "aimem").strip() == str(venv / "share/man/man1/aimem.1")
    # fish reads vendor completions from $XDG_DATA_DIRS (pipx, uv and distro installs)
    require_tool("fish")
    fish = {**outside, "env": {**outside["env"], "XDG_DATA_DIRS": str(venv / "share")}}
    out = run(fish, "fish", "-c", "complete -C 'aimem imp'")
    assert [row.split("\t")[0] for row in out.splitlines()] == ["import"]
    # zsh: the installed site-functions folder on fpath
    require_tool("zsh")
    out = run(outside, "zsh", "-f", str(ROOT / "tests" / "complete.zsh"),
              str(venv / "share/zsh/site-functions"), "aimem imp")
    assert out.split() == ["import"]


TUI_PROBE = textwrap.dedent('''
    import asyncio, json, sys
    from pathlib import Path
    from aimem.tui.app import BrowseApp

    async def main():
        app = BrowseApp(Path(sys.argv[1]), query="kyoto")
        loaded, screens = set(), []
        async with app.run_test(size=(100, 30)) as pilot:
            for key in ("", "f2", "escape", "f1"):
                if key:
                    await pilot.press(key)
                await pilot.pause(0.3)
                loaded |= {str(k[0]) for k in app.stylesheet.source if str(k[0]).endswith(".tcss")}
                screens.append(type(app.screen).__name__)
        print(json.dumps({"loaded": sorted(loaded), "screens": screens}))

    asyncio.run(main())
''')


def test_the_browser_finds_its_styles_in_the_install(venv: Path, outside: dict[str, Any],
                                                    tmp_path: Path) -> None:
    run(outside, "aimem", "demo")
    out = run(outside, str(venv / "bin" / "python"), "-c", TUI_PROBE,
              str(tmp_path / "aimem-home" / "demo.db"))
    probe = json.loads(out.strip().splitlines()[-1])
    loaded = [Path(p) for p in probe["loaded"]]
    assert loaded and all(p.is_relative_to(venv) and p.is_file() for p in loaded), loaded
    assert {p.name for p in loaded} >= {"app.tcss", "search.tcss"}
    assert probe["screens"] == ["SearchScreen", "MemoriesScreen", "SearchScreen", "HelpScreen"]


@pytest.mark.skipif(not os.environ.get("AIMEM_TEST_TOOL_INSTALL"),
                    reason="fetches aimem's dependencies from the package index: set "
                           "AIMEM_TEST_TOOL_INSTALL=uv or =pipx (the program on PATH) to run it")
def test_tool_install_of_the_wheel(wheel: Path, tmp_path: Path) -> None:
    """What the README tells a stranger: ``uv tool install`` / ``pipx install`` of the
    wheel, with its dependencies from the index, into folders of this test."""
    tool = os.environ["AIMEM_TEST_TOOL_INSTALL"]
    exe = require_tool(tool)
    bin_dir = tmp_path / "bin"
    env = {**os.environ, "HOME": str(tmp_path), "AIMEM_HOME": str(tmp_path / "aimem-home"),
           "UV_TOOL_DIR": str(tmp_path / "uv-tools"), "UV_TOOL_BIN_DIR": str(bin_dir),
           "UV_PYTHON_DOWNLOADS": "never", "PIPX_HOME": str(tmp_path / "pipx"),
           "PIPX_BIN_DIR": str(bin_dir), "PIPX_MAN_DIR": str(tmp_path / "man")}
    cmd = [exe, "tool", "install"] if tool == "uv" else [exe, "install"]
    python = getattr(sys, "_base_executable", sys.executable)  # the interpreter, not this venv
    proc = subprocess.run([*cmd, "--python", python, str(wheel)], capture_output=True,
                          text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(bin_dir / "aimem"), "--version"], capture_output=True, text=True,
                         timeout=60, env=env, cwd=tmp_path)
    assert out.stdout.strip() == f"aimem {VERSION}", out.stderr
    demo = subprocess.run([str(bin_dir / "aimem"), "demo"], capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp_path)
    assert demo.returncode == 0 and "sample import:" in demo.stdout, demo.stderr
    if tool == "pipx":
        assert (tmp_path / "man" / "man1" / "aimem.1").exists()
