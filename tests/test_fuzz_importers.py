"""Fuzzing every importer: damaged, hostile and odd inputs end cleanly, never with a traceback.

Each importer's real fixtures (tests/fixtures/<format>/, ../shared/fixtures/<format>/ and
../shared/fixtures/realworld/<format>/) are mutated with hypothesis: truncated at a random
offset, random bytes flipped, invalid UTF-8, BOMs and NUL bytes inserted, and, for JSON
and JSON Lines, values swapped for other types, keys removed, huge strings and deep nesting
(for llm's logs.db the same in its SQLite columns). Every input goes through the real import
pipeline (services.importing.import_paths) on a database that already holds that format's
conversations, both auto-detected and with the format forced. The property: the import
succeeds, or fails with an AimemError (one line, exit 1 in the CLI) and the database is
exactly as it was; any other exception is a bug. A few inputs per importer also go through
the real CLI in a subprocess (exit code 0 or 1, one-line stderr, no traceback).

``make test`` runs a short profile; ``make fuzz`` (AIMEM_FUZZ=long) runs >= 2,000 inputs per
importer and prints how many ended in success and in a clean failure.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimem.errors import AimemError
from aimem.importers import IMPORTERS
from aimem.services import exporting, importing
from aimem.store.db import Store
from conftest import FIXTURES, SHARED_FIXTURES, dump_db, run_aimem

LONG = os.environ.get("AIMEM_FUZZ") == "long"
EXAMPLES = int(os.environ.get("AIMEM_FUZZ_EXAMPLES") or (2000 if LONG else 20))
CLI_RUNS = 12 if LONG else 1

REALWORLD = SHARED_FIXTURES / "realworld"
# importer NAME -> where its fixtures live (globs relative to each root)
SEEDS: dict[str, list[tuple[Path, str]]] = {
    "chatgpt": [(FIXTURES, "chatgpt/**/*.json"), (SHARED_FIXTURES, "chatgpt/*.json"),
                (REALWORLD, "chatgpt/*.json")],
    "claude": [(FIXTURES, "claude/*.json"), (SHARED_FIXTURES, "claude_ai/*.json")],
    "claude_code": [(FIXTURES, "claude_code/*.jsonl"), (SHARED_FIXTURES, "claude_code/*.jsonl"),
                    (REALWORLD, "claude_code/*.jsonl")],
    "codex": [(FIXTURES, "codex/*.json*"), (SHARED_FIXTURES, "codex_cli/*.jsonl"),
              (REALWORLD, "codex_cli/*.jsonl")],
    "deepseek": [(FIXTURES, "deepseek/*.json"), (SHARED_FIXTURES, "other/*deepseek*.json")],
    "gemini_cli": [(FIXTURES, "gemini_cli/*.json*"), (SHARED_FIXTURES, "gemini_cli/*.json*"),
                   (REALWORLD, "gemini_cli/*.json")],
    "gemini_takeout": [(FIXTURES, "gemini_takeout/*.html"),
                       (SHARED_FIXTURES, "gemini_takeout/*.json")],
    "grok": [(FIXTURES, "grok/*.json"), (SHARED_FIXTURES, "other/*grok*.json")],
    "jsonl": [(FIXTURES, "jsonl/*.jsonl")],
    "llm_logs": [(FIXTURES, "llm_logs/*.db"), (SHARED_FIXTURES, "llm_logsdb/*.db")],
    "markdown": [(FIXTURES, "markdown/*.md"), (FIXTURES, "markdown/*.txt")],
    "openwebui": [(FIXTURES, "openwebui/*.json"), (SHARED_FIXTURES, "other/*openwebui*.json")],
    "aider": [(FIXTURES, "aider/*.aider.chat.history.md"), (REALWORLD, "aider/*.md")],
    "specstory": [(FIXTURES, "specstory/*_*.md"), (REALWORLD, "cursor_specstory/*.md")],
}

STATS: dict[str, Counter[str]] = {}


def seeds_for(name: str) -> list[Path]:
    out: list[Path] = []
    for root, pattern in SEEDS[name]:
        if root.exists():
            out += sorted(p for p in root.glob(pattern) if p.is_file())
    return out


def test_every_importer_has_fuzz_seeds() -> None:
    assert set(SEEDS) == set(IMPORTERS), "add the new importer's fixtures to SEEDS"
    for name in SEEDS:
        assert seeds_for(name), f"no fixtures for {name}"


# -- mutations ----------------------------------------------------------------------------

HUGE = "\u00e9x" * 300_000 if LONG else "x" * 100_000
DEEP = 5000  # deeper than orjson (1024) and the recursion limit; "DEEP300" is in between
ODD_VALUES: list[Any] = [None, True, False, 0, -1, 1.5, 1e300, -1e300, 2**70, 253402300800,
                         "", "x", "not a date", "2024-13-45T99:99:99Z", "\x00", "\ud800",
                         [], {}, [None], [1, "a", {}], {"": None}, {"x": [1]}, "DEEP", "DEEP300", "HUGE"]
BAD_BYTES = [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x80\x80\x80",
             b"\xfe\xff", b"\r", b"\n", b"\"", b"{", b"]", b"\\u0000", b"\\ud800"]
MARKS = {"DEEP": ("\ue000DEEP\ue000", "[" * DEEP + "]" * DEEP),
         "DEEP300": ("\ue000DEEP300\ue000", '{"a":' * 300 + "1" + "}" * 300),
         "HUGE": ("\ue000HUGE\ue000", json.dumps(HUGE))}


def _placeholder(v: Any) -> Any:
    return MARKS[v][0] if isinstance(v, str) and v in MARKS else v


def _expand(text: str) -> str:
    for mark, value in MARKS.values():
        text = text.replace(json.dumps(mark), value).replace(json.dumps(mark, ensure_ascii=False),
                                                             value)
    return text


def _paths(obj: Any, here: tuple = (), out: list | None = None, limit: int = 20_000) -> list:
    """Every path to a value in a JSON document (capped)."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    out.append(here)
    if isinstance(obj, dict):
        for k, v in obj.items():
            _paths(v, here + (k,), out, limit)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _paths(v, here + (i,), out, limit)
    return out


