"""Evidence packages: what goes in, the law per jurisdiction, refusals said plainly, the journal event."""

from __future__ import annotations

import hashlib
import pytest

from obra.access import ANONYMOUS, create_principal
from obra.aiuse.evidence.bundle import bundle_bytes, verify_evidence
from obra.aiuse.evidence.service import EvidenceService, NoReservation
from obra.errors import AuthenticationRequired, InvalidInput, NotFound, PermissionDenied
from obra.journal import Journal
from obra.model.vocab import AccessRole
from obra.transparency.translog import TransparencyLog


def ask(world, work: str, check: str = "after", principal=None, **kw):
    kw = {"against": "Example AI Ltd", "locales": ["en"]} | kw
    return EvidenceService(world["store"]).evidence(principal or world["cmo"], _dir(world, check),
                                                    work=world["numbers"][work], **kw)


def _dir(world, check):
    from pathlib import Path

    return Path(world["checks"][check]["directory"])


def by_code(bundle: dict) -> dict[str, dict]:
    return {b["jurisdiction"]: b for b in bundle["legal_basis"]}


def test_a_near_duplicate_of_a_reserved_work_is_evidenced_with_its_distance_and_reservation(evidence_world):
    done = ask(evidence_world, "A")
    bundle = done["bundle"]
    (item,) = bundle["items"]
    assert item["url"] == "https://www.example/img/a.png"
    assert item["matches"][0]["how"] == "iscc" and item["matches"][0]["distance"] == 5   # 5 bits from work A
    assert item["crawled_at"] == evidence_world["crawled_after"].replace("Z", ".000000Z")
    (reservation,) = bundle["reservations"]
    assert (reservation["subject_kind"], reservation["subject"], reservation["version"]) == \
        ("work", evidence_world["numbers"]["A"], 1)
    assert reservation["permission"] == "not-allowed"
    assert reservation["journal_event"] == evidence_world["events"]["A"]
    assert reservation["journal_proof"]["event"]["kind"] == "aiuse.terms.set"
    assert bundle["licence"]["status"] == "no licence on record"
    assert bundle["check"]["receipt_sha256"] == evidence_world["checks"]["after"]["receipt_sha256"]
    assert verify_evidence(done["bundle_bytes"], done["key_history"])["proofs"] == 2


def test_the_outcome_changes_with_the_jurisdiction_and_each_cites_its_own_law(evidence_world):
    bundle = ask(evidence_world, "A", jurisdictions={"developer": "US", "rightholder": "JP"})["bundle"]
    law = by_code(bundle)
    assert law["DE"]["roles"] == ["training"] and law["US"]["roles"] == ["developer"]
    assert law["DE"]["decisions"]["reserved"] == 1                  # DSM Art. 4 / UrhG 44b: the reservation counts
    assert law["JP"]["decisions"]["allowed"] == 1                   # Art. 30-4: allowed whatever the reservation
    assert law["US"]["decisions"]["unknown"] == 1                   # fair use, case by case
    assert "44b" in law["DE"]["rule"]["exception_fact"]["citation"]
    assert "30-4" in law["JP"]["rule"]["exception_fact"]["citation"]
    assert "107" in law["US"]["rule"]["exception_fact"]["citation"]
    assert law["DE"]["ai_act_obligations"] is True and law["JP"]["ai_act_obligations"] is False


def test_one_jurisdiction_in_several_roles_is_one_basis(evidence_world):
    bundle = ask(evidence_world, "A", jurisdictions={"developer": "de", "rightholder": "DE"})["bundle"]
    assert [(b["jurisdiction"], b["roles"]) for b in bundle["legal_basis"]] == \
        [("DE", ["training", "developer", "rightholder"])]


def test_a_catalogue_reservation_of_the_works_party_is_the_one_quoted(evidence_world):
    bundle = ask(evidence_world, "D")["bundle"]
    (reservation,) = bundle["reservations"]
    assert reservation["subject_kind"] == "party" and reservation["subject"] == str(evidence_world["party"])
    assert reservation["journal_event"] == evidence_world["events"]["party"]
    assert bundle["items"][0]["matches"][0]["distance"] == 1


def test_a_low_confidence_fact_is_said_wherever_the_basis_relies_on_it(evidence_world):
    bundle = ask(evidence_world, "A", jurisdictions={"rightholder": "ES"})["bundle"]
    spain = by_code(bundle)["ES"]
    assert any(f["key"] == "opt_out" and f["low_confidence"] for f in spain["facts"])
    assert any("LOW-confidence" in note and "ES tdm.opt_out" in note for note in spain["reliance"])
    assert any("ES tdm.opt_out" in note for note in bundle["reliance"])
    assert not by_code(bundle)["DE"]["reliance"]


def test_evidence_for_a_work_whose_terms_allow_the_use_is_refused_plainly(evidence_world):
    with pytest.raises(NoReservation, match="did not reserve ai-train-generative in DE: they allowed it") as err:
        ask(evidence_world, "B")
    assert err.value.status == 409 and "no letter was written" in str(err.value)


