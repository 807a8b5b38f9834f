"""Distribution models on DuckDB: the classic examples with their known numbers, and invariants."""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.errors import InvalidInput
from obra.money import allocate
from obra.royalties import engine
from obra.royalties.distribution import ArtistCentric, allocate_expr, distribute

from ..builders import Usage, amounts, held


@pytest.fixture(scope="module")
def con():
    return engine.connect("duckdb")


def two_fans() -> Usage:
    """Ten subscribers pay 10.00 EUR each. Eight play only band A (10 plays each), one plays
    band B 10 times, and one heavy fan plays band B 910 times."""
    u = Usage()
    for i in range(8):
        u.play(f"light-{i}", "A", 10).pay(1000, user=f"light-{i}")
    u.play("b-fan", "B", 10).pay(1000, user="b-fan")
    u.play("heavy-b-fan", "B", 910).pay(1000, user="heavy-b-fan")
    return u


def test_user_centric_protects_light_listeners(con):
    usage, pools = two_fans().tables(con)
    pro = distribute(usage, pools, model="pro-rata")
    user = distribute(usage, pools, model="user-centric")
    # Pro-rata: A has 80 of 1,000 plays, so 8 % of the 100.00 EUR pool, though 80 % of the payers chose A.
    assert amounts(pro) == {"A": 800, "B": 9200}
    # User-centric: each fee follows its payer's plays: 8 fees to A, 2 to B.
    assert amounts(user) == {"A": 8000, "B": 2000}
    assert held(pro) == held(user) == 0


def test_unmatched_plays_are_held_not_redistributed(con):
    u = Usage().play("x", "A", 3).play("y", None, 1).pay(1000)
    usage, pools = u.tables(con)
    run = distribute(usage, pools, model="pro-rata")
    assert amounts(run) == {"A": 750}
    reasons = {r["reason"]: r["amount_minor"] for r in run.unallocated.to_pyarrow().to_pylist()}
    assert reasons == {"unmatched usage (held for claims)": 250}


def test_subscriber_who_played_nothing_is_held_and_ads_are_shared_pro_rata(con):
    u = Usage().play("x", "A", 1).play("y", "B", 3).pay(600, user="x").pay(600, user="silent").pay(400)
    usage, pools = u.tables(con)
    run = distribute(usage, pools, model="user-centric")
    # x's 600 to A; the 400 ad pool pro-rata 1:3; the silent subscriber's 600 held.
    assert amounts(run) == {"A": 700, "B": 300}
    assert held(run) == 600


def test_deezer_2023_boosts_professional_artists_and_chosen_plays(con):
    params = ArtistCentric(min_artist_streams=10, min_artist_listeners=3, professional_weight=2,
                           user_initiated_weight=2)
    u = Usage()
    for i in range(3):  # "Pro" reaches 12 streams from 3 listeners: professional
        u.play(f"p{i}", "PRO-1", 4, artist="Pro", use_type="NonInteractiveStream")
    u.play("q", "HOBBY-1", 12, artist="Hobby", use_type="NonInteractiveStream")  # 1 listener
    u.play("q", "HOBBY-2", 6, artist="Hobby", use_type="OnDemandStream")  # chosen: x2
    u.pay(4800)
    usage, pools = u.tables(con)
    run = distribute(usage, pools, model="artist-centric", params=params)
    # weights: PRO-1 12 x 2 = 24; HOBBY-1 12; HOBBY-2 6 x 2 = 12 -> 24:12:12 of 4800
    assert amounts(run) == {"PRO-1": 2400, "HOBBY-1": 1200, "HOBBY-2": 1200}


def test_per_user_cap_limits_a_streaming_farm(con):
    params = ArtistCentric(per_user_cap=10)
    u = Usage().play("farm", "BOT", 990).play("fan", "REAL", 10).pay(2000)
    usage, pools = u.tables(con)
    assert amounts(distribute(usage, pools, model="artist-centric", params=params)) == {"BOT": 1000, "REAL": 1000}
    assert amounts(distribute(usage, pools, model="pro-rata")) == {"BOT": 1980, "REAL": 20}


def test_spotify_2024_minimum_streams_moves_money_to_eligible_tracks(con):
    u = Usage().play("a", "HIT", 1500).play("b", "NICHE", 999).play("c", None, 500).pay(3000)
    usage, pools = u.tables(con)
    run = distribute(usage, pools, model="artist-centric", params="spotify-2024")
    # NICHE is below 1,000 streams and earns nothing; unmatched plays keep their weight and are held.
    assert amounts(run) == {"HIT": 2250, "NICHE": 0}
    assert held(run) == 750


def test_unknown_model_is_refused_with_the_known_ones(con):
    usage, pools = two_fans().tables(con)
    with pytest.raises(InvalidInput, match="pro-rata"):
        distribute(usage, pools, model="winner-takes-all")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(0, 10**15),
       weights=st.lists(st.integers(0, 10**12), min_size=1, max_size=12))
