"""Near-duplicate search: 1,000,000 query codes against 1,000,000 registered 64-bit codes, radius 8.

Ours: :func:`obra.identify.similar.near_duplicates` (multi-index hashing as DuckDB
equi-joins, exact popcount verification), timed end to end including building its
tables. Baseline: faiss ``IndexBinaryFlat`` brute force (every query against every code),
the exact reference, in the same run with the same thread count. ``range_search`` keeps
distances strictly below its radius, so it is given 9 for "at most 8".

Running faiss on all 1,000,000 queries would take several minutes, so it runs on a
sample (every planted query plus random others) and its rate is extrapolated to the full
query set: brute force costs the same for every query, so the extrapolation is linear.
Recall is checked on the sample against faiss (the pairs must be identical) and on the
whole run against the planted ground truth.

Scaling: ours is timed with 200,000 queries against 1M, 2M and 4M indexed codes; the
growth of the time per query (a power law fitted from 1M to 4M) gives the estimate for
10,000,000 queries against 10,000,000 codes. The time per query includes building the
indexed side, spread over 200,000 queries only, so the estimate errs high. faiss's brute
force grows linearly in both sizes, so its 1M x 1M time is multiplied by 100.

The machine is shared, so faiss's rate is measured twice, before and after ours, and the
mean is used; both rates are reported.
"""

from __future__ import annotations

import math
import time

import numpy as np

from obra.identify.similar import near_duplicates

RADIUS = 8
THREADS = 2
SCALES = {
    "full": {"queries": 1_000_000, "indexed": 1_000_000, "planted": 10_000, "faiss_sample": 20_000,
             "scaling_queries": 200_000, "scaling_sizes": [1_000_000, 2_000_000, 4_000_000]},
    "smoke": {"queries": 20_000, "indexed": 20_000, "planted": 500, "faiss_sample": 2_000,
              "scaling_queries": 2_000, "scaling_sizes": [10_000, 20_000, 40_000]},
}


def _codes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)


def _plant(rng: np.random.Generator, queries: np.ndarray, indexed: np.ndarray, n: int):
    """Make the first ``n`` queries copies of indexed codes with 0-12 bits flipped (a third at 8 or 9)."""
    sources = rng.choice(indexed.size, n, replace=False)
    flips = rng.choice(np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 9, 9, 9, 10, 12]), n)
    one = np.uint64(1)
    for i, (src, k) in enumerate(zip(sources, flips)):
        code = indexed[src]
        for bit in rng.choice(64, int(k), replace=False):
            code ^= one << np.uint64(bit)
        queries[i] = code
    return sources, flips


def _faiss_pairs(index, queries: np.ndarray) -> tuple[set, float]:
    started = time.perf_counter()
    lims, _distances, labels = index.range_search(queries.view(np.uint8).reshape(-1, 8), RADIUS + 1)
    elapsed = time.perf_counter() - started
    counts = np.diff(lims).astype(np.int64)
    rows = np.repeat(np.arange(queries.size), counts)
    return set(zip(rows.tolist(), labels.tolist())), elapsed


