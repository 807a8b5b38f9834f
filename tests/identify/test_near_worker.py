"""The near-duplicate search in a child process answers exactly what the in-process search does."""

from __future__ import annotations

import numpy as np
import pytest

from obra.identify.near_worker import NearWorker
from obra.identify.similar import near_duplicate_arrays


def test_the_worker_finds_the_same_pairs_and_reports_errors():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 2**64 - 1, 20_000, dtype=np.uint64, endpoint=True)
    q = x[rng.integers(0, x.size, 5_000)] ^ (np.uint64(1) << rng.integers(0, 64, 5_000).astype(np.uint64))
    q = np.concatenate([q, rng.integers(0, 2**64 - 1, 5_000, dtype=np.uint64, endpoint=True)])
    expected = near_duplicate_arrays(q, x, 8)
    with NearWorker() as worker:
        for threads in (1, 2):
            found = worker.search(q, x, 8, threads)
            assert all(np.array_equal(a, b) for a, b in zip(found, expected))
        assert expected[0].size >= 5_000
        with pytest.raises(RuntimeError, match="radius"):
            worker.search(q, x, 99)
        empty = worker.search(q[:0], x, 8)   # the worker serves on after an error
        assert [a.size for a in empty] == [0, 0, 0]
    assert worker._proc.poll() == 0   # closed: the child ended its loop


def test_tables_built_ahead_give_the_same_pairs_in_the_worker_and_here():
    from obra.identify.similar import block_tables, near_duplicates

    rng = np.random.default_rng(9)
    x = rng.integers(0, 2**64 - 1, 8_000, dtype=np.uint64, endpoint=True)
    q = np.concatenate([x[:3_000] ^ (np.uint64(1) << rng.integers(0, 64, 3_000).astype(np.uint64)),
                        x[3_000:4_000] ^ np.uint64(0xFF),   # eight bits apart: still within radius 8
                        rng.integers(0, 2**64 - 1, 2_000, dtype=np.uint64, endpoint=True)])
    expected = near_duplicate_arrays(q, x, 8)
    here = near_duplicates(q, x, 8, tables=block_tables(x, 8))
    assert all(np.array_equal(here[c].to_numpy(), e) for c, e in zip(("query", "indexed", "distance"), expected))
    with pytest.raises(ValueError, match="other indexed codes or another radius"):
        near_duplicates(q, x, 6, tables=block_tables(x, 8))
    with pytest.raises(ValueError, match="other indexed codes or another radius"):
        near_duplicates(q, x[:-1], 8, tables=block_tables(x, 8))
    with NearWorker() as worker:
        worker.prepare("image", x, 8)
        found = worker.search(q, x, 8, prepared="image")
        assert all(np.array_equal(a, b) for a, b in zip(found, expected))
        assert expected[0].size >= 4_000
        with pytest.raises(ValueError, match="other codes or another radius"):
            worker.search(q, x[::-1], 8, prepared="image")
        worker.prepare("bad", x, 99)   # the child reports a failed build when a search names it
        with pytest.raises(RuntimeError, match="radius"):
            worker.search(q, x, 99, prepared="bad")
        assert all(np.array_equal(a, b) for a, b in zip(worker.search(q, x, 8), expected))   # serves on
