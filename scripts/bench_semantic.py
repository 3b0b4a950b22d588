#!/usr/bin/env python3
"""Semantic search latency: lexical vs hybrid, in-process (p50/p95) and whole command.

Usage: python scripts/bench_semantic.py --db DB [--model aimem-minilm] [--synthetic]
       [--queries ../shared/bench/... queries.json] [--runs 20]

--synthetic stores random unit vectors (int8, the real layout) for every message that
has no vector of --model yet: embedding 250k messages with a local model takes hours on
a small machine, and search cost does not depend on what the vectors contain. The query
is still embedded by the real model (that cost is measured and reported separately).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def fill_synthetic(db: str, model: str, dim: int = 384) -> int:
    import numpy as np

    from aimem.services import Archive
    from aimem.store import vectors

    rng = np.random.default_rng(1)
    n = 0
    with Archive.open(db) as mem:
        have = vectors.stored_hashes(mem.store.conn, model, "message")
        rows = [r for (r,) in mem.store.conn.execute("SELECT rowid FROM messages")
                if r not in have]
        for start in range(0, len(rows), 4096):
            chunk = rows[start:start + 4096]
            q = rng.standard_normal((len(chunk), dim)).astype(np.float32)
            q /= np.linalg.norm(q, axis=1, keepdims=True)
            q8 = np.clip(np.rint(q * 127), -127, 127).astype(np.int8)
            with mem.store.transaction():
                vectors.write(mem.store.conn, model, dim,
                              [("message", r, "synthetic", q8[i].tobytes())
                               for i, r in enumerate(chunk)])
            n += len(chunk)
        mem.set_config("embed-model", model)
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--model", default="aimem-minilm")
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--queries", default="/work/benchdata/queries.json")
    ap.add_argument("--runs", type=int, default=15)
    a = ap.parse_args()
    if a.synthetic:
        t = time.time()
        print(f"synthetic vectors: {fill_synthetic(a.db, a.model)} in {time.time() - t:.0f} s")
    raw = json.loads(Path(a.queries).read_text())
    queries = [q if isinstance(q, str) else q.get("query") or q.get("q") for q in
               (raw if isinstance(raw, list) else raw.get("queries", []))]
    queries = [q for q in queries if q]
    from aimem.services import Archive, semantic

    with Archive.open(a.db, create=False) as mem:
        t = time.perf_counter()
        index = semantic.load_index(mem.store, a.model)
        load = time.perf_counter() - t
        print(f"vectors: {0 if index is None else index.matrix.shape[0]}, first load {load*1000:.0f} ms")
        qv = {}
        t = time.perf_counter()
        for q in queries:
            qv[q] = semantic.query_vector(a.model, q)
        embed_ms = (time.perf_counter() - t) / len(queries) * 1000
        print(f"query embedding ({a.model}): {embed_ms:.0f} ms per query (mean)")
        real_qv = semantic.query_vector
        semantic.query_vector = lambda model, text: qv[text]  # type: ignore[assignment]
        out = {}
        for mode in ("lexical", "hybrid", "semantic"):  # warm the page cache for every mode
            for q in queries:
                mem.search(q, limit=20, mode=mode)
        for mode in ("lexical", "hybrid", "semantic"):
            times = []
            for _ in range(2):
                for q in queries:
                    t = time.perf_counter()
                    mem.search(q, limit=20, mode=mode)
                    times.append((time.perf_counter() - t) * 1000)
            out[mode] = (statistics.median(times), pct(times, 95))
            print(f"in-process {mode:<9} p50 {out[mode][0]:6.1f} ms  p95 {out[mode][1]:6.1f} ms"
                  " (query vector precomputed)")
        semantic.query_vector = real_qv
        times = []
        for _ in range(2):  # as many samples as the modes above: a p95 of 50 is one query
            for q in queries:
                t = time.perf_counter()
                mem.search(q, limit=20, mode="hybrid")
                times.append((time.perf_counter() - t) * 1000)
        print(f"in-process hybrid    p50 {statistics.median(times):6.1f} ms  p95 "
              f"{pct(times, 95):6.1f} ms (query embedded each time)")
    env = {**os.environ, "AIMEM_DB": a.db}
    for mode in ("lexical", "hybrid"):
        times = []
        for i in range(a.runs):
            q = queries[i % len(queries)]
            t = time.perf_counter()
            subprocess.run([str(BIN / "aimem"), "search", q, "--mode", mode, "--json"], env=env,
                           check=True, capture_output=True)
            times.append((time.perf_counter() - t) * 1000)
        print(f"command aimem search --mode {mode:<8} median {statistics.median(times):6.0f} ms"
              f"  p95 {pct(times, 95):6.0f} ms")


if __name__ == "__main__":
    main()
