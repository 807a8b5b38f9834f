"""Exact near-duplicate search over 64-bit ISCC bodies: multi-index hashing as equi-joins.

Two ISCC units of the same kind are near duplicates when the Hamming distance between
their 64-bit bodies is at most a radius (8 by default: a re-encoded image, a resampled
recording). "Possible prior work" warnings must not miss a registered work within the
radius, so the search is exact, with no approximate index:

**Pigeonhole.** Cut the 64 bits into ``m`` blocks and give block ``i`` a tolerance
``t_i`` with ``sum(t_i + 1) >= radius + 1``. If two codes differ in at most ``radius``
bits, some block differs in at most ``t_i`` bits: otherwise the distance would be at
least ``sum(t_i + 1) > radius``. So every match is found by looking up, for some block,
the block value of the query with at most ``t_i`` of its bits flipped: an equality join.
Every candidate is then verified by an exact popcount of the full 64-bit XOR, so the
result is exactly the set of pairs within the radius, no more and no fewer.

* In the **store** (:class:`ContentIndex`), codes live in a SQL table with ``m = 9``
  blocks of 7 or 8 bits, each an indexed column: for radius 8 every tolerance is 0, so a
  lookup is nine indexed equalities (the SQL works the same on SQLite and PostgreSQL).
* In **bulk** (:func:`near_duplicates`, a million codes against a million), 7-bit blocks
  would yield too many candidates, so it uses ``m = 3`` blocks of 21-22 bits with
  tolerance 2 each (232 or 254 flipped keys per query and block). Each block's indexed
  side is a direct-address table over the block's values (a lookup is one gather, the first
  code inline); the queries are sorted by block value and probed a few hundred at a time
  with every flip, so consecutive lookups land close together in memory; NumPy does the
  work in vectorised steps, on every core. A pair found in one block is kept only if no
  earlier block also finds it, so no pair is reported twice.
"""

from __future__ import annotations

import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
from sqlalchemy import (BigInteger, Column, Connection, Index, Integer, SmallInteger, String, Table,
                        and_, func, or_, select)

from obra.errors import InvalidInput, Problem
from obra.identify.iscc import ContentCodes, Unit, parse_code
from obra.store.schema import metadata, registrations

__all__ = [
    "Block", "ContentIndex", "Match", "block_tables", "blocks_for", "flips", "hamming", "near_duplicates",
    "content_codes", "content_files", "file_sha256s", "near_duplicate_arrays", "STORE_BLOCKS", "MAX_RADIUS",
]

BITS = 64
#: Blocks of the SQL index: radius + 1 = 9, so radius 8 needs no flipped lookups.
STORE_BLOCKS = 9
#: Largest radius accepted: beyond a quarter of the bits, "near" stops meaning "similar".
MAX_RADIUS = 16
DEFAULT_RADIUS = 8


@dataclass(frozen=True)
class Block:
    """Bits ``[shift, shift + width)`` of a 64-bit body, matched within ``tolerance`` flips."""

    shift: int
    width: int
    tolerance: int

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1

    def of(self, body: int) -> int:
        return (body >> self.shift) & self.mask


def check_radius(radius: int) -> int:
    if isinstance(radius, bool) or not isinstance(radius, int) or not 0 <= radius <= MAX_RADIUS:
        raise InvalidInput(Problem(f"radius must be a whole number from 0 to {MAX_RADIUS} bits, "
                                   f"got {radius!r}", field="radius"))
    return radius