def test_allocate_in_the_engine_equals_money_allocate(con, amount, weights):
    keys = [f"k{i:02d}" for i in range(len(weights))]
    t = engine.table(con, pa.table({"g": [1] * len(weights), "amount": [amount] * len(weights),
                                    "w": weights, "key": keys}))
    got = allocate_expr(t, ["g"], "amount", "w", ["key"]).order_by("key").to_pyarrow()["amount_minor"].to_pylist()
    assert got == allocate(amount, weights)


line_st = st.tuples(st.sampled_from(["u1", "u2", "u3", None]), st.sampled_from(["R1", "R2", "R3", None]),
                    st.integers(1, 50), st.sampled_from(["FR", "DE"]), st.sampled_from(["Subscription", "AdSupport"]))
pool_st = st.tuples(st.sampled_from(["u1", "u2", "u4", None]), st.integers(0, 10**9),
                    st.sampled_from(["FR", "DE", "ES"]), st.sampled_from(["Subscription", "AdSupport"]),
                    st.sampled_from(["EUR", "USD"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_st, min_size=1, max_size=25), pools=st.lists(pool_st, min_size=1, max_size=8),
       model=st.sampled_from(["pro-rata", "user-centric", "artist-centric"]))
def test_every_model_conserves_money_to_the_minor_unit(con, lines, pools, model):
    u = Usage()
    for user, rec, plays, terr, cm in lines:
        u.play(user, rec, plays, territory=terr, commercial_model=cm)
    for user, amount, terr, cm, cur in pools:
        u.pay(amount, user=user, currency=cur, territory=terr, commercial_model=cm)
    usage, pool_t = u.tables(con)
    params = ArtistCentric(min_artist_streams=20, min_artist_listeners=2, professional_weight=2,
                           user_initiated_weight=1, per_user_cap=30) if model == "artist-centric" else None
    run = distribute(usage, pool_t, model=model, params=params)
    revenue: dict[str, int] = defaultdict(int)
    for _, amount, _, _, cur in pools:
        revenue[cur] += amount
    paid: dict[str, int] = defaultdict(int)
    for r in run.allocations.to_pyarrow().to_pylist() + run.unallocated.to_pyarrow().to_pylist():
        assert r["amount_minor"] >= 0
        paid[r["currency"]] += r["amount_minor"]
    for cur in set(revenue) | set(paid):
        assert paid.get(cur, 0) == revenue.get(cur, 0), cur
    assert set(run.conservation) >= {c for c, v in revenue.items() if v}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_st, min_size=1, max_size=25), amount=st.integers(0, 10**9))
def test_pro_rata_equals_a_plain_python_reference(con, lines, amount):
    u = Usage()
    for user, rec, plays, _, _ in lines:
        u.play(user, rec, plays)
    u.pay(amount)
    usage, pools = u.tables(con)
    run = distribute(usage, pools, model="pro-rata")
    plays: dict = defaultdict(int)
    for _, rec, p, _, _ in lines:
        plays[rec] += p
    order = sorted((r for r in plays if r is not None)) + ([None] if None in plays else [])
    expected = dict(zip(order, allocate(amount, [plays[r] for r in order])))
    assert amounts(run) == {r: v for r, v in expected.items() if r is not None}
    assert held(run) == expected.get(None, 0)


def test_comparison_shows_who_gains_and_who_loses(con):
    from obra.royalties.comparison import compare

    usage, pools = two_fans().tables(con)
    pro = distribute(usage, pools, model="pro-rata")
    user = distribute(usage, pools, model="user-centric")
    meta = pa.table({"item": ["A", "B"], "artist": ["Band A", "Band B"], "genre": ["folk", "metal"]})
    eur = compare(pro, user, meta)["currencies"]["EUR"]
    assert (eur["gainers"], eur["losers"]) == (1, 1)
    assert [(g["artist"], g["change_minor"]) for g in eur["top_gainers"]] == [("Band A", 7200)]
    assert [(g["artist"], g["change_minor"]) for g in eur["top_losers"]] == [("Band B", -7200)]
    genres = {g["genre"]: (g["base_minor"], g["other_minor"]) for g in eur["by_genre"]}
    assert genres == {"folk": (800, 8000), "metal": (9200, 2000)}
    assert sum(d["base_minor"] for d in eur["by_decile"]) == sum(d["other_minor"] for d in eur["by_decile"]) == 10000


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(0, 10**8), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=12))
def test_narrow_integer_allocation_equals_money_allocate(con, amount, weights):
    keys = [f"k{i:02d}" for i in range(len(weights))]
    t = engine.table(con, pa.table({"g": [1] * len(weights), "amount": [amount] * len(weights),
                                    "w": weights, "key": keys}))
    got = allocate_expr(t, ["g"], "amount", "w", ["key"], wide=False).order_by("key").to_pyarrow()
    assert got["amount_minor"].to_pylist() == allocate(amount, weights)


