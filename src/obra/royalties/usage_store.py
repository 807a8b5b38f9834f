"""Usage, pools and matches as Parquet datasets under ``store.home``: the royalty engines' input.

**The data contract** (shared with the distribution engines; names and types are fixed):

``usage/period=<P>/source=<S>/part-0.parquet`` — one row per reported use count:
  ``source`` string (first 16 hex digits of the ingested file's sha256), ``line`` int64 (line
  number in that file), ``period`` string (``2015-02``, ``2015-Q4``, as the report says),
  ``territory`` string (ISO 3166-1 alpha-2), ``service`` string, ``commercial_model`` string
  (``AdSupport``, ``Subscription`` …), ``use_type`` string (``stream``, ``download`` …),
  ``user_id`` string nullable, ``isrc``/``iswc``/``proprietary_id`` nullable strings,
  ``title``/``artist``/``album`` nullable strings, ``duration_s`` int32 nullable, ``plays``
  int64, ``revenue`` decimal128(38,10) nullable (line-level revenue when the report gives
  it), ``currency`` nullable string.

``pools/period=<P>/source=<S>/part-0.parquet`` — the money to distribute per slice:
  ``source``, ``period``, ``territory``, ``service``, ``commercial_model``, ``user_id``
  (nullable: null = the whole pool of the slice; set = that subscriber's own payment, for
  user-centric models), ``currency`` string, ``amount_minor`` int64 (exact minor units).
  From a DSR file the pool of a slice is the sum of its summary records' ``NetRevenue``
  (a decimal), rounded *once*, half to even, to the currency's minor unit
  (:func:`obra.money.round_to_minor`); the error is at most half a cent per slice, never
  a float. From a pools CSV the amount must already be exact in minor units.

``matches/period=<P>/source=<S>/part-0.parquet`` — one row per usage line:
  ``source``, ``line``, ``recording_number`` nullable string, ``work_number`` nullable
  string, ``isrc``/``iswc`` nullable, ``method`` string (``isrc``, ``iswc``,
  ``proprietary``, ``fuzzy``, ``claim``, ``none``), ``score`` double (a confidence, not money).

The ``period`` and ``source`` columns are inside the files as well as in the directory
names: read with Hive partitioning off (``hive_partitioning=false`` in DuckDB), or glob
the ``part-0.parquet`` files.

**Ingest is all or nothing and idempotent.** A file's sha256 is recorded in
``ingest-manifest.json`` once it is in; ingesting the same bytes again is a no-op. A file
is parsed and validated in one streaming pass while its rows go to a staging directory;
if any problem is found the staging directory is deleted and nothing is visible; only
when the whole file is valid are its partitions renamed into place and the manifest
updated (re-running after a crash in between redoes the same partitions).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from obra import money
from obra.access import Principal, require
from obra.errors import InvalidInput, Problem
from obra.royalties import cwr, usage_csv
from obra.royalties.dsr import UsageLine

REVENUE_TYPE = pa.decimal128(38, 10)
USAGE_SCHEMA = pa.schema([
    ("source", pa.string()), ("line", pa.int64()), ("period", pa.string()), ("territory", pa.string()),
    ("service", pa.string()), ("commercial_model", pa.string()), ("use_type", pa.string()),
    ("user_id", pa.string()), ("isrc", pa.string()), ("iswc", pa.string()), ("proprietary_id", pa.string()),
    ("title", pa.string()), ("artist", pa.string()), ("album", pa.string()), ("duration_s", pa.int32()),
    ("plays", pa.int64()), ("revenue", REVENUE_TYPE), ("currency", pa.string()),
])
POOLS_SCHEMA = pa.schema([
    ("source", pa.string()), ("period", pa.string()), ("territory", pa.string()), ("service", pa.string()),
    ("commercial_model", pa.string()), ("user_id", pa.string()), ("currency", pa.string()),
    ("amount_minor", pa.int64()),
])
MATCHES_SCHEMA = pa.schema([
    ("source", pa.string()), ("line", pa.int64()), ("recording_number", pa.string()),
    ("work_number", pa.string()), ("isrc", pa.string()), ("iswc", pa.string()), ("method", pa.string()),
    ("score", pa.float64()),
])
MATCH_METHODS = ("isrc", "iswc", "proprietary", "fuzzy", "claim", "none")
BATCH_ROWS = 200_000
_REVENUE_QUANTUM = Decimal(1).scaleb(-10)


def usage_dataset(store) -> Path:
    """The directory of the usage dataset (``usage/period=*/source=*/part-0.parquet``)."""
    return Path(store.home) / "usage"


def pools_dataset(store) -> Path:
    return Path(store.home) / "pools"


def matches_dataset(store) -> Path:
    return Path(store.home) / "matches"


def partition(root: Path, period: str, source: str) -> Path:
    return root / f"period={period}" / f"source={source}" / "part-0.parquet"


def manifest_path(store) -> Path:
    return Path(store.home) / "ingest-manifest.json"


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(store) -> dict[str, dict]:
    path = manifest_path(store)
    return json.loads(path.read_text()) if path.exists() else {}


def _write_manifest(store, manifest: dict[str, dict]) -> None:
    path = manifest_path(store)
    tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, path)


class _Staging:
    """Rows buffered per (dataset, period) and written to a private staging directory."""

    def __init__(self, store, source: str):
        self.store = store
        self.source = source
        self.root = Path(store.home) / ".staging" / uuid.uuid4().hex
        self.root.mkdir(parents=True)
        self.buffers: dict[tuple[str, str], dict[str, list]] = {}
        self.writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        self.schemas = {"usage": USAGE_SCHEMA, "pools": POOLS_SCHEMA, "matches": MATCHES_SCHEMA}
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, dataset: str, period: str, row: dict) -> None:
        key = (dataset, period)
        buf = self.buffers.get(key)
        if buf is None:
            buf = self.buffers[key] = {name: [] for name in self.schemas[dataset].names}
        for name, column in buf.items():
            column.append(row[name])
        self.counts[dataset] += 1
        if len(buf["source"]) >= BATCH_ROWS:
            self._flush(dataset, period)

    def add_table(self, dataset: str, period: str, table: pa.Table) -> None:
        """Write a block of rows (already in the dataset's schema) straight to its partition."""
        self.counts[dataset] += table.num_rows
        self._writer(dataset, period).write_table(table)

    def _writer(self, dataset: str, period: str) -> pq.ParquetWriter:
        key = (dataset, period)
        if key not in self.writers:
            target = partition(self.root / dataset, period, self.source)
            target.parent.mkdir(parents=True, exist_ok=True)
            self.writers[key] = pq.ParquetWriter(target, self.schemas[dataset], compression="zstd")
        return self.writers[key]

    def _flush(self, dataset: str, period: str) -> None:
        buf = self.buffers.get((dataset, period))
        if not buf or not buf["source"]:
            return
        self._writer(dataset, period).write_table(pa.Table.from_pydict(buf, schema=self.schemas[dataset]))
        for column in buf.values():
            column.clear()

    def close(self) -> None:
        for dataset, period in list(self.buffers):
            self._flush(dataset, period)
        for w in self.writers.values():
            w.close()

    def publish(self) -> list[str]:
        """Move every staged partition into the live datasets; returns the periods written."""
        self.close()
        periods = set()
        for (dataset, period) in self.writers:
            staged = partition(self.root / dataset, period, self.source)
            live = partition(Path(self.store.home) / dataset, period, self.source)
            live.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, live)
            periods.add(period)
        self.discard()
        return sorted(periods)

    def adopt(self, other: "_Staging") -> None:
        """Take over another staging area's files (the fast path stages separately)."""
        self.discard()
        self.root, self.writers, self.buffers, self.counts = other.root, other.writers, other.buffers, other.counts

    def discard(self) -> None:
        for w in self.writers.values():
            try:
                w.close()
            except Exception:  # noqa: BLE001 - already closed or half-written: it is deleted next
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def _usage_row(source: str, u: UsageLine) -> dict[str, Any]:
    return {"source": source, "line": u.line, "period": u.period, "territory": u.territory,
            "service": u.service, "commercial_model": u.commercial_model, "use_type": u.use_type,
            "user_id": u.user_id, "isrc": u.isrc, "iswc": u.iswc, "proprietary_id": u.proprietary_id,
            "title": u.title, "artist": u.artist, "album": u.album, "duration_s": u.duration_s,
            "plays": u.plays,
            "revenue": u.revenue.quantize(_REVENUE_QUANTUM) if u.revenue is not None else None,
            "currency": u.currency}


