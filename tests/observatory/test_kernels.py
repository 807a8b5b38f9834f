"""The staged DuckDB models (obra.observatory.kernels) against the royalty engine's Ibis models:
the same allocations and the same money held, to the minor unit, on random small markets."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.observatory import kernels, scenarios
from obra.royalties import engine
from obra.royalties.distribution import ArtistCentric, distribute
from obra.royalties.records import ALLOCATION_KEYS, MATCHES_SCHEMA
from tests.royalties.builders import Usage

USERS = ["ana", "bo", "cy", "di", None]
ITEMS = ["R1", "R2", "R3", "R10", None]
ARTISTS = ["Zoe", " zoe ", "ZOE", "Max", None]
SLICES = [{"territory": "FR"}, {"territory": "ES"}, {"territory": "FR", "commercial_model": "AdSupport"}]

play = st.tuples(st.sampled_from(USERS), st.sampled_from(ITEMS), st.integers(0, 400), st.sampled_from(ARTISTS),
                 st.sampled_from(["OnDemandStream", "NonInteractiveStream", "library"]), st.sampled_from(range(3)))
payment = st.tuples(st.integers(0, 50_000), st.sampled_from(USERS), st.sampled_from(["EUR", "EUR", "GBP"]),
                    st.sampled_from(range(3)))
params = st.builds(ArtistCentric, min_artist_streams=st.integers(0, 300), min_artist_listeners=st.integers(0, 3),
                   professional_weight=st.integers(0, 3), user_initiated_weight=st.integers(0, 3),
                   per_user_cap=st.none() | st.integers(1, 500), min_item_streams=st.integers(0, 300))


def market(plays, payments, with_matches, shuffled=False):
    u = Usage()
    for user, item, n, artist, use_type, s in plays:
        u.play(user, item, n, artist=artist or "", use_type=use_type, **SLICES[s])
        if artist is None:
            u.lines[-1]["artist"] = None
    for amount, user, currency, s in payments:
        u.pay(amount, user=user, currency=currency, **SLICES[s])
    con = engine.connect("duckdb")
    usage, pools = u.tables(con)
    matches = None
    if with_matches:   # the match rows of a usage report: one per line, the unmatched ones with method none
        rows = [{"source": line["source"], "line": line["line"], "recording_number": line["recording_number"],
                 "work_number": None, "isrc": None, "iswc": None,
                 "method": "isrc" if line["recording_number"] else "none", "score": 1.0} for line in u.lines]
        if shuffled:     # not in the usage's order: the stage joins by line instead of reading side by side
            rows = rows[1::2] + rows[::2]
        matches = engine.table(con, pa.Table.from_pylist(rows, schema=MATCHES_SCHEMA))
        usage = usage.drop("recording_number")
    return con, usage, pools, matches


def _rows(run):
    alloc = sorted((tuple(r[k] for k in ALLOCATION_KEYS), r["item"], r["amount_minor"], r["plays"], r["usage_lines"])
                   for r in run.allocations.to_pyarrow().to_pylist())
    held: dict = {}
    for r in run.unallocated.to_pyarrow().to_pylist():
        key = (tuple(r[k] for k in ALLOCATION_KEYS), r["reason"])
        held[key] = held.get(key, 0) + r["amount_minor"]
    return alloc, {k: v for k, v in held.items() if v}


def _same(con, usage, pools, matches, model, p=None, hashed=True):
    expected = distribute(usage, pools, matches, model=model, params=p)
    got = kernels.Stage(con, usage, pools, matches, hashed=hashed).distribute(model, p)
    assert _rows(got) == _rows(expected)
    assert {c: v.distributed for c, v in got.conservation.items()} == \
        {c: v.distributed for c, v in expected.conservation.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(play, min_size=1, max_size=25), st.lists(payment, min_size=1, max_size=8), st.booleans())
def test_pro_rata_and_user_centric_are_the_royalty_engines_to_the_cent(plays, payments, with_matches):
    con, usage, pools, matches = market(plays, payments, with_matches)
    _same(con, usage, pools, matches, "pro-rata")
    _same(con, usage, pools, matches, "user-centric")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(play, min_size=1, max_size=25), st.lists(payment, min_size=1, max_size=8), st.booleans(), params)
def test_artist_centric_is_the_royalty_engines_to_the_cent(plays, payments, with_matches, p):
    con, usage, pools, matches = market(plays, payments, with_matches)
    _same(con, usage, pools, matches, "artist-centric", p)


@pytest.mark.parametrize("preset", ["deezer-2023", "spotify-2024"])
@pytest.mark.parametrize("shuffled, hashed", [(False, True), (True, True), (False, False)])
def test_the_presets_on_a_market_with_a_capped_heavy_listener(preset, shuffled, hashed):
    """Matches in the usage's order (read side by side) or not (joined by line); ids hashed or looked up."""
    plays = [("ana", "R1", 900, "Zoe", "OnDemandStream", 0), ("ana", "R2", 300, " zoe", "NonInteractiveStream", 0),
             ("bo", "R1", 7, "Zoe", "OnDemandStream", 0), ("bo", None, 5, "Nobody", "OnDemandStream", 0),
             ("cy", "R3", 1200, "Max", "OnDemandStream", 1), ("ana", "R3", 2, "Max", "OnDemandStream", 0)]
    payments = [(1099, "ana", "EUR", 0), (1099, "bo", "EUR", 0), (999, "cy", "EUR", 1), (5000, None, "EUR", 2)]
    con, usage, pools, matches = market(plays, payments, True, shuffled)
    stage = kernels.Stage(con, usage, pools, matches, hashed=hashed)
    assert (stage.aligned, stage.hashed) == (not shuffled and hashed, hashed)
    for model, p in (("artist-centric", preset), ("user-centric", None), ("pro-rata", None)):
        _same(con, usage, pools, matches, model, p, hashed)


