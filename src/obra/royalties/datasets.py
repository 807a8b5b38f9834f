"""Where the royalty datasets live and how their partitions are found, read and replaced.

Each dataset of :mod:`obra.royalties.records` (``usage``, ``pools``, ``matches``) is a
directory under the store's home holding one Parquet file per period and source file,
``<dataset>/period=<P>/source=<S>/part-0.parquet``. Ingest
(:mod:`obra.royalties.ingest`) adds partitions; matching replaces the ``matches`` ones;
the engines read a period's files (:func:`obra.royalties.engine.read_dataset`).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def usage_dataset(store) -> Path:
    """The directory of the usage dataset (``usage/period=*/source=*/part-0.parquet``)."""
    return store.paths.usage


def pools_dataset(store) -> Path:
    """The directory of the pools dataset (the money per slice)."""
    return store.paths.pools


def matches_dataset(store) -> Path:
    """The directory of the matches dataset (one row per usage line, rewritten by each matching run)."""
    return store.paths.matches


def partition(root: Path, period: str, source: str) -> Path:
    """The file of one period and source in a dataset directory."""
    return root / f"period={period}" / f"source={source}" / "part-0.parquet"


def periods(store) -> list[str]:
    """Periods that have usage."""
    root = usage_dataset(store)
    if not root.exists():
        return []
    return sorted(p.name.removeprefix("period=") for p in root.glob("period=*") if p.is_dir())


def partitions(root: Path, period: str | None = None) -> list[tuple[str, str, Path]]:
    """(period, source, file) of every partition in a dataset, optionally for one period."""
    pattern = f"period={period}/source=*/part-0.parquet" if period else "period=*/source=*/part-0.parquet"
    out = []
    for f in sorted(root.glob(pattern)):
        out.append((f.parent.parent.name.removeprefix("period="), f.parent.name.removeprefix("source="), f))
    return out


def write_partition(root: Path, period: str, source: str, table: pa.Table, schema: pa.Schema) -> Path:
    """Replace one partition atomically (write beside it, then rename)."""
    target = partition(root, period, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".part-0.{uuid.uuid4().hex}.tmp")
    pq.write_table(table.select(schema.names).cast(schema), tmp, compression="zstd")
    os.replace(tmp, target)
    return target
