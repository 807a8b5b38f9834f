"""Pro-rata: each recording's (or work's) share of a pool is its share of all the plays in it.

A heavy listener's plays weigh as much as everyone else's money. :func:`pro_rata_over` is
also the building block of the other models: they share over weighted plays, or share the
money no subscriber paid for (advertising) this way.
"""

from __future__ import annotations

from typing import Any

import ibis

from obra.royalties.distribution.common import allocate_expr, item_ties, pool_totals
from obra.royalties.records import ALLOCATION_KEYS, POOL_KEYS


def pro_rata_over(lines: ibis.Table, pools: ibis.Table, weight: str = "plays",
                  subscriber: bool | None = None, wide: bool = True) -> tuple[ibis.Table, ibis.Table]:
    """Allocations and unallocated pools for pro-rata over ``weight`` (``subscriber``: only the
    pool rows of subscribers (True), only those of nobody in particular (False), or all)."""
    w = lines.group_by(list(POOL_KEYS) + ["item"]).aggregate(weight=lines[weight].sum().cast("int64"))
    pool = pool_totals(pools, subscriber)
    j = w.join(pool, list(POOL_KEYS))
    alloc = allocate_expr(j, ALLOCATION_KEYS, "pool_minor", "weight", item_ties, wide=wide)
    alloc = alloc.select(*ALLOCATION_KEYS, "item", "amount_minor")
    played = w.filter(w.weight > 0).select(*POOL_KEYS).distinct()
    idle = pool.anti_join(played, list(POOL_KEYS))
    idle = idle.select(*ALLOCATION_KEYS, amount_minor=idle.pool_minor,
                       reason=ibis.literal("pool with no plays"))
    return alloc, idle


def pro_rata(lines: ibis.Table, pools: ibis.Table, params: Any = None, wide: bool = True,
             summed: ibis.Table | None = None, usage: ibis.Table | None = None) -> tuple[ibis.Table, ibis.Table]:
    """Each item's share of the whole pool is its share of the plays."""
    return pro_rata_over(lines, pools, wide=wide)
