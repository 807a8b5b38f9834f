"""The matching benchmark runs (smoke scale); its figures are measured in `make bench`, not here."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_matching.py"


def test_bench_matching_smoke():
    spec = importlib.util.spec_from_file_location("bench_matching", BENCH)
    bench_matching = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_matching)
    result = bench_matching.run("smoke")
    q = result["quality"]
    assert q["pairs"] == 400 and 0 <= q["model"]["precision"] <= 1
    # the model must beat the naive exact-title baseline it is compared with
    assert q["model"]["f1"] > q["baseline_exact_title"]["f1"]
    messy = result["quality_messy"]
    assert messy["pairs"] == 400 and messy["model"]["f1"] > messy["baseline_exact_title"]["f1"]
    link = result["linkage"]
    assert link["obra"]["true_positives"] > link["baseline_exact_title_artist"]["true_positives"]
    assert link["splink"]["seconds"] > 0
    u = result["usage_matching"]
    assert u["lines"] == 3000 and u["isrc_matched_correctly"] > 0 and u["lines_per_second"] > 0
