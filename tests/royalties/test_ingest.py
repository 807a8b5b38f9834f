"""Ingest: the data contract written, all or nothing, idempotent, one ingest at a time per store."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from obra.errors import InvalidInput
from obra.royalties.datasets import pools_dataset, usage_dataset
from obra.royalties.ingest import read_manifest
from obra.royalties.pipeline import ingest_dsr, ingest_usage_csv
from obra.royalties.records import POOLS_SCHEMA, USAGE_SCHEMA

from .samples import YOUTUBE, variant, write_csv


def test_dsr_ingest_writes_the_contract(sqlite_store, cmo):
    result = ingest_dsr(sqlite_store, YOUTUBE, cmo)
    source = result["source"]
    usage = pq.read_table(usage_dataset(sqlite_store) / "period=2015-Q4" / f"source={source}" / "part-0.parquet")
    assert usage.schema.equals(USAGE_SCHEMA)
    assert usage.column("plays").to_pylist() == [7810, 2045, 18, 4, 258, 75]
    assert usage.column("revenue").type == pa.decimal128(38, 10)
    pools = pq.read_table(pools_dataset(sqlite_store) / "period=2015-Q4" / f"source={source}" / "part-0.parquet")
    assert pools.schema.equals(POOLS_SCHEMA)
    # four SY02.01 slices of IS/AdSupport: 409.05 + 359.71 + 3424.29 + 11570.53 USD, exactly in cents
    assert pools.to_pylist() == [{"source": source, "period": "2015-Q4", "territory": "IS",
                                  "service": "AdSupport-music", "commercial_model": "AdSupport", "user_id": None,
                                  "currency": "USD", "amount_minor": 1576358}]
    assert len(source) == 16


def test_reingest_is_a_no_op(sqlite_store, cmo):
    ingest_dsr(sqlite_store, YOUTUBE, cmo)
    part = next(usage_dataset(sqlite_store).rglob("part-0.parquet"))
    before = (part.stat().st_mtime_ns, part.read_bytes())
    again = ingest_dsr(sqlite_store, YOUTUBE, cmo)
    assert again["changed"] is False and again["status"] == "already ingested"
    assert (part.stat().st_mtime_ns, part.read_bytes()) == before
    assert len(read_manifest(sqlite_store)) == 1


def test_failing_file_writes_nothing(sqlite_store, cmo, tmp_path):
    bad = variant(tmp_path, YOUTUBE, lambda ls: [l.replace("\t258\t", "\t-x\t") for l in ls])
    with pytest.raises(InvalidInput) as err:
        ingest_dsr(sqlite_store, bad, cmo)
    assert err.value.problems[0].line == 31 and err.value.problems[0].field == "Usages"
    assert not list(sqlite_store.home.rglob("*.parquet"))
    assert not list((sqlite_store.home / ".staging").glob("*"))
    assert read_manifest(sqlite_store) == {}


def test_writes_need_a_principal_that_may_ingest(sqlite_store, root):
    from obra.access import create_principal
    from obra.errors import PermissionDenied
    from obra.model.vocab import AccessRole

    creator, _ = create_principal(sqlite_store, "creator-1", AccessRole.CREATOR, by=root)
    with pytest.raises(PermissionDenied):
        ingest_dsr(sqlite_store, YOUTUBE, creator)


def test_csv_usage_with_users_and_pools(sqlite_store, cmo, tmp_path):
    rows = [{"period": "2026-03", "territory": "UY", "service": "Tambor", "commercial_model": "Subscription",
             "use_type": "stream", "user_id": "u1", "title": "Canción", "artist": "Ana", "plays": 8},
            {"period": "2026-03", "territory": "UY", "service": "Tambor", "commercial_model": "Subscription",
             "use_type": "stream", "user_id": "u2", "isrc": "UY-ABC-26-00001", "plays": 2,
             "revenue": "0.0042", "currency": "USD"}]
    ingest_usage_csv(sqlite_store, write_csv(tmp_path / "usage.csv", rows), cmo)
    pools = write_csv(tmp_path / "pools.csv", [
        {"period": "2026-03", "territory": "UY", "service": "Tambor", "commercial_model": "Subscription",
         "currency": "USD", "amount": "9.99", "user_id": "u1"}],
        ["period", "territory", "service", "commercial_model", "currency", "amount", "user_id"])
    ingest_usage_csv(sqlite_store, pools, cmo)
    usage = pq.read_table(next(usage_dataset(sqlite_store).rglob("part-0.parquet"))).to_pylist()
    assert [(u["line"], u["user_id"], u["isrc"], u["plays"]) for u in usage] == [
        (2, "u1", None, 8), (3, "u2", "UYABC2600001", 2)]
    assert usage[1]["revenue"] == Decimal("0.0042000000")
    pool = pq.read_table(next(pools_dataset(sqlite_store).rglob("part-0.parquet"))).to_pylist()
    assert pool[0]["amount_minor"] == 999 and pool[0]["user_id"] == "u1"


def test_csv_problems_are_all_listed(sqlite_store, cmo, tmp_path):
    rows = [{"period": "March", "territory": "XX", "service": "S", "commercial_model": "M", "use_type": "stream",
             "plays": "-1", "iswc": "T1234567890"}]
    with pytest.raises(InvalidInput) as err:
        ingest_usage_csv(sqlite_store, write_csv(tmp_path / "bad.csv", rows), cmo)
    assert {(p.line, p.field) for p in err.value.problems} == {
        (2, "period"), (2, "territory"), (2, "plays"), (2, "iswc")}
    assert not list(sqlite_store.home.rglob("*.parquet"))


def test_csv_digits_that_are_not_ascii_are_problems_not_crashes(sqlite_store, cmo, tmp_path):
    """'²' is a digit to str.isdigit() and not to int(): plays and duration holding one are named problems."""
    rows = [{"period": "2026-03", "territory": "UY", "service": "S", "commercial_model": "M", "use_type": "stream",
             "title": "Canción", "plays": "²", "duration_s": "1²"}]
    with pytest.raises(InvalidInput) as err:
        ingest_usage_csv(sqlite_store, write_csv(tmp_path / "bad.csv", rows), cmo)
    assert {(p.line, p.field) for p in err.value.problems} == {(2, "plays"), (2, "duration_s")}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({
    "title": st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
    "plays": st.integers(0, 10**12),
    "user_id": st.one_of(st.none(), st.text("abc123", min_size=1, max_size=6)),
    "revenue": st.one_of(st.none(), st.decimals(0, 10**6, places=6).map(str)),
}), min_size=1, max_size=20))
def test_csv_round_trip(tmp_path_factory, rows):
    from obra.store import Store
    from obra.access import create_principal
    from obra.model.vocab import AccessRole

    home = tmp_path_factory.mktemp("rt")
    store = Store.open(url=f"sqlite:///{home}/obra.db", home=home, migrate=True)
    principal, _ = create_principal(store, "cmo", AccessRole.CMO)
    full = [{"period": "2026-01", "territory": "ES", "service": "S", "commercial_model": "AdSupport",
             "use_type": "stream", "currency": "EUR" if r["revenue"] else None, **r} for r in rows]
    ingest_usage_csv(store, write_csv(home / "u.csv", full), principal)
    back = pq.read_table(next(usage_dataset(store).rglob("part-0.parquet"))).to_pylist()
    assert [b["plays"] for b in back] == [r["plays"] for r in rows]
    assert [b["user_id"] for b in back] == [r["user_id"] for r in rows]
    assert [b["title"] for b in back] == [r["title"].strip() or None for r in rows]
    assert [b["revenue"] for b in back] == [Decimal(r["revenue"]) if r["revenue"] else None for r in rows]
    store.dispose()


def test_concurrent_ingests_of_different_files_keep_every_manifest_entry(sqlite_store, tmp_path):
    """Two processes ingesting at once must not lose each other's manifest entry (the ingest lock)."""
    import multiprocessing

    paths = []
    for i in range(4):
        p = tmp_path / f"usage-{i}.csv"
        p.write_text("period,territory,service,commercial_model,use_type,isrc,title,artist,plays\n"
                     f"2025-01,UY,svc,Subscription,stream,UYAB12500{i:03d},Song {i},Artist,{i + 1}\n")
        paths.append(p)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_ingest_in_child, args=(str(sqlite_store.url), str(sqlite_store.home), str(p)))
             for p in paths]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [proc.exitcode for proc in procs] == [0, 0, 0, 0]
    assert len(read_manifest(sqlite_store)) == 4


def _ingest_in_child(url: str, home: str, path: str) -> None:
    from obra.access import Principal
    from obra.model.vocab import AccessRole
    from obra.royalties.pipeline import ingest_usage_csv
    from obra.store import Store

    ingest_usage_csv(Store.open(url, home), path, Principal("cmo", AccessRole.CMO))
