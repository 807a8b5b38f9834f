"""User-centric: each subscriber's own payment is split over what that subscriber played.

Money not attributable to a subscriber (pool rows without ``user_id``, e.g. advertising) is
shared pro-rata. A subscriber who paid and played nothing matched has their money held as
unallocated. Rounded once per pool (see :func:`user_centric`).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt

from obra.errors import InvalidInput, Problem
from obra.royalties.distribution.common import DECIMAL_38, allocate_expr, item_ties, pool_totals
from obra.royalties.distribution.pro_rata import pro_rata_over
from obra.royalties.records import ALLOCATION_KEYS, POOL_KEYS


def user_centric(lines: ibis.Table, pools: ibis.Table, params: Any = None, wide: bool = True,
                 summed: ibis.Table | None = None, usage: ibis.Table | None = None) -> tuple[ibis.Table, ibis.Table]:
    """Each subscriber's payment follows that subscriber's own plays.

    Rounded once per pool, not once per subscriber: each (subscriber, item) row's exact
    share ``payment × plays / subscriber's plays`` is kept to 10^-k of a minor unit
    (:func:`_user_share_scale`; k = 9 unless a payment is huge), floored, summed per item,
    and the subscribers' money in the pool is then split over those sums by
    :func:`allocate_expr` (largest remainder). So every item ends within one minor unit
    (plus the floors' billionths) of its exact rational amount, where rounding each
    subscriber's payment to the cent would let the errors of a million subscribers add up.

    It reads the usage lines as they are (grain ``None``): per-subscriber plays are one
    group-by with a row per subscriber, the shares one join and one group-by per item,
    where summing lines per subscriber × item first would build a table nearly as large as
    the usage. Non-subscriber money (ads) is shared pro-rata over ``summed``. Each
    subscriber's plays are counted on ``usage`` (the lines before matching) when given:
    they do not depend on what matched, and that spares a pass through the match join.
    """
    keys = list(POOL_KEYS) + ["user_id"]
    ul = lines.filter(lines.user_id.notnull() & (lines.plays > 0))
    counted = ul if usage is None else usage.filter(usage.user_id.notnull() & (usage.plays > 0))
    listened = counted.group_by(keys).aggregate(user_plays=counted.plays.sum().cast("int64"),
                                                top_plays=counted.plays.max().cast("int64"))
    pay = pool_totals(pools, subscriber=True)
    payers = listened.join(pay, keys).cache()  # subscribers who paid and played: read three times
    scale, narrow, narrow_sums = _user_share_scale(payers)
    kind = dt.int64 if narrow else DECIMAL_38
    j = ul.join(payers, keys)
    product = j.pool_minor.cast(kind) * j.plays.cast(kind) * ibis.literal(scale, kind)
    per_play = j.user_plays.cast(kind)
    share = ((product - product % per_play) / per_play).cast("int64")  # an exact multiple: the floor
    total = dt.int64 if narrow_sums else DECIMAL_38
    j = j.mutate(share=share.cast(total))
    w = j.group_by(list(ALLOCATION_KEYS) + ["item"]).aggregate(weight=j.share.sum().cast(total))
    paid = payers.group_by(list(ALLOCATION_KEYS)).aggregate(pool_minor=payers.pool_minor.sum().cast("int64"))
    alloc = allocate_expr(w.join(paid, list(ALLOCATION_KEYS)), ALLOCATION_KEYS, "pool_minor", "weight",
                          item_ties, wide=True)
    alloc = alloc.select(*ALLOCATION_KEYS, "item", "amount_minor")
    silent = pay.anti_join(payers, keys)  # paid and not among those who played (computed once, cached)
    silent = silent.select(*ALLOCATION_KEYS, amount_minor=silent.pool_minor,
                           reason=ibis.literal("subscriber with no plays"))
    shared, idle = pro_rata_over(summed if summed is not None else lines, pools, subscriber=False, wide=wide)
    return alloc.union(shared), silent.union(idle)


#: Subscriber shares are kept to 10^-9 of a minor unit (a billionth of a cent) at most.
USER_SHARE_DIGITS = 9


def _user_share_scale(payers: ibis.Table) -> tuple[int, bool, bool]:
    """(10^k, narrow, narrow sums): the fixed point for subscriber shares, and where int64 suffices.

    Each share is computed as an exact multiple divided by the subscriber's plays, and
    both engines divide exactly only below 2**53; so k is the largest digit count (at
    most :data:`USER_SHARE_DIGITS`) keeping the largest payment × 10^k below 2**52, and
    the products stay in 64-bit integers when payment × plays × 10^k is below 2**53 too
    (else ``DECIMAL(38,0)``); the sums per item do when all payments × 10^k stay below
    2**63 (Spark's 64-bit sums wrap around silently, so this is checked, not hoped).
    """
    top = payers.aggregate(pay=payers.pool_minor.max(), plays=payers.top_plays.max(),
                           total=payers.pool_minor.sum()).to_pyarrow().to_pylist()[0]
    top_pay, top_plays, total = int(top["pay"] or 0), int(top["plays"] or 0), int(top["total"] or 0)
    digits = USER_SHARE_DIGITS
    while digits > 0 and top_pay * 10 ** digits >= 2 ** 52:
        digits -= 1
    if top_pay * 10 ** digits >= 2 ** 52:
        raise InvalidInput(Problem(f"a subscriber payment of {top_pay} minor units is too large to split "
                                   "exactly", field="amount"))
    return (10 ** digits, top_pay * max(top_plays, 1) * 10 ** digits < 2 ** 53,
            total * 10 ** digits < 2 ** 63)
