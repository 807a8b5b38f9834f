"""Distribution models: how a pool of money is shared over what was played.

Every model here is written once, as Ibis expressions, and runs unchanged on DuckDB and
on Spark (:mod:`obra.royalties.engine`). A pool is the money a service pays for one
*period × territory × service × commercial model* (and currency); the models differ in
how they weigh the plays in that pool:

``pro-rata``
    Each recording's (or work's) share of the pool is its share of all plays. A heavy
    listener's plays weigh as much as everyone else's money.
``user-centric``
    Each subscriber's own payment (a pool row with ``user_id``) is split over what that
    subscriber played. Money not attributable to a subscriber (pool rows without
    ``user_id``, e.g. advertising) is shared pro-rata. A subscriber who paid and played
    nothing matched has their money held as unallocated.
``artist-centric``
    Pro-rata over *weighted* plays, with eligibility thresholds and weights as
    parameters (:class:`ArtistCentric`); presets for Deezer's 2023 model and Spotify's
    2024 minimum-streams rule are in :data:`ARTIST_CENTRIC_PRESETS`.

**Money and rounding.** Pools are integer minor units. Weights are computed in the
engine (integers), and the pool is split by :func:`allocate_expr`, which reproduces
:func:`obra.money.allocate` exactly with window functions: each recipient gets the floor
of its exact share; the minor units left over go one each to the largest remainders;
ties go to matched items before the unmatched bucket, then to the lower item number
(byte order). Products are computed in ``DECIMAL(38,0)`` so no intermediate overflows.
User-centric rounds once per pool too: each subscriber's share of an item is kept to a
billionth of a minor unit, summed per item, and the pool is split over those sums by the
same rule (see :func:`user_centric`).

**Nothing is lost.** Plays that matched nothing keep their weight: their share of the
pool is booked as *unallocated* (held for claims), as is money of pools nobody played
and of subscribers who played nothing matched. Every run checks, per currency, that
distributed + unallocated = revenue to the minor unit (:func:`obra.money.assert_conserved`)
before it returns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from obra.errors import InvalidInput, Problem
from obra.money import Conservation, assert_conserved

#: The keys of one pool: money is only ever shared within one of these.
POOL_KEYS = ("period", "territory", "service", "commercial_model")
#: ... and the currency it is paid in.
ALLOCATION_KEYS = POOL_KEYS + ("currency",)
#: What a distribution is made to: the matched recording or the matched work.
TARGETS = {"recording": "recording_number", "work": "work_number"}

_D38 = dt.Decimal(38, 0)

#: The Parquet contract shared with ingest (see :mod:`obra.royalties.records`).
from obra.royalties.records import MATCHES_SCHEMA, POOLS_SCHEMA, USAGE_SCHEMA  # noqa: E402,F401


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
    kind = _D38 if wide else dt.int64
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


def _item_ties(t: ibis.Table) -> list:
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


def _pool_totals(pools: ibis.Table, subscriber: bool | None) -> ibis.Table:
    p = pools
    if subscriber is True:
        p = p.filter(p.user_id.notnull())
    elif subscriber is False:
        p = p.filter(p.user_id.isnull())
    keys = list(ALLOCATION_KEYS) + (["user_id"] if subscriber else [])
    return p.group_by(keys).aggregate(pool_minor=p.amount_minor.sum().cast("int64"))


# --------------------------------------------------------------------------- models
@dataclass(frozen=True)
class ArtistCentric:
    """Parameters of an artist-centric model (all thresholds counted over the usage given).

    * ``min_artist_streams`` / ``min_artist_listeners``: an artist (the usage line's
      display artist, case-folded) reaching both in the period is *professional* and its
      plays count ``professional_weight`` times (Deezer 2023: 1,000 streams, 500 unique
      listeners, ×2).
    * ``user_initiated_weight``: plays whose ``use_type`` is in ``user_initiated_use_types``
      (the listener chose the track) count that many times (Deezer 2023: ×2).
    * ``per_user_cap``: a subscriber's plays in a period beyond this many are scaled
      down to it, pro rata over what they played (largest remainder, so weights stay
      integers; Deezer 2023: 1,000).
    * ``min_item_streams``: a recording (or work) below this many plays earns nothing and
      its share goes to the others (Spotify 2024: 1,000 streams in 12 months: pass the
      trailing twelve months of usage for that rule).
    """

    min_artist_streams: int = 0
    min_artist_listeners: int = 0
    professional_weight: int = 1
    user_initiated_weight: int = 1
    user_initiated_use_types: tuple[str, ...] = ("OnDemandStream", "on_demand", "user_initiated")
    per_user_cap: int | None = None
    min_item_streams: int = 0

    def __post_init__(self) -> None:
        for name in ("min_artist_streams", "min_artist_listeners", "min_item_streams"):
            if getattr(self, name) < 0:
                raise InvalidInput(Problem("must not be negative", field=name))
        for name in ("professional_weight", "user_initiated_weight"):
            if getattr(self, name) < 0:
                raise InvalidInput(Problem("a weight must be a non-negative integer", field=name))
        if self.per_user_cap is not None and self.per_user_cap <= 0:
            raise InvalidInput(Problem("the per-user cap must be a positive number of plays",
                                       field="per_user_cap"))


ARTIST_CENTRIC_PRESETS: dict[str, ArtistCentric] = {
    # Deezer / UMG "artist-centric" model, announced 2023, in force from Q4 2023.
    "deezer-2023": ArtistCentric(min_artist_streams=1000, min_artist_listeners=500,
                                 professional_weight=2, user_initiated_weight=2, per_user_cap=1000),
    # Spotify, from Q1 2024: a track needs 1,000 streams in the previous 12 months to earn.
    "spotify-2024": ArtistCentric(min_item_streams=1000),
}


def _pro_rata(lines: ibis.Table, pools: ibis.Table, weight: str = "plays",
              subscriber: bool | None = None, wide: bool = True) -> tuple[ibis.Table, ibis.Table]:
    """Allocations and unallocated pools for pro-rata over ``weight``."""
    w = lines.group_by(list(POOL_KEYS) + ["item"]).aggregate(weight=lines[weight].sum().cast("int64"))
    pool = _pool_totals(pools, subscriber)
    j = w.join(pool, list(POOL_KEYS))
    alloc = allocate_expr(j, ALLOCATION_KEYS, "pool_minor", "weight", _item_ties, wide=wide)
    alloc = alloc.select(*ALLOCATION_KEYS, "item", "amount_minor")
    played = w.filter(w.weight > 0).select(*POOL_KEYS).distinct()
    idle = pool.anti_join(played, list(POOL_KEYS))
    idle = idle.select(*ALLOCATION_KEYS, amount_minor=idle.pool_minor,
                       reason=ibis.literal("pool with no plays"))
    return alloc, idle


def pro_rata(lines: ibis.Table, pools: ibis.Table, params: Any = None, wide: bool = True,
             summed: ibis.Table | None = None, usage: ibis.Table | None = None) -> tuple[ibis.Table, ibis.Table]:
    """Each item's share of the whole pool is its share of the plays."""
    return _pro_rata(lines, pools, wide=wide)


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
    pay = _pool_totals(pools, subscriber=True)
    payers = listened.join(pay, keys).cache()  # subscribers who paid and played: read three times
    scale, narrow, narrow_sums = _user_share_scale(payers)
    kind = dt.int64 if narrow else _D38
    j = ul.join(payers, keys)
    product = j.pool_minor.cast(kind) * j.plays.cast(kind) * ibis.literal(scale, kind)
    per_play = j.user_plays.cast(kind)
    share = ((product - product % per_play) / per_play).cast("int64")  # an exact multiple: the floor
    total = dt.int64 if narrow_sums else _D38
    j = j.mutate(share=share.cast(total))
    w = j.group_by(list(ALLOCATION_KEYS) + ["item"]).aggregate(weight=j.share.sum().cast(total))
    paid = payers.group_by(list(ALLOCATION_KEYS)).aggregate(pool_minor=payers.pool_minor.sum().cast("int64"))
    alloc = allocate_expr(w.join(paid, list(ALLOCATION_KEYS)), ALLOCATION_KEYS, "pool_minor", "weight",
                          _item_ties, wide=True)
    alloc = alloc.select(*ALLOCATION_KEYS, "item", "amount_minor")
    silent = pay.anti_join(payers, keys)  # paid and not among those who played (computed once, cached)
    silent = silent.select(*ALLOCATION_KEYS, amount_minor=silent.pool_minor,
                           reason=ibis.literal("subscriber with no plays"))
    shared, idle = _pro_rata(summed if summed is not None else lines, pools, subscriber=False, wide=wide)
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