def _json_mutate(obj: Any, data: st.DataObject, paths: list) -> Any:
    path = paths[data.draw(st.integers(0, len(paths) - 1), label="path")]
    op = data.draw(st.sampled_from(["swap", "swap", "delete", "empty", "dup"]), label="op")
    new = _placeholder(data.draw(st.sampled_from(ODD_VALUES), label="value"))
    if not path:
        return new if op == "swap" else ([obj, obj] if op == "dup" else type(obj)()
                                         if isinstance(obj, (dict, list)) else new)
    parent = obj
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    if op == "delete":
        del parent[key]
    elif op == "empty" and isinstance(parent[key], (dict, list, str)):
        parent[key] = type(parent[key])()
    elif op == "dup" and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(parent[key])))
    else:
        parent[key] = new
    return obj


_PARSED: dict[Path, Any] = {}


def _parsed(seed: Path) -> Any:
    """The seed as JSON ("json", doc), JSON Lines ("jsonl", [docs]) or None."""
    if seed not in _PARSED:
        raw = seed.read_bytes()
        parsed: Any = None
        try:
            parsed = ("json", json.loads(raw.decode("utf-8-sig")))
        except ValueError:
            try:
                lines = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
                parsed = ("jsonl", lines) if lines else None
            except ValueError:
                parsed = None
        _PARSED[seed] = parsed
    kind_doc = _PARSED[seed]
    return None if kind_doc is None else (kind_doc[0], json.loads(json.dumps(kind_doc[1])))


