"""The royalty pipeline: the entry points the interfaces call, one per job.

This is the one module that brings the store, the engines and access rules together; each
stage below it does one thing on plain records (:mod:`obra.royalties.records`):

* **ingest** — :func:`ingest_dsr`, :func:`ingest_usage_csv` (usage and pools into the
  datasets) and :func:`ingest_cwr` (repertoire into the registry), each all or nothing
  (:mod:`obra.royalties.ingest`);
* **match** — :func:`run_matching` over the usage datasets (:mod:`obra.royalties.matching.run`).
"""

from __future__ import annotations

from typing import Callable

from obra.royalties.ingest import ingest_cwr, ingest_dsr, ingest_usage_csv


def run_matching(store, period: str | None = None, *, fuzzy: bool = True,
                 progress: Callable[[int], None] | None = None, engine: str = "duckdb", session=None) -> dict:
    """Match every usage partition (of ``period``, or all) and write the matches dataset.

    ``engine`` runs the identifier stage on DuckDB (default) or Spark (``session``: an
    existing SparkSession to reuse); see :func:`obra.royalties.matching.run.match_store`.
    """
    from obra.royalties.matching.run import match_store

    return match_store(store, period=period, fuzzy=fuzzy, progress=progress, engine=engine, session=session)


__all__ = ["ingest_cwr", "ingest_dsr", "ingest_usage_csv", "run_matching"]
