"""AI-use terms: validation, and which term decides a question."""

from datetime import date

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from obra.aiuse.terms import AITerms, Price, Purpose, UseTerm, UserType
from obra.aiuse.vocabulary import Permission, Use

WORK = {"subject_kind": "work", "subject": "OBRA-2026-0000001-9"}


def terms(*uses):
    return AITerms(**WORK, uses=uses)


def test_silence_is_not_permission():
    assert terms(UseTerm(use=Use.SEARCH, permission=Permission.ALLOWED)).permission(Use.AI_TRAIN_GENERATIVE) is None


def test_narrower_scope_beats_broader_then_most_restrictive():
    t = terms(UseTerm(use=Use.AI_TRAIN_GENERATIVE, permission=Permission.LICENCE,
                      price=Price(model="per-item", currency="EUR", amount_minor=5)),
              UseTerm(use=Use.AI_TRAIN_GENERATIVE, permission=Permission.ALLOWED, purposes=[Purpose.RESEARCH]),
              UseTerm(use=Use.AI_TRAIN_GENERATIVE, permission=Permission.NOT_ALLOWED, territories=["EU"]))
    q = Use.AI_TRAIN_GENERATIVE
    assert t.permission(q, purpose=Purpose.RESEARCH, territory="US").permission is Permission.ALLOWED
    assert t.permission(q, purpose=Purpose.COMMERCIAL, territory="US").permission is Permission.LICENCE
    assert t.permission(q, purpose=Purpose.COMMERCIAL, territory="FR").permission is Permission.NOT_ALLOWED
    # research in France: two equally narrow terms disagree; the more restrictive decides
    assert t.permission(q, purpose=Purpose.RESEARCH, territory="FR").permission is Permission.NOT_ALLOWED


def test_period_and_user_type_scope():
    t = terms(UseTerm(use=Use.AI_INPUT, permission=Permission.ALLOWED, user_types=[UserType.EDUCATION],
                      valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31)))
    assert t.permission(Use.AI_INPUT, user_type=UserType.EDUCATION, on=date(2026, 6, 1)) is not None
    assert t.permission(Use.AI_INPUT, user_type=UserType.EDUCATION, on=date(2027, 1, 1)) is None
    assert t.permission(Use.AI_INPUT, user_type=UserType.COMMERCIAL, on=date(2026, 6, 1)) is None
    assert t.permission(Use.AI_INPUT, user_type=UserType.EDUCATION) is None  # a dated term needs a date


@pytest.mark.parametrize("bad", [
    {"use": "ai-train-generative", "permission": "allowed", "price": {"model": "flat", "currency": "EUR", "amount_minor": 1}},
    {"use": "ai-train-generative", "permission": "licence", "price": {"model": "flat", "amount_minor": 1}},
    {"use": "ai-train-generative", "permission": "licence", "price": {"model": "revenue-share", "share_percent": "0"}},
    {"use": "ai-train-generative", "permission": "licence", "price": {"model": "flat", "currency": "EUR", "amount_minor": 1.5}},
    {"use": "ai-train-generative", "permission": "allowed", "territories": ["Europe"]},
    {"use": "train-ai", "permission": "allowed"},
    {"use": "search", "permission": "allowed", "valid_from": "2026-02-01", "valid_until": "2026-01-01"},
])
def test_inconsistent_terms_are_refused(bad):
    with pytest.raises(ValidationError):
        terms(bad)


def test_location_subject_is_an_origin_and_pattern():
    AITerms(subject_kind="location", subject="https://example.org/music/*")
    with pytest.raises(ValidationError):
        AITerms(subject_kind="location", subject="example.org/music")


uses = st.builds(UseTerm, use=st.sampled_from(list(Use)), permission=st.sampled_from([Permission.ALLOWED, Permission.NOT_ALLOWED]),
                 territories=st.lists(st.sampled_from(["FR", "US", "EU", "JP"]), max_size=2).map(tuple),
                 purposes=st.lists(st.sampled_from(list(Purpose)), max_size=2).map(tuple))


@given(st.lists(uses, max_size=6), st.sampled_from(list(Use)), st.sampled_from(["FR", "US", "JP", "DE"]),
       st.sampled_from(list(Purpose)))
def test_the_deciding_term_covers_the_question_and_json_round_trips(ts, use, territory, purpose):
    t = terms(*ts)
    decided = t.permission(use, territory=territory, purpose=purpose)
    covering = [u for u in ts if u.covers(use, territory=territory, purpose=purpose)]
    assert (decided is None) == (not covering)
    if decided is not None:
        assert decided in covering and decided.narrowness == max(u.narrowness for u in covering)
    assert AITerms.model_validate(t.to_json()) == t
