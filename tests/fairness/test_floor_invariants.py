"""Floors in the waterfall, for any deal and any money: conserved, never above what the label kept, and the
artist reaches the floor whenever the label kept enough (Hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.law.fairness import FloorPack
from obra.model import Agreement
from obra.royalties import engine
from obra.royalties.waterfall import payee_totals, run_waterfall
from tests.royalties.test_waterfall import MA, artist_owns, one_pool

FLOORS = FloorPack.load()


@pytest.fixture(scope="module")
def con():
    return engine.connect("duckdb")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(min_value=0, max_value=10**9), plays=st.integers(min_value=1, max_value=5),
       retained=st.integers(min_value=0, max_value=1000), territory=st.sampled_from(["FR", "DE", "ES", "GB"]),
       advance=st.sampled_from([0, 5_000]))
def test_a_floor_moves_money_and_never_creates_it(con, amount, plays, retained, territory, advance):
    deal = Agreement(id=1, kind="recording_contract", assignor=10, assignee=99, rights=(MA,),
                     start=date(2020, 1, 1), retained=Decimal(retained) / 1000, advance=advance)
    dist = one_pool(con, amount, plays=plays, territory=territory)
    plain = {p: v for (p, _), v in payee_totals(run_waterfall(dist, [artist_owns()], [deal])).items()}
    floored = run_waterfall(dist, [artist_owns()], [deal], floors=FLOORS)   # asserts conservation itself
    after = {p: v for (p, _), v in payee_totals(floored).items()}
    assert sum(after.values()) == sum(plain.values())                        # nothing created
    moved = sum(a.amount_minor for a in floored.adjustments if a.kind == "statutory_floor")
    if territory != "FR":
        assert moved == 0
        return
    lines = {r["payee"]: int(r["amount_minor"]) for r in floored.lines.to_pyarrow().to_pylist()}
    earned, kept = lines.get("10", 0), lines.get("99", 0)
    base = Fraction(earned + kept) / 10
    required = (base.numerator * 2 + base.denominator) // (2 * base.denominator)
    assert moved == max(0, min(required - earned, kept))                     # up to the floor, within what was kept
