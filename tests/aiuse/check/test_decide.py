"""The decision table: one item's values and one jurisdiction's rule in, the decision and its reasons out."""

from __future__ import annotations

import pytest

from obra.aiuse.check.decide import Key, decide, licensed_items
from obra.law.tdm import rule_for

NOTHING = dict(error=False, crawl="crawl-allowed", aipref="absent", content_signals="absent", tdmrep="absent",
               rsl="absent", noai="absent", cawg="absent", registry="none")


def key(**kw) -> Key:
    return Key(**(NOTHING | kw))


EU_RESERVATIONS = [
    ("tdmrep", dict(tdmrep="not-allowed")),
    ("aipref", dict(aipref="not-allowed")),
    ("content-signals", dict(content_signals="not-allowed")),
    ("rsl", dict(rsl="prohibited")),
    ("cawg", dict(cawg="not-allowed")),
    ("noai", dict(noai="not-allowed")),
    ("robots-agent", dict(crawl="disallowed-agent")),
    ("robots-all", dict(crawl="disallowed-all")),
    ("registry", dict(registry="not-allowed")),
]


@pytest.mark.parametrize("code", ["EU", "DE", "FR"])
@pytest.mark.parametrize("signal,values", EU_RESERVATIONS, ids=[s for s, _ in EU_RESERVATIONS])
def test_eu_each_kind_of_machine_readable_reservation_reserves(code, signal, values):
    decided = decide(key(**values), rule_for(code, "commercial"))
    assert decided.decision == "reserved"
    assert signal in decided.rule
    (reservation,) = decided.reservations
    assert reservation["signal"] == signal and reservation["counts"] and reservation["citation"]


@pytest.mark.parametrize("code", ["EU", "DE", "FR"])
def test_eu_without_reservation_allows_and_a_failing_robots_txt_is_not_one(code):
    rule = rule_for(code, "commercial")
    assert decide(key(), rule).decision == "allowed"
    failing = decide(key(crawl="disallowed-status"), rule)
    assert failing.decision == "allowed" and "do(es) not count" in failing.rule
    assert failing.reservations[0]["counts"] is False


def test_eu_an_offer_to_license_requires_a_licence_and_a_prohibition_outranks_it():
    rule = rule_for("DE", "commercial")
    assert decide(key(rsl="licence-required"), rule).decision == "licence-required"
    assert decide(key(registry="licence"), rule).decision == "licence-required"
    assert decide(key(rsl="licence-required", tdmrep="not-allowed"), rule).decision == "reserved"


def test_eu_the_registry_decides_over_web_signals_and_the_conflict_is_listed():
    decided = decide(key(registry="allowed", tdmrep="not-allowed", aipref="not-allowed"), rule_for("DE", "commercial"))
    assert decided.decision == "allowed"
    (conflict,) = decided.conflicts
    assert conflict["allowing"] == ["registry"] and set(conflict["reserving"]) == {"tdmrep", "aipref"}
    assert "registry" in conflict["decided_by"]


def test_eu_signals_that_disagree_are_listed_and_the_reservation_wins():
    decided = decide(key(tdmrep="allowed", aipref="not-allowed", rsl="licensed"), rule_for("FR", "commercial"))
    assert decided.decision == "reserved"
    (conflict,) = decided.conflicts
    assert set(conflict["allowing"]) == {"tdmrep", "rsl"} and conflict["reserving"] == ["aipref"]


def test_eu_research_cannot_be_reserved():
    decided = decide(key(tdmrep="not-allowed", registry="not-allowed"), rule_for("DE", "research", False))
    assert decided.decision == "allowed" and "whatever the reservations" in decided.rule
    assert {r["signal"] for r in decided.reservations} == {"tdmrep", "registry"}


def test_uk_non_commercial_research_only():
    assert decide(key(tdmrep="not-allowed"), rule_for("GB", "research", False)).decision == "allowed"
    commercial = rule_for("GB", "commercial")
    assert decide(key(), commercial).decision == "licence-required"
    assert decide(key(registry="allowed"), commercial).decision == "allowed"
    assert decide(key(registry="not-allowed"), commercial).decision == "reserved"
    assert decide(key(rsl="licensed"), commercial).decision == "allowed"     # a free licence grants it
    assert decide(key(), rule_for("GB", "non-commercial")).decision == "licence-required"


def test_japan_article_30_4_allows_whatever_is_reserved():
    decided = decide(key(tdmrep="not-allowed", crawl="disallowed-agent", registry="not-allowed"),
                     rule_for("JP", "commercial"))
    assert decided.decision == "allowed" and "30-4" in decided.rule
    assert all(r["counts"] is False for r in decided.reservations)
    assert any("unreasonably prejudices" in f for f in decided.flags)


def test_us_fair_use_is_unknown_and_flagged_for_review():
    rule = rule_for("US", "commercial")
    decided = decide(key(aipref="not-allowed"), rule)
    assert decided.decision == "unknown" and "licence or fair-use review" in decided.flags
    assert decide(key(), rule).decision == "unknown"
    assert decide(key(registry="allowed"), rule).decision == "allowed"


def test_unclear_law_and_uses_the_tdm_facts_do_not_cover_are_unknown_unless_the_registry_answers():
    unclear = rule_for("CN", "commercial")
    assert decide(key(), unclear).decision == "unknown" and "legal review" in decide(key(), unclear).flags
    assert decide(key(registry="licence"), unclear).decision == "licence-required"
    rag = rule_for("DE", "commercial", use="ai-input")
    assert decide(key(aipref="not-allowed"), rag).decision == "unknown"
    assert decide(key(registry="not-allowed"), rag).decision == "reserved"


def test_an_unreadable_row_is_unknown_and_a_licensed_item_is_licensed():
    rule = rule_for("DE", "commercial")
    assert decide(key(error=True, tdmrep="not-allowed"), rule).decision == "unknown"
    assert decide(Key(**(NOTHING | {"tdmrep": "not-allowed"}), licensed=True), rule).decision == "licensed"
    assert licensed_items(None, None, None) == set()   # the hook issue #15 fills
