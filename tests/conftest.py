"""Test isolation: nothing a test does touches the developer's own aimem or llm files.

Also the two things a test may lack here, decided in one place:

- a system tool (tmux, zsh, fish, groff, npm, git): :func:`require_tool` or the marker
  ``@pytest.mark.requires_tool("tmux")``. Locally a missing tool skips the test with a
  reason; in CI (``CI=true``) it fails it, so that a CI machine without tmux cannot pass
  ``make test`` by skipping the TUI tests.
- ``../shared`` (the reference fixtures beside the repository; ``AIMEM_TEST_SHARED``
  points elsewhere, e.g. at a missing folder to check this): when it is absent, every
  test that uses a path inside it is skipped with the reason, decided from the names
  the test, its fixtures and its parameters use, and as a backstop from the error it
  raised.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

# A run started in the background by a shell without job control (`make test &` in a
# script) inherits SIGINT ignored, and so would every aimem process the tests start: the
# tests that press Ctrl-C (SIGINT) on an import or `sync --watch` would wait forever.
# Catching it here gives those processes the default back (exec resets caught signals).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = Path(os.environ.get("AIMEM_TEST_SHARED") or ROOT.parent / "shared").absolute()
SHARED_FIXTURES = SHARED / "fixtures"
SHARED_ABSENT = not SHARED_FIXTURES.is_dir()
SHARED_REASON = (f"needs the reference fixtures in ../shared ({SHARED_FIXTURES}), which are "
                 "absent here")


def in_ci() -> bool:
    """True on a CI run (``CI=true``, as CI services and .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_tool(name: str, why: str = "") -> str:
    """The path of the system program ``name``; if it is missing, skip the calling test
    with the reason, or fail it under ``CI=true`` (``make test`` installs the tools:
    ``make system-deps``, ``make inspector``)."""
    path = shutil.which(name)
    if path:
        return path
    msg = (f"{name} is not installed here{f' ({why})' if why else ''}; "
           "make system-deps installs tmux, zsh, fish and groff, Node.js brings npm")
    if in_ci():
        pytest.fail(f"CI=true and a required tool is missing: {msg}", pytrace=False)
    pytest.skip(msg)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("requires_tool"):
        for name in mark.args:
            require_tool(name, mark.kwargs.get("why", ""))


# -- ../shared absent: skip what needs it -----------------------------------------------------


def _under_shared(value: object) -> bool:
    if isinstance(value, Path):
        return value == SHARED or SHARED in value.parents
    if isinstance(value, str) and len(value) < 4096:
        return value.startswith(str(SHARED))
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_under_shared(v) for v in value)
    if isinstance(value, dict):
        return any(_under_shared(v) for v in value.values())
    return False


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _uses_shared(item: pytest.Item) -> bool:
    """Whether the test, a fixture it uses or one of its parameters names a path in
    ../shared (a module-level constant such as ``SHARED_FIXTURES / "chatgpt"``)."""
    module = getattr(item, "module", None)
    if module is None:
        return False
    funcs = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        funcs.extend(getattr(d, "func", None) for d in defs)
    seen: set[str] = set()
    for func in funcs:
        code = getattr(func, "__code__", None)
        if code is None:
            continue
        for name in set(_names(code)) - seen:
            seen.add(name)
            value = getattr(module, name, None)
            if _under_shared(value):
                return True
            # one level of module helpers (a function reading a shared fixture)
            inner = getattr(value, "__code__", None)
            if (inner is not None and getattr(value, "__module__", None) == module.__name__
                    and any(_under_shared(getattr(module, n, None)) for n in _names(inner))):
                return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and _under_shared(callspec.params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not SHARED_ABSENT:
        return
    skip = pytest.mark.skip(reason=SHARED_REASON)
    for item in items:
        if _uses_shared(item):
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    """A test module that reads a file of the absent ../shared when it is imported is
    skipped whole, with the reason, instead of stopping the run with a collection error."""
    outcome = yield
    report = outcome.get_result()
    if SHARED_ABSENT and report.failed and str(SHARED) in str(report.longrepr):
        report.outcome = "skipped"
        report.longrepr = (str(collector.path), 0, f"Skipped: {SHARED_REASON}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Backstop: a test that failed on a path in the absent ../shared is a skip."""
    outcome = yield
    report = outcome.get_result()
    if SHARED_ABSENT and report.failed and call.excinfo is not None \
            and str(SHARED) in str(call.excinfo.value):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {SHARED_REASON}")


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


def wait_for(cond, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    """Poll ``cond()`` every 20 ms until it is true; fail the test after ``timeout`` s."""
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def run_aimem(*args: str, input: bytes | None = None, env: dict[str, str] | None = None,
              check: bool = False) -> subprocess.CompletedProcess[bytes]:
    """Run the real command line in a subprocess, the way a person does."""
    proc = subprocess.run([sys.executable, "-m", "aimem", *args], input=input,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"aimem {' '.join(args)} failed:\n{proc.stderr.decode()}")
    return proc


def dump_db(path: Path) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """Every row of every table: 'the database as it was'.

    A full-text index is compared by what it holds (every term of every row, column and
    position, through ``fts5vocab``), not by how FTS5 laid its segments out: an index
    that got rows and lost them again (an import undone after it committed a batch)
    holds the same entries in other b-tree pages.
    """
    import sqlite3

    if not path.exists():
        return {}
    conn = sqlite3.connect(path)
    try:
        fts = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5(%'")]
        layout = {f"{t}_{s}" for t in fts for s in ("data", "idx")}
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]
        out = {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"')))
               for t in tables if t not in layout}
        for t in fts:
            conn.execute(f'CREATE VIRTUAL TABLE temp."v_{t}" USING fts5vocab(main, "{t}", '
                         "'instance')")
            out[f"{t} (entries)"] = sorted(map(repr, conn.execute(f'SELECT * FROM temp."v_{t}"')))
        out["_user_version"] = [conn.execute("PRAGMA user_version").fetchone()]
        return out  # type: ignore[return-value]
    finally:
        conn.close()


# -- llm: deterministic fake models through llm's real plugin manager (docs/llm.md §6.2) --


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires_tool(name, ...): the system programs the test runs; skipped "
        "without them locally, failed under CI=true")
    # llm.plugins.load_plugins() then skips entry-point plugins (llm-echo, aimem's own
    # plugin, a developer's llm-gemini…): in-process tests see only the models they
    # register (llm's default OpenAI models and llm_time/llm_version tools still load).
    # Subprocesses do not inherit this: there the installed plugins load as for a user.
    sys._called_from_test = True  # type: ignore[attr-defined]


_FAKES: dict[str, type] = {}


def _fake_classes() -> dict[str, type]:
    """The fake model classes, built on first use so that llm is imported only by tests
    that need it."""
    if _FAKES:
        return _FAKES
    import json
    import re
    import zlib

    import llm

    def fill(schema: dict, text: str, n: int) -> object:  # type: ignore[type-arg]
        words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)})

        def value(spec: dict, seed: str) -> object:  # type: ignore[type-arg]
            t = spec.get("type")
            if "enum" in spec:
                return spec["enum"][0]
            if t == "object":
                return {k: value(v, seed) for k, v in spec.get("properties", {}).items()}
            if t == "array":
                items = spec.get("items", {})
                if items.get("type") == "object":
                    return [value(items, w) for w in words[:n]]
                return words[:n]
            if t == "integer":
                return len(words)
            if t == "number":
                return float(len(words))
            if t == "boolean":
                return bool(words)
            return seed or " ".join(words[:n])

        return value(schema, "")

    def reply(model: object, prompt: object) -> str:
        """The next canned reply: the queue first (an exception in it is raised, a callable
        is called with the prompt, None means the default), else a deterministic one."""
        model.history.append(prompt)  # type: ignore[attr-defined]
        queue = model.queue  # type: ignore[attr-defined]
        if queue:
            out = queue.pop(0)
            if isinstance(out, BaseException) or (isinstance(out, type)
                                                  and issubclass(out, BaseException)):
                raise out
            if callable(out):
                out = out(prompt)
            if out is not None:
                return str(out)
        if getattr(model, "supports_schema", False) and prompt.schema:  # type: ignore[attr-defined]
            return json.dumps(fill(prompt.schema, prompt.prompt, 3))  # type: ignore[attr-defined]
        return "SUMMARY: " + " ".join(prompt.prompt.split()[:8])  # type: ignore[attr-defined]

    def usage(response: object, prompt: object, out: str) -> None:
        words = len(prompt.prompt.split()) + len((prompt.system or "").split())  # type: ignore[attr-defined]
        response.set_usage(input=words, output=len(out.split()))  # type: ignore[attr-defined]

    class FakeModel(llm.Model):
        """Deterministic, offline; schemas, tools, streaming. ``queue``: canned replies;
        ``history``: every Prompt seen; ``context_length``: what aimem may fill."""

        model_id = "aimem-fake"
        can_stream = True
        supports_schema = True
        supports_tools = True

        class Options(llm.Options):
            max_tags: int | None = None

        def __init__(self) -> None:
            self.queue: list[object] = []
            self.history: list[object] = []
            self.context_length = 100_000

        def execute(self, prompt, stream, response, conversation):  # type: ignore[no-untyped-def]
            out = reply(self, prompt)
            usage(response, prompt, out)
            yield out

    class FakePlainModel(FakeModel):
        """The same without schema support (most local models): aimem asks for JSON."""

        model_id = "aimem-fake-plain"
        supports_schema = False

    class FakeKeyModel(llm.KeyModel):
        """Needs a key (``llm keys set aimem-fake`` or $AIMEM_FAKE_KEY), like a hosted API."""

        model_id = "aimem-fake-keyed"
        needs_key = "aimem-fake"
        key_env_var = "AIMEM_FAKE_KEY"

        def __init__(self) -> None:
            self.queue: list[object] = []
            self.history: list[object] = []

        def execute(self, prompt, stream, response, conversation, key):  # type: ignore[no-untyped-def]
            out = reply(self, prompt)
            usage(response, prompt, out)
            yield out

    class AsyncFakeModel(llm.AsyncModel):
        model_id = "aimem-fake"
        can_stream = True
        supports_schema = True

        async def execute(self, prompt, stream, response, conversation):  # type: ignore[no-untyped-def]
            out = (json.dumps(fill(prompt.schema, prompt.prompt, 3)) if prompt.schema
                   else "async summary")
            usage(response, prompt, out)
            yield out

    class FakeEmbed(llm.EmbeddingModel):
        """Deterministic 256-dim bag-of-hashed-words embedding (no weights, no network)."""

        model_id = "aimem-fake-embed"
        batch_size = 16

        def embed_batch(self, items, *, key=None):  # type: ignore[no-untyped-def]
            for text in items:
                vec = [0.0] * 256
                for w in re.findall(r"\w+", text.lower()):
                    vec[zlib.crc32(w.encode()) % 256] += 1.0
                vec[0] += 1e-6  # never the zero vector (cosine similarity divides by it)
                yield vec

    _FAKES.update(FakeModel=FakeModel, FakePlainModel=FakePlainModel,
                  FakeKeyModel=FakeKeyModel, AsyncFakeModel=AsyncFakeModel, FakeEmbed=FakeEmbed)
    return _FAKES


