"""Obra's usage and pools CSV readers: the vectorised one gives exactly the row-by-row rows, or steps aside."""

from __future__ import annotations

import re
from decimal import Decimal

import pyarrow as pa
from hypothesis import HealthCheck, given, settings, strategies as st

from ..samples import POOL_COLUMNS, write_csv


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({
    "period": st.sampled_from(["2026-01", "2026-Q2", "2026", " 2026-h1 "]),
    "territory": st.sampled_from(["ES", " uy", "JP"]),
    "use_type": st.sampled_from(["stream", "Download "]),
    "title": st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    "isrc": st.one_of(st.none(), st.sampled_from(["UY-ABC-26-00001", "usabc2600002", "QZ1AB2612345"])),
    "iswc": st.one_of(st.none(), st.sampled_from(["T-070.247.279-4", "T0702472794"])),
    "duration_s": st.one_of(st.none(), st.integers(0, 86_400).map(str)),
    "plays": st.integers(0, 10**15).map(str),
    "revenue": st.one_of(st.none(), st.decimals(-10**6, 10**6, places=10).map(lambda d: format(d, "f"))),
}), min_size=1, max_size=15))
def test_fast_and_row_by_row_readers_agree(tmp_path_factory, rows):
    from obra.royalties.formats import usage_csv

    home = tmp_path_factory.mktemp("agree")
    full = [{"service": "S", "commercial_model": "AdSupport", "currency": "eur" if r["revenue"] else None, **r}
            for r in rows]
    path = write_csv(home / "u.csv", full)
    blocks = []
    assert usage_csv.read_usage_fast(path, on_table=blocks.append) is not None
    fast = pa.concat_tables(blocks).to_pylist()
    slow = []
    usage_csv.read_csv(path, on_usage=slow.append)
    as_rows = [{k: getattr(u, k) for k in fast[0]} for u in slow]
    for r in as_rows:
        if r["revenue"] is not None:
            r["revenue"] = r["revenue"].quantize(Decimal("1E-10"))
    assert fast == as_rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({
    "period": st.sampled_from(["2026-01", "2026-Q2", " 2026-h1 "]),
    "territory": st.sampled_from(["ES", " uy", "JP"]),
    "user_id": st.one_of(st.none(), st.sampled_from(["u1", " u2 ", ""])),
    "currency": st.sampled_from(["EUR", "usd", "JPY", "BHD"]),
    "amount": st.one_of(st.integers(0, 10**9).map(str),
                        st.decimals(0, 10**6, places=2).map(lambda d: format(d, "f")),
                        st.sampled_from(["1.5", "0.001", "12.300", "1E3", "-1", " 7.25 ", ".5"])),
}), min_size=1, max_size=12))
def test_fast_and_row_by_row_pool_readers_agree_or_the_fast_one_steps_aside(tmp_path_factory, rows):
    """Where the vectorised pools reader takes a file it gives exactly the row-by-row rows."""
    from obra.errors import InvalidInput
    from obra.royalties.formats import usage_csv

    path = write_csv(tmp_path_factory.mktemp("pools") / "p.csv",
                     [{"service": "S", "commercial_model": "Subscription", **r} for r in rows], POOL_COLUMNS)
    blocks = []
    taken = usage_csv.read_pools_fast(path, on_table=blocks.append)
    slow = []
    try:
        usage_csv.read_csv(path, on_pool=slow.append)
    except InvalidInput:
        assert taken is None  # never accepts what the specification refuses
        return
    decimals = {"EUR": 2, "USD": 2, "JPY": 0, "BHD": 3}
    places = {decimals[r["currency"].upper()] for r in rows}
    plain = len(places) == 1 and all(
        re.fullmatch(r"[0-9]+(\.[0-9]{1,%d})?" % places.copy().pop() if places.copy().pop() else r"[0-9]+",
                     r["amount"].strip()) for r in rows)
    assert (taken is not None) == plain  # the fast reader takes every plain file, and only those
    if taken is None:
        return
    fast = pa.concat_tables(blocks).to_pylist()
    assert fast == [{k: getattr(p, k) for k in fast[0]} for p in slow]


def test_a_large_plain_pools_file_takes_the_fast_path(tmp_path):
    from obra.royalties.formats import usage_csv

    rows = [{"period": "2026-03", "territory": "FR", "service": "S", "commercial_model": "Subscription",
             "currency": "EUR", "amount": f"{i % 1000}.{i % 100:02d}", "user_id": f"u{i}"} for i in range(5000)]
    path = write_csv(tmp_path / "p.csv", rows, POOL_COLUMNS)
    blocks = []
    assert usage_csv.read_pools_fast(path, on_table=blocks.append) == {"kind": "pools", "rows": 5000}
    got = pa.concat_tables(blocks)
    assert got["amount_minor"].to_pylist()[:3] == [0, 101, 202] and got["line"].to_pylist()[-1] == 5001
