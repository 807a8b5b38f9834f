"""``python -m bench`` keeps what a benchmark's other parts measured when it runs only some of them."""

from bench.__main__ import merged


def test_a_partial_run_replaces_its_own_figures_and_keeps_the_others():
    before = {"postgresql": {"bulk": {"registrations_per_s": 5170, "works": 200_000}, "search": {"p95_ms": 84.5}},
              "sqlite": {"bulk": {"registrations_per_s": 6140}}, "wall_seconds": 900}
    search_only = {"postgresql": {"search": {"p95_ms": 36.9, "p50_ms": 10.6}}, "wall_seconds": 300}
    assert merged(before, search_only) == {
        "postgresql": {"bulk": {"registrations_per_s": 5170, "works": 200_000}, "search": {"p95_ms": 36.9, "p50_ms": 10.6}},
        "sqlite": {"bulk": {"registrations_per_s": 6140}}, "wall_seconds": 300}
    assert before["postgresql"]["search"] == {"p95_ms": 84.5}  # not changed in place
