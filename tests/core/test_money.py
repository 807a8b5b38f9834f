"""Exact money: the largest-remainder rule conserves every cent and is deterministic."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from obra.money import (ConservationError, allocate, assert_conserved, format_money, from_minor,
                        round_to_minor, to_minor)

weights = st.lists(st.integers(0, 10**9), min_size=1, max_size=40)


@given(st.integers(-10**12, 10**12), weights)
def test_allocate_conserves_and_stays_within_one_unit(amount, ws):
    parts = allocate(amount, ws)
    total = sum(ws)
    if total == 0:
        assert parts == [0] * len(ws)
        return
    assert sum(parts) == amount
    for part, w in zip(parts, ws):
        assert abs(Fraction(part) - Fraction(amount * w, total)) < 1


@given(st.integers(0, 10**9), weights)
def test_allocate_is_deterministic_and_ties_go_to_the_first(amount, ws):
    assert allocate(amount, ws) == allocate(amount, list(ws))


def test_three_way_split_of_a_cent_amount():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(1001, [Decimal("0.5"), Decimal("0.25"), Decimal("0.25")]) == [501, 250, 250]


def test_minor_units_follow_iso_4217():
    assert to_minor("12.34", "EUR") == 1234
    assert to_minor("1234", "JPY") == 1234
    assert to_minor("1.234", "KWD") == 1234
    assert from_minor(1234, "EUR") == Decimal("12.34")
    assert format_money(123456, "USD") == "1,234.56 USD"
    assert round_to_minor(Decimal("0.125"), "EUR") == 12  # half to even
    assert round_to_minor(Decimal("0.135"), "EUR") == 14


def test_floats_and_sub_unit_precision_are_refused():
    with pytest.raises(TypeError):
        to_minor(0.1, "EUR")
    with pytest.raises(ValueError):
        to_minor("0.001", "EUR")


def test_conservation_check_reports_the_difference():
    assert assert_conserved(1000, [600, 300], 100).balanced
    with pytest.raises(ConservationError, match="difference 1"):
        assert_conserved(1000, [600, 300], 99)
