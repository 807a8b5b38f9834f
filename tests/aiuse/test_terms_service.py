"""Stating AI-use terms: who may, every version kept, each a journal event provable later."""

from datetime import datetime, timedelta, timezone

import pytest

from obra.access import ANONYMOUS, create_principal
from obra.aiuse.service import AITermsService, current_terms_rows
from obra.aiuse.vocabulary import Use
from obra.ids import format_registration_number
from obra.errors import AuthenticationRequired, InvalidInput, NotFound, PermissionDenied
from obra.journal import Journal
from obra.model.vocab import AccessRole
from obra.registry.service import Registry

RESERVE = {"uses": [{"use": "ai-train-generative", "permission": "not-allowed"},
                    {"use": "search", "permission": "allowed"}]}


@pytest.fixture
def world(store, principals):
    registry = Registry(store)
    root = principals["admin"][0]
    ana = registry.add_party(root, {"kind": "person", "name": "Ana Autora", "roles": ["author"]})
    bo = registry.add_party(root, {"kind": "person", "name": "Bo Other", "roles": ["author"]})
    creator, _ = create_principal(store, "ana", AccessRole.CREATOR, party_id=ana.id, by=root)
    stranger, _ = create_principal(store, "bo", AccessRole.CREATOR, party_id=bo.id, by=root)
    registrant = principals["registrant"][0]
    work = registry.register(registrant, "work", {"title": "Canción", "shares": [
        {"party": ana.id, "right_type": "performance", "share": "100"}]})
    return {"svc": AITermsService(store), "creator": creator, "stranger": stranger, "registrant": registrant,
            "cmo": principals["cmo"][0], "ai": principals["ai_developer"][0], "work": work.number,
            "ana": ana.id, "bo": bo.id}


def test_a_creator_states_terms_for_their_work_and_the_date_is_provable(store, world):
    svc = world["svc"]
    done = svc.set_terms(world["creator"], {"subject_kind": "work", "subject": world["work"], **RESERVE})
    assert done["version"] == 1 and done["terms"]["uses"][0]["permission"] == "not-allowed"
    verified = Journal(store).verify(done["journal_event"])
    assert verified["kind"] == "aiuse.terms.set" and verified["subject"] == f"ai-terms/work/{world['work']}"
    assert svc.decide(world["work"], Use.AI_TRAIN_GENERATIVE)["permission"] == "not-allowed"
    assert svc.decide(world["work"], Use.AI_INPUT)["permission"] is None


def test_changes_are_new_versions_and_the_old_ones_stay(store, world):
    svc = world["svc"]
    before = datetime.now(timezone.utc)
    svc.set_terms(world["creator"], {"subject_kind": "work", "subject": world["work"], **RESERVE})
    svc.set_terms(world["creator"], {"subject_kind": "work", "subject": world["work"],
                                     "uses": [{"use": "ai-train-generative", "permission": "allowed"}]})
    history = svc.history("work", world["work"])
    assert [h["version"] for h in history] == [1, 2]
    assert svc.current("work", world["work"])["version"] == 2
    assert svc.in_force("work", world["work"], before - timedelta(seconds=1)) is None
    assert svc.in_force("work", world["work"], datetime.fromisoformat(history[0]["set_at"]))["version"] == 1
    assert {r["subject"] for r in current_terms_rows(store)} == {world["work"]}


def test_catalogue_terms_apply_to_the_party_s_works(world):
    svc = world["svc"]
    svc.set_terms(world["creator"], {"subject_kind": "party", "subject": str(world["ana"]),
                                     "uses": [{"use": "ai-input", "permission": "licence",
                                               "price": {"model": "per-use", "currency": "EUR", "amount_minor": 2}}]})
    decided = svc.decide(world["work"], Use.AI_INPUT)
    assert decided["permission"] == "licence" and decided["from"]["subject_kind"] == "party"


def test_denials(world):
    svc = world["svc"]
    terms = {"subject_kind": "work", "subject": world["work"], **RESERVE}
    with pytest.raises(AuthenticationRequired):
        svc.set_terms(ANONYMOUS, terms)
    with pytest.raises(PermissionDenied):
        svc.set_terms(world["ai"], terms)                   # the role may not state terms
    with pytest.raises(PermissionDenied, match="not yours"):
        svc.set_terms(world["stranger"], terms)             # a creator with no share in it
    with pytest.raises(PermissionDenied, match="own party"):
        svc.set_terms(world["stranger"], {"subject_kind": "party", "subject": str(world["ana"]), **RESERVE})
    assert svc.set_terms(world["registrant"], terms)["version"] == 1   # its registrant may
    assert svc.set_terms(world["cmo"], terms)["version"] == 2          # CMO staff may, for anyone


def test_bad_subjects_are_named(world):
    svc = world["svc"]
    with pytest.raises(NotFound):
        svc.set_terms(world["cmo"], {"subject_kind": "work", "subject": format_registration_number("OBRA", 2026, 999999),
                                   **RESERVE})
    with pytest.raises(InvalidInput):
        svc.set_terms(world["cmo"], {"subject_kind": "recording", "subject": world["work"], **RESERVE})
    with pytest.raises(InvalidInput):
        svc.set_terms(world["cmo"], {"subject_kind": "location", "subject": "not a url", **RESERVE})
    with pytest.raises(NotFound):
        svc.history("work", world["work"])


def test_a_location_is_declared_for_the_principal_s_party(world):
    svc = world["svc"]
    done = svc.set_terms(world["creator"], {"subject_kind": "location", "subject": "https://ana.example/music/*",
                                            **RESERVE})
    assert done["version"] == 1
    assert svc.current("location", "https://ana.example/music/*")["party"] == world["ana"]
