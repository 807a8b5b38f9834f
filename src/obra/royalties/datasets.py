"""Where the royalty datasets live and how their partitions are found, read and replaced.

Each dataset of :mod:`obra.royalties.records` (``usage``, ``pools``, ``matches``) is a
directory under the store's home holding one Parquet file per period and source file,
``<dataset>/period=<P>/source=<S>/part-0.parquet``. Ingest
(:mod:`obra.royalties.ingest`) adds partitions; matching replaces the ``matches`` ones;
the engines read a period's files (:func:`obra.royalties.engine.read_dataset`).

**A partition is read only when its source is published**: the store's ``usage_sources`` table
lists each accepted file, and only a ``published`` row makes its partitions visible
(:func:`published_sources`). Ingest writes a row in the same transaction as the file's
``usage.ingested`` journal event, after its partitions are in place, so a killed ingest leaves
files no engine reads (and the next ingest removes them); a superseded report's partitions stay
on disk, for the record, and are never read again. Every reader of the datasets (matching, the
claims queue, distribution on DuckDB or Spark) passes the published sources in.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Collection

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from obra.store.schema import usage_sources


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


def adopt_legacy_manifest(store) -> int:
    """Take over the ``ingest-manifest.json`` of a store ingested before ``usage_sources`` existed.

    Each entry becomes a published row (its partitions stay readable, and the next ingest does not
    clean them away) with the journal event it had; its identity is the file's bytes (the sender
    and recipient of a DSR were not recorded), and a DSR keeps its MessageId and period, which
    ingest compares. Idempotent; returns how many entries were taken over.
    """
    path = store.paths.ingest_manifest
    if not path.exists():
        return 0
    import json
    from datetime import datetime, timezone

    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from obra.canonical import sha256_hex

    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return 0
    with store.connect() as conn:
        have = set(conn.execute(select(usage_sources.c.source)).scalars())
    adopted = 0
    for digest, e in sorted(manifest.items(), key=lambda kv: kv[1].get("at") or ""):
        source = e.get("source") or digest[:16]
        if source in have:
            continue
        kind = {"usage": "csv", "pools": "csv"}.get(e.get("kind"), e.get("kind") or "csv")
        identity = {"kind": kind, "legacy_sha256": digest}
        try:
            at = datetime.fromisoformat(e["at"])
        except (KeyError, TypeError, ValueError):
            at = datetime.now(timezone.utc)
        summary = {k: v for k, v in e.items() if k not in ("file", "sha256", "source", "kind", "periods", "counts",
                                                           "by", "at", "journal_event")}
        try:
            with store.begin() as conn:
                conn.execute(insert(usage_sources).values(
                    source=source, kind=kind, identity_hash=sha256_hex(identity), identity=identity,
                    content_hash=digest, sha256=digest, file=str(e.get("file") or source)[:255],
                    scope={"legacy": True, "message_id": e.get("message_id"), "period": e.get("period")},
                    periods=e.get("periods") or [], counts=e.get("counts") or {}, summary=summary,
                    status="published", journal_id=e.get("journal_event"), created_by=str(e.get("by") or "?"),
                    created_at=at))
            adopted += 1
        except IntegrityError:      # another process took it over first
            pass
    return adopted


def published_sources(store) -> frozenset[str]:
    """The sources whose partitions the engines read: every accepted usage file not superseded."""
    adopt_legacy_manifest(store)
    t = usage_sources
    with store.connect() as conn:
        return frozenset(conn.execute(select(t.c.source).where(t.c.status == "published",
                                                               t.c.kind != "cwr")).scalars())


def known_sources(store) -> frozenset[str]:
    """Every source the store has a row for, published or superseded (what cleaning keeps)."""
    adopt_legacy_manifest(store)
    with store.connect() as conn:
        return frozenset(conn.execute(select(usage_sources.c.source)).scalars())


def periods(store) -> list[str]:
    """Periods that have published usage."""
    return sorted({p for p, _, _ in partitions(usage_dataset(store), sources=published_sources(store))})


def partitions(root: Path, period: str | None = None, *,
               sources: Collection[str] | None) -> list[tuple[str, str, Path]]:
    """(period, source, file) of the partitions of ``sources`` in a dataset, optionally for one period.

    ``sources`` is required: pass :func:`published_sources` (what the engines may read), or None
    only for a dataset that is not a store's (a benchmark's files, say).
    """
    pattern = f"period={period}/source=*/part-0.parquet" if period else "period=*/source=*/part-0.parquet"
    out = []
    for f in sorted(Path(root).glob(pattern)):
        source = f.parent.name.removeprefix("source=")
        if sources is None or source in sources:
            out.append((f.parent.parent.name.removeprefix("period="), source, f))
    return out


def write_partition(root: Path, period: str, source: str, table: pa.Table, schema: pa.Schema) -> Path:
    """Replace one partition atomically (write beside it, then rename)."""
    target = partition(root, period, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".part-0.{uuid.uuid4().hex}.tmp")
    pq.write_table(table.select(schema.names).cast(schema), tmp, compression="zstd")
    os.replace(tmp, target)
    return target
