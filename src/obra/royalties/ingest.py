"""Ingest: report files in, validated records out, written to the Parquet datasets.

A usage report (DDEX DSR, Obra's usage or pools CSV) is read by its reader in
:mod:`obra.royalties.formats` and its records go to the ``usage`` and ``pools`` datasets
(:mod:`obra.royalties.records`, :mod:`obra.royalties.datasets`). A CWR repertoire file is read
by :mod:`obra.royalties.formats.cwr` and its works and parties go to the registry, through its
batch import (:func:`obra.registry.batch.import_records`).

**A file is known by what it is, not by its bytes.** Every accepted file is a row of the store's
``usage_sources`` table, keyed by its identity:

* a DSR: its sender, recipient, ``MessageId`` and file number (DDEX DSR Part 8: "the MessageId
  shall be, in combination with the MessageSenderId, globally unique; a MessageSender shall
  never re-use a MessageId");
* a CSV: its records (every value of every row, in order, without the line numbers), so the
  same rows gzipped, with other line ends, a byte-order mark, other quoting or columns in
  another order are the same file;
* a CWR file: its sender, the creation date and time of its HDR and its transactions; and each
  work by its sender and Submitter Work # (a work already registered from that number is not
  registered again, whatever file brings it).

The same report again (gzipped, CRLF, renamed) changes nothing and says which source it matched.
The same identity with other content is refused (a sender never reuses a MessageId). A
**corrected re-delivery** — a DSR from the same sender to the same recipient for the same period,
covering at least every territory/service/commercial model of an earlier one, under a new
``MessageId`` and created later — supersedes the earlier one: its partitions are no longer
read, and a ``usage.superseded`` journal event says old → new, so money is never counted twice
(DSR flat files carry no "this replaces" cell: a new message for the same slices is how a
sender re-delivers). A report that overlaps an earlier one only in part is refused until the
clerk says what to do: ``replaces`` (``--replaces SOURCE``) supersedes named sources explicitly,
which is also how a corrected CSV replaces an earlier one.

**Publication is atomic.** A file is parsed and validated in one streaming pass while its rows
go to a private staging directory; a problem deletes it. A valid file's partitions are then
renamed into the datasets, where no engine reads them yet (the engines read only published
sources, :func:`obra.royalties.datasets.published_sources`), and one transaction writes the
``usage_sources`` row, the ``usage.ingested`` journal event and any supersession: that commit
is the publication. A process killed at any point leaves nothing visible; the next ingest
removes stale staging directories and partitions no row knows (under the ingest lock).
One ingest runs at a time per store (:func:`ingest_lock`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import uuid
from collections import defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Collection, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import insert, select, update

from obra import money
from obra.access import Principal, require
from obra.canonical import sha256_hex
from obra.errors import Conflict, InvalidInput, NotFound, Problem
from obra.journal import Journal
from obra.royalties.datasets import known_sources, partition
from obra.royalties.formats import cwr, usage_csv
from obra.royalties.records import MATCHES_SCHEMA, POOLS_SCHEMA, REVENUE_TYPE, USAGE_SCHEMA, PoolRow, UsageLine
from obra.store.schema import registrations, usage_sources, work_identifiers

BATCH_ROWS = 200_000
_REVENUE_QUANTUM = Decimal(1).scaleb(-REVENUE_TYPE.scale)
DATASETS = ("usage", "pools", "matches")
#: Test hook: ``OBRA_TEST_KILL_AT=step[:n]`` kills the ingesting process with SIGKILL at that step
#: (``staged``; ``publish:n`` after the n-th partition is renamed into place; ``published``;
#: ``committed``), so the tests can prove that a killed ingest leaves nothing visible.
KILL_ENV = "OBRA_TEST_KILL_AT"


def _kill_point(step: str, n: int | None = None) -> None:
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    name, _, count = spec.partition(":")
    if name == step and (not count or (n is not None and int(count) == n)):
        os.kill(os.getpid(), signal.SIGKILL)


def file_digest(path: Path) -> str:
    """The file's sha256 (hex), as it arrived: recorded, and the first 16 digits are its ``source``."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- the record of sources