def test_run_rules_on_the_stage_gives_the_same_outcome_with_floor_and_commission():
    con, usage, pools, matches = market(
        [("ana", "R1", 10, "X", "OnDemandStream", 0), ("bo", "R2", 990, "Y", "OnDemandStream", 0)],
        [(1000, "ana", "EUR", 0), (1000, "bo", "EUR", 0)], False)
    stage = kernels.Stage(con, usage, pools, matches)
    for rules in ({"model": "user-centric", "per_play_floor_minor": "1.5", "cmo_commission": "0.12"},
                  {"model": "artist-centric", "preset": "deezer-2023", "performer_remuneration": "0.1"}):
        r = scenarios.parse_rules(rules)
        plain = scenarios.run_rules(r, usage, pools, matches)
        staged = scenarios.run_rules(r, usage, pools, matches, stage=stage)
        assert staged.items.to_pylist() == plain.items.to_pylist()
        assert (staged.held, staged.revenue) == (plain.held, plain.revenue)


@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 30_000)), min_size=1, max_size=200))
def test_the_change_bands_of_every_artist_at_once_are_those_of_one_at_a_time(pairs):
    base = [b for b, _ in pairs]
    other = [o for _, o in pairs]
    assert list(scenarios._bands(base, other)) == [scenarios._band(b, o) for b, o in pairs]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(play, min_size=1, max_size=25), st.lists(payment, min_size=1, max_size=8), st.booleans(), st.booleans())
def test_the_indicators_from_the_stage_are_those_from_the_usage(plays, payments, with_matches, shuffled):
    from obra.observatory import indicators
    from obra.observatory.market import Market

    con, usage, pools, matches = market(plays, payments, with_matches, shuffled)
    m = Market("2024-01", "duckdb", con, usage, pools, matches)
    stage = kernels.Stage.of_market(m)
    for fn in (indicators.plays, indicators.play_sources, indicators.matching):
        assert fn(m, stage).rows == fn(m).rows, fn.__name__


def test_a_huge_payment_is_split_in_128_bit_integers_to_the_same_cent():
    """payment x plays x 10^k passes 2^63: the shares are computed in HUGEINT, with the Ibis model's result."""
    plays = [("ana", "R1", 10_000, "Zoe", "OnDemandStream", 0), ("ana", "R2", 3, "Max", "OnDemandStream", 0),
             ("bo", "R2", 7, "Max", "OnDemandStream", 0)]
    payments = [(10 ** 12 + 7, "ana", "EUR", 0), (1099, "bo", "EUR", 0)]
    con, usage, pools, matches = market(plays, payments, True)
    _same(con, usage, pools, matches, "user-centric")
