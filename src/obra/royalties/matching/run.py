"""A matching run over the datasets: every published usage partition matched, the matches dataset written.

Per partition: identifiers first (:mod:`.identifiers`, on DuckDB or Spark), then the scored
metadata model for the lines still unmatched (:mod:`.metadata`), then the claims
(:mod:`.claims`); the partition's matches replace the previous ones atomically.
"""

from __future__ import annotations

from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from obra.royalties import engine as engines
from obra.royalties.datasets import matches_dataset, partitions, published_sources, usage_dataset, write_partition
from obra.royalties.matching import claims
from obra.royalties.matching.identifiers import match_by_id, store_tables
from obra.royalties.matching.metadata import FuzzyIndex, fuzzy_match
from obra.royalties.records import MATCH_METHODS, MATCHES_SCHEMA


def match_store(store, period: str | None = None, *, fuzzy: bool = True,
                progress: Callable[[int], None] | None = None, engine: str = "duckdb",
                session=None) -> dict:
    """Match every usage partition (of ``period`` or all) and write the matches dataset.

    The identifier stage runs on ``engine`` ("duckdb", or "spark" with an optional existing
    ``session``) through :mod:`obra.royalties.engine`; the metadata stage and claims run
    in this process on the lines still unmatched.
    """
    recordings, works = store_tables(store)
    con = engines.connect(engine, session=session)
    rec_t = engines.table(con, recordings, "obra_match_recordings")
    work_t = engines.table(con, works, "obra_match_works")
    index = FuzzyIndex(recordings) if fuzzy else None
    claimed = claims.claim_rules(store)
    totals: dict[str, int] = {m: 0 for m in MATCH_METHODS}
    done = 0
    parts = partitions(usage_dataset(store), period, sources=published_sources(store))
    for p, source, path in parts:
        if con.name == "duckdb":
            usage_t = con.read_parquet(str(path), hive_partitioning=False)
        else:
            usage_t = engines.read_parquet(con, str(path), f"obra_match_usage_{source}")
        matched = match_by_id(usage_t, rec_t, work_t).order_by("line").to_pyarrow()
        matched = matched.select(MATCHES_SCHEMA.names).cast(MATCHES_SCHEMA)
        # the metadata model and the claims look at the lines still unmatched, by their metadata:
        # read it only when one of them will (the identifier stage alone never needs it)
        if (index is not None or claimed) and pc.any(pc.equal(matched["method"], "none")).as_py():
            usage_arrow = _read_usage(path)
            if index is not None:
                matched = fuzzy_match(usage_arrow, matched, index)
            matched = claims.apply_claims(usage_arrow, matched, claimed)
        write_partition(matches_dataset(store), p, source, matched, MATCHES_SCHEMA)
        for method, n in zip(*_value_counts(matched)):
            totals[method] = totals.get(method, 0) + n
        done += matched.num_rows
        if progress is not None:
            progress(done)
    if con.name == "duckdb":
        con.disconnect()
    total = sum(totals.values())
    return {"period": period, "engine": engine, "partitions": len(parts), "lines": total, "by_method": totals,
            "matched_share": round((total - totals["none"]) / total, 4) if total else None}


def _read_usage(path) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["line", "isrc", "iswc", "proprietary_id", "title", "artist", "album",
                                        "duration_s", "plays"])


def _value_counts(table: pa.Table) -> tuple[list[str], list[int]]:
    counts = pc.value_counts(table["method"])
    return ([c["values"].as_py() for c in counts], [c["counts"].as_py() for c in counts])
