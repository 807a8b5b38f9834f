"""The training-check benchmark's own code runs (smoke scale); its figures come from `make bench`."""

from bench.bench_aiuse_check import run


def test_bench_aiuse_check_smoke():
    result = run("smoke")
    assert result["items"] == 3000 and result["summary"]["items"] == 3000
    assert sum(result["summary"]["decisions"].values()) == 3000
    assert result["summary"]["items_matched_in_registry"] > 500      # 35% are planted copies
    assert result["near_duplicates_pairs"] > 0 and result["naive_loop_items_per_second"] > 0
    assert 0 < result["datadiligence_blocked"] < 3000
    assert result["output_formats"] == ["parquet"] and result["all_formats_same_summary"]
    assert result["all_formats_output_bytes"] > result["output_bytes"]
