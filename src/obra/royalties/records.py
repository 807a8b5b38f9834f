"""The royalty data contract: every record one stage hands the next, declared once, here.

The stages (see :mod:`obra.royalties`) talk to each other only through these records, so a
reader of a new report format, a new distribution model or another engine needs to know
this module and nothing else:

* a **usage line** — one reported use count of one track in one slice of a service
  (:class:`UsageLine` as the readers yield it; :data:`USAGE_SCHEMA` as the ``usage``
  dataset stores it);
* a **pool** — the money of one slice to be shared over its usage (:class:`Pool` as a DSR
  summary states it, :class:`PoolRow` in exact minor units; :data:`POOLS_SCHEMA` stored);
* a **match** — which registered recording or work a usage line is, how it was found and
  how sure we are (:data:`MATCHES_SCHEMA`);
* an **allocation** — the money of a pool that went to one matched item, and the money held
  as unallocated with its reason (:data:`ALLOCATIONS_SCHEMA`, :data:`UNALLOCATED_SCHEMA`);
  money is only ever shared within one pool (:data:`POOL_KEYS`) and currency
  (:data:`ALLOCATION_KEYS`).

**The datasets** live as Parquet under the store's home (:mod:`obra.royalties.datasets`),
one file per period and source, ``<dataset>/period=<P>/source=<S>/part-0.parquet``:

``usage`` — one row per reported use count:
  ``source`` string (first 16 hex digits of the ingested file's sha256), ``line`` int64 (line
  number in that file), ``period`` string (``2015-02``, ``2015-Q4``, as the report says),
  ``territory`` string (ISO 3166-1 alpha-2), ``service`` string, ``commercial_model`` string
  (``AdSupport``, ``Subscription`` …), ``use_type`` string (``stream``, ``download`` …),
  ``user_id`` string nullable, ``isrc``/``iswc``/``proprietary_id`` nullable strings,
  ``title``/``artist``/``album`` nullable strings, ``duration_s`` int32 nullable, ``plays``
  int64, ``revenue`` decimal128(38,10) nullable (line-level revenue when the report gives
  it), ``currency`` nullable string.

``pools`` — the money to distribute per slice:
  ``source``, ``period``, ``territory``, ``service``, ``commercial_model``, ``user_id``
  (nullable: null = the whole pool of the slice; set = that subscriber's own payment, for
  user-centric models), ``currency`` string, ``amount_minor`` int64 (exact minor units).
  From a DSR file the pool of a slice is the sum of its summary records' ``NetRevenue``
  (a decimal), rounded *once*, half to even, to the currency's minor unit
  (:func:`obra.money.round_to_minor`); the error is at most half a cent per slice, never
  a float. From a pools CSV the amount must already be exact in minor units.

``matches`` — one row per usage line:
  ``source``, ``line``, ``recording_number`` nullable string, ``work_number`` nullable
  string, ``isrc``/``iswc`` nullable, ``method`` string (one of :data:`MATCH_METHODS`),
  ``score`` double (a confidence, not money).

The ``period`` and ``source`` columns are inside the files as well as in the directory
names: read with Hive partitioning off (``hive_partitioning=false`` in DuckDB), or glob
the ``part-0.parquet`` files.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

import pyarrow as pa

#: The keys of one pool: money is only ever shared within one of these.
POOL_KEYS = ("period", "territory", "service", "commercial_model")
#: ... and the currency it is paid in.
ALLOCATION_KEYS = POOL_KEYS + ("currency",)


# --------------------------------------------------------------------------- usage
@dataclass(frozen=True)
class UsageLine:
    """One reported use of one resource in one summary slice (parsed, validated)."""

    line: int
    period: str
    territory: str
    service: str
    commercial_model: str
    use_type: str
    plays: int
    isrc: str | None = None
    iswc: str | None = None
    proprietary_id: str | None = None
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    duration_s: int | None = None
    revenue: Decimal | None = None
    currency: str | None = None
    user_id: str | None = None


#: Line-level revenue is kept exactly, to ten decimals.
REVENUE_TYPE = pa.decimal128(38, 10)

USAGE_SCHEMA = pa.schema([
    ("source", pa.string()), ("line", pa.int64()), ("period", pa.string()), ("territory", pa.string()),
    ("service", pa.string()), ("commercial_model", pa.string()), ("use_type", pa.string()),
    ("user_id", pa.string()), ("isrc", pa.string()), ("iswc", pa.string()), ("proprietary_id", pa.string()),
    ("title", pa.string()), ("artist", pa.string()), ("album", pa.string()), ("duration_s", pa.int32()),
    ("plays", pa.int64()), ("revenue", REVENUE_TYPE), ("currency", pa.string()),
])
"""The ``usage`` dataset (see the module docstring)."""

USAGE_ROWS_SCHEMA = pa.schema([f for f in USAGE_SCHEMA if f.name != "source"])
"""Usage rows as a reader hands them over, before ingest adds the file's ``source``."""

