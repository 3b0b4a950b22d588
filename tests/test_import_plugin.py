"""An importer from another package, found through the ``aimem.importers`` entry point.

The package is the complete example of docs/importers.md, taken from the page itself,
made into a wheel and installed with pip into a throwaway environment layered over the
test venv (so the test venv never sees it), then used through ``aimem import`` in a
subprocess. The wheel is put together here from the page's pyproject.toml (its name,
version, module and entry points) rather than by a build backend: setuptools cannot
build a wheel in the test venv (no ``wheel`` package) and fetching one would need the
network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "importers.md"

TINY = """%TINYCHAT 1
=== walk-42 Winter walk
> Which crampons for a glacier walk?
< Ten-point strap-on crampons are enough for a flat glacier.
=== empty-1 Nothing here
"""


def doc_files() -> dict[str, str]:
    """The files of the example package, as the page shows them (```lang filename)."""
    blocks = re.findall(r"^```\w+ ([\w.]+)\n(.*?)^```$", DOC.read_text(), re.S | re.M)
    return dict(blocks)


def build_wheel(pkg: Path, out: Path) -> Path:
    """The wheel a build backend would make of ``pkg`` (one module, entry points)."""
    meta = tomllib.loads((pkg / "pyproject.toml").read_text())
    proj = meta["project"]
    name, version = proj["name"].replace("-", "_"), proj["version"]
    info = f"{name}-{version}.dist-info"
    files = {f"{m}.py": (pkg / f"{m}.py").read_bytes()
             for m in meta["tool"]["setuptools"]["py-modules"]}
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {proj['name']}\n"
                                 f"Version: {version}\n" + "".join(
                                     f"Requires-Dist: {d}\n" for d in proj["dependencies"])
                                 ).encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: aimem-tests\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()) + "\n"
        for group, table in proj["entry-points"].items()).encode()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    wheel = out / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, data in files.items():
            z.writestr(path, data)
    return wheel


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv whose site-packages extends the test venv's, with aimem-tinychat installed."""
    root = tmp_path_factory.mktemp("plugin")
    pkg = root / "aimem-tinychat"
    pkg.mkdir()
    files = doc_files()
    assert set(files) == {"pyproject.toml", "aimem_tinychat.py"}, "the example in the docs moved"
    for name, text in files.items():
        (pkg / name).write_text(text)
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # the test venv's packages (aimem, editable, included) are the base of this one
    (site / "_test_venv.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    wheel = build_wheel(pkg, root)
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "--quiet", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert proc.returncode == 0, proc.stderr
    yield python
    shutil.rmtree(root, ignore_errors=True)


def aimem(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "aimem", *args], capture_output=True, text=True,
                          timeout=120)


def test_the_plugin_is_not_in_the_test_venv() -> None:
    from importlib.metadata import entry_points

    assert [ep.value for ep in entry_points(group="aimem.importers")] == [
        "aimem.importers:BUILTIN"]


def test_a_plugin_format_is_detected_by_content_imported_and_found(plugin_env: Path,
                                                                   tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    chats = tmp_path / "backup.txt"  # the name says nothing: detection is by content
    chats.write_text(TINY)
    proc = aimem(plugin_env, "--db", db, "import", str(chats), "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    report = json.loads(proc.stdout)
    assert [f["format"] for f in report["files"]] == ["tinychat"]
    assert report["conversations_added"] == 1 and report["messages_added"] == 2
    assert [s["reason"] for s in report["skipped"]] == ["empty-1: empty"]
    hits = json.loads(aimem(plugin_env, "--db", db, "search", "crampons", "--source",
                            "tinychat", "--json").stdout)
    assert hits and {h["source"] for h in hits} == {"tinychat"}
    assert any("Ten-point" in h["text"] for h in hits)
    again = json.loads(aimem(plugin_env, "--db", db, "import", str(chats), "--json").stdout)
    assert again["conversations_unchanged"] == 1 and again["messages_added"] == 0
    # the plugin's own error: one line, exit 1, nothing written
    bad = tmp_path / "cut.txt"
    bad.write_text("%TINYCHAT 1\n> a prompt before any conversation\n")
    proc = aimem(plugin_env, "--db", db, "import", str(bad), "--format", "tinychat")
    assert proc.returncode == 1
    assert proc.stderr.startswith("aimem: error: ") and proc.stderr.count("\n") == 1
    assert "no conversation in it" in proc.stderr


def test_built_in_formats_still_win_their_files(plugin_env: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    note = tmp_path / "note.md"
    note.write_text("User: hello\n\nAssistant: hi there\n")
    proc = aimem(plugin_env, "--db", db, "import", str(note), "--json")
    assert proc.returncode == 0, proc.stderr
    assert [f["format"] for f in json.loads(proc.stdout)["files"]] == ["markdown"]


def test_a_broken_plugin_warns_in_one_line_and_the_built_ins_work(plugin_env: Path,
                                                                  tmp_path: Path) -> None:
    site = Path(subprocess.run([str(plugin_env), "-c",
                                "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    dist = site / "aimem_broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aimem-broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text('[aimem.importers]\nbroken = aimem_no_such_module\n')
    try:
        db = str(tmp_path / "t.db")
        chats = tmp_path / "backup.txt"
        chats.write_text(TINY)
        proc = aimem(plugin_env, "--db", db, "import", str(chats), "--json")
        assert proc.returncode == 0, proc.stderr
        assert [f["format"] for f in json.loads(proc.stdout)["files"]] == ["tinychat"]
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("aimem: warning: importer 'broken'")
        assert "ModuleNotFoundError" in lines[0]
        # a command that needs no importer does not read the entry points at all
        for args in (["--db", db, "stats"], ["--help"]):
            proc = aimem(plugin_env, *args)
            assert proc.returncode == 0 and proc.stderr == "", args
    finally:
        shutil.rmtree(dist)
