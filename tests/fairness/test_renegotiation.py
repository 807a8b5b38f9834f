"""Renegotiation triggers over stored runs: the best-seller case, thresholds per jurisdiction, the other
triggers, skipped agreements, letters, journal events and who may see what."""

from __future__ import annotations

from datetime import date

import pytest

from obra.errors import PermissionDenied
from obra.fairness.service import CheckRequest
from obra.fairness.terms import AgreementTerms

from .catalogue import build


@pytest.fixture
def cat(store):
    return build(store)


def _flags(result, trigger, agreement):
    return [f for f in result["flags"] if f["trigger"] == trigger and f["agreement"] == str(agreement)]


def test_bestseller_lump_sum_is_flagged_under_urhg_32a(cat):
    """Jost sold her rights for a lump sum of 5,000.00 EUR. Over three months the recording earned
    9/10 of three 100,000.00 EUR pools = 270,000.00 EUR, all kept by the producer. With an appropriate
    share of 10 %, appropriate pay is 27,000.00; 5,000.00 is 5/27 of it (18.5 %), below the half that
    UrhG § 32a tolerates: flagged, citing § 32a, with the time series and the limitation timeline."""
    obra = cat["obra"]
    obra.fairness.set_terms(cat["root"], cat["buyout"], AgreementTerms(jurisdiction="DE", lump_sum="5000.00",
                                                                       appropriate_share="0.10"))
    result = obra.fairness.check(cat["cmo"], CheckRequest(as_of=date(2025, 6, 30)))
    (flag,) = _flags(result, "disproportion", cat["buyout"])
    assert flag["figures"]["revenue_minor"] == 27_000_000
    assert flag["figures"]["paid_minor"] == 0
    assert flag["figures"]["lump_sum_share_minor"] == 500_000
    assert flag["figures"]["appropriate_minor"] == 2_700_000
    assert flag["figures"]["ratio"] == "5/27" and flag["figures"]["threshold"] == "1/2"
    assert flag["law"]["citation"].startswith("UrhG § 32a") and flag["jurisdiction"] == "DE"
    assert flag["licensee"] == "Tunebox" and flag["right_type"] == "making_available"
    assert [s["revenue_minor"] for s in flag["series"]] == [9_000_000] * 3
    assert [s["units"] for s in flag["series"]] == [9] * 3 and flag["figures"]["units"] == 27  # 9 streams a month
    assert flag["limitation"] == [{"revenue_year": 2025, "earliest_time_bar": "2028-12-31", "years": 3,
                                   "from": flag["law"]["limitation_from"]}]
    assert flag["letter"] == "adjustment_request"


@pytest.mark.parametrize(("jurisdiction", "flagged", "citation"), [
    ("DE", True, "UrhG § 32a"),          # 0.45 < 1/2
    ("FR", False, None),                 # 0.45 >= 5/12: no lesion of more than seven twelfths
    ("GB", False, None),                 # no best-seller clause in UK law
])
def test_the_threshold_changes_with_the_jurisdiction(cat, jurisdiction, flagged, citation):
    """A lump sum of 12,150.00 EUR against 27,000.00 EUR appropriate pay is a ratio of 0.45."""
    obra = cat["obra"]
    obra.fairness.set_terms(cat["root"], cat["buyout"], AgreementTerms(
        jurisdiction=jurisdiction, lump_sum="12150.00", appropriate_share="1/10"))
    result = obra.fairness.check(cat["cmo"], CheckRequest(as_of=date(2025, 6, 30)))
    found = _flags(result, "disproportion", cat["buyout"])
    assert bool(found) is flagged
    if flagged:
        assert found[0]["figures"]["ratio"] == "9/20" and found[0]["law"]["citation"].startswith(citation)
    if jurisdiction == "GB":
        assert any(str(cat["buyout"]) in ids for why, ids in result["not_applicable"].items() if "GB" in why)


def test_where_the_law_gives_no_number_the_operator_configures_one(cat):
    """Spain inherits DSM Art. 20, which sets no threshold: not applied until one is configured."""
    obra = cat["obra"]
    obra.fairness.set_terms(cat["root"], cat["buyout"], AgreementTerms(
        jurisdiction="ES", lump_sum="5000.00", appropriate_share="0.10"))
    plain = obra.fairness.check(cat["cmo"], CheckRequest(as_of=date(2025, 6, 30)))
    assert not _flags(plain, "disproportion", cat["buyout"])
    assert any("Art. 20" in why and str(cat["buyout"]) in ids for why, ids in plain["not_applicable"].items())
    configured = obra.fairness.check(cat["cmo"], CheckRequest(as_of=date(2025, 6, 30), threshold={"ES": "1/2"}))
    (flag,) = _flags(configured, "disproportion", cat["buyout"])
    assert flag["law"]["configured"] and flag["law"]["citation"] == "Directive (EU) 2019/790, Art. 20(1)"