def _entry(row: Any) -> dict:
    row = dict(row._mapping if hasattr(row, "_mapping") else row)
    return {"source": row["source"], "kind": row["kind"], "file": row["file"], "sha256": row["sha256"],
            "identity": row["identity"], "content_hash": row["content_hash"], "scope": row["scope"],
            "periods": row["periods"], "counts": row["counts"], **row["summary"], "status": row["status"],
            "superseded_by": row["superseded_by"], "journal_event": row["journal_id"], "by": row["created_by"],
            "at": row["created_at"].isoformat(timespec="seconds") if row["created_at"] else None, "id": row["id"]}


def sources(store, kind: str | None = None, status: str | None = None) -> list[dict]:
    """Every accepted file (oldest first): what it is, what it holds, published or superseded."""
    t = usage_sources
    stmt = select(t).order_by(t.c.id)
    if kind:
        stmt = stmt.where(t.c.kind == kind)
    if status:
        stmt = stmt.where(t.c.status == status)
    with store.connect() as conn:
        return [_entry(r) for r in conn.execute(stmt)]


def read_manifest(store) -> dict[str, dict]:
    """source → what was ingested from that file (kind, identity, periods, counts, status, by whom,
    when): the store's ``usage_sources`` rows (the ``ingest-manifest.json`` of earlier versions)."""
    return {e["source"]: e for e in sources(store)}


def _find(conn, **where: Any) -> Any:
    t = usage_sources
    stmt = select(t)
    for name, value in where.items():
        stmt = stmt.where(t.c[name] == value)
    return conn.execute(stmt.order_by(t.c.id).limit(1)).first()


def _already(row: Any, path: Path, why: str) -> dict:
    entry = _entry(row)
    matched = {k: entry[k] for k in ("source", "file", "identity", "status", "superseded_by", "at")}
    return {**entry, "file": path.name, "status": "already ingested", "changed": False,
            "matched": {**matched, "because": why}}


def _identity_hash(identity: dict) -> str:
    return sha256_hex(identity)


