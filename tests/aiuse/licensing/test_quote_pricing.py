"""Quotes are exact: the vectorised pricing equals the per-item loop, flat fees are conserved to the cent."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.aiuse.licensing.quote import Catalogue, QuoteQuestion, price_items, price_items_loop, totals
from obra.aiuse.vocabulary import Use

Q = QuoteQuestion(Use.AI_TRAIN_GENERATIVE, date(2026, 1, 1), date(2026, 12, 31))
MODELS = ("flat", "per-item", "per-crawl", "per-use", "revenue-share")


def _terms(kind: str, subject: str, permission: str, model: str, amount: int, currency: str,
           until: str | None = None) -> dict:
    use = {"use": "ai-train-generative", "permission": permission}
    if permission == "licence":
        use["price"] = ({"model": model, "share_percent": "12.5"} if model == "revenue-share" else
                        {"model": model, "currency": currency, "amount_minor": amount})
    if until:
        use["valid_until"] = until
    return {"subject_kind": kind, "subject": subject, "version": 1, "journal_event": 1, "terms": {"uses": [use]}}


def test_a_flat_fee_is_split_over_its_items_to_the_cent():
    cat = Catalogue.from_rows(works=[(f"W{i}", False) for i in range(3)], parties=[(f"W{i}", 7) for i in range(3)],
                              terms=[_terms("party", "7", "licence", "flat", 1000, "EUR")])
    items = pa.table({"item": pa.array([0, 1, 2], pa.int64()), "line": pa.array([2, 3, 4], pa.int64()),
                      "number": ["W0", "W1", "W2"], "sha256": pa.nulls(3, pa.string()),
                      "url": pa.nulls(3, pa.string()), "count": pa.array([1, 1, 1], pa.int64())})
    priced = price_items(items, cat, Q)
    assert priced["amount_minor"].to_pylist() == [334, 333, 333]     # largest remainder, first item first
    assert totals(priced)["totals_minor"] == {"EUR": 1000}


def test_an_offer_ending_before_the_licence_is_not_an_offer_for_it():
    cat = Catalogue.from_rows(works=[("W0", False)],
                              terms=[_terms("work", "W0", "licence", "per-item", 5, "EUR", until="2026-06-30")])
    items = pa.table({"item": pa.array([0], pa.int64()), "line": pa.array([2], pa.int64()), "number": ["W0"],
                      "sha256": pa.nulls(1, pa.string()), "url": pa.nulls(1, pa.string()),
                      "count": pa.array([1], pa.int64())})
    row = price_items(items, cat, Q).to_pylist()[0]
    assert row["status"] == "not-licensable" and "ends on 2026-06-30" in row["reason"]


catalogues = st.integers(1, 12).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.booleans(), min_size=n, max_size=n),                                     # withdrawn
    st.lists(st.lists(st.integers(1, 4), max_size=3), min_size=n, max_size=n),           # parties
    st.dictionaries(st.integers(0, n - 1), st.tuples(st.sampled_from(["licence", "allowed", "not-allowed"]),
                                                      st.sampled_from(MODELS), st.integers(0, 10**6),
                                                      st.sampled_from(["EUR", "JPY"])), max_size=n),
    st.dictionaries(st.integers(1, 4), st.tuples(st.sampled_from(["licence", "licence", "allowed", "not-allowed"]),
                                                 st.sampled_from(MODELS), st.integers(0, 10**6),
                                                 st.sampled_from(["EUR", "USD"])), max_size=4),
    st.lists(st.tuples(st.integers(-1, n + 1), st.integers(1, 50)), min_size=1, max_size=40),
))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogues)
def test_vectorised_quotes_equal_the_per_item_loop_and_conserve_money(data):
    n, withdrawn, parties, own, catalogue_terms, manifest = data
    works = [(f"W{i}", withdrawn[i]) for i in range(n)]
    terms = [_terms("work", f"W{i}", *own[i]) for i in own] + \
        [_terms("party", str(p), *catalogue_terms[p]) for p in catalogue_terms]
    cat = Catalogue.from_rows(works=works, parties=[(f"W{i}", p) for i in range(n) for p in parties[i]],
                              terms=terms)
    numbers = [f"W{i}" if 0 <= i < n else "NOPE" for i, _c in manifest]
    items = pa.table({"item": pa.array(range(len(manifest)), pa.int64()),
                      "line": pa.array(range(2, len(manifest) + 2), pa.int64()), "number": numbers,
                      "sha256": pa.nulls(len(manifest), pa.string()), "url": pa.nulls(len(manifest), pa.string()),
                      "count": pa.array([c for _i, c in manifest], pa.int64())})
    fast, slow = price_items(items, cat, Q), price_items_loop(items, cat, Q)
    assert fast.to_pylist() == slow.to_pylist()
    # every flat fee is paid exactly once over its items, whatever their number
    rows = fast.to_pylist()
    for kind, subject in {(r["offer_kind"], r["offer_subject"]) for r in rows if r["model"] == "flat"}:
        group = [r for r in rows if (r["offer_kind"], r["offer_subject"]) == (kind, subject) and r["model"] == "flat"]
        assert sum(r["amount_minor"] for r in group) == group[0]["unit_minor"]
        assert max(r["amount_minor"] for r in group) - min(r["amount_minor"] for r in group) <= 1
    summed = totals(fast)["totals_minor"]
    for currency in summed:
        assert summed[currency] == sum(r["amount_minor"] for r in rows if r["currency"] == currency)


@pytest.mark.parametrize("bad", ["0", "-3", "1.5", "x", "10000000000"])
def test_counts_must_be_whole_and_positive(tmp_path, bad):
    from obra.aiuse.licensing.quote import read_quote_manifest
    from obra.errors import InvalidInput

    path = tmp_path / "m.csv"
    path.write_text(f"number,count\nW1,{bad}\n")
    with pytest.raises(InvalidInput) as err:
        read_quote_manifest(path)
    assert err.value.problems[0].field == "count" and err.value.problems[0].line == 2
