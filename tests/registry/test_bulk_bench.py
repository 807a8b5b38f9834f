"""The register benchmark runs (smoke scale) on both stores; its figures are measured in `make bench`, not here."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_register.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_register", BENCH)
    bench_register = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_register)
    return bench_register


def test_bench_register_smoke():
    result = _bench().run("smoke")
    for store in ("sqlite", "postgresql"):
        r = result[store]
        if "skipped" in r:
            continue
        assert r["bulk"]["works"] == 600 and r["per_record_baseline"]["works"] == 60
        # every stage of the bulk path is timed, and the stages account for most of its CPU
        stages = r["bulk"]["stages_cpu_seconds"]
        building = {"validate", "resolve", "build", "log", "rows", "log_check", "wait for writer"}
        writing = {f"write {t}" for t in ("transparency_log_entries", "transparency_log_nodes", "journal_events",
                                          "registrations", "titles", "shares", "contributors")}
        assert building - {"wait for writer"} <= set(stages) <= building | writing and writing <= set(stages)
        assert sum(stages.values()) <= r["bulk"]["cpu_seconds_client"] + 0.05
        search = r["search"]
        assert search["ranked"]["queries"] == 25 and search["like_scan_baseline"]["queries"] == 25
        assert set(search["query_kinds"]) == {"exact", "prefix", "misspelling", "cjk", "party"}
        # the ranked search finds what the alphabetical LIKE scan finds, and the misspellings and party names too
        assert search["ranked"]["recall_at_10"] > search["like_scan_baseline"]["recall_at_10"]
        assert search["ranked"]["recall_at_10_equivalent"] >= search["ranked"]["recall_at_10"]


def test_a_generated_search_store_holds_what_the_catalogue_holds(tmp_path, monkeypatch):
    """The store the search benchmark generates in bulk at national scale has the catalogue's titles, alternate
    titles and parties, and the search finds a generated work by its title on it."""
    from sqlalchemy import func, select

    from obra.registry.service import Registry
    from obra.store.schema import parties, registrations, titles

    bench = _bench()
    monkeypatch.setattr(bench, "CACHE", tmp_path)
    store, build = bench.scale_store("sqlite", 400, chunk=150, log=lambda _: None)
    try:
        assert build is not None
        expected_parties, works = bench.catalogue(150)
        with store.connect() as conn:
            assert conn.execute(select(func.count()).select_from(registrations)).scalar_one() == 400
            stored = conn.execute(select(registrations.c.title).order_by(registrations.c.id).limit(150)).scalars()
            assert list(stored) == [w["title"] for w in works]
            assert conn.execute(select(func.count()).select_from(titles)).scalar_one() > 0
            assert conn.execute(select(parties.c.name).where(parties.c.id == 1)).scalar_one() == \
                expected_parties[0]["name"]
        assert works[7]["title"] in [r["title"] for r in Registry(store).search(works[7]["title"])]
    finally:
        store.dispose()
    again, cached = bench.scale_store("sqlite", 400, chunk=150, log=lambda _: None)
    again.dispose()
    assert cached is None  # the second call finds the cached store


def test_the_whole_register_part_loads_every_file_and_accounts_for_each(pg_admin_engine):
    """``OBRA_BENCH_REGISTER_PARTS=whole`` (PostgreSQL): every file one import, the rates of all of them summed up."""
    result = _bench().whole_register(files=40, n=130)
    assert result["works"] == 130 and result["files"] == 4 and result["works_per_file"] == 40
    low, median, high = result["file_rate_p05_median_p95"]
    assert 0 < low <= median <= high
    assert result["seconds"] > 0 and result["registrations_per_s"] > 0
    assert sum(result["first_and_last_tenth_seconds"]) <= result["seconds"] + 0.1
