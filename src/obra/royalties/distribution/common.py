"""What every distribution model shares: the rounding rule, the inputs, the result, the money check.

* :func:`allocate_expr` splits an amount over weights in the engine exactly as
  :func:`obra.money.allocate` does (floors, then largest remainders, documented ties);
* :func:`matched_lines` joins usage to its matches (the ``item`` each line is paid to) and
  :func:`pool_totals` sums the pools a model shares;
* :class:`Distribution` is a run's result, and :func:`check_conserved` the check every run
  passes before it returns: distributed + unallocated = revenue, per currency, to the minor unit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import ibis
import ibis.expr.datatypes as dt

from obra.errors import InvalidInput, Problem
from obra.money import Conservation, assert_conserved
from obra.royalties.records import ALLOCATION_KEYS, POOL_KEYS

#: What a distribution is made to: the matched recording or the matched work.
TARGETS = {"recording": "recording_number", "work": "work_number"}

#: Products of money and weights are computed in this type when they could pass 2**53.
DECIMAL_38 = dt.Decimal(38, 0)


# --------------------------------------------------------------------------- rounding
def allocate_expr(t: ibis.Table, by: Iterable[str], amount: str, weight: str,
                  ties: Callable[[ibis.Table], list] | Iterable[str], out: str = "amount_minor",
                  wide: bool = True) -> ibis.Table:
    """Add column ``out``: ``amount`` (constant within each ``by`` partition) split over ``weight``.

    The same rule as :func:`obra.money.allocate` with recipients listed in ``ties``
    order: floors of the exact shares, then one minor unit each to the largest
    remainders, ties to the recipient that sorts first by ``ties``. A partition whose
    weights sum to zero gets nothing (the caller books its amount as unallocated).

    ``wide`` computes in ``DECIMAL(38,0)``; pass ``wide=False`` only when the caller has
    checked that every amount × total weight is below 2**53 (then 64-bit integers and
    the engines' division are exact, and the window sorts are lighter).
    """
    by = list(by)
    kind = DECIMAL_38 if wide else dt.int64
    total = t[weight].sum().over(group_by=by).cast(kind).nullif(0)
    product = t[amount].cast(kind) * t[weight].cast(kind)
    step = t.mutate(_obra_rem=product % total,
                    _obra_floor=((product - product % total) / total).cast("int64"))
    left = step[amount] - step._obra_floor.sum().over(group_by=by)
    tie_keys = ties(step) if callable(ties) else [step[k] for k in ties]
    order = [ibis.desc(step._obra_rem)] + list(tie_keys)
    rank = ibis.row_number().over(group_by=by, order_by=order)
    step = step.mutate(**{out: ibis.cases((step._obra_floor.isnull(), ibis.literal(0, "int64")),
                                          else_=step._obra_floor + ibis.ifelse(rank < left, 1, 0))
                          .cast("int64")})
    return step.drop("_obra_rem", "_obra_floor")


def item_ties(t: ibis.Table) -> list:
    """Matched items first (by number), the unmatched bucket last: the documented tie rule."""
    return [t.item.isnull().cast("int8"), t.item.fill_null("")]


# --------------------------------------------------------------------------- inputs
def matched_lines(usage: ibis.Table, matches: ibis.Table | None, target: str = "recording") -> ibis.Table:
    """Usage lines with ``item`` = the recording (or work) number they matched, null if none.

    ``matches`` may be None when the usage table already carries ``recording_number`` /
    ``work_number`` (e.g. the output of ``match_by_id``).
    """
    if target not in TARGETS:
        raise InvalidInput(Problem(f"unknown distribution target '{target}'; use recording or work",
                                   field="target"))
    column = TARGETS[target]
    needed = ["source", "line", *POOL_KEYS, "use_type", "user_id", "artist", "plays"]
    missing = [c for c in needed if c not in usage.columns]
    if missing:
        raise InvalidInput(Problem(f"usage lacks the column(s) {', '.join(missing)} of the usage contract",
                                   field=missing[0]))
    if matches is None:
        if column not in usage.columns:
            raise InvalidInput(Problem(f"usage has no '{column}' column and no matches were given",
                                       field=column))
        lines = usage.select(*needed, item=usage[column])
    else:
        m = matches.select("source", "line", item=matches[column])
        lines = usage.select(*needed).left_join(m, ["source", "line"])
        lines = lines.drop(*[c for c in lines.columns if c.endswith("_right")])
    return lines


def pool_totals(pools: ibis.Table, subscriber: bool | None) -> ibis.Table:
    """The pools summed per slice and currency: those of subscribers (``subscriber=True``, per
    subscriber), those of nobody in particular (False), or all (None)."""
    p = pools
    if subscriber is True:
        p = p.filter(p.user_id.notnull())
    elif subscriber is False:
        p = p.filter(p.user_id.isnull())
    keys = list(ALLOCATION_KEYS) + (["user_id"] if subscriber else [])
    return p.group_by(keys).aggregate(pool_minor=p.amount_minor.sum().cast("int64"))


# --------------------------------------------------------------------------- a run
@dataclass
class Distribution:
    """The result of one distribution run (lazy Ibis tables plus the checked totals).

    ``allocations``: one row per pool × matched item with ``amount_minor``, ``plays`` and
    ``usage_lines`` (:data:`obra.royalties.records.ALLOCATIONS_SCHEMA`; the unmatched plays'
    share is in ``unallocated``). ``unallocated``: money held with its ``reason``
    (:data:`obra.royalties.records.UNALLOCATED_SCHEMA`). ``lines``: the matched usage lines,
    for drill-down. ``conservation``: per currency.
    """

    model: str
    params: dict
    target: str
    allocations: ibis.Table
    unallocated: ibis.Table
    lines: ibis.Table
    conservation: dict[str, Conservation] = field(default_factory=dict)
    #: lines summed per pool, item and source file (with first and last line), for drill-down
    summed: ibis.Table | None = None

    def describe(self) -> dict:
        return {"model": self.model, "params": self.params, "target": self.target,
                "conservation": {c: asdict(v) for c, v in sorted(self.conservation.items())}}


def check_conserved(run: Distribution, pools: ibis.Table) -> dict[str, Conservation]:
    """Distributed + unallocated = revenue, per currency, computed in the engine and asserted."""
    rev = pools.group_by("currency").aggregate(total=pools.amount_minor.sum()).to_pyarrow().to_pylist()
    paid = run.allocations.group_by("currency").aggregate(total=run.allocations.amount_minor.sum()) \
        .to_pyarrow().to_pylist()
    held = run.unallocated.group_by("currency").aggregate(total=run.unallocated.amount_minor.sum()) \
        .to_pyarrow().to_pylist()
    paid_by = {r["currency"]: int(r["total"] or 0) for r in paid}
    held_by = {r["currency"]: int(r["total"] or 0) for r in held}
    out = {}
    for r in rev:
        cur = r["currency"]
        out[cur] = assert_conserved(int(r["total"] or 0), paid_by.pop(cur, 0), held_by.pop(cur, 0),
                                    context=f"{run.model} distribution in {cur}")
    for cur in set(paid_by) | set(held_by):  # money in a currency no pool paid in
        out[cur] = assert_conserved(0, paid_by.get(cur, 0), held_by.get(cur, 0),
                                    context=f"{run.model} distribution in {cur}")
    return out
