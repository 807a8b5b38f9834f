"""Small inline inputs for the distribution tests, in the usage/pools contract."""

from __future__ import annotations

import pyarrow as pa

from obra.royalties import engine
from obra.royalties.records import POOLS_SCHEMA, USAGE_SCHEMA

POOL = {"period": "2024-01", "territory": "FR", "service": "Streamly", "commercial_model": "Subscription"}


class Usage:
    """Usage lines and pools written like a report: one call per line."""

    def __init__(self, source: str = "a1b2c3d4e5f60718"):
        self.source = source
        self.lines: list[dict] = []
        self.pools: list[dict] = []

    def play(self, user: str | None, recording: str | None, plays: int = 1, artist: str | None = None,
             use_type: str = "OnDemandStream", **pool) -> "Usage":
        self.lines.append({**POOL, **pool, "source": self.source, "line": len(self.lines) + 1,
                           "use_type": use_type, "user_id": user, "isrc": None, "iswc": None,
                           "proprietary_id": None, "title": None, "artist": artist or recording,
                           "album": None, "duration_s": None, "plays": plays, "revenue": None,
                           "currency": None, "recording_number": recording})
        return self

    def pay(self, amount_minor: int, user: str | None = None, currency: str = "EUR", **pool) -> "Usage":
        self.pools.append({**POOL, **pool, "source": self.source, "user_id": user, "currency": currency,
                           "amount_minor": amount_minor})
        return self

    def tables(self, con):
        schema = USAGE_SCHEMA.append(pa.field("recording_number", pa.string()))
        usage = engine.table(con, pa.Table.from_pylist(self.lines, schema=schema))
        pools = engine.table(con, pa.Table.from_pylist(self.pools, schema=POOLS_SCHEMA))
        return usage, pools


def amounts(run) -> dict[str, int]:
    """item → total minor units across pools."""
    out: dict[str, int] = {}
    for r in run.allocations.to_pyarrow().to_pylist():
        out[r["item"]] = out.get(r["item"], 0) + r["amount_minor"]
    return out


def held(run) -> int:
    return sum(r["amount_minor"] for r in run.unallocated.to_pyarrow().to_pylist())
