"""The observatory benchmark's code runs (tiny scale); its figures are measured by `make bench`, not here."""

from bench import bench_observatory


def test_bench_observatory_smoke():
    result = bench_observatory.run("smoke")
    assert (result["lines"], result["users"]) == (50_000, 5_000)
    assert result["numbers_agree"] is True
    stages = result["stages"]
    for stage in ("stage", "indicators", "model pro-rata", "model user-centric", "model artist-centric", "compare",
                  "site, PDF, tables, manifest"):
        assert stages[stage]["cpu_seconds"] >= 0 and stages[stage]["wall_seconds"] > 0, stage
    assert set(result["gini_artists"]) == {"EUR", "GBP", "USD"}
    assert all(0 < g < 1 for g in result["gini_artists"].values())