def structural(seed: Path, data: st.DataObject) -> bytes:
    parsed = _parsed(seed)
    raw = seed.read_bytes()
    if parsed is None:  # text (Markdown, HTML): line-level damage
        lines = raw.split(b"\n")
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        op = data.draw(st.sampled_from(["drop", "dup", "huge", "deep", "nul"]), label="op")
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "huge":
            lines.insert(i, HUGE.encode())
        elif op == "deep":
            lines.insert(i, data.draw(st.sampled_from([b"<div>", b">", b"- ", b"#", b"`"]))
                         * DEEP)
        else:
            lines[i] = lines[i].replace(b" ", b"\x00")
        return b"\n".join(lines)
    kind, doc = parsed
    ensure_ascii = data.draw(st.booleans(), label="ascii")
    if kind == "json":
        doc = _json_mutate(doc, data, _paths(doc))
        return _expand(json.dumps(doc, ensure_ascii=ensure_ascii)).encode("utf-8", "surrogatepass")
    i = data.draw(st.integers(0, len(doc) - 1), label="line")
    op = data.draw(st.sampled_from(["value", "value", "value", "drop", "dup", "garbage"]),
                   label="line-op")
    if op == "value":
        doc[i] = _json_mutate(doc[i], data, _paths(doc[i]))
    elif op == "drop":
        del doc[i]
    elif op == "dup":
        doc.insert(i, doc[i])
    lines = [_expand(json.dumps(d, ensure_ascii=ensure_ascii)) for d in doc]
    if op == "garbage":
        lines.insert(i, data.draw(st.sampled_from(["", "{", "[]", "null", "\"x\"", "{}"])))
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def sqlite_mutate(src: Path, dest: Path, data: st.DataObject) -> None:
    """llm's logs.db: values swapped for other types, rows or tables removed, in SQLite."""
    shutil.copyfile(src, dest)
    conn = sqlite3.connect(dest)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE '%_fts_%' ORDER BY name")]
        table = data.draw(st.sampled_from(tables), label="table")
        cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        op = data.draw(st.sampled_from(["set", "set", "set", "delete", "drop"]), label="op")
        if op == "drop":
            conn.execute(f'DROP TABLE "{table}"')
        elif op == "delete":
            conn.execute(f'DELETE FROM "{table}" WHERE rowid % 2 = 0')
        else:
            col = data.draw(st.sampled_from(cols), label="column")
            value = data.draw(st.sampled_from(
                [None, 0, -1, 1e300, "", "x", "null", "{", "[]", "{}", '{"a": [1]}',
                 "[" * DEEP + "]" * DEEP, HUGE, b"\xff\xfe", "\x00", "2024-13-45"]),
                label="value")
            everywhere = data.draw(st.booleans(), label="all rows")
            conn.execute('PRAGMA ignore_check_constraints = 1')
            try:
                conn.execute(f'UPDATE "{table}" SET "{col}" = ?'
                             + ("" if everywhere else " WHERE rowid = (SELECT min(rowid) FROM "
                                f'"{table}")'), (value,))
            except sqlite3.DatabaseError:  # a NOT NULL or UNIQUE column keeps its value
                pass
        conn.commit()
    finally:
        conn.close()


def mutate(seed: Path, dest: Path, data: st.DataObject) -> None:
    raw = seed.read_bytes()
    sqlite_seed = raw.startswith(b"SQLite format 3\x00")
    kinds = ["truncate", "flip", "insert", "bom", "structural", "structural"]
    kind = data.draw(st.sampled_from(kinds), label="mutation")
    if kind == "structural" and sqlite_seed:
        sqlite_mutate(seed, dest, data)
        return
    if kind == "truncate":
        out = raw[:data.draw(st.integers(0, max(len(raw) - 1, 0)), label="offset")]
    elif kind == "flip":
        buf = bytearray(raw)
        for _ in range(data.draw(st.integers(1, 8), label="flips")):
            i = data.draw(st.integers(0, len(buf) - 1), label="at")
            buf[i] ^= data.draw(st.integers(1, 255), label="xor")
        out = bytes(buf)
    elif kind == "insert":
        i = data.draw(st.integers(0, len(raw)), label="at")
        out = raw[:i] + data.draw(st.sampled_from(BAD_BYTES), label="bytes") + raw[i:]
    elif kind == "bom":
        how = data.draw(st.sampled_from(["utf8", "utf8x2", "utf16le", "utf16be", "utf16"]))
        if how == "utf8":
            out = b"\xef\xbb\xbf" + raw
        elif how == "utf8x2":
            out = b"\xef\xbb\xbf\xef\xbb\xbf" + raw
        elif how == "utf16":
            out = raw.decode("utf-8", "replace").encode("utf-16")
        else:
            out = (b"\xff\xfe" if how == "utf16le" else b"\xfe\xff") + raw
    else:
        out = structural(seed, data)
    dest.write_bytes(out)


# -- the property ---------------------------------------------------------------------------


