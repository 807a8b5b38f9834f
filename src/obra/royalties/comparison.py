"""Compare distribution models on the same data: who gains, who loses, by popularity decile and genre.

The question rightholders ask of user-centric or artist-centric proposals is not the
total (every model distributes the same pool) but the *shift*: from the most-streamed
artists to the long tail, or between genres whose fans listen more or less. This module
runs in the engine on the distributions' allocation tables:

* **by decile**: artists ranked by plays into ten groups (decile 10 = the most played),
  with each model's total and the change;
* **by genre**: each model's total per genre and the change;
* **who gains, who loses**: the number of artists whose earnings rise or fall, and the
  largest moves.

Money is summed per currency (amounts in different currencies are never added).
"""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa

from obra.royalties import engine as engines
from obra.royalties.distribution.common import Distribution


def compare(base: Distribution, other: Distribution, items: pa.Table | None = None, top: int = 10) -> dict:
    """How ``other`` moves money relative to ``base`` (e.g. user-centric vs pro-rata).

    ``items`` (optional) maps ``item`` to ``artist`` and ``genre``; without it each item
    is its own artist and the genre is unknown.
    """
    con = base.allocations._find_backend()
    ba, oa = base.allocations, other.allocations
    both = ba.select("currency", "item", base_minor=ba.amount_minor, other_minor=ibis.literal(0, "int64"),
                     plays=ba.plays).union(
        oa.select("currency", "item", base_minor=ibis.literal(0, "int64"), other_minor=oa.amount_minor,
                  plays=oa.plays))
    j = both.group_by(["currency", "item"]).aggregate(
        base_minor=both.base_minor.sum(), other_minor=both.other_minor.sum(), plays=both.plays.max())
    if items is not None:
        meta = engines.table(con, items.select(["item", "artist", "genre"]).rename_columns(
            ["meta_item", "artist", "genre"]))
        j = j.left_join(meta, j.item == meta.meta_item).drop("meta_item")
        j = j.drop(*[c for c in j.columns if c.endswith("_right")])
        j = j.mutate(artist=j.artist.fill_null(j.item), genre=j.genre.fill_null("unknown"))
    else:
        j = j.mutate(artist=j.item, genre=ibis.literal("unknown"))
    artists = j.group_by(["currency", "artist"]).aggregate(
        base_minor=j.base_minor.sum(), other_minor=j.other_minor.sum(), plays=j.plays.sum())
    artists = artists.mutate(decile=(ibis.ntile(10).over(group_by="currency", order_by=[artists.plays, artists.artist])
                                     + 1).cast("int32"),
                             change=artists.other_minor - artists.base_minor)
    artists = artists.cache()
    by_decile = artists.group_by(["currency", "decile"]).aggregate(
        artists=artists.count(), plays=artists.plays.sum(), base_minor=artists.base_minor.sum(),
        other_minor=artists.other_minor.sum(), gainers=(artists.change > 0).sum(),
        losers=(artists.change < 0).sum()).order_by(["currency", "decile"])
    by_genre = j.group_by(["currency", "genre"]).aggregate(
        plays=j.plays.sum(), base_minor=j.base_minor.sum(), other_minor=j.other_minor.sum()).order_by(["currency", "genre"])
    out: dict[str, Any] = {"base": base.model, "other": other.model, "currencies": {}}
    rows_d = by_decile.to_pyarrow().to_pylist()
    rows_g = by_genre.to_pyarrow().to_pylist()
    for cur in sorted({r["currency"] for r in rows_d}):
        c = out["currencies"].setdefault(cur, {})
        c["by_decile"] = [_row(r) for r in rows_d if r["currency"] == cur]
        c["by_genre"] = [_row(r) for r in rows_g if r["currency"] == cur]
        mine = artists.filter(artists.currency == cur)
        c["gainers"] = int(mine.filter(mine.change > 0).count().to_pyarrow().as_py())
        c["losers"] = int(mine.filter(mine.change < 0).count().to_pyarrow().as_py())
        cols = ["artist", "decile", "plays", "base_minor", "other_minor"]
        c["top_gainers"] = [_row(r) for r in mine.filter(mine.change > 0).order_by([ibis.desc("change"), "artist"]).limit(top)
                            .select(cols).to_pyarrow().to_pylist()]
        c["top_losers"] = [_row(r) for r in mine.filter(mine.change < 0).order_by(["change", "artist"]).limit(top)
                           .select(cols).to_pyarrow().to_pylist()]
    return out


def _row(r: dict) -> dict:
    out = {k: (int(v) if isinstance(v, (int, float)) and k != "artist" else v) for k, v in r.items() if k != "currency"}
    if "base_minor" in out and "other_minor" in out:
        out["change_minor"] = out["other_minor"] - out["base_minor"]
    return out


def item_attributes(repertoire: Any, target: str = "recording") -> pa.Table:
    """``item, artist, genre`` for the registry's recordings (genre from the first embodied work)."""
    rows = []
    items = repertoire.recordings if target == "recording" else repertoire.works
    for number, item in sorted(items.items()):
        record = item.record if isinstance(item.record, dict) else {}
        body = record.get(item.entity, record)
        genre = body.get("genre")
        if genre is None and item.works:
            work = repertoire.works.get(item.works[0])
            if work is not None:
                wrec = work.record if isinstance(work.record, dict) else {}
                genre = wrec.get("work", wrec).get("genre")
        rows.append({"item": number, "artist": body.get("artist") or item.title, "genre": genre})
    return pa.Table.from_pylist(rows, schema=pa.schema([("item", pa.string()), ("artist", pa.string()),
                                                        ("genre", pa.string())]))
