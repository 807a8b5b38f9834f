"""Evidence packages at dataset scale: selecting the items a check matched to one work.

A check over a large dataset keeps one row per item (``items.parquet``); an evidence package needs
the few that matched the rightholder's work. :func:`obra.aiuse.evidence.results.matched_items`
filters the matches list inside DuckDB over the Parquet file; the baseline, measured in the same
run, reads the file into Python and loops over the rows. Both must select the same items.

Scales: ``full`` 1,000,000 items (0.1 % of them matching the work, 30 % matching others);
``smoke`` 2,000.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from obra.aiuse.evidence.results import CheckResults, matched_items

WORK = "UYMVD-2026-0000007-K"
MATCH = pa.struct([("distance", pa.int64()), ("number", pa.string()), ("how", pa.string()),
                   ("permission", pa.string()), ("from", pa.string()), ("terms_event", pa.int64()),
                   ("terms_version", pa.int64())])


def _items(n: int, seed: int = 16) -> pa.Table:
    """A check's per-item table: every 1,000th item a near duplicate of WORK, 30 % matching other works."""
    rng = np.random.default_rng(seed)
    matches = []
    for i in range(n):
        if i % 1000 == 7:
            matches.append([{"distance": int(rng.integers(0, 9)), "number": WORK, "how": "iscc",
                             "permission": "not-allowed", "from": "own terms", "terms_event": 3, "terms_version": 1}])
        elif i % 10 < 3:
            matches.append([{"distance": 0, "number": f"UYMVD-2026-{i % 99991:07d}-X", "how": "sha256",
                             "permission": "allowed", "from": "own terms", "terms_event": 4, "terms_version": 1}])
        else:
            matches.append(None)
    signals = {c: pa.array(["absent"] * n) for c in ("aipref", "content_signals", "tdmrep", "rsl", "noai", "cawg")}
    return pa.table({"item": pa.array(np.arange(n, dtype=np.int64)), "line": pa.array(np.arange(1, n + 1)),
                     "url": pa.array([f"https://site{i % 977}.example/item/{i}" for i in range(n)]),
                     "decision": pa.array(["allowed"] * n), "registry": pa.array(["none"] * n),
                     "matches": pa.array(matches, pa.list_(MATCH)),
                     "crawl": pa.array(["not-captured"] * n), **signals,
                     "decision_id": pa.array(np.zeros(n, dtype=np.int64)),
                     "crawled_at": pa.array([None] * n, pa.timestamp("us", tz="UTC")),
                     "error": pa.array([None] * n, pa.string())})


def _loop(path: Path, number: str) -> list[int]:
    """Baseline: read every row into Python and keep those whose matches name the work."""
    rows = pq.read_table(path, columns=["item", "matches"]).to_pylist()
    return [r["item"] for r in rows if r["matches"] and any(m["number"] == number for m in r["matches"])]


def run(scale: str = "full") -> dict:
    n = 1_000_000 if scale == "full" else 2_000
    with tempfile.TemporaryDirectory(prefix="obra-bench-evidence-") as tmp:
        path = Path(tmp) / "items.parquet"
        pq.write_table(_items(n), path, compression="zstd")
        results = CheckResults(Path(tmp), {}, "", 0, path, {})
        started = time.perf_counter()
        items, total = matched_items(results, WORK)
        engine = time.perf_counter() - started
        started = time.perf_counter()
        loop = _loop(path, WORK)
        naive = time.perf_counter() - started
        size = path.stat().st_size
    assert [i["item"] for i in items] == loop[:len(items)] and total == len(loop), "the two selections differ"
    return {"items": n, "matched": total, "parquet_bytes": size, "engine_seconds": round(engine, 3),
            "naive_loop_seconds": round(naive, 3), "speedup_vs_loop": round(naive / engine, 1) if engine else None,
            "what": "select the items a check matched to one work: DuckDB over items.parquet vs reading every row "
                    "into Python"}