class Bench:
    """A database holding one import of the format, restored after every successful import."""

    def __init__(self, tmp: Path, name: str, seed: Path):
        self.template = tmp / "template.db"
        self.work = tmp / "work.db"
        store = Store.open(self.template)
        importing.import_paths(store, [str(seed)], fmt=name)
        store.close()
        self.baseline = dump_db(self.template)
        assert self.baseline["conversations"] or self.baseline.get("memories")
        self.store: Store | None = None

    def fresh(self) -> Store:
        if self.store is None:
            for suffix in ("-wal", "-shm"):
                Path(f"{self.work}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.template, self.work)
            self.store = Store.open(self.work)
        return self.store

    def run(self, path: Path, fmt: str) -> str:
        store = self.fresh()
        try:
            importing.import_paths(store, [str(path)], fmt=fmt)
        except AimemError as e:
            assert "\n" not in str(e).strip(), f"message on several lines: {e}"
            if "please report this as a bug" in str(e):
                import traceback

                where = traceback.extract_tb(e.__cause__.__traceback__)[-1]  # type: ignore[union-attr]
                raise AssertionError(f"an importer bug at {where.filename}:{where.lineno} "
                                     f"({where.line}): {e}") from e
            assert dump_db(self.work) == self.baseline, f"failed import changed the database: {e}"
            return "clean failure"
        # what was stored can be read back (an out-of-range time once broke the export)
        assert b"".join(exporting.jsonl_lines(store, None))
        store.close()
        self.store = None
        return "imported"


FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG,
                         database=None if not LONG else settings.default.database,
                         suppress_health_check=list(HealthCheck), print_blob=True)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_fuzz_importer(name: str, tmp_path: Path) -> None:
    seeds = seeds_for(name)
    bench = Bench(tmp_path, name, seeds[0])
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    stats = STATS.setdefault(name, Counter())

    @FUZZ_SETTINGS
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        seed = data.draw(st.sampled_from(seeds), label="seed")
        dest = inputs / seed.name
        mutate(seed, dest, data)
        forced = data.draw(st.booleans(), label="forced")
        outcome = bench.run(dest, name if forced else "auto")
        stats[outcome] += 1
        stats["inputs"] += 1

    try:
        one()
    finally:
        if bench.store is not None:
            bench.store.close()
    print(f"\nfuzz {name}: {stats['inputs']} inputs ({len(seeds)} seeds): "
          f"{stats['imported']} imported, {stats['clean failure']} clean failures")
    assert stats["inputs"] >= min(EXAMPLES, 10)


# the short profile: one JSON export, one session log, the SQLite one (a subprocess is slow)
CLI_IMPORTERS = sorted(SEEDS) if LONG else ["chatgpt", "claude_code", "llm_logs"]


@pytest.mark.parametrize("name", CLI_IMPORTERS)
def test_fuzz_through_the_cli(name: str, tmp_path: Path) -> None:
    """The same damage through the real command line: exit 0 or 1, one line, no traceback."""
    rng = random.Random(f"aimem-fuzz-{name}")
    seeds = seeds_for(name)
    db = tmp_path / "cli.db"
    store = Store.open(db)
    importing.import_paths(store, [str(seeds[0])], fmt=name)
    store.close()
    before = dump_db(db)
    for n in range(CLI_RUNS):
        seed = rng.choice(seeds)
        raw = seed.read_bytes()
        bad = tmp_path / f"{n}-{seed.name}"
        if n % 2 == 0:
            bad.write_bytes(raw[:rng.randrange(len(raw))])
        else:
            buf = bytearray(raw)
            for _ in range(4):
                buf[rng.randrange(len(buf))] ^= rng.randrange(1, 256)
            bad.write_bytes(bytes(buf))
        proc = run_aimem("--db", str(db), "import", str(bad))
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode in (0, 1), err
        assert "Traceback" not in err
        if proc.returncode == 1:
            assert err.startswith("aimem: error: ") and err.count("\n") == 1, err
            assert dump_db(db) == before
        else:
            before = dump_db(db)


