"""The register benchmark runs (smoke scale) on both stores; its figures are measured in `make bench`, not here."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_register.py"


def test_bench_register_smoke():
    spec = importlib.util.spec_from_file_location("bench_register", BENCH)
    bench_register = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_register)
    result = bench_register.run("smoke")
    for store in ("sqlite", "postgresql"):
        r = result[store]
        if "skipped" in r:
            continue
        assert r["bulk"]["works"] == 600 and r["per_record_baseline"]["works"] == 60
        assert r["search"]["queries"] == 25
        assert set(r["search"]["query_kinds"]) == {"exact", "prefix", "misspelling", "cjk", "party"}
        # the ranked search finds what the alphabetical LIKE scan finds, and the misspellings and party names too
        assert r["search"]["ranked"]["recall_at_10"] > r["search"]["like_scan_baseline"]["recall_at_10"]
