"""The usage store: the data contract, all-or-nothing ingest, idempotence, matching and claims."""

from __future__ import annotations

import csv
import re
from decimal import Decimal

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from obra.errors import InvalidInput
from obra.registry.service import Registry
from obra.royalties.matching import claims, identifiers
from obra.royalties.datasets import matches_dataset, pools_dataset, usage_dataset
from obra.royalties.ingest import read_manifest
from obra.royalties.pipeline import ingest_dsr, ingest_usage_csv, run_matching
from obra.royalties.records import MATCHES_SCHEMA, POOLS_SCHEMA, USAGE_SCHEMA

from .samples import YOUTUBE, variant

COLUMNS = ["period", "territory", "service", "commercial_model", "use_type", "user_id", "isrc", "iswc",
           "proprietary_id", "title", "artist", "album", "duration_s", "plays", "revenue", "currency"]


POOL_COLUMNS = ["period", "territory", "service", "commercial_model", "currency", "amount", "user_id"]


def write_csv(path, rows, columns=COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        for r in rows:
            w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in columns})
    return path


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


@pytest.fixture
def catalogue(sqlite_store, root):
    """Two works and two recordings registered the normal way."""
    registrant = root
    reg = Registry(sqlite_store)
    party = reg.add_party(registrant, {"name": "Ana García", "roles": ["composer"]})
    share = [{"party": party.id, "right_type": "performance", "territory": "2WL", "share": "100"}]
    w1 = reg.register(registrant, "work", {"title": "Canción del Mar", "iswc": "T0702472794", "shares": share}).number
    w2 = reg.register(registrant, "work", {"title": "Noche Azul", "shares": share}).number
    r1 = reg.register(registrant, "recording", {"title": "Canción del Mar", "isrc": "USRH10903879",
                                                "artist": "Ana García", "duration_seconds": 200,
                                                "works": [w1]}).number
    r2 = reg.register(registrant, "recording", {"title": "Noche Azul", "artist": "Los Tigres",
                                                "duration_seconds": 181, "works": [w2]}).number
    return {"w1": w1, "w2": w2, "r1": r1, "r2": r2, "admin": registrant}


def test_matching_by_identifier_fuzzy_and_claim(sqlite_store, cmo, tmp_path, catalogue):
    base = {"period": "2026-02", "territory": "ES", "service": "S", "commercial_model": "Subscription",
            "use_type": "stream", "plays": 10}
    rows = [base | {"isrc": "USRH10903879", "title": "whatever"},                 # line 2: ISRC
            base | {"iswc": "T0702472794"},                                        # line 3: ISWC
            base | {"proprietary_id": catalogue["w2"]},                            # line 4: registration no.
            base | {"title": "Noche Azul - Remastered 2011", "artist": "Los Tigres",
                    "duration_s": 182},                                            # line 5: fuzzy
            base | {"title": "Unknown Song", "artist": "Nobody"},                  # line 6: none
            base | {"title": "Unknown Song", "artist": "NOBODY", "plays": 5}]      # line 7: same group
    ingest_usage_csv(sqlite_store, write_csv(tmp_path / "m.csv", rows), cmo)
    summary = run_matching(sqlite_store, "2026-02")
    assert summary["by_method"]["none"] == 2
    m = pq.read_table(next(matches_dataset(sqlite_store).rglob("part-0.parquet")))
    assert m.schema.equals(MATCHES_SCHEMA)
    got = {r["line"]: (r["method"], r["recording_number"], r["work_number"]) for r in m.to_pylist()}
    assert got[2] == ("isrc", catalogue["r1"], catalogue["w1"])
    assert got[3] == ("iswc", None, catalogue["w1"])
    assert got[4] == ("proprietary", None, catalogue["w2"])
    assert got[5] == ("fuzzy", catalogue["r2"], catalogue["w2"])
    assert got[6][0] == got[7][0] == "none"

    (group,) = claims.queue(sqlite_store, "2026-02")
    assert group["lines"] == 2 and group["plays"] == 15
    claims.claim(sqlite_store, catalogue["admin"], group["id"], recording_number=catalogue["r2"])
    run_matching(sqlite_store, "2026-02")
    m = pq.read_table(next(matches_dataset(sqlite_store).rglob("part-0.parquet"))).to_pylist()
    assert {r["line"]: r["method"] for r in m}[6] == "claim"
    assert {r["line"]: r["work_number"] for r in m}[7] == catalogue["w2"]
    assert claims.queue(sqlite_store, "2026-02") == []


def _id_inputs():
    usage = pa.table({"source": ["s"] * 4, "line": pa.array([1, 2, 3, 4], pa.int64()),
                      "isrc": ["USRH10903879", None, None, "GBAAA0000001"],
                      "iswc": [None, "T0702472794", None, None], "proprietary_id": [None, None, "OBRA-W2", None]})
    recordings = pa.table({"recording_number": ["OBRA-R1"], "isrc": ["USRH10903879"], "work_number": ["OBRA-W1"]})
    works = pa.table({"work_number": ["OBRA-W1", "OBRA-W2"], "iswc": ["T0702472794", None]})
    return usage, recordings, works


def test_match_by_id_is_the_same_on_duckdb_and_spark(spark):
    usage, recordings, works = _id_inputs()
    duck = ibis.duckdb.connect()
    d = identifiers.match_by_id(duck.create_table("u", usage), duck.create_table("r", recordings),
                             duck.create_table("w", works)).order_by("line").to_pyarrow().to_pylist()
    sp = ibis.pyspark.connect(spark)

    def view(name, table, ddl):
        spark.createDataFrame(table.to_pylist(), schema=ddl).createOrReplaceTempView(name)
        return sp.table(name)

    s = identifiers.match_by_id(
        view("u", usage, "source string, line long, isrc string, iswc string, proprietary_id string"),
        view("r", recordings, "recording_number string, isrc string, work_number string"),
        view("w", works, "work_number string, iswc string")).order_by("line").to_pyarrow().to_pylist()
    assert d == s
    assert [r["method"] for r in d] == ["isrc", "iswc", "proprietary", "none"]


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


def test_run_matching_gives_the_same_matches_on_spark(sqlite_store, cmo, tmp_path, catalogue, spark):
    base = {"period": "2026-02", "territory": "ES", "service": "S", "commercial_model": "Subscription",
            "use_type": "stream", "plays": 10}
    rows = [base | {"isrc": "USRH10903879"}, base | {"iswc": "T0702472794"},
            base | {"proprietary_id": catalogue["w2"]},
            base | {"title": "Noche Azul (Remastered)", "artist": "Los Tigres"}, base | {"title": "Nada"}]
    ingest_usage_csv(sqlite_store, write_csv(tmp_path / "m.csv", rows), cmo)
    run_matching(sqlite_store, "2026-02")
    part = next(matches_dataset(sqlite_store).rglob("part-0.parquet"))
    on_duckdb = pq.read_table(part).to_pylist()
    summary = run_matching(sqlite_store, "2026-02", engine="spark", session=spark)
    assert summary["engine"] == "spark"
    assert pq.read_table(part).to_pylist() == on_duckdb
    assert [r["method"] for r in on_duckdb] == ["isrc", "iswc", "proprietary", "fuzzy", "none"]


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