def artist_centric(lines: ibis.Table, pools: ibis.Table, params: ArtistCentric | str | None = None,
                   wide: bool = True, summed: ibis.Table | None = None,
                   usage: ibis.Table | None = None) -> tuple[ibis.Table, ibis.Table]:
    """Pro-rata over plays weighted by the artist-centric rules in ``params``."""
    p = _artist_params(params)
    t = lines.mutate(artist_key=lines.artist.fill_null("").lower().strip())
    keys = list(POOL_KEYS) + ["item", "user_id", "use_type", "artist_key"]
    t = t.group_by(keys).aggregate(plays=t.plays.sum().cast("int64"))
    if p.per_user_cap:
        users = t.filter(t.user_id.notnull())
        users = users.mutate(cap=ibis.least(users.plays.sum().over(group_by=["period", "user_id"]),
                                            ibis.literal(p.per_user_cap, "int64")).cast("int64"))
        def ties(u: ibis.Table) -> list:
            return [u[k].fill_null("") for k in ("territory", "service", "commercial_model")] + \
                _item_ties(u) + [u.use_type.fill_null(""), u.artist_key]
        users = allocate_expr(users, ["period", "user_id"], "cap", "plays", ties, out="capped", wide=wide)
        users = users.mutate(plays=users.capped).drop("cap", "capped")
        t = users.union(t.filter(t.user_id.isnull()))
    weight = t.plays
    if p.min_artist_streams or p.min_artist_listeners or p.professional_weight != 1:
        raw = lines.mutate(artist_key=lines.artist.fill_null("").lower().strip())
        pros = raw.group_by(["period", "artist_key"]).aggregate(
            streams=raw.plays.sum(), listeners=raw.user_id.nunique())
        pros = pros.filter((pros.streams >= p.min_artist_streams)
                           & (pros.listeners >= p.min_artist_listeners)).mutate(professional=1)
        t = t.left_join(pros.select("period", "artist_key", "professional"), ["period", "artist_key"])
        t = t.drop(*[c for c in t.columns if c.endswith("_right")])
        weight = t.plays * ibis.ifelse(t.professional.notnull(), p.professional_weight, 1)
    if p.user_initiated_weight != 1:
        weight = weight * ibis.ifelse(t.use_type.isin(list(p.user_initiated_use_types)),
                                      p.user_initiated_weight, 1)
    t = t.mutate(weighted=weight.cast("int64"))
    if p.min_item_streams:
        totals = lines.filter(lines.item.notnull()).group_by("item").aggregate(item_streams=lines.plays.sum())
        t = t.left_join(totals, "item")
        t = t.drop(*[c for c in t.columns if c.endswith("_right")])
        eligible = t.item.isnull() | (t.item_streams.fill_null(0) >= p.min_item_streams)
        t = t.mutate(weighted=ibis.ifelse(eligible, t.weighted, 0).cast("int64"))
    return _pro_rata(t, pools, weight="weighted", wide=wide)


