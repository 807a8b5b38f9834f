"""The execution engines behind the royalty pipeline: DuckDB (default) and Apache Spark.

Matching-by-id and every distribution model are written once, as Ibis expressions
(:mod:`obra.royalties.distribution`, :mod:`obra.royalties.waterfall`); this module only
opens the backend they run on. DuckDB runs in-process and out of core (it spills to a
temporary directory when a run does not fit in memory); Spark runs in local mode on
this machine and on a cluster when ``spark_master`` (or ``OBRA_SPARK_MASTER``) names one.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import ibis

ENGINES = ("duckdb", "spark")


def spark_session(master: str | None = None, app_name: str = "obra-royalties") -> Any:
    """A SparkSession with the settings that make local mode reliable.

    ``spark.sql.warehouse.dir`` goes to a fresh temporary directory (a rerun otherwise
    fails with ``LOCATION_ALREADY_EXISTS``); the UI is off and the driver binds to the
    loopback address. ``master`` defaults to ``OBRA_SPARK_MASTER`` or ``local[2]``.
    """
    from pyspark.sql import SparkSession

    master = master or os.environ.get("OBRA_SPARK_MASTER") or "local[2]"
    warehouse = tempfile.mkdtemp(prefix="obra-spark-warehouse-")
    return (SparkSession.builder.master(master).appName(app_name)
            .config("spark.sql.warehouse.dir", warehouse)
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate())


def connect(engine: str = "duckdb", spark_master: str | None = None, *, session: Any = None,
            duckdb_path: str = ":memory:", memory_limit: str | None = None) -> Any:
    """An Ibis backend for ``engine`` ("duckdb" or "spark").

    Pass an existing SparkSession as ``session`` to reuse it (start-up costs several
    seconds). For DuckDB, ``memory_limit`` (e.g. ``"3GB"``) caps memory; past it DuckDB
    spills to disk, which is how runs larger than memory complete.
    """
    if engine == "duckdb":
        con = ibis.duckdb.connect(duckdb_path)
        limit = memory_limit or os.environ.get("OBRA_DUCKDB_MEMORY_LIMIT")
        if limit:
            con.raw_sql(f"SET memory_limit = '{limit}'")
        # Spill beyond the memory limit into the system's temporary directory (DuckDB's
        # default for an in-memory database is ".tmp" under the current directory).
        # DuckDB creates the directory when it first spills and removes what it created on close.
        spill = os.environ.get("OBRA_DUCKDB_TEMP") or os.path.join(
            tempfile.gettempdir(), f"obra-duckdb-spill-{os.getpid()}-{id(con):x}")
        con.raw_sql(f"SET temp_directory = '{spill}'")
        con.raw_sql("SET preserve_insertion_order = false")
        con.raw_sql("SET enable_progress_bar = false")
        return con
    if engine == "spark":
        return ibis.pyspark.connect(session or spark_session(spark_master))
    from obra.errors import InvalidInput, Problem
    raise InvalidInput(Problem(f"unknown engine '{engine}'; use one of: {', '.join(ENGINES)}",
                               field="engine"))


def table(con: Any, data: Any, name: str | None = None, copy: bool = True) -> ibis.Table:
    """Put an in-memory table (pyarrow, pandas, dict of columns) into the backend.

    ``copy=False`` lets DuckDB scan the Arrow table in place (the caller keeps it alive);
    Spark always copies.
    """
    import pyarrow as pa

    if isinstance(data, dict):
        data = pa.table(data)
    if isinstance(data, pa.Table):  # an all-null column has no type: read it as text
        data = data.cast(pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f
                                    for f in data.schema]))
    name = name or ibis.util.gen_name("obra")
    if con.name == "pyspark":
        if not isinstance(data, pa.Table):
            data = pa.Table.from_pandas(data, preserve_index=False)
        con._session.createDataFrame(data).createOrReplaceTempView(name)
        return con.table(name)
    if not copy and isinstance(data, pa.Table):
        con.con.register(name, data)
        return con.table(name)
    return con.create_table(name, data, temp=True, overwrite=True)


def read_parquet(con: Any, paths: list[str] | str, name: str | None = None) -> ibis.Table:
    """Parquet files (a usage, pools or matches partition) as an Ibis table on ``con``."""
    if isinstance(paths, (list, tuple)) and len(paths) == 1:
        paths = paths[0]
    if con.name == "pyspark":
        name = name or ibis.util.gen_name("obra")
        files = [paths] if isinstance(paths, str) else list(paths)
        con._session.read.parquet(*files).createOrReplaceTempView(name)
        return con.table(name)
    return con.read_parquet(paths, table_name=name)


def read_dataset(con: Any, root: Any, period: str, name: str | None = None, *,
                 sources: Any = None) -> ibis.Table | None:
    """One period of a contract dataset (``usage``, ``pools`` or ``matches`` directory), or None.

    Only the partitions of ``sources`` are read: in a store, always pass
    :func:`obra.royalties.datasets.published_sources` (a partition of a killed or superseded
    ingest is never read); None reads every partition, for datasets outside a store (benchmarks).
    Files are listed explicitly (``period=P/source=S/part-0.parquet``) so neither engine adds
    partition columns of its own: ``period`` and ``source`` are inside the files.
    """
    from obra.royalties.datasets import partitions

    files = [str(f) for _, _, f in partitions(root, period, sources=sources)]
    if not files:
        return None
    if con.name == "duckdb":
        return con.read_parquet(files, table_name=name, hive_partitioning=False)
    return read_parquet(con, files, name)
