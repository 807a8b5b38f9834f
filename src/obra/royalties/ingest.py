"""Ingest: report files in, validated records out, written to the Parquet datasets.

A usage report (DDEX DSR, Obra's usage or pools CSV) is read by its reader in
:mod:`obra.royalties.formats` and its records go to the ``usage`` and ``pools`` datasets
(:mod:`obra.royalties.records`, :mod:`obra.royalties.datasets`). A CWR repertoire file is read
by :mod:`obra.royalties.formats.cwr` and its works and parties go to the registry, through its
batch import (:func:`obra.registry.batch.import_records`).

**Ingest is all or nothing and idempotent.** A file's sha256 is recorded in
``ingest-manifest.json`` once it is in; ingesting the same bytes again is a no-op. A file
is parsed and validated in one streaming pass while its rows go to a staging directory;
if any problem is found the staging directory is deleted and nothing is visible; only
when the whole file is valid are its partitions renamed into place and the manifest
updated (re-running after a crash in between redoes the same partitions). One ingest runs
at a time per store (:func:`ingest_lock`).
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
from obra.journal import Journal
from obra.royalties.datasets import partition
from obra.royalties.formats import cwr, usage_csv
from obra.royalties.records import MATCHES_SCHEMA, POOLS_SCHEMA, REVENUE_TYPE, USAGE_SCHEMA, PoolRow, UsageLine

BATCH_ROWS = 200_000
_REVENUE_QUANTUM = Decimal(1).scaleb(-REVENUE_TYPE.scale)


def manifest_path(store) -> Path:
    """The file listing every ingested file by sha256 (what makes ingest idempotent)."""
    return store.paths.ingest_manifest


def file_digest(path: Path) -> str:
    """The file's sha256 (hex): its identity in the manifest; the first 16 digits are its ``source``."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(store) -> dict[str, dict]:
    """sha256 → what was ingested from that file (kind, periods, counts, by whom, when)."""
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
        self.root = store.paths.staging / uuid.uuid4().hex
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
            live = partition(getattr(self.store.paths, dataset), period, self.source)
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
    with open(store.paths.ingest_lock, "w") as handle:
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
    with store.begin() as conn:  # the data is published; the event says what, when and by whom
        event = Journal(store).record(conn, "usage.ingested", f"source/{source}",
                                      {k: v for k, v in entry.items() if k not in ("by", "at")}, principal.name)
    entry["journal_event"] = event.id
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
    from obra.royalties.formats import dsr_fast

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
    """Ingest an Obra usage CSV or pools CSV (see :mod:`obra.royalties.formats.usage_csv`).

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

        def pool(p: PoolRow) -> None:
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
    # the registrations and the batch are journal events already (registration.*, repertoire.imported)
    manifest = read_manifest(store)
    manifest[digest] = entry
    _write_manifest(store, manifest)
    return {**entry, "status": "ingested", "changed": True}
