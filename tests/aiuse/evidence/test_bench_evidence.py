"""The evidence benchmark's own code runs (smoke scale) and both selections agree; figures come from `make bench`."""

from bench.bench_evidence import run


def test_bench_evidence_smoke():
    result = run("smoke")
    assert result["items"] == 2000 and result["matched"] == 2      # items 7 and 1007 match the work
    assert result["engine_seconds"] > 0 and result["naive_loop_seconds"] > 0
