"""The DSR ingest benchmark runs (smoke scale); its figures are measured by `make bench`, not here."""

from bench import bench_dsr


def test_bench_dsr_smoke():
    result = bench_dsr.run("smoke")
    assert result["usage_lines"] == 3000 and result["file"]["file_lines"] > 3000
    # the two paths it times agree, and the fast figure is the fast path's (not the fallback's)
    assert result["fast_equals_reference_on_slice"] is True
    assert result["fast"]["share_of_lines_read_by_the_fast_path"] > 0.99
    assert result["reference_slice"]["usage_lines"] == 3000
    assert result["ingest"]["usage_lines"] == 3000
    for figure in (result["fast"], result["reference_slice"], result["fast_slice"], result["ingest"]):
        assert figure["usage_lines_per_second"] > 0 and figure["peak_rss_mib"] > 0
