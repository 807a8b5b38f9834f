"""The DSR benchmark runs (smoke scale); its figures are measured by `make bench`, not here."""

from bench import bench_dsr


def test_bench_dsr_smoke(tmp_path, monkeypatch):
    monkeypatch.setenv("OBRA_BENCH_CACHE", str(tmp_path / "cache"))
    result = bench_dsr.run("smoke")
    # the generated file has exactly the lines asked for, as wc -l counts them
    assert result["file"]["file_lines"] == 7_000 and result["usage_lines"] > 2_000
    e2e = result["end_to_end"]
    assert e2e["file_lines"] == 7_000 and e2e["usage_lines"] == result["usage_lines"]
    assert set(e2e["stages"]) == {"ingest", "match", "distribute_and_statements"}
    for stage in (*e2e["stages"].values(), e2e["total"]):
        assert stage["wall_seconds"] > 0 and stage["cpu_seconds"] > 0
    # usage matched by ISRC against the catalogue, money conserved, a statement (JSON + CSV) per payee
    assert e2e["matched"]["isrc"] > 0 and e2e["matched"]["none"] > 0 and e2e["conserved"] is True
    assert e2e["payees"] > 0 and e2e["statement_files"] == 2 * e2e["payees"] and e2e["statement_lines"] > 0
    assert result["end_to_end_slice_fuzzy"]["usage_lines"] == 3_000
    # the two readers it times agree, and the fast figure is the fast path's (not the fallback's)
    assert result["fast_equals_reference_on_slice"] is True
    assert result["fast"]["share_of_lines_read_by_the_fast_path"] > 0.99
    assert result["reference_slice"]["usage_lines"] == 3_000
    for figure in (result["fast"], result["reference_slice"], result["fast_slice"]):
        assert figure["usage_lines_per_second"] > 0 and figure["peak_rss_mib"] > 0
    # a second run takes the file and the catalogue from the cache
    made = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert made == ["dsr-catalogue-300-v2", "dsr-report-7000-seed7-v2"]
    assert bench_dsr.run("smoke")["end_to_end"]["usage_lines"] == e2e["usage_lines"]
