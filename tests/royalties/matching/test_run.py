"""A matching run over the datasets: identifiers, then the scored model, then claims, on DuckDB and Spark."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from obra.registry.service import Registry
from obra.royalties.datasets import matches_dataset
from obra.royalties.matching import claims
from obra.royalties.pipeline import ingest_usage_csv, run_matching
from obra.royalties.records import MATCHES_SCHEMA

from ..samples import write_csv


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
    summary = run_matching(sqlite_store, cmo, "2026-02")
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
    run_matching(sqlite_store, cmo, "2026-02")
    m = pq.read_table(next(matches_dataset(sqlite_store).rglob("part-0.parquet"))).to_pylist()
    assert {r["line"]: r["method"] for r in m}[6] == "claim"
    assert {r["line"]: r["work_number"] for r in m}[7] == catalogue["w2"]
    assert claims.queue(sqlite_store, "2026-02") == []


def test_run_matching_gives_the_same_matches_on_spark(sqlite_store, cmo, tmp_path, catalogue, spark):
    base = {"period": "2026-02", "territory": "ES", "service": "S", "commercial_model": "Subscription",
            "use_type": "stream", "plays": 10}
    rows = [base | {"isrc": "USRH10903879"}, base | {"iswc": "T0702472794"},
            base | {"proprietary_id": catalogue["w2"]},
            base | {"title": "Noche Azul (Remastered)", "artist": "Los Tigres"}, base | {"title": "Nada"}]
    ingest_usage_csv(sqlite_store, write_csv(tmp_path / "m.csv", rows), cmo)
    run_matching(sqlite_store, cmo, "2026-02")
    part = next(matches_dataset(sqlite_store).rglob("part-0.parquet"))
    on_duckdb = pq.read_table(part).to_pylist()
    summary = run_matching(sqlite_store, cmo, "2026-02", engine="spark", session=spark)
    assert summary["engine"] == "spark"
    assert pq.read_table(part).to_pylist() == on_duckdb
    assert [r["method"] for r in on_duckdb] == ["isrc", "iswc", "proprietary", "fuzzy", "none"]
