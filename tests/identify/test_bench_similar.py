"""The near-duplicate benchmark's own code runs (tiny scale; the figures come from `make bench`)."""

from bench.bench_similar import run


def test_bench_similar_smoke_agrees_with_faiss():
    result = run("smoke")
    assert result["recall_vs_faiss_on_sample"] == 1.0 and result["recall_planted"] == 1.0
    assert result["pairs_found"] >= result["planted_near_duplicates"] * 0.5
    assert result["faiss_full_seconds_extrapolated"] > 0 and len(result["scaling"]) == 3
