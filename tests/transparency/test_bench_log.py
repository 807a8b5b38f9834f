"""The log benchmark still runs (tiny scale); its figures are measured in `make bench`, not here."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_log.py"


def test_log_benchmark_smoke_run_produces_its_figures():
    spec = importlib.util.spec_from_file_location("bench_log", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run("smoke")
    assert result["entries"] == 300
    assert result["inclusion_proof_ms_median"] > 0 and result["baseline_inclusion_proof_ms_median"] > 0
    assert result["certificate_verify_ms_median"] > 0