def test_an_importer_bug_is_one_line_naming_the_file_and_writes_nothing(tmp_path: Path,
                                                                         monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The safety net: an unexpected exception inside an importer is an ImportFailed."""
    from aimem.importers import jsonl

    seed = FIXTURES / "jsonl" / "sample.jsonl"
    db = tmp_path / "net.db"
    store = Store.open(db)
    importing.import_paths(store, [str(FIXTURES / "markdown" / "note.md")])
    before = dump_db(db)
    real_parse = jsonl.parse

    def broken(inp):  # type: ignore[no-untyped-def]
        yield from list(real_parse(inp))[:1]  # one conversation stored, then the bug
        raise KeyError("role")

    monkeypatch.setattr(jsonl, "parse", broken)
    with pytest.raises(AimemError) as err:
        importing.import_paths(store, [str(seed)])
    store.close()
    msg = str(err.value)
    assert msg.startswith(f"{seed}: ") and "\n" not in msg
    assert "jsonl importer stopped on KeyError ('role')" in msg and "please report" in msg
    assert dump_db(db) == before


def _deep(n: int = DEEP) -> Any:
    v: Any = []
    for _ in range(n):
        v = [v]
    return v


def _chatgpt_content_type_list(doc: Any) -> Any:
    node = next(n for n in doc[0]["mapping"].values() if n.get("message"))
    node["message"]["content"]["content_type"] = []
    return doc


def _chatgpt_huge_time(doc: Any) -> Any:
    doc[0]["create_time"] = 1e300
    for n in doc[0]["mapping"].values():
        if n.get("message"):
            n["message"]["create_time"] = -1e300
    return doc


def _claude_deep_sender(doc: Any) -> Any:
    doc[0]["chat_messages"][0]["sender"] = _deep()
    return doc


def _claude_parent_list(doc: Any) -> Any:
    doc[0]["current_leaf_message_uuid"] = None
    doc[0]["chat_messages"][0]["parent_message_uuid"] = []
    return doc


def _deepseek_deep_child(doc: Any) -> Any:
    next(iter(doc[0]["mapping"].values()))["children"] = [_deep()]
    return doc


def _openwebui_deep_id(doc: Any) -> Any:
    chats = doc if isinstance(doc, list) else [doc]
    for chat in chats:
        for m in (chat.get("chat") or chat).get("messages") or []:
            m["id"] = _deep()
    return doc


# Found by the fuzzer (each crashed before its fix); kept as plain regression tests.
REGRESSIONS = [
    ("chatgpt", FIXTURES / "chatgpt" / "edge_cases.json", _chatgpt_content_type_list),
    ("chatgpt", FIXTURES / "chatgpt" / "edge_cases.json", _chatgpt_huge_time),
    ("claude", FIXTURES / "claude" / "conversations_2026.json", _claude_deep_sender),
    ("claude", FIXTURES / "claude" / "conversations_2026.json", _claude_parent_list),
    ("deepseek", FIXTURES / "deepseek" / "edge_cases.json", _deepseek_deep_child),
    ("openwebui", FIXTURES / "openwebui" / "flat_legacy.json", _openwebui_deep_id),
]


@pytest.mark.parametrize("name,seed,damage", REGRESSIONS,
                         ids=[f"{n}-{d.__name__}" for n, _, d in REGRESSIONS])
def test_fuzz_regressions(name: str, seed: Path, damage: Any, tmp_path: Path) -> None:
    import sys

    bad = tmp_path / seed.name
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, DEEP * 3))  # json.dumps of the deep value itself
    try:
        bad.write_text(json.dumps(damage(json.loads(seed.read_text()))))
    finally:
        sys.setrecursionlimit(limit)
    bench = Bench(tmp_path, name, seed)
    assert bench.run(bad, "auto") == "imported"


def test_fuzz_regressions_codex_item_type_and_takeout_time(tmp_path: Path) -> None:
    rollout = FIXTURES / "codex" / "rollout-2026-02-10T09-00-00-0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.jsonl"
    lines = [json.loads(line) for line in rollout.read_text().splitlines() if line.strip()]
    item = next(r for r in lines if r.get("type") == "response_item")
    item["payload"]["type"] = ["message"]
    bad = tmp_path / rollout.name
    bad.write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert Bench(tmp_path / "codex", "codex", rollout).run(bad, "auto") == "imported"

    takeout = SHARED_FIXTURES / "gemini_takeout" / "synthetic_MyActivity.json"
    if not takeout.exists():
        pytest.skip("../shared is absent: no Gemini Takeout JSON fixture")
    doc = json.loads(takeout.read_text())
    doc[0]["time"] = 1e300
    bad = tmp_path / takeout.name
    bad.write_text(json.dumps(doc))
    assert Bench(tmp_path / "takeout", "gemini_takeout", takeout).run(bad, "auto") == "imported"


def test_fuzz_regression_llm_logs_text_that_is_not_utf8(tmp_path: Path) -> None:
    src = FIXTURES / "llm_logs" / "tools_llm0.36.db"
    bad = tmp_path / "logs.db"
    shutil.copyfile(src, bad)
    conn = sqlite3.connect(bad)
    table = "responses"
    conn.execute(f"UPDATE {table} SET response = CAST(X'6869A2FF' AS TEXT)")
    conn.commit()
    conn.close()
    assert Bench(tmp_path, "llm_logs", src).run(bad, "auto") == "imported"


def test_fuzz_regression_llm_logs_thread_without_id(tmp_path: Path) -> None:
    src = FIXTURES / "llm_logs" / "mixed_llm0.27.1_then_0.36.db"
    bad = tmp_path / "logs.db"
    shutil.copyfile(src, bad)
    conn = sqlite3.connect(bad)
    conn.execute("UPDATE threads SET id = NULL")
    conn.commit()
    conn.close()
    assert Bench(tmp_path, "llm_logs", src).run(bad, "auto") in ("imported", "clean failure")
