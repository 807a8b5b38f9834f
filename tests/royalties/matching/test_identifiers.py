"""Matching by identifier: one Ibis expression, the same matches on DuckDB and on Spark."""

from __future__ import annotations

import ibis
import pyarrow as pa

from obra.royalties.matching import identifiers


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