def _artist_params(params: ArtistCentric | str | dict | None) -> ArtistCentric:
    if params is None:
        return ARTIST_CENTRIC_PRESETS["deezer-2023"]
    if isinstance(params, ArtistCentric):
        return params
    if isinstance(params, str):
        if params not in ARTIST_CENTRIC_PRESETS:
            raise InvalidInput(Problem(f"unknown artist-centric preset '{params}'; known: "
                                       f"{', '.join(sorted(ARTIST_CENTRIC_PRESETS))}", field="preset"))
        return ARTIST_CENTRIC_PRESETS[params]
    return ArtistCentric(**params)


Model = Callable[..., tuple[ibis.Table, ibis.Table]]
#: The plug point: a model is a function (lines, pools, params, wide=..., summed=..., usage=...) ->
#: (allocations, unallocated), with the line columns it needs (its grain).
MODELS: dict[str, Model] = {}
GRAINS: dict[str, tuple[str, ...] | None] = {}


def register_model(name: str, model: Model,
                   grain: tuple[str, ...] | None = ("user_id", "use_type", "artist")) -> None:
    """Add a distribution model under ``name`` (``obra distribute --model NAME``).

    ``grain`` names the line columns, beyond the pool keys and the item, that the model
    reads; lines are summed to that grain (and source file) once before the model runs.
    ``None`` hands the model the matched usage lines unsummed, for a model that groups
    them its own way. Every model also gets ``summed``: the lines summed per pool, item
    and source file (the drill-down table, cached), and ``usage``: the usage lines before
    matching (for what does not depend on the match).
    """
    MODELS[name] = model
    GRAINS[name] = tuple(grain) if grain is not None else None


register_model("pro-rata", pro_rata, grain=())
register_model("user-centric", user_centric, grain=None)
register_model("artist-centric", artist_centric, grain=("user_id", "use_type", "artist"))


