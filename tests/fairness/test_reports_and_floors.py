"""Transparency reports (signed, offline verification, tamper detection, access) and statutory floors
applied by the waterfall (the outcome changes with the territory's law)."""

from __future__ import annotations

import json

import pytest

from obra.errors import NotFound, PermissionDenied
from obra.fairness.transparency_report import ReportError, verify_report
from obra.royalties.pipeline import DistributionRequest

from .catalogue import build


@pytest.fixture
def cat(store):
    return build(store)


def test_the_yearly_report_has_the_figures_is_signed_and_fails_when_altered(cat):
    """Ana, 20 % royalty: each month her song earned 1/10 of 100,000.00 EUR = 10,000.00 through the label
    deal, 2,000.00 of it due to her. The year: 30,000.00 generated, 6,000.00 due, 3 streams."""
    obra = cat["obra"]
    data, meta = obra.fairness.report(cat["ana_p"], str(cat["ana"]), 2025)
    report = json.loads(data)
    (t,) = report["transferees"]
    assert t["agreement"] == str(cat["royalty"]) and t["transferee"]["name"] == "Sello Uno"
    assert t["totals"] == {"EUR": {"units": 3, "revenue_minor": 3_000_000, "remuneration_due_minor": 600_000}}
    (line,) = t["lines"]
    assert (line["work"], line["platform"], line["service"], line["territory"]) == (
        cat["song"], "Tunebox", "Subscription", "DE")
    assert report["law"]["jurisdiction"] == "ES" and report["law"]["obligation"]["value"] is True
    history = obra.log.key_history()
    assert verify_report(data, history)["creator"]["party"] == str(cat["ana"])
    altered = json.loads(data)
    altered["transferees"][0]["totals"]["EUR"]["remuneration_due_minor"] += 1
    with pytest.raises(ReportError, match="signature"):
        verify_report(altered, history)
    # the report is a journal event carrying its hash; Ana may not ask for Jost's
    (event,) = obra.read_journal(cat["cmo"], kind="fairness.report", limit=None)
    assert event["payload"]["report_sha256"] == meta["sha256"]
    with pytest.raises(PermissionDenied):
        obra.fairness.report(cat["ana_p"], str(cat["jost"]), 2025)
    for fmt, marker in (("csv", b"revenue_minor"), ("html", "Informe de transparencia".encode()), ("pdf", b"%PDF-")):
        rendered, _ = obra.fairness.report(cat["cmo"], str(cat["ana"]), 2025, fmt, "es")
        assert marker in rendered


def test_a_catalogue_gets_every_report_at_once_in_one_event(cat):
    obra = cat["obra"]
    with pytest.raises(PermissionDenied):
        obra.fairness.reports(cat["ana_p"], 2025)
    out = obra.fairness.reports(cat["cmo"], 2025)
    assert out["reports"] == 2  # Jost and Ana granted rights that generated revenue; producer and label did not
    docs = obra.fairness.documents(cat["ana_p"], str(cat["ana"]))
    assert [d["kind"] for d in docs] == ["report"]
    with pytest.raises(PermissionDenied):
        obra.fairness.documents(cat["ana_p"], str(cat["jost"]))


def test_the_french_streaming_floor_tops_up_a_low_royalty_and_shows_on_the_statement(store):
    """In France the streaming accord guarantees featured performers 10 % of the producer's streaming
    receipts. Jost's buy-out leaves her 0 % of the 90,000.00 EUR her recording earned in the month: the
    waterfall tops her up to 9,000.00 from the producer's part, reported on her statement as a
    statutory_floor adjustment citing the accord. Ana's 20 % deal is above the floor: unchanged."""
    cat = build(store, months=("2025-01",), territory="FR", with_idle=False)
    obra = cat["obra"]
    report = obra.royalties.distribute(cat["cmo"], DistributionRequest(period="2025-01", floors=True))
    _, statement = obra.royalties.statement(cat["ana_p"], str(cat["ana"]))
    floors = [a for a in statement["adjustments"] if a["kind"] == "statutory_floor"]
    # the 20 % deal is above the 10 % floor: nothing to top up
    assert floors == [] and statement["totals"]["EUR"]["net_minor"] == 200_000
    # Jost's buy-out (retained 1) in France: 0 % to the performer, topped up to 10 % of 90,000.00
    _, jost = obra.royalties.statement(cat["jost_p"], str(cat["jost"]))
    (floor,) = [a for a in jost["adjustments"] if a["kind"] == "statutory_floor"]
    assert floor["amount_minor"] == 900_000 and "FR floor" in floor["note"] and "Accord du 12 mai 2022" in floor["note"]
    page, _ = obra.royalties.statement(cat["jost_p"], str(cat["jost"]), fmt="html", locale="fr")
    assert "Complément au plancher légal" in page.decode()
    assert report["conservation"]["EUR"]["distributed"] + report["conservation"]["EUR"]["unallocated"] == 10_000_000


def test_no_floor_applies_in_a_territory_whose_law_sets_none(store):
    cat = build(store, months=("2025-01",), territory="DE", with_idle=False)
    obra = cat["obra"]
    obra.royalties.distribute(cat["cmo"], DistributionRequest(period="2025-01", floors=True))
    # a buy-out in Germany: no floor, so Jost earns nothing and has no statement (in France she had 9,000.00)
    with pytest.raises(NotFound):
        obra.royalties.statement(cat["jost_p"], str(cat["jost"]))


def test_a_period_distributed_under_two_models_is_counted_once(cat):
    """Pro-rata and user-centric runs of the same month are alternatives: the newest is the record."""
    obra = cat["obra"]
    before, _ = obra.fairness.report(cat["cmo"], str(cat["ana"]), 2025)
    obra.royalties.distribute(cat["cmo"], DistributionRequest(period="2025-03", model="user-centric"))
    after, _ = obra.fairness.report(cat["cmo"], str(cat["ana"]), 2025)
    assert json.loads(after)["totals"] == json.loads(before)["totals"]
    assert [r["period"] for r in json.loads(after)["runs"]] == ["2025-01", "2025-02", "2025-03"]
