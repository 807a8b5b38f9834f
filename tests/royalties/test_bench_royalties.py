"""The royalty benchmark's code runs (tiny scale); its figures are measured by `make bench`, not here."""

from bench import bench_royalties


def test_bench_royalties_smoke():
    result = bench_royalties.run("smoke")
    assert result["usage_lines"] == 20_000
    assert result["pandas_agrees_with_obra"] is True
    for cur, c in result["conservation"].items():
        assert c["distributed"] + c["unallocated"] == c["revenue"], cur
    assert result["peer"]["obra_conserved"] is True and result["peer"]["peer_rows_out"] > 200_000