def test_a_fair_royalty_deal_is_not_flagged_and_missing_data_is_named_and_counted(cat):
    """Ana's 20 % royalty deal against an appropriate 15 %: not disproportionate. The novelist's
    agreement has a jurisdiction (her country) but no appropriate share: skipped, named, counted."""
    obra = cat["obra"]
    obra.fairness.set_terms(cat["root"], cat["royalty"], AgreementTerms(jurisdiction="DE", appropriate_share="0.15"))
    result = obra.fairness.check(cat["cmo"], CheckRequest(as_of=date(2025, 6, 30)))
    assert not _flags(result, "disproportion", cat["royalty"])
    skipped = {why: ids for why, ids in result["skipped"].items()}
    assert any(str(cat["buyout"]) in ids and "appropriate share" in why for why, ids in skipped.items())
    assert result["summary"]["skipped"] == {why: len(ids) for why, ids in sorted(skipped.items())}


def test_rights_never_exploited_for_two_years_call_for_a_grace_notice(store):
    """The novelist granted her rights on 1 Jan 2020; nothing was used in the runs from 2023-01 on:
    24 months after the start of the observed history (UrhG § 41), a grace-period notice is due."""
    cat = build(store, months=("2023-01", "2025-02"))
    result = cat["obra"].fairness.check(cat["cmo"], CheckRequest(as_of=date(2025, 3, 1)))
    (flag,) = _flags(result, "non_exploitation", cat["idle"])
    assert flag["law"]["citation"].startswith("UrhG § 41") and flag["figures"]["months"] == 24
    assert flag["letter"] == "grace_notice" and flag["figures"]["last_use"] is None
    # the used recordings' agreements are not flagged; a shorter history says nothing yet
    assert not _flags(result, "non_exploitation", cat["buyout"])
    early = cat["obra"].fairness.check(cat["cmo"], CheckRequest(as_of=date(2024, 12, 1)))
    assert not _flags(early, "non_exploitation", cat["idle"])


def test_a_creator_checks_only_their_own_agreements_and_reads_only_their_letters(cat):
    obra = cat["obra"]
    obra.fairness.set_terms(cat["root"], cat["buyout"], AgreementTerms(jurisdiction="DE", lump_sum="5000.00",
                                                                       appropriate_share="0.10"))
    with pytest.raises(PermissionDenied):
        obra.fairness.check(cat["jost_p"], CheckRequest(as_of=date(2025, 6, 30)))
    with pytest.raises(PermissionDenied):
        obra.fairness.check(cat["jost_p"], CheckRequest(as_of=date(2025, 6, 30), party=str(cat["ana"])))
    mine = obra.fairness.check(cat["jost_p"], CheckRequest(as_of=date(2025, 6, 30), party=str(cat["jost"])))
    assert {f["creator"] for f in mine["flags"]} == {str(cat["jost"])}
    everyone = obra.fairness.check(cat["cmo"], CheckRequest(as_of=date(2025, 6, 30)))
    with pytest.raises(PermissionDenied):
        obra.fairness.check_result(cat["ana_p"], everyone["check"])
    flag = _flags(everyone, "disproportion", cat["buyout"])[0]["flag"]
    with pytest.raises(PermissionDenied):
        obra.fairness.letter(cat["ana_p"], everyone["check"], flag)
    html, meta = obra.fairness.letter(cat["jost_p"], everyone["check"], flag, "html", "de" if False else "es")
    text = html.decode()
    assert "UrhG § 32a" in text and "Solicitud" in text and "Jost V." in text
    events = obra.read_journal(cat["cmo"], kind="fairness.", limit=None)
    kinds = [e["kind"] for e in events]
    assert kinds.count("fairness.check") == 2 and kinds.count("fairness.letter") == 1
    assert "fairness.terms_set" in kinds
    letter_event = next(e for e in events if e["kind"] == "fairness.letter")
    assert letter_event["payload"]["sha256"] == meta["sha256"]


def test_an_unknown_jurisdiction_in_the_configuration_is_refused_by_name(cat):
    from obra.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        cat["obra"].fairness.check(cat["cmo"], CheckRequest(threshold={"XX": "1/2"}, benchmark={"DE": "0.1"}))
    (problem,) = err.value.problems
    assert problem.field == "threshold.XX" and "known: EU, DE" in problem.message