USAGE_LINES_SCHEMA = pa.schema([pa.field("revenue", pa.string()) if f.name == "revenue"
                                else USAGE_SCHEMA.field(f.name) for f in fields(UsageLine)])
""":class:`UsageLine` values as an Arrow table, in field order, with ``revenue`` as the report's
text (the DSR reader's output; ingest converts it to the exact decimal of :data:`USAGE_SCHEMA`)."""


# --------------------------------------------------------------------------- pools
@dataclass(frozen=True)
class Pool:
    """The money of one summary slice: the DSP's net revenue for it, in the report's currency."""

    line: int
    period: str
    territory: str
    service: str
    commercial_model: str
    currency: str
    net_revenue: Decimal
    user_id: str | None = None


@dataclass(frozen=True)
class PoolRow:
    """A pool in exact minor units (a row of a pools CSV, as stored)."""

    line: int
    period: str
    territory: str
    service: str
    commercial_model: str
    currency: str
    amount_minor: int
    user_id: str | None = None


POOLS_SCHEMA = pa.schema([
    ("source", pa.string()), ("period", pa.string()), ("territory", pa.string()), ("service", pa.string()),
    ("commercial_model", pa.string()), ("user_id", pa.string()), ("currency", pa.string()),
    ("amount_minor", pa.int64()),
])
"""The ``pools`` dataset (see the module docstring)."""

POOL_ROWS_SCHEMA = pa.schema([pa.field("line", pa.int64())] + [f for f in POOLS_SCHEMA if f.name != "source"])
""":class:`PoolRow` values as a reader hands them over, before ingest adds the file's ``source``."""


# --------------------------------------------------------------------------- matches
MATCHES_SCHEMA = pa.schema([
    ("source", pa.string()), ("line", pa.int64()), ("recording_number", pa.string()),
    ("work_number", pa.string()), ("isrc", pa.string()), ("iswc", pa.string()), ("method", pa.string()),
    ("score", pa.float64()),
])
"""The ``matches`` dataset (see the module docstring)."""

#: How a usage line was matched, from the surest to none at all.
MATCH_METHODS = ("isrc", "iswc", "proprietary", "fuzzy", "claim", "none")


# --------------------------------------------------------------------------- allocations
ALLOCATIONS_SCHEMA = pa.schema(
    [(k, pa.string()) for k in ALLOCATION_KEYS]
    + [("item", pa.string()), ("amount_minor", pa.int64()), ("plays", pa.int64()), ("usage_lines", pa.int64())])
"""A distribution's allocations: one row per pool × matched item (recording or work number)."""

UNALLOCATED_SCHEMA = pa.schema([(k, pa.string()) for k in ALLOCATION_KEYS]
                               + [("amount_minor", pa.int64()), ("reason", pa.string())])
"""Money of a pool held, not paid, with the reason (unmatched usage, no plays, ...)."""
