"""The plug point of distribution models, and a distribution run.

A model is a function ``(lines, pools, params, wide=..., summed=..., usage=...) ->
(allocations, unallocated)`` registered under a name (:func:`register_model`) with the line
columns it reads (its grain). :func:`distribute` sums the matched usage to that grain once,
runs the model and checks that money is conserved.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Callable, Iterable

import ibis

from obra.errors import InvalidInput, Problem
from obra.royalties.distribution.artist_centric import artist_centric, artist_params
from obra.royalties.distribution.common import Distribution, check_conserved, matched_lines
from obra.royalties.distribution.pro_rata import pro_rata
from obra.royalties.distribution.user_centric import user_centric
from obra.royalties.records import ALLOCATION_KEYS, POOL_KEYS

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
        shown = asdict(artist_params(params))
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
