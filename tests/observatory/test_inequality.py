"""Gini, Theil and their breakdown, top shares and Lorenz curves, against published values and an
independent definition, with Hypothesis for the invariants."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.errors import InvalidInput
from obra.observatory import inequality as ineq

incomes = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60)


def gini_by_pairs(x) -> float:
    """The textbook definition, independent of the sorted-rank formula: the mean absolute difference
    over all ordered pairs, divided by twice the mean."""
    n, total = len(x), sum(x)
    if total == 0:
        return 0.0
    return sum(abs(a - b) for a, b in itertools.product(x, x)) / (2 * n * total)


def test_gini_of_published_examples():
    # 1..5: G = 4/15 (e.g. R ineq::Gini(1:5) with corr=FALSE = 0.2666667)
    assert ineq.gini([1, 2, 3, 4, 5]) == pytest.approx(4 / 15, abs=1e-12)
    # one of four has everything: (n-1)/n
    assert ineq.gini([0, 0, 0, 100]) == pytest.approx(0.75, abs=1e-12)
    assert ineq.gini([7, 7, 7]) == 0.0
    assert ineq.gini([]) == 0.0 and ineq.gini([0, 0]) == 0.0


def test_theil_of_published_examples():
    # one of n has everything: T = ln n
    assert ineq.theil([0, 0, 0, 5]) == pytest.approx(math.log(4), abs=1e-12)
    # (1, 3): mu = 2, T = 1/2 (0.5 ln 0.5 + 1.5 ln 1.5)
    assert ineq.theil([1, 3]) == pytest.approx(0.5 * (0.5 * math.log(0.5) + 1.5 * math.log(1.5)), abs=1e-12)
    assert ineq.theil([4, 4, 4]) == 0.0


def test_top_shares_take_at_least_one_unit_and_round_up():
    x = [1] * 999 + [1001]          # total 2000; the top 0.1 % of 1,000 units is one unit
    assert ineq.top_share(x, 0.001) == pytest.approx(1001 / 2000)
    assert ineq.top_share(x, 0.01) == pytest.approx((1001 + 9) / 2000)   # ten units
    assert ineq.top_shares([5])["0.1%"] == 1.0
    with pytest.raises(InvalidInput, match="fraction"):
        ineq.top_share(x, 0)


def test_lorenz_runs_from_zero_to_one_under_the_diagonal():
    curve = ineq.lorenz([1, 2, 3, 4], 4)
    assert curve == [(0.0, 0.0), (0.25, 0.1), (0.5, 0.3), (0.75, 0.6), (1.0, 1.0)]


def test_bad_incomes_are_refused_by_name():
    with pytest.raises(InvalidInput, match="non-negative"):
        ineq.gini([3, -1])
    with pytest.raises(InvalidInput, match="one group label per unit|give one per unit"):
        ineq.theil_decomposition([1, 2], ["a"])


@settings(max_examples=200, deadline=None)
@given(incomes)
def test_gini_is_in_the_unit_interval_and_agrees_with_the_pairwise_definition(x):
    g = ineq.gini(x)
    assert 0.0 <= g <= (len(x) - 1) / len(x) + 1e-12
    assert g == pytest.approx(gini_by_pairs(x), abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(incomes, st.integers(min_value=1, max_value=1000))
def test_indices_do_not_depend_on_the_currency_unit(x, k):
    scaled = [v * k for v in x]
    assert ineq.gini(scaled) == pytest.approx(ineq.gini(x), abs=1e-9)
    assert ineq.theil(scaled) == pytest.approx(ineq.theil(x), abs=1e-9)
    assert ineq.top_share(scaled, 0.1) == pytest.approx(ineq.top_share(x, 0.1), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(incomes.flatmap(lambda x: st.tuples(st.just(x), st.lists(st.sampled_from("abc"), min_size=len(x),
                                                                  max_size=len(x)))))
def test_theil_within_plus_between_is_the_total(data):
    x, groups = data
    d = ineq.theil_decomposition(x, groups)
    assert d.within + d.between == pytest.approx(d.total, abs=1e-9)
    assert d.total == pytest.approx(ineq.theil(x), abs=1e-12)
    assert 0.0 <= d.total <= math.log(len(x)) + 1e-9
    if sum(x):
        assert sum(g.income_share for g in d.groups) == pytest.approx(1.0)


@settings(max_examples=100, deadline=None)
@given(incomes)
def test_lorenz_is_monotone_convex_and_below_equality(x):
    curve = ineq.lorenz(x, 10)
    ys = [y for _, y in curve]
    assert ys[0] == 0.0 and ys[-1] == pytest.approx(1.0) or sum(x) == 0
    assert all(b >= a - 1e-12 for a, b in zip(ys, ys[1:]))
    assert all(y <= p + 1e-12 for p, y in curve)
    steps = np.diff(ys)
    assert all(b >= a - 1e-9 for a, b in zip(steps, steps[1:]))


@settings(max_examples=100, deadline=None)
@given(incomes)
def test_top_shares_grow_with_the_fraction(x):
    s = ineq.top_shares(x, (0.001, 0.01, 0.1, 0.5, 1.0))
    values = list(s.values())
    assert all(b >= a - 1e-12 for a, b in zip(values, values[1:]))
    assert values[-1] == (1.0 if sum(x) else 0.0)
