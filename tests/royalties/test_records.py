"""The data contract: each reader hands over exactly the record forms declared in records.py,
and ingest turns them into the declared datasets."""

from __future__ import annotations

from dataclasses import fields

import pyarrow as pa

from obra.royalties.formats import dsr_fast, usage_csv
from obra.royalties.records import (POOL_ROWS_SCHEMA, POOLS_SCHEMA, USAGE_LINES_SCHEMA, USAGE_ROWS_SCHEMA,
                                    USAGE_SCHEMA, PoolRow, UsageLine)

from .samples import POOL_COLUMNS, YOUTUBE, write_csv


def test_the_readers_forms_are_the_stored_records_without_the_source():
    assert USAGE_ROWS_SCHEMA.names == [n for n in USAGE_SCHEMA.names if n != "source"]
    assert POOL_ROWS_SCHEMA.names == ["line"] + [n for n in POOLS_SCHEMA.names if n != "source"]
    assert USAGE_LINES_SCHEMA.names == [f.name for f in fields(UsageLine)]
    assert {f.name for f in fields(PoolRow)} == set(POOL_ROWS_SCHEMA.names)
    for name in USAGE_LINES_SCHEMA.names:   # the same types, but revenue kept as the report's text
        expected = pa.string() if name == "revenue" else USAGE_SCHEMA.field(name).type
        assert USAGE_LINES_SCHEMA.field(name).type == expected, name


def test_the_dsr_reader_hands_over_usage_lines_and_ingest_stores_the_contract():
    tables = []
    report = dsr_fast.read_dsr_tables(YOUTUBE, on_table=tables.append)
    table = pa.concat_tables(tables)
    assert table.schema.equals(USAGE_LINES_SCHEMA) and table.num_rows == report.usage_lines == 6
    lines = dsr_fast.usage_lines(table)
    assert all(isinstance(u, UsageLine) for u in lines)
    assert dsr_fast.lines_table(lines).equals(table)
    stored = dsr_fast.to_usage_contract(table, "0123456789abcdef", USAGE_SCHEMA)
    assert stored.schema.equals(USAGE_SCHEMA) and set(stored.column("source").to_pylist()) == {"0123456789abcdef"}


def test_the_csv_readers_hand_over_usage_rows_and_pool_rows(tmp_path):
    usage = write_csv(tmp_path / "u.csv", [{"period": "2026-03", "territory": "UY", "service": "S",
                                            "commercial_model": "Subscription", "use_type": "stream", "plays": 3}])
    tables = []
    assert usage_csv.read_usage_fast(usage, on_table=tables.append) == {"kind": "usage", "rows": 1}
    assert tables[0].schema.equals(USAGE_ROWS_SCHEMA)
    pools = write_csv(tmp_path / "p.csv", [{"period": "2026-03", "territory": "UY", "service": "S",
                                            "commercial_model": "Subscription", "currency": "USD",
                                            "amount": "9.99"}], POOL_COLUMNS)
    tables, rows = [], []
    assert usage_csv.read_pools_fast(pools, on_table=tables.append) == {"kind": "pools", "rows": 1}
    assert tables[0].schema.equals(POOL_ROWS_SCHEMA)
    usage_csv.read_csv(pools, on_pool=rows.append)
    assert rows == [PoolRow(2, "2026-03", "UY", "S", "Subscription", "USD", 999)]
    assert tables[0].to_pylist() == [{f.name: getattr(rows[0], f.name) for f in fields(PoolRow)}]