@pytest.fixture
def llm_fakes(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Register the fake models for one test: ``aimem-fake`` (alias ``fake``, schemas),
    ``aimem-fake-plain`` (no schemas), ``aimem-fake-keyed`` (needs a key) and the
    ``aimem-fake-embed`` embedding model. Yields them as attributes fake, plain, keyed, embed.
    """
    from types import SimpleNamespace

    import llm
    from llm.plugins import pm

    for var in ("LLM_MODEL", "OPENAI_API_KEY", "AIMEM_FAKE_KEY"):
        monkeypatch.delenv(var, raising=False)
    c = _fake_classes()
    models = SimpleNamespace(fake=c["FakeModel"](), plain=c["FakePlainModel"](),
                             keyed=c["FakeKeyModel"](), embed=c["FakeEmbed"]())

    class FakePlugin:
        __name__ = "FakePlugin"

        @llm.hookimpl
        def register_models(self, register):  # type: ignore[no-untyped-def]
            register(models.fake, c["AsyncFakeModel"](), aliases=("fake",))
            register(models.plain)
            register(models.keyed)

        @llm.hookimpl
        def register_embedding_models(self, register):  # type: ignore[no-untyped-def]
            register(models.embed)

    pm.register(FakePlugin(), name="aimem-test-fakes")
    try:
        yield models
    finally:
        pm.unregister(name="aimem-test-fakes")


@pytest.fixture
def fake_model(llm_fakes):  # type: ignore[no-untyped-def]
    """The schema-capable fake model (registered), for tests that need only it."""
    return llm_fakes.fake