# --------------------------------------------------------------------------- a run
@dataclass
class Distribution:
    """The result of one distribution run (lazy Ibis tables plus the checked totals).

    ``allocations``: one row per pool × matched item with ``amount_minor``, ``plays``
    and ``usage_lines`` (the unmatched plays' share is in ``unallocated``). ``unallocated``: money held with its ``reason``. ``lines``:
    the matched usage lines, for drill-down. ``conservation``: per currency.
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


def distribute(usage: ibis.Table, pools: ibis.Table, matches: ibis.Table | None = None,
               model: str = "pro-rata", params: Any = None, target: str = "recording",
               cache: bool = True) -> Distribution:
    """Share ``pools`` over ``usage`` under ``model`` and check that money is conserved.

    ``usage``, ``pools`` and ``matches`` follow the Parquet contract (see
    ``docs/royalties.md``) and must live on the same backend. The check runs on every
    call and raises :class:`obra.money.ConservationError` if a minor unit went missing.
    """
    if model not in MODELS:
        raise InvalidInput(Problem(f"unknown distribution model '{model}'; known: "
                                   f"{', '.join(sorted(MODELS))}", field="model"))
    lines = matched_lines(usage, matches, target)
    grain = GRAINS[model]
    if grain:  # summed once to the model's grain; the drill-down table from that
        model_lines = _sum_lines(lines, grain)
        model_lines = model_lines.cache() if cache else model_lines
        summed = _resum(model_lines)
    else:
        summed = _sum_lines(lines, ())
    if cache:
        summed = summed.cache()
    if not grain:
        model_lines = lines if grain is None else summed
    alloc, held = MODELS[model](model_lines, pools, params, wide=_needs_wide(summed, pools), summed=summed,
                                usage=usage)
    played = summed.group_by(list(POOL_KEYS) + ["item"]).aggregate(
        plays=summed.plays.sum().cast("int64"), usage_lines=summed.usage_lines.sum().cast("int64"))
    alloc = alloc.group_by(list(ALLOCATION_KEYS) + ["item"]).aggregate(
        amount_minor=alloc.amount_minor.sum().cast("int64"))
    alloc = alloc.left_join(played, list(POOL_KEYS) + ["item"])
    alloc = alloc.drop(*[c for c in alloc.columns if c.endswith("_right")])
    alloc = alloc.mutate(plays=alloc.plays.fill_null(0), usage_lines=alloc.usage_lines.fill_null(0))
    if cache:
        alloc = alloc.cache()
    unmatched = alloc.filter(alloc.item.isnull())
    held = held.union(unmatched.select(*ALLOCATION_KEYS, amount_minor=unmatched.amount_minor,
                                       reason=ibis.literal("unmatched usage (held for claims)")))
    alloc = alloc.filter(alloc.item.notnull())
    if cache:
        held = held.cache()
    if model == "artist-centric":
        shown = asdict(_artist_params(params))
        shown["user_initiated_use_types"] = list(shown["user_initiated_use_types"])
    else:
        shown = {}
    run = Distribution(model, shown, target, alloc, held, lines, summed=summed)
    run.conservation = check_conserved(run, pools)
    return run


def _sum_lines(lines: ibis.Table, grain: Iterable[str]) -> ibis.Table:
    """Lines summed per pool, item, source file and ``grain``, with their line range."""
    keys = list(POOL_KEYS) + ["item", "source"] + list(grain)
    return lines.group_by(keys).aggregate(plays=lines.plays.sum().cast("int64"),
                                          usage_lines=lines.count().cast("int64"),
                                          first_line=lines.line.min(), last_line=lines.line.max())


def _resum(summed: ibis.Table) -> ibis.Table:
    """Sums at a finer grain summed again per pool, item and source file."""
    keys = list(POOL_KEYS) + ["item", "source"]
    return summed.group_by(keys).aggregate(plays=summed.plays.sum().cast("int64"),
                                           usage_lines=summed.usage_lines.sum().cast("int64"),
                                           first_line=summed.first_line.min(), last_line=summed.last_line.max())


def _needs_wide(summed: ibis.Table, pools: ibis.Table) -> bool:
    """Whether any pool × total weight could reach 2**53 (then split in DECIMAL(38,0)).

    A bound from two small aggregates: the largest pool times all plays times the
    largest weight any model applies (16 covers every preset).
    """
    per_pool = pools.group_by(list(ALLOCATION_KEYS)).aggregate(s=pools.amount_minor.sum())
    biggest = per_pool.s.max().to_pyarrow().as_py() or 0
    plays = summed.plays.sum().to_pyarrow().as_py() or 0
    return int(biggest) * int(plays) * 16 >= 2 ** 53


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