def test_export_writes_every_payees_lines_sorted(con, tmp_path):
    import pyarrow.parquet as pq

    from decimal import Decimal

    from obra.model import Share
    from obra.royalties.statements import export_statements
    from obra.royalties.waterfall import ItemRights, run_waterfall

    usage, pools = two_fans().tables(con)
    rights = [ItemRights(item, shares=(Share(party=p, right_type="making_available", share=Decimal(s)),
                                       Share(party=9, right_type="making_available", share=Decimal(100 - s))))
              for item, p, s in (("A", 1, 50), ("B", 2, 25))]
    wf = run_waterfall(distribute(usage, pools, model="user-centric"), rights, [])
    assert export_statements(wf, tmp_path)["payees"] == 3
    t = pq.read_table(tmp_path / "statement_lines.parquet").to_pylist()
    assert [r["payee"] for r in t] == ["1", "2", "9", "9"]
    assert {(r["payee"], r["item"]): r["amount_minor"] for r in t} == {
        ("1", "A"): 4000, ("9", "A"): 4000, ("2", "B"): 500, ("9", "B"): 1500}
    assert t[0]["usage"] == "a1b2c3d4e5f60718:1..8(8)"


def user_centric_reference(lines, pays) -> tuple[dict, int]:
    """The documented user-centric rule in plain Python: (item -> minor units, held).

    ``lines``: (user, item, plays) in one pool; ``pays``: user -> payment. Each row's share
    pay x plays / user's plays is floored at 10^-9 minor units, summed per item, and the paying
    listeners' money is split over the sums by :func:`obra.money.allocate`.
    """
    user_plays: dict = defaultdict(int)
    for user, _, p in lines:
        user_plays[user] += p
    weights: dict = defaultdict(int)
    for user, item, p in lines:
        if user in pays:
            weights[item] += pays[user] * p * 10**9 // user_plays[user]
    paying = sum(v for u, v in pays.items() if u in user_plays)
    order = sorted(i for i in weights if i is not None) + ([None] if None in weights else [])
    split = dict(zip(order, allocate(paying, [weights[i] for i in order])))
    silent = sum(v for u, v in pays.items() if u not in user_plays)
    return split, silent


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.sampled_from([f"u{i}" for i in range(6)]),
                                st.sampled_from(["R1", "R2", "R3", "R4", None]), st.integers(1, 10**4)),
                      min_size=1, max_size=30),
       pays=st.dictionaries(st.sampled_from([f"u{i}" for i in range(8)]), st.integers(0, 10**6), min_size=1))
def test_user_centric_rounds_once_within_one_minor_unit_of_the_exact_share(con, lines, pays):
    from fractions import Fraction

    u = Usage()
    for user, rec, plays in lines:
        u.play(user, rec, plays)
    for user, amount in pays.items():
        u.pay(amount, user=user)
    usage, pools = u.tables(con)
    run = distribute(usage, pools, model="user-centric")
    expected, silent = user_centric_reference(lines, pays)
    assert amounts(run) == {i: v for i, v in expected.items() if i is not None}
    assert held(run) == expected.get(None, 0) + silent
    user_plays: dict = defaultdict(int)
    for user, _, p in lines:
        user_plays[user] += p
    exact: dict = defaultdict(Fraction)
    for user, rec, p in lines:
        exact[rec] += Fraction(pays.get(user, 0) * p, user_plays[user])
    for item, value in expected.items():  # rounding once: a minor unit from exact at most (plus the floors)
        assert abs(value - exact[item]) < 1 + Fraction(len(lines), 10**9), (item, value, exact[item])


def test_a_huge_subscriber_payment_keeps_exact_shares_with_fewer_digits(con):
    big = 10**13  # 100 billion in minor units: the fixed point drops to 10^2, products go wide
    u = Usage().play("whale", "A", 1).play("whale", "B", 2).pay(big, user="whale")
    usage, pools = u.tables(con)
    run = distribute(usage, pools, model="user-centric")
    # exact: A 3,333,333,333,333.33…, B 6,666,666,666,666.66…: the left-over unit goes to B's larger remainder
    assert amounts(run) == {"A": big // 3, "B": 2 * big // 3 + 1}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_st, min_size=1, max_size=25), amount=st.integers(1, 10**9),
       cap=st.integers(1, 5_000))
def test_the_per_user_cap_touches_only_listeners_over_it(con, lines, amount, cap):
    """Listeners at or under the cap keep their plays exactly; over it, their plays sum to the cap."""
    u = Usage()
    for user, rec, plays, terr, cm in lines:
        u.play(user, rec, plays, territory=terr, commercial_model=cm)
    u.pay(amount)
    usage, pools = u.tables(con)
    totals: dict = defaultdict(int)
    for user, _rec, plays, _t, _c in lines:
        totals[user] += plays
    capped = distribute(usage, pools, model="artist-centric", params=ArtistCentric(per_user_cap=cap))
    if all(total <= cap for user, total in totals.items() if user is not None):
        assert amounts(capped) == amounts(distribute(usage, pools, model="artist-centric", params=ArtistCentric()))
    paid = sum(r["amount_minor"] for r in capped.allocations.to_pyarrow().to_pylist())
    held_back = sum(r["amount_minor"] for r in capped.unallocated.to_pyarrow().to_pylist())
    assert paid + held_back == amount
