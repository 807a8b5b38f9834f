"""The contract waterfall: chains, fees, commissions, guarantees, recoupment and statutory remuneration."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from obra.model import Agreement, Share
from obra.royalties import engine
from obra.royalties.distribution import distribute
from obra.royalties.waterfall import Deductions, ItemRights, RulePack, payee_totals, run_waterfall

from .builders import Usage

MA = "making_available"


@pytest.fixture(scope="module")
def con():
    return engine.connect("duckdb")


def one_pool(con, amount: int, plays: int = 1, period: str = "2024-01", territory: str = "FR", item: str = "R1"):
    u = Usage()
    for _ in range(plays):
        u.play("fan", item, 1, period=period, territory=territory)
    u.pay(amount, period=period, territory=territory)
    usage, pools = u.tables(con)
    return distribute(usage, pools, model="pro-rata")


def artist_owns(party: int = 10, item: str = "R1", performers=(10,)) -> ItemRights:
    return ItemRights(item, "recording", (Share(party=party, right_type=MA, share=Decimal(100)),), performers)


def deal(**kw) -> Agreement:
    base = dict(id=1, kind="recording_contract", assignor=10, assignee=99, rights=(MA,),
                start=date(2020, 1, 1), retained=Decimal("0.80"))
    return Agreement(**{**base, **kw})


def totals(run) -> dict[str, int]:
    return {p: v for (p, _), v in payee_totals(run).items()}


def test_label_royalty_rate_splits_through_the_recording_contract(con):
    run = run_waterfall(one_pool(con, 10_000), [artist_owns()], [deal()])
    assert totals(run) == {"10": 2000, "99": 8000}
    paths = {r["payee"]: r["path"] for r in run.lines.to_pyarrow().to_pylist()}
    assert paths == {"10": "1", "99": "1"}


def test_recoupment_is_carried_forward_between_periods(con):
    contract = deal(advance=3_000)
    jan = run_waterfall(one_pool(con, 10_000, period="2024-01"), [artist_owns()], [contract])
    # The artist earned 2,000 in January, all of it recouped: 1,000 still unrecouped.
    assert totals(jan) == {"10": 0, "99": 10_000}
    assert jan.closing_balances == {"1": 1_000}
    feb = run_waterfall(one_pool(con, 10_000, period="2024-02"), [artist_owns()], [contract],
                        balances=jan.closing_balances)
    assert totals(feb) == {"10": 1_000, "99": 9_000}
    assert feb.opening_balances == {"1": 1_000} and feb.closing_balances == {"1": 0}
    mar = run_waterfall(one_pool(con, 10_000, period="2024-03"), [artist_owns()], [contract],
                        balances=feb.closing_balances)
    assert totals(mar) == {"10": 2_000, "99": 8_000}


def test_minimum_guarantee_is_a_per_use_floor_paid_by_the_assignee(con):
    contract = deal(minimum_guarantee=30)  # 0.30 per play for the artist
    run = run_waterfall(one_pool(con, 1_000, plays=10), [artist_owns()], [contract])
    # Earned 200 (20 % of 1,000); the floor is 10 plays x 30 = 300, topped up by the label.
    assert totals(run) == {"10": 300, "99": 700}
    assert [(a.kind, a.amount_minor) for a in run.adjustments] == [("minimum_guarantee", 100)]
    assert run.shortfalls == []


def test_guarantee_beyond_the_assignees_share_is_reported_as_owed(con):
    contract = deal(minimum_guarantee=200, retained=Decimal("0.5"))
    run = run_waterfall(one_pool(con, 1_000, plays=10), [artist_owns()], [contract])
    # Floor 2,000; the artist earned 500 and the label's 500 is topped up in full; 1,000 still owed.
    assert totals(run) == {"10": 1_000, "99": 0}
    assert run.shortfalls == [{"agreement": 1, "owed_by": "99", "owed_to": "10", "currency": "EUR",
                               "amount_minor": 1_000}]


def test_publisher_administration_fee_and_cmo_commission(con):
    work = ItemRights("W1", "work", (Share(party=20, right_type="performance", share=Decimal(100)),))
    admin = Agreement(id=5, kind="administration", assignor=20, assignee=30, rights=("performance",),
                      start=date(2020, 1, 1), retained=Decimal("0.15"))
    dist = one_pool(con, 10_000, item="W1")
    run = run_waterfall(dist, [work], [admin], right_type="performance",
                        deductions=Deductions(cmo_party="CMO", cmo_commission={"performance": Decimal("0.12")}))
    # 12 % commission off the top; of the remaining 8,800 the administrator keeps 15 %.
    assert totals(run) == {"CMO": 1200, "30": 1320, "20": 7480}


def test_equitable_remuneration_follows_the_jurisdiction(con):
    rules = RulePack.load(rates={"ES": "0.10", "GB": "0.10", "IN": "0.10"})
    rights = [artist_owns(performers=(10, 11))]
    spain = run_waterfall(one_pool(con, 10_000, territory="ES"), rights, [deal()], rules=rules)
    # Spain: performers keep an unwaivable remuneration (high confidence): 10 % to the two performers.
    assert totals(spain) == {"10": 500 + 1800, "11": 500, "99": 7200}
    assert {r["path"] for r in spain.lines.to_pyarrow().to_pylist() if r["role"] == "equitable_remuneration"} == {"law:ES"}
    uk = run_waterfall(one_pool(con, 10_000, territory="GB"), rights, [deal()], rules=rules)
    assert totals(uk) == {"10": 2000, "99": 8000}  # no such right in the UK
    india = run_waterfall(one_pool(con, 10_000, territory="IN"), rights, [deal()], rules=rules)
    assert totals(india) == {"10": 2000, "99": 8000}  # low-confidence fact: not relied on
    assert any(n.startswith("IN:") and "low confidence" in n for n in india.notes)


def test_missing_shares_leave_money_unallocated_not_lost(con):
    half = ItemRights("R1", "recording", (Share(party=10, right_type=MA, share=Decimal(50)),))
    run = run_waterfall(one_pool(con, 10_001), [half], [])
    assert totals(run) == {"10": 5001}
    held = sum(r["amount_minor"] for r in run.unallocated.to_pyarrow().to_pylist())
    assert held == 5000
    assert run.conservation["EUR"].revenue == 10_001


def test_unregistered_item_is_held(con):
    run = run_waterfall(one_pool(con, 777, item="R404"), [], [])
    assert totals(run) == {}
    assert sum(r["amount_minor"] for r in run.unallocated.to_pyarrow().to_pylist()) == 777
