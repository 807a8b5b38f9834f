"""Voice and likeness consent: records within the statutory limits, the check, revocation, the takedown notice."""

from __future__ import annotations

from datetime import date

import pytest

from obra.access import ANONYMOUS
from obra.errors import AuthenticationRequired, InvalidInput, PermissionDenied
from obra.journal import Journal


def _record(world, **kw) -> dict:
    base = {"party": world["ana"], "attributes": ["voice"], "uses": ["dubbing", "training"], "decision": "permitted",
            "valid_from": "2026-01-01", "valid_until": "2030-12-31", "jurisdiction": "UY",
            "description": "Spanish dubbing of the series 'Canciones', seasons 1-2",
            "evidence": [{"kind": "signed-contract", "sha256": "ab" * 32, "uri": "https://cmo.example/c/1"}]}
    return base | kw


def test_a_performer_records_consent_and_a_platform_checks_it(world):
    svc = world["obra"].likeness
    done = svc.set_consent(world["creator"], _record(world))
    assert Journal(world["obra"].store).verify(done["journal_event"])["kind"] == "likeness.consent.set"
    ok = svc.check(world["ana"], "dubbing", attribute="voice", on=date(2027, 3, 1))
    assert ok["decision"] == "permitted" and ok["evidence"][0]["consent_id"] == done["consent_id"]
    assert svc.check(world["ana"], "advertising", on=date(2027, 3, 1))["decision"] == "no-consent"
    assert svc.check(world["ana"], "dubbing", attribute="face", on=date(2027, 3, 1))["decision"] == "no-consent"
    assert svc.check(world["ana"], "dubbing", on=date(2031, 1, 1))["decision"] == "no-consent"   # after its term
    # a more restrictive record wins; revocation ends a record from then on
    prohibited = svc.set_consent(world["creator"], _record(world, uses=["training"], decision="prohibited"))
    assert svc.check(world["ana"], "training", on=date(2027, 3, 1))["decision"] == "prohibited"
    svc.revoke(world["creator"], done["consent_id"], "changed my mind")
    assert svc.check(world["ana"], "dubbing", on=date(2027, 3, 1))["decision"] == "no-consent"
    assert prohibited["version"] == 1


def test_statutory_limits_refuse_with_the_rule_and_its_citation(world):
    svc = world["obra"].likeness
    with pytest.raises(InvalidInput, match="Cal. Labor Code s.927") as err:
        svc.set_consent(world["cmo"], _record(world, jurisdiction="US-CA", uses=["synthetic-replica"],
                                              valid_until="2030-01-01"))
    assert {p.field for p in err.value.problems} == {"representation"}
    with pytest.raises(InvalidInput, match="at most 5 years") as err:
        svc.set_consent(world["cmo"], _record(world, jurisdiction="US", minor=True, valid_until="2033-01-01",
                                              guardian={"name": "María Autora", "relation": "mother"}))
    assert "NO FAKES" in str(err.value.problems[0])
    with pytest.raises(InvalidInput, match="guardian"):
        svc.set_consent(world["cmo"], _record(world, minor=True))
    assert svc.set_consent(world["cmo"], _record(world, jurisdiction="US", minor=True, valid_until="2030-12-31",
                                                 guardian={"name": "María Autora", "relation": "mother"}))["version"] == 1
    represented = svc.set_consent(world["cmo"], _record(world, jurisdiction="US-CA", uses=["synthetic-replica"],
                                                        representation={"union": "SAG-AFTRA"}))
    assert [r["jurisdiction"] for r in represented["rules"]] == ["US", "US-CA"]


def test_no_biometric_data_can_be_stored(world):
    with pytest.raises(InvalidInput) as err:
        world["obra"].likeness.set_consent(world["cmo"], _record(world, voice_sample="UklGRiQAAABXQVZF"))
    assert err.value.problems[0].field == "voice_sample"
    with pytest.raises(InvalidInput):
        world["obra"].likeness.set_consent(world["cmo"], _record(world, evidence=[{"kind": "reference-fingerprint",
                                                                                   "sha256": "not a hash"}]))


def test_who_may_record_consent(world):
    svc = world["obra"].likeness
    with pytest.raises(AuthenticationRequired):
        svc.set_consent(ANONYMOUS, _record(world))
    with pytest.raises(PermissionDenied):
        svc.set_consent(world["dev"], _record(world))
    with pytest.raises(PermissionDenied, match="own party"):
        svc.set_consent(world["creator"], _record(world, party=world["bo"]))
    assert svc.set_consent(world["office"], _record(world, party=world["bo"]))["version"] == 1   # likeness_consent_any


def test_a_takedown_notice_carries_the_absence_of_consent_and_the_legal_basis(world):
    svc = world["obra"].likeness
    done = svc.takedown(world["creator"], world["ana"], "advertising", "https://video.example/fake-ad", "US-TN",
                        attribute="voice")
    notice = done["notice"]
    assert notice["consent"]["decision"] == "no-consent"
    assert any("ELVIS" in (b["citation"] or "") or "47-25-11" in (b["citation"] or "") or b["citation"]
               for b in notice["legal_basis"])
    assert notice["signature"] and notice["key_id"]
    assert Journal(world["obra"].store).verify(done["journal_event"])["kind"] == "likeness.takedown"
    with pytest.raises(PermissionDenied):
        svc.takedown(world["dev"], world["ana"], "advertising", "https://video.example/fake-ad", "US")
