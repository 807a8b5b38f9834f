"""The portal benchmark still runs (tiny scale, 200 requests a page); its figures are measured in `make bench`."""

import importlib.util
import shutil
from pathlib import Path

from tests.conftest import _unavailable

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_portal.py"


def test_portal_benchmark_smoke_run_answers_every_request():
    if shutil.which("hey") is None:
        _unavailable("hey (the load generator, `make system-deps`)", "not installed")
    spec = importlib.util.spec_from_file_location("bench_portal", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run("smoke")
    for page in ("api_search_json", "portal_search_page", "portal_record_page"):
        assert result[page]["non_2xx"] == 0 and result[page]["errors"] == 0
        assert result[page]["p95_ms"] > 0 and result[page]["requests_per_s"] > 0
    assert result["search_page_p95_vs_api"] > 0