@contextmanager
def ingest_lock(store) -> Iterator[None]:
    """One ingest at a time per store: the manifest check, the publish and the manifest update
    happen under an exclusive lock, so two processes ingesting at once cannot lose an entry."""
    Path(store.home).mkdir(parents=True, exist_ok=True)
    with open(Path(store.home) / "ingest.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ingest(store, path: str | Path, principal: Principal, kind: str,
            body: Callable[[_Staging, str], dict], progress: Callable[[int], None] | None = None) -> dict:
    require(principal, "ingest_usage")
    with ingest_lock(store):
        return _ingest_locked(store, path, principal, kind, body, progress)


def _ingest_locked(store, path: str | Path, principal: Principal, kind: str,
                   body: Callable[[_Staging, str], dict], progress: Callable[[int], None] | None) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(Problem(f"no such file: {path}", field="path", source=str(path)))
    digest = file_digest(path)
    source = digest[:16]
    manifest = read_manifest(store)
    if digest in manifest:
        return {**manifest[digest], "status": "already ingested", "changed": False}
    staging = _Staging(store, source)
    try:
        summary = body(staging, source)
        periods = staging.publish()
    except BaseException:
        staging.discard()
        raise
    entry = {"file": path.name, "sha256": digest, "source": source, "kind": kind, "periods": periods,
             "counts": dict(staging.counts), "by": principal.name,
             "at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **summary}
    manifest = read_manifest(store)
    manifest[digest] = entry
    _write_manifest(store, manifest)
    return {**entry, "status": "ingested", "changed": True}


def ingest_dsr(store, path: str | Path, principal: Principal,
               progress: Callable[[int], None] | None = None) -> dict:
    """Ingest a DDEX DSR flat file (optionally gzipped): usage lines and the pools of its summaries.

    The usage lines arrive as Arrow tables from the vectorised reader (``dsr_fast``), which
    validates exactly as the row-by-row reference does, and go to Parquet as they are.
    """
    from obra.royalties import dsr_fast

    def body(staging: _Staging, source: str) -> dict:
        def usage(table: pa.Table) -> None:
            table = dsr_fast.to_usage_contract(table, source, USAGE_SCHEMA)
            for period in pc.unique(table["period"]).to_pylist():
                staging.add_table("usage", period, table.filter(pc.equal(table["period"], period)))

        report = dsr_fast.read_dsr_tables(path, on_table=usage, progress=progress)
        pools: dict[tuple, Decimal] = defaultdict(Decimal)
        for p in report.pools:
            pools[(p.period, p.territory, p.service, p.commercial_model, p.currency)] += p.net_revenue
        for (period, territory, service, model, currency), total in sorted(pools.items()):
            staging.add("pools", period, {"source": source, "period": period, "territory": territory,
                                          "service": service, "commercial_model": model, "user_id": None,
                                          "currency": currency,
                                          "amount_minor": money.round_to_minor(total, currency)})
        return {"period": report.period, "lines": report.lines, "summaries": report.summaries,
                "blocks": report.blocks, "usage_lines": report.usage_lines,
                "message_id": report.head.get("MessageId")}

    return _ingest(store, path, principal, "dsr", body, progress)


def ingest_usage_csv(store, path: str | Path, principal: Principal,
                     progress: Callable[[int], None] | None = None) -> dict:
    """Ingest an Obra usage CSV or pools CSV (see :mod:`obra.royalties.usage_csv`).

    A valid file (usage or pools) goes through the vectorised Arrow reader; a file it
    cannot vouch for is read again row by row, which names every problem (see ``usage_csv``).
    """

    def body(staging: _Staging, source: str) -> dict:
        kind = usage_csv.sniff_kind(Path(path))
        dataset, schema, reader = (("usage", USAGE_SCHEMA, usage_csv.read_usage_fast) if kind == "usage"
                                   else ("pools", POOLS_SCHEMA, usage_csv.read_pools_fast))
        fast = _Staging(store, source)
        try:
            def block(table: pa.Table) -> None:
                table = table.add_column(0, "source", pa.array([source] * table.num_rows, pa.string()))
                table = table.select(schema.names)
                for period in pc.unique(table["period"]).to_pylist():
                    fast.add_table(dataset, period, table.filter(pc.equal(table["period"], period)))

            done = reader(path, on_table=block, progress=progress)
        except BaseException:
            fast.discard()
            raise
        if done is not None:
            staging.adopt(fast)
            return done
        fast.discard()

        def pool(p: usage_csv.PoolRow) -> None:
            staging.add("pools", p.period, {"source": source, "period": p.period, "territory": p.territory,
                                            "service": p.service, "commercial_model": p.commercial_model,
                                            "user_id": p.user_id, "currency": p.currency,
                                            "amount_minor": p.amount_minor})

        return usage_csv.read_csv(path, on_usage=lambda u: staging.add("usage", u.period, _usage_row(source, u)),
                                  on_pool=pool, progress=progress)

    return _ingest(store, path, principal, "csv", body, progress)


def ingest_cwr(store, path: str | Path, principal: Principal) -> dict:
    """Import a CWR file's parties and works into the registry, all or nothing, once per file."""
    require(principal, "import")
    with ingest_lock(store):
        return _ingest_cwr_locked(store, Path(path), principal)


def _ingest_cwr_locked(store, path: Path, principal: Principal) -> dict:
    digest = file_digest(path)
    manifest = read_manifest(store)
    if digest in manifest:
        return {**manifest[digest], "status": "already ingested", "changed": False}
    parsed = cwr.parse_cwr(path)
    from obra.registry.batch import import_records

    created = import_records(store, principal, parties=parsed.parties, works=parsed.works, recordings=(),
                             source=path.name, locations=parsed.locations(),
                             revisions={i for i, kind in enumerate(parsed.work_kinds) if kind == "REV"})
    entry = {"file": path.name, "sha256": digest, "source": digest[:16], "kind": "cwr",
             "version": parsed.version, "transactions": parsed.transactions,
             "works": created.get("works", []), "revised": created.get("revised", []),
             "parties": len(created.get("parties", [])),
             "known_parties": len(created.get("known_parties", [])),
             "by": principal.name, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    manifest = read_manifest(store)
    manifest[digest] = entry
    _write_manifest(store, manifest)
    return {**entry, "status": "ingested", "changed": True}


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


def run_matching(store, period: str | None = None, *, fuzzy: bool = True,
                 progress: Callable[[int], None] | None = None, engine: str = "duckdb", session=None) -> dict:
    """Match every usage partition (of ``period``, or all) and write the matches dataset.

    ``engine`` runs the identifier stage on DuckDB (default) or Spark (``session``: an
    existing SparkSession to reuse); see :func:`obra.royalties.matching.match_store`.
    """
    from obra.royalties import matching

    return matching.match_store(store, period=period, fuzzy=fuzzy, progress=progress, engine=engine,
                                session=session)
