"""A check run twice on the same inputs writes the same files, byte for byte, so the output hashes in
its receipt are the same: someone who reruns it can prove it (the engine groups rows in any order;
the classes and decisions are numbered in key order, not in the order they were found)."""

from __future__ import annotations

import hashlib

from bench.bench_aiuse_check import stage_check, stage_generate


def _hashes(out) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())
            if p.name in ("items.parquet", "parts.json", "summary.json")}


def test_the_same_check_twice_writes_the_same_files(tmp_path):
    # Enough rows for DuckDB to work on several row groups in parallel (122,880 rows each).
    stage_generate(str(tmp_path), items=400_000, works=20_000, sites=400)
    runs = []
    for _ in range(2):
        before = set(tmp_path.glob("obra-bench-check-*"))
        result = stage_check(str(tmp_path), threads=2)
        (home,) = set(tmp_path.glob("obra-bench-check-*")) - before
        runs.append(_hashes(home / "out"))
        assert result["summary"]["items"] == 400_000
    assert len(runs[0]) == 3 and runs[0] == runs[1]
