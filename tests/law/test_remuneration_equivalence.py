"""The new rule pack against the old one in obra.royalties.waterfall: the same rules and notes.

REMOVE this file when the old RulePack in obra.royalties.waterfall is deleted: it only proves
that switching waterfall.py's import to obra.law changes no rule, no rate and no note.
"""

from __future__ import annotations

from dataclasses import astuple
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from obra.law import RulePack
from obra.royalties.waterfall import RulePack as OldRulePack  # the old class, to be removed

from .conftest import RAW

LEVELS = ("low", "medium", "high")

CODES = list(RAW["jurisdictions"])
RATES = st.dictionaries(
    st.sampled_from(CODES + [c.lower() for c in CODES] + ["SE"]),
    st.decimals(min_value=0, max_value=Decimal("0.9999"), places=4).map(lambda d: as_given(d)),
    max_size=8)


def as_given(rate: Decimal) -> Decimal | str:
    """Rates reach the pack as Decimals (API) or strings (CLI); use both."""
    return str(rate) if rate.as_tuple().digits[-1] % 2 else rate


@settings(max_examples=60, deadline=None)
@given(rates=RATES, minimum=st.sampled_from(LEVELS))
def test_the_same_rules_and_notes_as_the_old_rule_pack(rates, minimum):
    new = RulePack.load(rates=rates, min_confidence=minimum)
    old = OldRulePack.load(rates=rates, min_confidence=minimum)
    assert {c: astuple(r) for c, r in new.rules.items()} == {c: astuple(r) for c, r in old.rules.items()}
    for code in CODES + ["SE", "es"]:
        got, want = new.rule_for(code), old.rule_for(code)
        assert (got and astuple(got)) == (want and astuple(want))
    assert new.notes() == old.notes()