def run(scale: str) -> dict:
    import faiss

    cfg = SCALES[scale]
    rng = np.random.default_rng(24138)
    indexed = _codes(rng, cfg["indexed"])
    queries = _codes(rng, cfg["queries"])
    sources, flipped = _plant(rng, queries, indexed, cfg["planted"])

    # faiss brute force on a sample (every planted query and random others), before ours ...
    faiss.omp_set_num_threads(THREADS)
    index = faiss.IndexBinaryFlat(64)
    index.add(indexed.view(np.uint8).reshape(-1, 8))
    others = rng.choice(np.arange(cfg["planted"], queries.size), cfg["faiss_sample"] - cfg["planted"],
                        replace=False)
    sample = np.concatenate([np.arange(cfg["planted"]), np.sort(others)])
    faiss_local, faiss_before = _faiss_pairs(index, queries[sample])

    # Ours, over every query.
    started = time.perf_counter()
    pairs = near_duplicates(queries, indexed, RADIUS, threads=THREADS)
    ours_seconds = time.perf_counter() - started
    q_ids = pairs["query"].to_numpy()
    x_ids = pairs["indexed"].to_numpy()
    distances = np.bitwise_count(queries[q_ids] ^ indexed[x_ids])
    assert (distances <= RADIUS).all() and (distances == pairs["distance"].to_numpy()).all()
    found = set(zip(q_ids.tolist(), x_ids.tolist()))
    expected_planted = {(i, int(s)) for i, (s, k) in enumerate(zip(sources, flipped)) if k <= RADIUS}
    planted_recall = len(expected_planted & found) / len(expected_planted)

    # ... and after ours (the same sample), to even out the load of a shared machine.
    _again, faiss_after = _faiss_pairs(index, queries[sample])
    assert _again == faiss_local
    faiss_seconds = (faiss_before + faiss_after) / 2
    faiss_found = {(int(sample[i]), x) for i, x in faiss_local}
    in_sample = set(sample.tolist())
    ours_in_sample = {p for p in found if p[0] in in_sample}
    recall = len(faiss_found & ours_in_sample) / max(1, len(faiss_found))
    assert ours_in_sample == faiss_found, "near-duplicate search disagrees with brute force"
    assert planted_recall == 1.0

    faiss_rate = sample.size / faiss_seconds
    faiss_full_seconds = queries.size / faiss_rate
    ours_rate = queries.size / ours_seconds

    # Scaling: a fixed query sample against growing indexed sets; the time per query includes the
    # indexed side's build and partition overhead spread over the sample only (so it is an upper bound).
    scaling = []
    probe = queries[: cfg["scaling_queries"]]
    for size in cfg["scaling_sizes"]:
        grown = np.concatenate([indexed, _codes(rng, max(0, size - indexed.size))])[:size]
        started = time.perf_counter()
        near_duplicates(probe, grown, RADIUS, threads=THREADS)
        seconds = time.perf_counter() - started
        scaling.append({"indexed": size, "queries": int(probe.size), "seconds": round(seconds, 3),
                        "microseconds_per_query": round(seconds / probe.size * 1e6, 2), "_per_query": seconds / probe.size})
    first, last = scaling[0], scaling[-1]
    exponent = math.log(last["_per_query"] / first["_per_query"]) / math.log(last["indexed"] / first["indexed"])
    for point in scaling:
        del point["_per_query"]
    target = 10_000_000
    per_query_10m = last["microseconds_per_query"] / 1e6 * (target / last["indexed"]) ** exponent
    ours_10m = target * per_query_10m
    faiss_10m = faiss_full_seconds * (target / queries.size) * (target / indexed.size)

    return {
        "what": "exact near-duplicate search, 64-bit ISCC bodies, Hamming radius 8",
        "queries": int(queries.size), "indexed": int(indexed.size), "radius": RADIUS, "threads": THREADS,
        "planted_near_duplicates": int(cfg["planted"]), "pairs_found": len(found),
        "ours_seconds": round(ours_seconds, 2), "ours_queries_per_second": round(ours_rate),
        "faiss_sample_queries": int(sample.size), "faiss_sample_seconds": round(faiss_seconds, 2),
        "faiss_sample_seconds_before_ours": round(faiss_before, 2),
        "faiss_sample_seconds_after_ours": round(faiss_after, 2),
        "faiss_queries_per_second": round(faiss_rate),
        "faiss_full_seconds_extrapolated": round(faiss_full_seconds, 1),
        "faiss_note": "faiss IndexBinaryFlat measured on the sample (mean of a run before and after ours), rate extrapolated linearly to all queries",
        "speedup_vs_faiss": round(faiss_full_seconds / ours_seconds, 1),
        "recall_vs_faiss_on_sample": recall, "recall_planted": planted_recall,
        "scaling": scaling, "scaling_exponent_per_query_cost": round(exponent, 2),
        "estimate_10M_x_10M_ours_seconds": round(ours_10m),
        "estimate_10M_x_10M_faiss_seconds": round(faiss_10m),
        "estimate_10M_speedup": round(faiss_10m / ours_10m, 1),
    }
