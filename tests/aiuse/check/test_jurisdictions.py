"""The training check's decisions per jurisdiction, end to end (the law's part does not depend on the database)."""

from __future__ import annotations

from .test_check import by_line, run_check


def test_the_us_flags_licence_or_fair_use_review(sqlite_world, tmp_path):
    result = run_check(sqlite_world, tmp_path, jurisdiction="US")
    items = by_line(result)
    assert items[1]["decision"] == "unknown" and "licence or fair-use review" in items[1]["flags"]
    assert items[15]["decision"] == "allowed"     # the rightholder's own terms allow it
    assert items[14]["decision"] == "unknown"     # its terms reserve it: a fact for the review


def test_japan_allows_and_reports_the_overridden_reservations(sqlite_world, tmp_path):
    items = by_line(run_check(sqlite_world, tmp_path, jurisdiction="JP"))
    assert items[4]["decision"] == "allowed" and "whatever the reservations" in items[4]["rule"]
    assert any(r["signal"] == "tdmrep" and not r["counts"] for r in items[4]["reservations"])


def test_the_uk_allows_non_commercial_research_only(sqlite_world, tmp_path):
    research = by_line(run_check(sqlite_world, tmp_path, jurisdiction="GB", purpose="research", commercial=False))
    assert research[1]["decision"] == "allowed"
    commercial = by_line(run_check(sqlite_world, tmp_path / "c", jurisdiction="GB"))
    assert commercial[1]["decision"] == "licence-required" and commercial[15]["decision"] == "allowed"
