"""The data an observatory report reads: one period of a market, on DuckDB or Spark, and its fingerprint.

A :class:`Market` holds Ibis tables on one backend: the period's **usage**, **pools** and
**matches** in the royalty contract (:mod:`obra.royalties.records`), and the **attributes** of the
registered items the report groups by (artist, genre, origin country, year, label type, kind of
work, creation mode). From a store, :func:`load_market` reads only published partitions (what
distribution runs read) and fingerprints them: the SHA-256 of every source file as ingested, of
the matches files, and of the current registrations (which pins the registry's state). The report
carries that fingerprint, so anyone holding the same data can rerun it and get the same figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from obra.canonical import sha256_hex
from obra.errors import InvalidInput, Problem
from obra.ids import ascii_digits

#: The item attributes a report groups by (one row per registered recording or work).
ATTRIBUTES_SCHEMA = pa.schema([("item", pa.string()), ("artist", pa.string()), ("genre", pa.string()),
                               ("origin_country", pa.string()), ("year", pa.int32()), ("label_type", pa.string()),
                               ("kind", pa.string()), ("creation_mode", pa.string())])

_ISRC = re.compile(r"^([A-Z]{2})[A-Z0-9]{3}(\d{2})\d{5}$")


@dataclass
class Market:
    """One period of usage, money and matches on one engine, with what identifies the data."""

    period: str
    engine: str
    con: Any
    usage: Any
    pools: Any
    matches: Any
    attributes: pa.Table | None = None
    fingerprint: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.attributes = complete_attributes(self.attributes)

    @property
    def data_hash(self) -> str:
        """SHA-256 of the fingerprint (canonical JSON): the data the figures came from."""
        return sha256_hex(self.fingerprint)


def complete_attributes(table: pa.Table | None) -> pa.Table | None:
    """``table`` with every column of :data:`ATTRIBUTES_SCHEMA` (missing ones null), in its order."""
    if table is None:
        return None
    columns = []
    for f in ATTRIBUTES_SCHEMA:
        if f.name in table.column_names:
            columns.append(table[f.name].cast(f.type))
        else:
            columns.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(columns, schema=ATTRIBUTES_SCHEMA)


def _year(value: Any) -> int | None:
    if isinstance(value, int) and 1800 < value < 2200:
        return value
    if isinstance(value, str) and len(value) >= 4 and ascii_digits(value[:4]):
        return int(value[:4])
    return None


def item_attributes(repertoire: Any, target: str = "recording", today_year: int = 2100) -> pa.Table:
    """The attributes of the registry's recordings (or works), read from their records.

    Origin is the record's ``country`` or ``origin`` or else the ISRC's country code; the year is
    the record's ``year``/``release_year``/``release_date`` or else the ISRC's year of reference;
    genre and kind fall back to the first embodied work's.
    """
    rows = []
    items = repertoire.recordings if target == "recording" else repertoire.works
    for number, item in sorted(items.items()):
        record = item.record if isinstance(item.record, dict) else {}
        body = record.get(item.entity, record) if isinstance(record.get(item.entity, record), dict) else {}
        work_body: dict = {}
        if item.works:
            work = repertoire.works.get(item.works[0])
            if work is not None and isinstance(work.record, dict):
                work_body = work.record.get("work", work.record) or {}
        isrc = _ISRC.match((item.isrc or "").replace("-", "").upper())
        year = _year(body.get("year")) or _year(body.get("release_year")) or _year(body.get("release_date"))
        if year is None and isrc:
            yy = int(isrc.group(2))
            year = 2000 + yy if 2000 + yy <= today_year else 1900 + yy
        origin = body.get("country") or body.get("origin")
        if origin is None and isrc and isrc.group(1) not in ("QM", "QZ", "ZZ"):   # prefixes not of a country
            origin = isrc.group(1)
        kind = body.get("kind") if item.entity == "work" else (work_body.get("kind") or "musical")
        rows.append({"item": number, "artist": body.get("artist") or item.title,
                     "genre": body.get("genre") or work_body.get("genre"),
                     "origin_country": origin, "year": year, "label_type": body.get("label_type"),
                     "kind": kind, "creation_mode": item.creation_mode})
    return pa.Table.from_pylist(rows, schema=ATTRIBUTES_SCHEMA)


def fingerprint(store: Any, period: str) -> dict:
    """What identifies a period's data in a store: its published sources with their hashes, the
    matches files' hashes, and the hash of every current registration's number, version and record
    hash (the registry's state the attributes came from)."""
    from obra.royalties.datasets import matches_dataset, partitions, published_sources
    from obra.store.schema import registrations, usage_sources
    from obra.transparency.translog import TransparencyLog

    published = published_sources(store)
    with store.connect() as conn:
        rows = conn.execute(select(usage_sources.c.source, usage_sources.c.sha256, usage_sources.c.kind,
                                   usage_sources.c.periods)
                            .where(usage_sources.c.source.in_(sorted(published)))).all()
    sources = [{"source": r.source, "sha256": r.sha256, "kind": r.kind} for r in rows if period in (r.periods or [])]
    import hashlib

    match_files = []
    for _, source, path in partitions(matches_dataset(store), period, sources=published):
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(8 << 20):
                h.update(chunk)
        match_files.append({"source": source, "sha256": h.hexdigest()})
    r = registrations
    with store.connect() as conn:
        current = conn.execute(select(r.c.number, r.c.version, r.c.record_hash).where(r.c.is_current)
                               .order_by(r.c.number)).all()
    return {"period": period, "sources": sorted(sources, key=lambda s: s["source"]), "matches": match_files,
            "registry": {"office": TransparencyLog(store).office, "registrations": len(current),
                         "registrations_hash": sha256_hex([[n, v, h] for n, v, h in current])}}


def load_market(store: Any, period: str, engine: str = "duckdb", spark_master: str | None = None,
                session: Any = None, target: str = "recording") -> Market:
    """The period's market from a store (published partitions only), with attributes and fingerprint."""
    from obra.royalties import engine as engines
    from obra.royalties.datasets import periods as usage_periods
    from obra.royalties.pipeline import load_period

    known = usage_periods(store)
    if period not in known:
        raise InvalidInput(Problem(f"no usage for period {period}; periods with usage: "
                                   f"{', '.join(known) or 'none (ingest a usage report first)'}", field="period"))
    con = engines.connect(engine, spark_master, session=session) if engine == "spark" or session is None \
        else engines.connect(engine)
    repertoire = store.repertoire()
    usage, pools, matches = load_period(store, con, period, repertoire)
    return Market(period, engine, con, usage, pools, matches, item_attributes(repertoire, target),
                  fingerprint(store, period))


def market_from_tables(period: str, usage: pa.Table, pools: pa.Table, matches: pa.Table | None = None,
                       attributes: pa.Table | None = None, engine: str = "duckdb", con: Any = None) -> Market:
    """A market from Arrow tables (tests, benchmarks, a researcher's own data), fingerprinted by content."""
    import hashlib

    from obra.royalties import engine as engines

    con = con or engines.connect(engine)

    def digest(t: pa.Table | None) -> str | None:
        if t is None:
            return None
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, t.schema) as w:
            w.write_table(t)
        return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()

    fp = {"period": period, "tables": {"usage": digest(usage), "pools": digest(pools), "matches": digest(matches),
                                       "attributes": digest(attributes)}}
    return Market(period, engine, con, engines.table(con, usage), engines.table(con, pools),
                  engines.table(con, matches) if matches is not None else None, attributes, fp)
