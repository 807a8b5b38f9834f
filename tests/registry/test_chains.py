"""Agreement chains resolve to exact payee fractions with the path of agreements behind each."""

from datetime import date
from fractions import Fraction

from hypothesis import given, strategies as st

from obra.model import Agreement, Share
from obra.registry.chains import payee_totals, resolve_payees


def _deal(id, assignor, assignee, retained, territories=("2WL",), start="2020-01-01", end=None, works=()):
    return Agreement(id=id, kind="assignment", assignor=assignor, assignee=assignee, rights=("performance",),
                     territories=territories, start=start, end=end, retained=retained, works=works)


SHARES = [Share(party=1, right_type="performance", share=50), Share(party=2, right_type="performance", share=50)]


def test_publisher_and_sub_publisher_chain():
    deals = [_deal(10, 1, 3, "0.5"), _deal(11, 3, 4, "0.2", territories=("JP",))]
    payees = {(p.party, p.path): p.fraction for p in resolve_payees(SHARES, deals, "performance", "JP", date(2025, 1, 1))}
    assert payees == {(1, (10,)): Fraction(1, 4), (2, ()): Fraction(1, 2), (3, (10, 11)): Fraction(1, 5),
                      (4, (10, 11)): Fraction(1, 20)}
    # Outside Japan the sub-publisher is not involved.
    totals = payee_totals(resolve_payees(SHARES, deals, "performance", "UY", date(2025, 1, 1)))
    assert totals == {1: Fraction(1, 4), 2: Fraction(1, 2), 3: Fraction(1, 4)}


def test_expired_and_reverted_agreements_do_not_apply():
    deals = [_deal(10, 1, 3, "0.5", end="2024-01-01")]
    assert payee_totals(resolve_payees(SHARES, deals, "performance", "UY", date(2025, 1, 1)))[1] == Fraction(1, 2)


def test_a_later_deal_supersedes_an_earlier_one():
    deals = [_deal(10, 1, 3, "0.5", start="2018-01-01"), _deal(11, 1, 4, "0.1", start="2022-01-01")]
    totals = payee_totals(resolve_payees(SHARES, deals, "performance", "UY", date(2025, 1, 1)))
    assert totals == {1: Fraction(9, 20), 2: Fraction(1, 2), 4: Fraction(1, 20)}


def test_cycles_stop_instead_of_looping():
    deals = [_deal(10, 1, 3, "1"), _deal(11, 3, 1, "1")]
    totals = payee_totals(resolve_payees(SHARES, deals, "performance", "UY", date(2025, 1, 1)))
    assert sum(totals.values()) == 1


@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6), st.fractions(0, 1)), max_size=8))
def test_chains_never_create_or_lose_money(raw):
    deals = [_deal(i, a, b, f"{float(r):.4f}") for i, (a, b, r) in enumerate(raw) if a != b]
    payees = resolve_payees(SHARES, deals, "performance", "UY", date(2025, 1, 1))
    assert sum(p.fraction for p in payees) == 1
    assert all(p.fraction > 0 for p in payees)
