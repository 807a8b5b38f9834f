"""The AI-licence benchmark's own code runs (smoke scale); its figures come from `make bench`."""

from bench.bench_ai_licences import run


def test_bench_ai_licences_smoke():
    result = run("smoke")
    quote = result["quote"]
    assert quote["items"] == 5000 and quote["sample_identical_to_loop"]
    assert quote["summary"]["licensable"] + quote["summary"]["free"] + quote["summary"]["not_licensable"] == 5000
    server = result["licence_server"]
    assert server["token_checks"]["requests"] == 100 and server["token_checks"]["per_second"] > 0