# --------------------------------------------------------------------------- staging, and what was staged
def _column_bytes(column: pa.ChunkedArray | pa.Array, first_row: int) -> tuple[bytes, list[bytes | memoryview]]:
    """A column's values as bytes that depend on the values only, not on how the rows were chunked:
    (the row numbers of its nulls, counted from ``first_row``; its values, nulls as empty or 0)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    nulls = b""
    if arr.null_count:
        is_null = np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), bool)
        nulls = (np.flatnonzero(is_null) + first_row).astype(np.int64).tobytes()
    t = arr.type
    out: list[bytes | memoryview] = []
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
        filled = pc.fill_null(arr, "") if arr.null_count else arr
        bufs = filled.buffers()
        width = np.int64 if pa.types.is_large_string(t) else np.int32
        offsets = np.frombuffer(bufs[1], width)[filled.offset:filled.offset + len(filled) + 1]
        out.append(np.diff(offsets).astype(np.int32).tobytes())
        if len(filled) and bufs[2] is not None:
            out.append(memoryview(bufs[2])[int(offsets[0]):int(offsets[-1])])
    else:
        zero = pa.scalar(Decimal(0), t) if pa.types.is_decimal(t) else pa.scalar(0, t)
        filled = pc.fill_null(arr, zero) if arr.null_count else arr
        width = t.bit_width // 8
        buf = filled.buffers()[1]
        out.append(memoryview(buf)[filled.offset * width:(filled.offset + len(filled)) * width])
    return nulls, out


class _ContentHash:
    """The hash of what a file holds: every value of every staged row, per dataset, period and
    column, in file order, without ``source`` and ``line`` (so the same records in another
    encoding, line ending, quoting or column order hash the same).

    The hashing runs on a worker thread while the reader parses the next block (hashlib and
    Arrow's kernels release the GIL), and so does what is done with a block once it is hashed
    (``then``: writing it to Parquet, which releases the GIL too); at most a few blocks wait."""

    PENDING = 4

    def __init__(self) -> None:
        self.columns: dict[tuple[str, str, str], Any] = {}
        self.rows: dict[tuple[str, str], int] = defaultdict(int)
        self.hashed: dict[tuple[str, str], int] = {}        # rows hashed so far (on the worker)
        self.pool: ThreadPoolExecutor | None = None
        self.pending: deque[Future] = deque()

    def add(self, dataset: str, period: str, table: pa.Table,
            then: Callable[[pa.Table], None] | None = None) -> None:
        self.rows[(dataset, period)] += table.num_rows
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-hash")
        while len(self.pending) >= self.PENDING:
            self.pending.popleft().result()
        self.pending.append(self.pool.submit(self._add, dataset, period, table, then))

    def _add(self, dataset: str, period: str, table: pa.Table,
             then: Callable[[pa.Table], None] | None = None) -> None:
        first_row = self.hashed.get((dataset, period), 0)
        self.hashed[(dataset, period)] = first_row + table.num_rows
        for name in table.column_names:
            if name in ("source", "line"):
                continue
            nulls, values = _column_bytes(table.column(name), first_row)
            h = self.columns.setdefault((dataset, period, name), hashlib.sha256())
            for part in values:
                h.update(part)
            if nulls:
                self.columns.setdefault((dataset, period, name + "\x1fnulls"), hashlib.sha256()).update(nulls)
        if then is not None:
            then(table)

    def close(self) -> None:
        while self.pending:
            self.pending.popleft().result()
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def hexdigest(self) -> str:
        self.close()
        top = hashlib.sha256()
        for key in sorted(self.columns):
            top.update("\x1f".join(key).encode() + b"\x1e" + self.columns[key].digest())
        top.update(json.dumps(sorted((f"{d}/{p}", n) for (d, p), n in self.rows.items())).encode())
        return top.hexdigest()


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
        self.content = _ContentHash()

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
        """Write a block of rows (already in the dataset's schema) straight to its partition (on the
        hashing worker, in order, while the reader goes on)."""
        self.counts[dataset] += table.num_rows
        self.content.add(dataset, period, table, then=self._writer(dataset, period).write_table)

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
        table = pa.Table.from_pydict(buf, schema=self.schemas[dataset])
        self.content.add(dataset, period, table, then=self._writer(dataset, period).write_table)
        for column in buf.values():
            column.clear()

    def close(self) -> None:
        for dataset, period in list(self.buffers):
            self._flush(dataset, period)
        self.content.close()            # every block written before the files are closed
        for w in self.writers.values():
            w.close()

    def periods(self) -> list[str]:
        return sorted({period for _, period in self.writers})

    def publish(self) -> list[str]:
        """Rename every staged partition into the live datasets (unread until the source is published);
        returns the periods written."""
        for i, (dataset, period) in enumerate(sorted(self.writers), 1):
            staged = partition(self.root / dataset, period, self.source)
            live = partition(getattr(self.store.paths, dataset), period, self.source)
            live.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, live)
            _kill_point("publish", i)
        return self.periods()

    def unpublish(self) -> None:
        """Take back renamed partitions of a source whose publication did not commit."""
        for dataset, period in self.writers:
            shutil.rmtree(partition(getattr(self.store.paths, dataset), period, self.source).parent,
                          ignore_errors=True)

    def adopt(self, other: "_Staging") -> None:
        """Take over another staging area's files (the fast path stages separately)."""
        self.discard()
        self.root, self.writers, self.buffers, self.counts = other.root, other.writers, other.buffers, other.counts
        self.content = other.content

    def discard(self) -> None:
        try:
            self.content.close()
        except Exception:  # noqa: BLE001 - what it was hashing is being thrown away
            pass
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
    """One ingest at a time per store: the identity check, the publication and the cleaning of what
    a killed ingest left happen under an exclusive lock."""
    Path(store.home).mkdir(parents=True, exist_ok=True)
    with open(store.paths.ingest_lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clean_stale(store) -> dict[str, int]:
    """Remove what killed ingests left: staging directories, and partitions of sources no row knows.

    Call only under :func:`ingest_lock` (no ingest is then between its renames and its commit).
    A superseded source's partitions are kept (the record of what was paid); ``matches`` partitions
    of unknown sources go too. Returns how many directories were removed.
    """
    removed = {"staging": 0, "partitions": 0}
    staging = store.paths.staging
    if staging.exists():
        for d in staging.iterdir():
            shutil.rmtree(d, ignore_errors=True) if d.is_dir() else d.unlink(missing_ok=True)
            removed["staging"] += 1
    known = None
    for dataset in DATASETS:
        root = getattr(store.paths, dataset)
        if not root.exists():
            continue
        for source_dir in root.glob("period=*/source=*"):
            if known is None:
                known = known_sources(store)
            if source_dir.name.removeprefix("source=") not in known:
                shutil.rmtree(source_dir, ignore_errors=True)
                removed["partitions"] += 1
                try:
                    source_dir.parent.rmdir()
                except OSError:
                    pass
    return removed


# --------------------------------------------------------------------------- usage: DSR and CSV
def _ingest(store, path: str | Path, principal: Principal, kind: str,
            body: Callable[[_Staging, str], dict], progress: Callable[[int], None] | None = None,
            replaces: Collection[str] = ()) -> dict:
    require(principal, "ingest_usage")
    with ingest_lock(store):
        clean_stale(store)
        return _ingest_locked(store, Path(path), principal, kind, body, list(replaces or ()))


def _ingest_locked(store, path: Path, principal: Principal, kind: str,
                   body: Callable[[_Staging, str], dict], replaces: list[str]) -> dict:
    if not path.is_file():
        raise InvalidInput(Problem(f"no such file: {path.name}", field="path", source=path.name))
    digest = file_digest(path)
    with store.connect() as conn:
        same_bytes = _find(conn, sha256=digest)
    if same_bytes is not None and not replaces:
        return _already(same_bytes, path, "the same bytes")
    source = digest[:16]
    staging = _Staging(store, source)
    published = False
    try:
        summary = body(staging, source)
        staging.close()
        content_hash = staging.content.hexdigest()
        identity, scope = summary.pop("identity"), summary.pop("scope")
        if identity is None:
            identity = {"kind": kind, "content": content_hash}
        identity_hash = _identity_hash(identity)
        with store.connect() as conn:
            existing = _find(conn, identity_hash=identity_hash)
            if existing is not None:
                if existing.content_hash != content_hash:
                    raise _same_identity_other_content(path, kind, identity, existing)
                staging.discard()
                return _already(existing, path, _why(kind))
            legacy = _legacy_match(conn, kind, scope)
            if legacy is not None:
                staging.discard()
                return _already(legacy, path, "the same MessageId and period as a report ingested before "
                                              "reports were known by sender and recipient")
            supersede = _to_supersede(conn, kind, scope, replaces, path)
        _kill_point("staged")
        periods = staging.publish()
        published = True
        _kill_point("published")
        entry = {"file": path.name, "sha256": digest, "source": source, "kind": kind, "identity": identity,
                 "content_hash": content_hash, "periods": periods, "counts": dict(staging.counts),
                 "supersedes": [r.source for r, _ in supersede], **summary}
        now = datetime.now(timezone.utc)
        journal = Journal(store)
        with store.begin() as conn:
            event = journal.record(conn, "usage.ingested", f"source/{source}", entry, principal.name)
            new_id = conn.execute(insert(usage_sources).values(
                source=source, kind=kind, identity_hash=identity_hash, identity=identity,
                content_hash=content_hash, sha256=digest, file=path.name[:255], scope=scope, periods=periods,
                counts=entry["counts"], summary=summary, status="published", journal_id=event.id,
                created_by=principal.name, created_at=now)).inserted_primary_key[0]
            for old, reason in supersede:
                conn.execute(update(usage_sources).where(usage_sources.c.id == old.id)
                             .values(status="superseded", superseded_by=new_id))
                journal.record(conn, "usage.superseded", f"source/{old.source}",
                               {"source": old.source, "superseded_by": source, "reason": reason,
                                "identity": old.identity, "by_identity": identity,
                                "periods": old.periods}, principal.name)
        _kill_point("committed")
    except BaseException:
        if published:     # renamed into place, never committed: unread; take them back now
            staging.unpublish()
        staging.discard()
        raise
    staging.discard()
    return {**entry, "by": principal.name, "at": now.isoformat(timespec="seconds"), "status": "ingested",
            "changed": True, "journal_event": event.id}


def _legacy_match(conn, kind: str, scope: dict) -> Any:
    """A DSR taken over from an ``ingest-manifest.json`` with this MessageId and period, if any."""
    if kind != "dsr":
        return None
    t = usage_sources
    for row in conn.execute(select(t).where(t.c.kind == "dsr", t.c.content_hash == t.c.sha256)):
        if row.scope.get("legacy") and row.scope.get("message_id") == scope["message_id"] \
                and row.scope.get("period") == scope["period"]:
            return row
    return None


def _why(kind: str) -> str:
    return {"dsr": "the same sender, recipient, MessageId and file number, with the same content",
            "csv": "the same records"}.get(kind, "the same file")


def _same_identity_other_content(path: Path, kind: str, identity: dict, existing: Any) -> Conflict:
    if kind == "dsr":
        return Conflict(f"{path.name}: DSR MessageId {identity['message_id']!r} (file {identity['file_number']}) from "
                        f"{identity['sender']!r} was already ingested from {existing.file} (source "
                        f"{existing.source}) with other content; a sender never reuses a MessageId (DDEX DSR "
                        "Part 8, HEAD)",
                        hint="a corrected report needs a new MessageId from its sender; it then supersedes "
                             "the earlier one")
    return Conflict(f"{path.name}: the same file as {existing.file} (source {existing.source}) with other content",
                    hint="send the corrected file with --replaces " + existing.source)


def _created(scope: dict) -> datetime | None:
    text = (scope.get("created") or "").strip()
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _to_supersede(conn, kind: str, scope: dict, replaces: list[str], path: Path) -> list[tuple[Any, str]]:
    """The published sources this file supersedes, and why; refuses what would count money twice."""
    t = usage_sources
    out: list[tuple[Any, str]] = []
    for source in replaces:
        row = _find(conn, source=source)
        if row is None or row.kind == "cwr":
            raise NotFound(f"--replaces {source}: no usage source {source!r}", hint="`obra ingest list` shows them")
        if row.status != "published":
            raise Conflict(f"--replaces {source}: {row.file} (source {source}) is already superseded")
        out.append((row, "replaces"))
    if kind != "dsr":
        return out
    named = {r.source for r, _ in out}
    new_slices = {tuple(s) for s in scope["slices"]}
    rows = conn.execute(select(t).where(t.c.kind == "dsr", t.c.status == "published")).all()
    for row in rows:
        old = row.scope
        if row.source in named or (old.get("sender"), old.get("recipient"), old.get("period")) != \
                (scope["sender"], scope["recipient"], scope["period"]) or old.get("message_id") == scope["message_id"]:
            continue
        old_slices = {tuple(s) for s in old.get("slices", [])}
        if old_slices <= new_slices:
            new_at, old_at = _created(scope), _created(old)
            if new_at is not None and old_at is not None and new_at < old_at:
                raise Conflict(
                    f"{path.name}: MessageId {scope['message_id']!r} was created {scope['created']}, before "
                    f"MessageId {old['message_id']!r} ({row.file}, source {row.source}, created {old['created']}) "
                    f"which reports the same {scope['period']}: an older report does not replace a newer one",
                    hint=f"if it really does, ingest it with --replaces {row.source}")
            out.append((row, f"corrected re-delivery: same sender, recipient and period, MessageId "
                             f"{old.get('message_id')} -> {scope['message_id']}"))
        elif old_slices & new_slices:
            overlap = ", ".join("/".join(s) for s in sorted(old_slices & new_slices))
            raise Conflict(
                f"{path.name}: reports {overlap} for {scope['period']}, which {row.file} (source {row.source}, "
                f"MessageId {old.get('message_id')}) already reports, but not all that one reports: ingesting it "
                "would count that money twice",
                hint=f"ingest it with --replaces {row.source} if it replaces that report, or ask the sender for "
                     "a complete corrected report")
    return out


def ingest_dsr(store, path: str | Path, principal: Principal,
               progress: Callable[[int], None] | None = None, replaces: Collection[str] = (),
               footer_policy: str = "refuse") -> dict:
    """Ingest a DDEX DSR flat file (optionally gzipped): usage lines and the pools of its summaries.

    The usage lines arrive as Arrow tables from the vectorised reader (``dsr_fast``), which
    validates exactly as the row-by-row reference does, and go to Parquet as they are. The
    report's identity is its HEAD's sender, recipient, MessageId and file number.

    ``footer_policy``: ``"refuse"`` (the default) refuses a file whose FOOT counts disagree with
    it; ``"accept-with-warning"`` takes it and records each disagreement (FOOT field, stated and
    counted values, file and line) as ``footer_warnings`` in the result, the ``usage.ingested``
    journal event and the source's summary. Anything else wrong with the file still refuses it.
    The policy is not part of the report's identity: the same report under another policy is the
    same source.
    """
    from obra.royalties.formats import dsr_fast
    from obra.royalties.formats.dsr_reference import check_footer_policy

    require(principal, "ingest_usage")
    check_footer_policy(footer_policy)

    def body(staging: _Staging, source: str) -> dict:
        slices: set[tuple[str, str, str]] = set()

        def usage(table: pa.Table) -> None:
            table = dsr_fast.to_usage_contract(table, source, USAGE_SCHEMA)
            keys = table.group_by(["territory", "service", "commercial_model"]).aggregate([])
            slices.update(zip(*(keys.column(c).to_pylist() for c in ("territory", "service", "commercial_model"))))
            periods = pc.unique(table["period"]).to_pylist()
            for period in periods:         # a DSR reports one period: the block goes as it is
                staging.add_table("usage", period, table if len(periods) == 1 else
                                  table.filter(pc.equal(table["period"], period)))

        report = dsr_fast.read_dsr_tables(path, on_table=usage, progress=progress, footer_policy=footer_policy)
        pools: dict[tuple, Decimal] = defaultdict(Decimal)
        for p in report.pools:
            pools[(p.period, p.territory, p.service, p.commercial_model, p.currency)] += p.net_revenue
            slices.add((p.territory, p.service, p.commercial_model))
        for (period, territory, service, model, currency), total in sorted(pools.items()):
            staging.add("pools", period, {"source": source, "period": period, "territory": territory,
                                          "service": service, "commercial_model": model, "user_id": None,
                                          "currency": currency,
                                          "amount_minor": money.round_to_minor(total, currency)})
        head = report.head
        sender = head.get("SenderPartyId") or head.get("SenderName") or ""
        recipient = head.get("RecipientPartyId") or head.get("RecipientName") or ""
        message_id, file_number = head.get("MessageId") or "", head.get("FileNumber") or "1"
        return {"period": report.period, "lines": report.lines, "summaries": report.summaries,
                "blocks": report.blocks, "usage_lines": report.usage_lines, "message_id": message_id,
                "footer_policy": footer_policy, "footer_warnings": [w.as_dict() for w in report.footer_warnings],
                "identity": {"kind": "dsr", "sender": sender, "recipient": recipient, "message_id": message_id,
                             "file_number": file_number},
                "scope": {"sender": sender, "recipient": recipient, "message_id": message_id,
                          "file_number": file_number, "files": head.get("NumberOfFiles") or "1",
                          "created": head.get("MessageCreatedDateTime") or "", "period": report.period,
                          "slices": sorted([list(s) for s in slices])}}

    return _ingest(store, path, principal, "dsr", body, progress, replaces)


def ingest_usage_csv(store, path: str | Path, principal: Principal,
                     progress: Callable[[int], None] | None = None, replaces: Collection[str] = ()) -> dict:
    """Ingest an Obra usage CSV or pools CSV (see :mod:`obra.royalties.formats.usage_csv`).

    A valid file (usage or pools) goes through the vectorised Arrow reader; a file it
    cannot vouch for is read again row by row, which names every problem (see ``usage_csv``).
    The file's identity is its records (:class:`_ContentHash`). ``replaces`` names earlier
    sources this file corrects: they are superseded when it is published.
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
        if done is None:
            fast.discard()

            def pool(p: PoolRow) -> None:
                staging.add("pools", p.period, {"source": source, "period": p.period, "territory": p.territory,
                                                "service": p.service, "commercial_model": p.commercial_model,
                                                "user_id": p.user_id, "currency": p.currency,
                                                "amount_minor": p.amount_minor})

            done = usage_csv.read_csv(path, on_usage=lambda u: staging.add("usage", u.period, _usage_row(source, u)),
                                      on_pool=pool, progress=progress)
        else:
            staging.adopt(fast)
        return {"contents": done["kind"], "rows": done["rows"], "identity": None, "scope": {}}

    return _ingest(store, path, principal, "csv", body, progress, replaces)


# --------------------------------------------------------------------------- repertoire: CWR
def ingest_cwr(store, path: str | Path, principal: Principal) -> dict:
    """Import a CWR file's parties and works into the registry, all or nothing, once per file and once
    per work (a work already registered from its sender's Submitter Work # is not registered again)."""
    require(principal, "import")
    with ingest_lock(store):
        clean_stale(store)
        return _ingest_cwr_locked(store, Path(path), principal)


def _registered_numbers(store, scheme: str, numbers: list[str]) -> set[str]:
    """Which of a sender's Submitter Work #s already name a current, not withdrawn, registration."""
    r, w = registrations, work_identifiers
    found: set[str] = set()
    with store.connect() as conn:
        for i in range(0, len(numbers), 500):
            stmt = (select(w.c.value).join(r, w.c.registration_id == r.c.id)
                    .where(w.c.scheme == scheme, w.c.value.in_(numbers[i:i + 500]), r.c.is_current,
                           r.c.status != "withdrawn"))
            found.update(conn.execute(stmt).scalars())
    return found


def _ingest_cwr_locked(store, path: Path, principal: Principal) -> dict:
    if not path.is_file():
        raise InvalidInput(Problem(f"no such file: {path.name}", field="path", source=path.name))
    digest = file_digest(path)
    with store.connect() as conn:
        same_bytes = _find(conn, sha256=digest)
    if same_bytes is not None:
        return _already(same_bytes, path, "the same bytes")
    parsed = cwr.parse_cwr(path)
    sender = parsed.sender
    content_hash = sha256_hex({"parties": [p.model_dump(mode="json") for p in parsed.parties],
                               "works": [w.model_dump(mode="json") for w in parsed.works],
                               "kinds": parsed.work_kinds})
    # the HDR names the file; its transactions are what it says (a sender may correct a file
    # without a new HDR stamp: then it is another file, and each of its works is checked below)
    identity = {"kind": "cwr", "sender_type": sender.get("Sender Type") or "", "sender": cwr.sender_of(parsed),
                "created": (sender.get("Creation Date") or "") + "T" + (sender.get("Creation Time") or ""),
                "transmitted": sender.get("Transmission Date") or "", "content": content_hash}
    identity_hash = _identity_hash(identity)
    with store.connect() as conn:
        existing = _find(conn, identity_hash=identity_hash)
    if existing is not None:
        return _already(existing, path, "the same sender, HDR creation date and time, and transactions")
    # each work once: an NWR whose Submitter Work # this sender already registered is not registered again
    scheme = f"cwr:{cwr.sender_of(parsed)}"
    numbers = {i: next((x.value for x in w.identifiers if x.scheme == scheme), None)
               for i, w in enumerate(parsed.works)}
    known = _registered_numbers(store, scheme, sorted({n for n in numbers.values() if n}))
    keep = [i for i, w in enumerate(parsed.works) if parsed.work_kinds[i] == "REV" or numbers[i] not in known]
    skipped = sorted(numbers[i] for i in range(len(parsed.works)) if i not in set(keep))
    locations = {("works", j): parsed.work_lines[i] for j, i in enumerate(keep)}
    locations.update({("parties", i): line for i, line in enumerate(parsed.party_lines)})
    from obra.registry.batch import import_records

    created = import_records(store, principal, parties=parsed.parties, works=[parsed.works[i] for i in keep],
                             recordings=(), source=path.name, locations=locations,
                             revisions={j for j, i in enumerate(keep) if parsed.work_kinds[i] == "REV"})
    source = digest[:16]
    summary = {"version": parsed.version, "transactions": parsed.transactions,
               "works": created.get("works", []), "revised": created.get("revised", []),
               "already_registered": skipped, "parties": len(created.get("parties", [])),
               "known_parties": len(created.get("known_parties", []))}
    entry = {"file": path.name, "sha256": digest, "source": source, "kind": "cwr", "identity": identity,
             "content_hash": content_hash, **summary}
    now = datetime.now(timezone.utc)
    # the registrations and the batch are journal events already (registration.*, repertoire.imported)
    with store.begin() as conn:
        event = Journal(store).record(conn, "repertoire.ingested", f"source/{source}",
                                      {**entry, "works": len(summary["works"]), "revised": len(summary["revised"])},
                                      principal.name)
        conn.execute(insert(usage_sources).values(
            source=source, kind="cwr", identity_hash=identity_hash, identity=identity, content_hash=content_hash,
            sha256=digest, file=path.name[:255], scope={"sender": identity["sender"]}, periods=[], counts={},
            summary=summary, status="published", journal_id=event.id, created_by=principal.name, created_at=now))
    return {**entry, "by": principal.name, "at": now.isoformat(timespec="seconds"), "status": "ingested",
            "changed": True, "journal_event": event.id}
