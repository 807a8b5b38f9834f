"""A market from a researcher's own tables: audiovisual works and images in the same indicators as music."""

from __future__ import annotations

import pyarrow as pa

from obra.observatory.market import item_attributes, market_from_tables
from obra.observatory.report import build_report
from obra.royalties.records import MATCHES_SCHEMA, POOLS_SCHEMA, USAGE_SCHEMA

SLICE = {"period": "2025-01", "territory": "UY", "service": "Cinemateca", "commercial_model": "Subscription"}


def _tables():
    usage, matches = [], []
    for line, (item, plays) in enumerate((("FILM", 300), ("SERIES", 100), ("PHOTO", 50), ("SONG", 50)), 1):
        usage.append({**SLICE, "source": "s1", "line": line, "use_type": "OnDemandStream", "user_id": None,
                      "isrc": None, "iswc": None, "proprietary_id": item, "title": item, "artist": item,
                      "album": None, "duration_s": None, "plays": plays, "revenue": None, "currency": None})
        matches.append({"source": "s1", "line": line, "recording_number": item, "work_number": None, "isrc": None,
                        "iswc": None, "method": "proprietary", "score": 1.0})
    pools = [{**SLICE, "source": "s1", "user_id": None, "currency": "UYU", "amount_minor": 100_000}]
    attributes = pa.Table.from_pylist([
        {"item": "FILM", "artist": "Director A", "kind": "audiovisual", "creation_mode": "human", "origin_country": "UY"},
        {"item": "SERIES", "artist": "Director B", "kind": "audiovisual", "creation_mode": "ai_assisted",
         "origin_country": "AR"},
        {"item": "PHOTO", "artist": "Photographer", "kind": "visual", "creation_mode": "human"},
        {"item": "SONG", "artist": "Singer", "kind": "musical", "creation_mode": "human", "origin_country": "UY"}])
    return (pa.Table.from_pylist(usage, schema=USAGE_SCHEMA), pa.Table.from_pylist(pools, schema=POOLS_SCHEMA),
            pa.Table.from_pylist(matches, schema=MATCHES_SCHEMA), attributes)


def test_films_series_and_images_appear_beside_music():
    usage, pools, matches, attributes = _tables()
    market = market_from_tables("2025-01", usage, pools, matches, attributes)
    report = build_report(market, models=("pro-rata",))
    kinds = {(r["kind"], r["creation_mode"]): r["amount_minor"] for r in report["figures"]["by_kind"]["rows"]}
    assert kinds == {("audiovisual", "human"): 60_000, ("audiovisual", "ai_assisted"): 20_000,
                     ("visual", "human"): 10_000, ("musical", "human"): 10_000}
    theil = report["figures"]["concentration"]["rows"]["UYU"]["theil_by_origin"]
    assert {g["group"] for g in theil["groups"]} == {"local", "foreign", "unknown"}
    assert abs(theil["within"] + theil["between"] - theil["total"]) < 1e-12
    # the fingerprint is the tables' content: the same tables, the same hash; one play more, another
    again = market_from_tables("2025-01", usage, pools, matches, attributes)
    assert again.data_hash == market.data_hash
    more = usage.set_column(usage.schema.get_field_index("plays"), "plays", pa.array([301, 100, 50, 50], pa.int64()))
    assert market_from_tables("2025-01", more, pools, matches, attributes).data_hash != market.data_hash


def test_attributes_come_from_the_records_or_the_isrc():
    from types import SimpleNamespace as Item

    work = Item(entity="work", record={"work": {"kind": "audiovisual", "genre": "drama"}}, works=(), isrc=None,
                title="Película", creation_mode="human")
    rec = Item(entity="recording", record={"recording": {"artist": "Ana"}}, works=("W1",), isrc="UYAB12500001",
               title="Banda sonora", creation_mode="ai_assisted")
    repertoire = Item(recordings={"R1": rec}, works={"W1": work})
    row = item_attributes(repertoire).to_pylist()[0]
    assert row == {"item": "R1", "artist": "Ana", "genre": "drama", "origin_country": "UY", "year": 2025,
                   "label_type": None, "kind": "audiovisual", "creation_mode": "ai_assisted"}