def test_evidence_for_a_work_with_no_terms_at_all_says_there_is_no_reservation_on_record(evidence_world):
    with pytest.raises(NoReservation, match="has no AI-use reservation on record: no terms were ever stated"):
        ask(evidence_world, "E")


def test_a_reservation_stated_after_the_crawl_does_not_reach_it(evidence_world):
    with pytest.raises(NoReservation, match=r"stated at .*, after the crawl of every matched item .*DSM Art\. 4\(3\)"):
        ask(evidence_world, "A", check="before")


def test_an_item_without_a_crawl_date_cannot_be_shown_to_follow_the_reservation(evidence_world):
    bundle = ask(evidence_world, "A", check="mixed")["bundle"]
    dated, undated = sorted(bundle["items"], key=lambda i: i["crawled_at"] is None)
    assert undated["crawled_at"] is None and undated["url"] == "https://undated.example/a.png"
    (reservation,) = bundle["reservations"]
    assert reservation["items"] == [dated["item"]] and len(reservation["crawls"]) == 1
    germany = by_code(bundle)["DE"]
    assert {i["item"]: i["decision"] for i in germany["items"]} == {dated["item"]: "reserved",
                                                                    undated["item"]: "allowed"}
    assert any("1 matched item(s) carry no crawl date" in note for note in bundle["reliance"])


def test_a_work_the_check_did_not_match_is_not_found(evidence_world):
    store = evidence_world["store"]
    from obra.registry.service import Registry

    other = Registry(store).register(evidence_world["cmo"], "work", {"title": "Never crawled"})
    with pytest.raises(NotFound, match=f"matched {other.number}"):
        EvidenceService(store).evidence(evidence_world["cmo"], _dir(evidence_world, "after"), work=other.number,
                                        against="Example AI Ltd")


def test_every_bundle_is_a_journal_event_with_the_hash_of_each_letter(evidence_world):
    done = ask(evidence_world, "A", locales=["en", "fr"], pdf=True)
    (event,) = [e for e in Journal(evidence_world["store"]).events("aiuse.evidence", limit=None)
                if e.id == done["journal_event"]]
    assert event.payload["bundle_sha256"] == hashlib.sha256(bundle_bytes(done["bundle"])).hexdigest()
    assert event.payload["letters"] == {lang: hashlib.sha256(x["html"].encode("utf-8")).hexdigest()
                                        for lang, x in done["letters"].items()}
    assert set(event.payload["letters"]) == {"en", "fr"} and set(event.payload["pdfs"]) == {"en", "fr"}
    assert event.payload["pdfs"]["fr"] == hashlib.sha256(done["letters"]["fr"]["pdf"]).hexdigest()
    assert Journal(evidence_world["store"]).verify(event.id)["kind"] == "aiuse.evidence"


def test_bad_questions_are_refused_by_name(evidence_world):
    with pytest.raises(InvalidInput, match="no jurisdiction 'XX'") as err:
        ask(evidence_world, "A", jurisdictions={"developer": "XX"})
    assert "known: EU, DE" in err.value.hint and err.value.problems[0].field == "developer_jurisdiction"
    with pytest.raises(InvalidInput, match="name the AI developer or dataset"):
        ask(evidence_world, "A", against="   ")
    with pytest.raises(InvalidInput):
        ask(evidence_world, "A", locales=["de"])


# --- who may ask -------------------------------------------------------------------------------------

def test_rightholders_may_ask_for_their_own_works_only(evidence_world):
    store, root = evidence_world["store"], evidence_world["principals"]["admin"][0]
    ana, _ = create_principal(store, "ana-creator", AccessRole.CREATOR, evidence_world["party"], by=root)
    assert ask(evidence_world, "A", principal=ana)["bundle"]["requested_by"]["party"] == evidence_world["party"]
    eva, _ = create_principal(store, "eva-creator", AccessRole.CREATOR, evidence_world["silent_party"], by=root)
    with pytest.raises(PermissionDenied, match="may not ai evidence for .*no share of it is held by your party"):
        ask(evidence_world, "A", principal=eva)
    registrant = evidence_world["principals"]["registrant"][0]      # registered the works
    assert ask(evidence_world, "A", principal=registrant)["bundle"]["work"]["registrant"] == registrant.name
    with pytest.raises(PermissionDenied, match="role 'ai_developer' may not ai evidence"):
        ask(evidence_world, "A", principal=evidence_world["developer"])
    with pytest.raises(AuthenticationRequired, match="'ai evidence' needs an authenticated principal"):
        ask(evidence_world, "A", principal=ANONYMOUS)


def test_a_check_is_found_by_its_journal_event_only_under_the_offices_home(evidence_world, tmp_path):
    service = EvidenceService(evidence_world["store"])
    with pytest.raises(NotFound, match="no training check kept by this office"):
        service.evidence(evidence_world["cmo"], str(evidence_world["checks"]["after"]["journal_event"]),
                         work=evidence_world["numbers"]["A"], against="X")
    with pytest.raises(InvalidInput, match="neither a journal event id nor a receipt hash"):
        service.evidence(evidence_world["cmo"], "../../etc", work=evidence_world["numbers"]["A"], against="X")
    assert TransparencyLog(evidence_world["store"]).key_history().office == evidence_world["store"].office
