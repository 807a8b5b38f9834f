"""Every distribution model gives the same allocations on DuckDB and on Spark.

The input is seeded and uneven on purpose (odd payments, many subscribers, unmatched plays,
two currencies) so that every rounding path (floors, remainders, ties, the subscriber fixed
point) is exercised; a difference in any engine's arithmetic would show as a minor unit.
"""

from __future__ import annotations

import random

import pytest

from obra.royalties import engine
from obra.royalties.distribution import ArtistCentric, distribute

from ..builders import Usage


def seeded_usage(seed: int = 7) -> Usage:
    rng = random.Random(seed)
    u = Usage()
    items = [f"R{i:02d}" for i in range(25)] + [None]
    for n in range(400):
        user = f"u{rng.randrange(120)}" if rng.random() < 0.9 else None
        u.play(user, rng.choice(items), rng.randint(1, 300), artist=f"Artist {rng.randrange(8)}",
               use_type=rng.choice(["OnDemandStream", "NonInteractiveStream"]),
               territory=rng.choice(["FR", "DE"]))
    for i in range(130):
        u.pay(rng.randint(1, 2999), user=f"u{i}", territory=rng.choice(["FR", "DE"]),
              currency=rng.choice(["EUR", "USD"]))
    u.pay(123457, territory="FR").pay(98765, territory="DE", currency="USD")
    return u


def allocations(con, model: str, params=None) -> list[tuple]:
    usage, pools = seeded_usage().tables(con)
    run = distribute(usage, pools, model=model, params=params)
    paid = sorted((r["territory"], r["currency"], r["item"], r["amount_minor"])
                  for r in run.allocations.to_pyarrow().to_pylist())
    held = sorted((r["territory"], r["currency"], r["reason"], r["amount_minor"])
                  for r in run.unallocated.to_pyarrow().to_pylist())
    return paid + held


@pytest.mark.spark
@pytest.mark.parametrize("model,params", [
    ("pro-rata", None), ("user-centric", None),
    ("artist-centric", ArtistCentric(min_artist_streams=500, min_artist_listeners=5, professional_weight=2,
                                     user_initiated_weight=2, per_user_cap=400))])
def test_every_model_allocates_the_same_on_duckdb_and_spark(spark, model, params):
    on_duck = allocations(engine.connect("duckdb"), model, params)
    on_spark = allocations(engine.connect("spark", session=spark), model, params)
    assert len(on_duck) > 20
    assert on_spark == on_duck