def blocks_for(radius: int, count: int) -> tuple[Block, ...]:
    """Cut 64 bits into ``count`` blocks and give tolerances so the pigeonhole argument holds.

    Blocks whose tolerance would be negative are left out (for a small radius, fewer
    blocks suffice). The wider blocks get the larger tolerances.
    """
    if not 1 <= count <= BITS:
        raise ValueError("count must be between 1 and 64")
    widths = [BITS // count + (1 if i < BITS % count else 0) for i in range(count)]
    shifts = [sum(widths[i + 1:]) for i in range(count)]  # block 0 holds the top bits
    need = radius + 1
    base, extra = divmod(need, count)
    order = sorted(range(count), key=lambda i: -widths[i])
    budget = {i: base + (1 if rank < extra else 0) for rank, i in enumerate(order)}
    blocks = tuple(Block(shifts[i], widths[i], budget[i] - 1) for i in range(count) if budget[i] > 0)
    assert sum(b.tolerance + 1 for b in blocks) >= radius + 1  # the pigeonhole invariant
    return blocks


@lru_cache(maxsize=256)
def flips(width: int, tolerance: int) -> np.ndarray:
    """Every mask of ``width`` bits with at most ``tolerance`` bits set (XOR them into a key)."""
    masks = [sum(1 << p for p in combo)
             for t in range(min(tolerance, width) + 1)
             for combo in itertools.combinations(range(width), t)]
    out = np.array(masks, dtype=np.uint64)
    out.flags.writeable = False
    return out


def hamming(a: int, b: int) -> int:
    """Hamming distance of two 64-bit bodies."""
    return (a ^ b).bit_count()


def _signed(body: int) -> int:
    """A 64-bit body as the signed BIGINT that SQLite and PostgreSQL store."""
    return body - (1 << 64) if body >= 1 << 63 else body


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


# --------------------------------------------------------------------------------------
# Tables (migration 0003_content_codes)
# --------------------------------------------------------------------------------------

content_files = Table(
    "content_files", metadata,
    Column("number", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("iscc", String(120), nullable=False),
    Column("filename", String(300), nullable=False),
    Column("mediatype", String(100), nullable=False),
    Column("mode", String(16)),
    Column("datahash", String(80), nullable=False),
    Column("filesize", BigInteger, nullable=False),
    Column("sha256", String(64), index=True),   # migration 0015: what crawl manifests name files by
)

content_codes = Table(
    "content_codes", metadata,
    Column("number", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("unit", String(24), primary_key=True),
    Column("code", String(80), nullable=False),
    Column("body", BigInteger, nullable=False),
    *[Column(f"b{i}", SmallInteger, nullable=False) for i in range(STORE_BLOCKS)],
)
for _i in range(STORE_BLOCKS):
    Index(f"ix_content_codes_unit_b{_i}", content_codes.c.unit, content_codes.c[f"b{_i}"])
Index("ix_content_codes_number", content_codes.c.number)

_STORE_LAYOUT = blocks_for(STORE_BLOCKS - 1, STORE_BLOCKS)  # tolerance 0 everywhere: the layout


@dataclass(frozen=True)
class Match:
    """A registered unit within the radius: which registration, which unit, how far, its code."""

    number: str
    unit: str
    distance: int
    code: str
    version: int

    def to_dict(self) -> dict:
        return asdict(self)


def _units_of(query: ContentCodes | str | Unit | Iterable[str | Unit]) -> list[Unit]:
    if isinstance(query, ContentCodes):
        return query.units()
    if isinstance(query, Unit):
        return [query]
    if isinstance(query, str):
        return parse_code(query)
    units: list[Unit] = []
    for item in query:
        units.extend([item] if isinstance(item, Unit) else parse_code(item))
    return units


class ContentIndex:
    """The registered content codes of a store, searchable by Hamming distance.

    ``add`` writes inside the caller's transaction (the registration's), so codes and
    registration commit together or not at all. ``near`` reads the newest version of each
    registration that is not withdrawn.
    """

    def __init__(self, store):
        self.store = store

    def add(self, conn: Connection, number: str, version: int, codes: ContentCodes) -> None:
        """Record the codes of one registration version. Re-adding the same codes changes nothing."""
        existing = conn.execute(select(content_files.c.iscc).where(
            content_files.c.number == number, content_files.c.version == version)).scalar()
        if existing is not None:
            if existing != codes.iscc:
                raise InvalidInput(Problem(
                    f"{number} version {version} already has content code {existing}; a new file "
                    "needs a new version (a correction)", field="file"))
            return
        conn.execute(content_files.insert().values(
            number=number, version=version, iscc=codes.iscc, filename=codes.filename[:300],
            mediatype=codes.mediatype[:100], mode=codes.mode, datahash=codes.datahash,
            filesize=codes.filesize, sha256=codes.sha256))
        rows = []
        for unit in codes.units():
            row = {"number": number, "version": version, "unit": unit.kind, "code": unit.code,
                   "body": _signed(unit.body)}
            row.update({f"b{i}": blk.of(unit.body) for i, blk in enumerate(_STORE_LAYOUT)})
            rows.append(row)
        conn.execute(content_codes.insert(), rows)

    def register(self, conn: Connection, number: str, version: int, codes: ContentCodes,
                 radius: int = DEFAULT_RADIUS) -> list[Match]:
        """Record a registration's codes and return the possible prior work they resemble.

        Call it inside the registration's transaction, once the number is known. The
        search runs before the codes are added and leaves out the registration itself (its
        earlier versions too) and the Meta-Code (titles are not content; two works named
        "Untitled" are not near duplicates). The matches are warnings for a person to
        look at, never a refusal.
        """
        kinds = [u.kind for u in codes.units() if u.kind != "meta"]
        matches = self.near(codes, radius, units=kinds, exclude=number, conn=conn)
        self.add(conn, number, version, codes)
        return matches

    def files(self, number: str, conn: Connection | None = None) -> list[dict]:
        """The identified files of a registration, every version, oldest first."""
        query = select(content_files).where(content_files.c.number == number).order_by(content_files.c.version)
        if conn is not None:
            return [dict(r._mapping) for r in conn.execute(query)]
        with self.store.connect() as c:
            return [dict(r._mapping) for r in c.execute(query)]

    def near(self, code_or_codes: ContentCodes | str | Unit | Iterable[str | Unit],
             radius: int = DEFAULT_RADIUS, *, units: Sequence[str] | None = None,
             exclude: str | None = None, conn: Connection | None = None) -> list[Match]:
        """Registered units of the same kind within ``radius`` bits of the query, nearest first.

        ``code_or_codes`` is the :class:`ContentCodes` of a file, an ISCC-CODE or unit as
        text, or several. ``units`` limits the kinds compared (e.g. ``["content-image"]``);
        ``exclude`` leaves out one registration number (the one being registered). Pass
        ``conn`` to see rows written earlier in the same transaction.
        """
        check_radius(radius)
        wanted = _units_of(code_or_codes)
        if units is not None:
            wanted = [u for u in wanted if u.kind in set(units)]
        if conn is None:
            with self.store.connect() as c:
                return self._near(c, wanted, radius, exclude)
        return self._near(conn, wanted, radius, exclude)

    def _near(self, conn: Connection, wanted: list[Unit], radius: int, exclude: str | None) -> list[Match]:
        blocks = blocks_for(radius, STORE_BLOCKS)
        layout = {(b.shift, b.width): i for i, b in enumerate(_STORE_LAYOUT)}
        latest = (select(content_codes.c.number, func.max(content_codes.c.version).label("version"))
                  .group_by(content_codes.c.number).subquery())
        withdrawn = (select(registrations.c.number)
                     .where(registrations.c.is_current.is_(True), registrations.c.status == "withdrawn"))
        found: dict[tuple[str, str], Match] = {}
        for unit in wanted:
            lookups = []
            for blk in blocks:
                col = content_codes.c[f"b{layout[(blk.shift, blk.width)]}"]
                keys = sorted({blk.of(unit.body) ^ int(f) for f in flips(blk.width, blk.tolerance)})
                lookups.append(col == keys[0] if len(keys) == 1 else col.in_(keys))
            query = (select(content_codes.c.number, content_codes.c.version, content_codes.c.unit,
                            content_codes.c.code, content_codes.c.body)
                     .join(latest, and_(latest.c.number == content_codes.c.number,
                                        latest.c.version == content_codes.c.version))
                     .where(content_codes.c.unit == unit.kind, or_(*lookups),
                            content_codes.c.number.not_in(withdrawn)))
            if exclude is not None:
                query = query.where(content_codes.c.number != exclude)
            for row in conn.execute(query):
                distance = hamming(unit.body, _unsigned(row.body))
                if distance <= radius:  # exact verification of every candidate
                    key = (row.number, row.unit)
                    if key not in found or distance < found[key].distance:
                        found[key] = Match(row.number, row.unit, distance, row.code, row.version)
        return sorted(found.values(), key=lambda m: (m.distance, m.number, m.unit))


# --------------------------------------------------------------------------------------
# Bulk: a batch of codes against a batch of codes, in DuckDB
# --------------------------------------------------------------------------------------

def _as_codes(name: str, values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInput(Problem("expected a one-dimensional array of 64-bit codes", field=name))
    if arr.dtype == np.uint64:
        return arr
    if arr.dtype == np.int64:
        return arr.view(np.uint64)
    if arr.size == 0:
        return arr.astype(np.uint64)
    raise InvalidInput(Problem(f"expected uint64 codes, got dtype {arr.dtype}", field=name))


def bulk_blocks(radius: int) -> tuple[Block, ...]:
    """The bulk layout: 3 blocks (tolerance 2 each at radius 8), more for a larger radius."""
    return blocks_for(radius, max(3, math.ceil((radius + 1) / 3)))


def block_tables(indexed, radius: int = DEFAULT_RADIUS, *, threads: int | None = None) -> tuple["_BlockTable", ...]:
    """The indexed side of :func:`near_duplicates` for ``radius``, built ahead (one table per block of
    :func:`bulk_blocks`, on ``threads`` at once): a caller that knows the indexed codes before the
    queries (a registry, before a manifest is read) builds them while it waits for the queries, and
    passes them as ``tables=``. Building them is about a third of a 1M x 1M search."""
    check_radius(radius)
    x = _as_codes("indexed", indexed)
    blocks = bulk_blocks(radius)
    workers = max(1, min(len(blocks), int(threads) if threads is not None else (os.cpu_count() or 1)))
    with ThreadPoolExecutor(workers) as pool:
        return tuple(pool.map(lambda blk: _BlockTable(x, blk), blocks))


def near_duplicates(query_codes, indexed, radius: int = DEFAULT_RADIUS, *, partition_bits: int | None = None,
                    threads: int | None = None, tables: Sequence["_BlockTable"] | None = None):
    """Every pair (query position, indexed position) whose 64-bit codes are within ``radius``.

    Returns a ``pyarrow.Table`` with columns ``query``, ``indexed`` (int64 positions into
    the two arrays) and ``distance`` (Hamming distance), sorted by query then indexed.
    Exact: the same pairs as comparing every query with every indexed code.

    How (per block of :func:`bulk_blocks`): the indexed codes are laid out by their block
    value in a direct-address table (for each of the ``2**width`` values: empty, one code, or
    several, with the first code inline); the queries are sorted by their block value, and
    ``2**partition_bits`` of them at a time (512 by default) are XORed with every flip mask,
    so each lookup is one gather from the table, close to the previous one in memory. Every
    candidate is verified by a popcount of the full 64-bit XOR; a pair some earlier block also
    finds is dropped, so no pair is reported twice. ``threads`` (default: the machine's cores)
    split the sorted queries into ranges searched at once (NumPy releases the GIL). ``tables``: the
    indexed side built ahead by :func:`block_tables` for these ``indexed`` codes and ``radius``.
    """
    import pyarrow as pa

    check_radius(radius)
    q = _as_codes("query_codes", query_codes)
    x = _as_codes("indexed", indexed)
    if q.size == 0 or x.size == 0:
        return pa.table({"query": pa.array([], pa.int64()), "indexed": pa.array([], pa.int64()),
                         "distance": pa.array([], pa.int8())})
    chunk_bits = _CHUNK_BITS if partition_bits is None else max(0, min(int(partition_bits), 16))
    workers = max(1, int(threads) if threads is not None else min(os.cpu_count() or 1, 8))
    blocks = bulk_blocks(radius)
    if tables is not None and (len(tables) != len(blocks) or any(
            t.blk != b or t.codes.size != x.size for t, b in zip(tables, blocks))):
        raise ValueError("tables were built for other indexed codes or another radius")
    step = -(-q.size // workers)
    ranges = [(lo, min(q.size, lo + step)) for lo in range(0, q.size, step)]

    def prepare(i: int) -> tuple[_Search, np.ndarray]:
        blk = blocks[i]
        table = tables[i] if tables is not None else _BlockTable(x, blk)
        values = ((q >> np.uint64(blk.shift)) & np.uint64(blk.mask)).astype(np.intp)
        qorder = np.argsort(values)   # any order of equal values: the pairs are sorted at the end
        return _Search(table, q[qorder], values[qorder], flips(blk.width, blk.tolerance).astype(np.intp),
                       radius, blocks[:i], 1 << chunk_bits), qorder

    found_q: list[np.ndarray] = []
    found_x: list[np.ndarray] = []
    found_d: list[np.ndarray] = []
    with ThreadPoolExecutor(workers) as pool:
        # One block's table at a time (each is ~2**width entries per layer): the next block's is
        # built while this one is searched, so at most two are held.
        upcoming = pool.submit(prepare, 0)
        for i in range(len(blocks)):
            search, qorder = upcoming.result()
            upcoming = pool.submit(prepare, i + 1) if i + 1 < len(blocks) else None
            for qs, xs, ds in pool.map(lambda r: search.run(*r), ranges):
                found_q.append(qorder[qs])
                found_x.append(search.t.order[xs])
                found_d.append(ds)
            del search, qorder
    qa = np.concatenate(found_q).astype(np.int64)
    xa = np.concatenate(found_x).astype(np.int64)
    da = np.concatenate(found_d).astype(np.int8)
    order = np.lexsort((xa, qa))
    return pa.table({"query": qa[order], "indexed": xa[order], "distance": da[order]})


def near_duplicate_arrays(query_codes: np.ndarray, indexed: np.ndarray, radius: int = DEFAULT_RADIUS,
                          threads: int | None = None, tables: Sequence["_BlockTable"] | None = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`near_duplicates` as three NumPy arrays (query, indexed, distance), what
    :class:`obra.identify.near_worker.NearWorker` sends back from its own process."""
    found = near_duplicates(query_codes, indexed, radius, threads=threads, tables=tables)
    return (found["query"].to_numpy(), found["indexed"].to_numpy(), found["distance"].to_numpy())


#: 2**9 queries per lookup step: their flipped keys (F x 512) stay in the processor's cache.
_CHUNK_BITS = 9


class _BlockTable:
    """The indexed codes of one block as a direct-address table over the block's values.

    ``state[v]`` is how many codes have block value ``v``, capped at ``LAYERS + 1``;
    ``layers[j][v]`` is the ``j``-th of them (so nearly every lookup reads one place, and a
    bucket of two to four codes a few more); ``start[v]:start[v + 1]`` locates every code of the bucket in
    ``codes`` (the indexed codes sorted by block value; ``order`` holds their original
    positions), for the rare bucket holding more than ``LAYERS``.
    """

    LAYERS = 4

    def __init__(self, x: np.ndarray, blk: Block):
        self.blk = blk
        size = 1 << blk.width
        values = ((x >> np.uint64(blk.shift)) & np.uint64(blk.mask)).astype(np.intp)
        # Any order within a bucket finds the same pairs: NumPy's default sort (vectorised), five
        # times the stable one on a million 22-bit values.
        self.order = np.argsort(values)
        self.codes = x[self.order]
        values = values[self.order]
        count = np.bincount(values, minlength=size)
        self.start = np.zeros(size + 1, np.intp)
        np.cumsum(count, out=self.start[1:])
        self.state = np.minimum(count, self.LAYERS + 1).astype(np.uint8)
        rank = np.arange(x.size) - self.start.take(values)  # position of each code in its bucket
        self.layers = []
        for j in range(min(self.LAYERS, int(count.max()))):
            at = np.flatnonzero(rank == j)
            layer = np.zeros(size, np.uint64)
            layer[values.take(at)] = self.codes.take(at)
            self.layers.append(layer)


class _Search:
    """The lookups of one block for the sorted queries (one instance shared by the threads)."""

    def __init__(self, table: _BlockTable, codes: np.ndarray, values: np.ndarray, flip_masks: np.ndarray,
                 radius: int, earlier: tuple[Block, ...], chunk: int):
        self.t, self.codes, self.values, self.flips = table, codes, values, flip_masks
        self.radius, self.earlier, self.chunk = radius, earlier, chunk

    def run(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs for sorted queries ``lo:hi``: (sorted query index, sorted indexed index, distance)."""
        t, radius, chunk = self.t, self.radius, self.chunk
        out_q: list[np.ndarray] = []
        out_x: list[np.ndarray] = []
        out_xor: list[np.ndarray] = []
        keys = np.empty((self.flips.size, chunk), np.intp)
        for a in range(lo, hi, chunk):
            b = min(hi, a + chunk)
            n = b - a
            flat = np.bitwise_xor(self.flips[:, None], self.values[None, a:b], out=keys[:, :n]).ravel()
            state = t.state.take(flat)
            where = np.flatnonzero(np.not_equal(state, 0))
            if where.size == 0:
                continue
            key = flat.take(where)
            qi = (where & (n - 1)) if n & (n - 1) == 0 else where % n
            qcode = self.codes[a:b].take(qi)
            count = state.take(where)
            j = 0
            while key.size:  # layer j: the j-th code of every bucket holding more than j
                xor = qcode ^ t.layers[j].take(key)
                ok = np.flatnonzero(_popcount(xor) <= radius)
                if ok.size:
                    out_q.append(qi.take(ok) + a)
                    out_x.append(t.start.take(key.take(ok)) + j)
                    out_xor.append(xor.take(ok))
                j += 1
                more = np.flatnonzero(count > j)
                if j == len(t.layers) and more.size:
                    self._rest(key.take(more), qi.take(more) + a, qcode.take(more), j, out_q, out_x, out_xor)
                    break
                key, qi, qcode, count = key.take(more), qi.take(more), qcode.take(more), count.take(more)
        if not out_q:
            empty = np.zeros(0, np.intp)
            return empty, empty, np.zeros(0, np.int8)
        qs, xs, xors = np.concatenate(out_q), np.concatenate(out_x), np.concatenate(out_xor)
        keep = np.ones(qs.size, bool)
        for e in self.earlier:  # found by an earlier block: reported there
            keep &= _popcount((xors >> np.uint64(e.shift)) & np.uint64(e.mask)) > e.tolerance
        return qs[keep], xs[keep], _popcount(xors[keep]).astype(np.int8)

    def _rest(self, key, qi, qcode, skip, out_q, out_x, out_xor) -> None:
        """Buckets holding more codes than the layers: their codes from ``skip`` on, expanded."""
        t = self.t
        extra = t.start.take(key + 1) - t.start.take(key) - skip
        owner = np.repeat(np.arange(key.size), extra)
        before = np.cumsum(extra) - extra
        pos = np.repeat(t.start.take(key) + skip - before, extra) + np.arange(int(extra.sum()))
        xor = qcode.take(owner) ^ t.codes.take(pos)
        ok = np.flatnonzero(_popcount(xor) <= self.radius)
        if ok.size:
            out_q.append(qi.take(owner.take(ok)))
            out_x.append(pos.take(ok))
            out_xor.append(xor.take(ok))


def _popcount(values: np.ndarray) -> np.ndarray:
    """Bits set in each uint64 (NumPy 2's ``bitwise_count``, else a byte table)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(values)
    table = np.array([bin(i).count("1") for i in range(256)], np.uint8)
    return table[values.view(np.uint8).reshape(-1, 8)].sum(axis=1, dtype=np.uint8)


def file_sha256s(files: Iterable) -> set[tuple[str, str]]:
    """(number, SHA-256) of registered files: the SHA-256 recorded at registration (migration 0015),
    and a datahash that is itself a SHA-256 multihash (``1220…``)."""
    out: set[tuple[str, str]] = set()
    for f in files:
        if getattr(f, "sha256", None):
            out.add((f.number, f.sha256.lower()))
        if isinstance(f.datahash, str) and f.datahash.lower().startswith("1220") and len(f.datahash) == 68:
            out.add((f.number, f.datahash[4:].lower()))
    return out
