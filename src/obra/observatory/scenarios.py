"""Policy scenarios: the same usage re-run under other payment rules, and who gains and who loses.

A scenario is data (a JSON or TOML file, or a dict): a name, the **rules** to try and, optionally,
the **baseline** to compare with (pro-rata by default). Rules combine freely:

``model``                 ``pro-rata``, ``user-centric`` or ``artist-centric``
                          (:mod:`obra.royalties.distribution`)
``preset``                an artist-centric preset (``deezer-2023``, ``spotify-2024``)
``params``                artist-centric parameters by name (see :class:`ArtistCentric`)
``min_item_streams``      a recording earns nothing below this many plays (a threshold)
``per_user_cap``          a listener's plays beyond this many are scaled down (a cap)
``per_play_floor_minor``  a per-stream floor, in minor units per play (``"0.3"``): recordings
                          below it are raised to it, paid for by those above it in the same pool
``cmo_commission``        the collecting society's commission, a rate (``"0.12"``)
``performer_remuneration`` an equitable remuneration right: this rate of each recording's money
                          (after commission) goes to its performers

Named presets (``presets.json``, each with its sources) make the classic models one word:
``pro-rata``, ``user-centric``, ``artist-centric``, ``spotify-2024``, ``performer-remuneration``.

**Money stays exact.** The distribution models split each pool to the minor unit
(largest remainder); a floor takes the money it needs from the recordings above it by the same
rule; commission and remuneration are rounded down per recording (what is rounded away stays
with the recording's rightholders). Every outcome is checked: paid + held = revenue, per currency.

:func:`compare` sets two outcomes side by side per artist and summarises the shift by popularity
tier (top 10, 100, 1,000, 10,000 artists), by decile, by genre, origin (local or foreign
repertoire), vintage (front-line or catalogue), label type and kind of work, with the gains and
losses in money and percent (bands at ±40 % and doubling, as the Pro Musik study reports them).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa

from obra.canonical import sha256_hex
from obra.errors import InvalidInput, Problem
from obra.ids import ascii_digits
from obra.money import assert_conserved
from obra.royalties.distribution import ArtistCentric, distribute
from obra.royalties.distribution.common import allocate_expr, item_ties
from obra.royalties.records import ALLOCATION_KEYS

PRESETS_FILE = Path(__file__).with_name("presets.json")
MODELS = ("pro-rata", "user-centric", "artist-centric")
RULES = ("model", "preset", "params", "min_item_streams", "per_user_cap", "per_play_floor_minor", "cmo_commission",
         "performer_remuneration")
SCENARIO_KEYS = ("name", "description", "rules", "baseline", "preset")
#: The popularity tiers of the CNM study (artists ranked by plays), as (label, first rank, last rank).
TIERS = (("1-10", 1, 10), ("11-100", 11, 100), ("101-1,000", 101, 1000), ("1,001-10,000", 1001, 10000),
         ("10,001+", 10001, None))
#: Bands of the change in percent (Pro Musik 2023): lose 40 % or more, lose less, unchanged, gain less than
#: 40 %, gain 40 % or more (not doubled), at least double.
BANDS = ("<=-40%", "-40%..0", "0", "0..+40%", ">=+40%", ">=+100%")
GROUPS = ("tier", "decile", "genre", "origin", "vintage", "label_type", "kind")


def presets() -> dict[str, dict]:
    """The named scenarios of ``presets.json`` (description, rules, sources)."""
    return json.loads(PRESETS_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Rules:
    """One set of payment rules (see the module docstring); checked when made."""

    model: str = "pro-rata"
    preset: str | None = None
    params: dict = field(default_factory=dict)
    min_item_streams: int = 0
    per_user_cap: int | None = None
    per_play_floor_minor: Decimal = Decimal(0)
    cmo_commission: Decimal = Decimal(0)
    performer_remuneration: Decimal = Decimal(0)

    def artist_params(self) -> ArtistCentric | None:
        """The artist-centric parameters these rules run with, or None for plain pro-rata / user-centric.

        Artist-centric without a preset or parameters is Deezer 2023; parameters override the preset's;
        a threshold or a cap on pro-rata is artist-centric with every weight 1.
        """
        from obra.royalties.distribution.artist_centric import artist_params

        if self.model != "artist-centric" and not self.min_item_streams and not self.per_user_cap:
            return None
        if self.model == "artist-centric":
            start = artist_params(self.preset) if self.preset or not self.params else ArtistCentric()
        else:
            start = ArtistCentric()
        merged = {**{f.name: getattr(start, f.name) for f in fields(ArtistCentric)}, **self.params}
        if isinstance(merged.get("user_initiated_use_types"), list):
            merged["user_initiated_use_types"] = tuple(merged["user_initiated_use_types"])
        if self.min_item_streams:
            merged["min_item_streams"] = self.min_item_streams
        if self.per_user_cap:
            merged["per_user_cap"] = self.per_user_cap
        return ArtistCentric(**merged)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"model": self.model}
        if self.preset:
            out["preset"] = self.preset
        if self.params:
            out["params"] = dict(self.params)
        for name in ("min_item_streams", "per_user_cap"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        for name in ("per_play_floor_minor", "cmo_commission", "performer_remuneration"):
            if getattr(self, name):
                out[name] = str(getattr(self, name))
        return out


def _rate(value: Any, name: str, where: str, upper: Decimal | None = Decimal(1)) -> Decimal:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite() or rate < 0 or (upper is not None and rate > upper) \
            or isinstance(value, bool):
        bound = f"between 0 and {upper}" if upper is not None else "a non-negative number"
        raise InvalidInput(Problem(f"{name} must be {bound} (a decimal such as \"0.12\"), not {value!r}",
                                   field=f"{where}.{name}"))
    return rate


def _count(value: Any, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(Problem(f"{name} must be a whole number of plays (0 or more), not {value!r}",
                                   field=f"{where}.{name}"))
    return value


def parse_rules(data: Any, where: str = "rules") -> Rules:
    """Rules from a dict, every key and value checked (an unknown rule is named, with the known ones)."""
    from obra.royalties.distribution import ARTIST_CENTRIC_PRESETS

    if not isinstance(data, dict):
        raise InvalidInput(Problem(f"{where} must be an object of rules ({', '.join(RULES)})", field=where))
    unknown = sorted(set(data) - set(RULES))
    if unknown:
        raise InvalidInput(Problem(f"unknown rule '{unknown[0]}' in {where}; known rules: {', '.join(RULES)}",
                                   field=f"{where}.{unknown[0]}"))
    model = data.get("model", "pro-rata")
    if model not in MODELS:
        raise InvalidInput(Problem(f"unknown model {model!r}; known models: {', '.join(MODELS)}",
                                   field=f"{where}.model"))
    preset = data.get("preset")
    if preset is not None and preset not in ARTIST_CENTRIC_PRESETS:
        raise InvalidInput(Problem(f"unknown artist-centric preset {preset!r}; known: "
                                   f"{', '.join(sorted(ARTIST_CENTRIC_PRESETS))}", field=f"{where}.preset"))
    params = data.get("params") or {}
    known_params = [f.name for f in fields(ArtistCentric)]
    if not isinstance(params, dict):
        raise InvalidInput(Problem(f"params must be an object of artist-centric parameters "
                                   f"({', '.join(known_params)})", field=f"{where}.params"))
    for name in params:
        if name not in known_params:
            raise InvalidInput(Problem(f"unknown artist-centric parameter '{name}'; known: {', '.join(known_params)}",
                                       field=f"{where}.params.{name}"))
    if (preset or params) and model != "artist-centric":
        raise InvalidInput(Problem(f"preset and params belong to the artist-centric model, not {model}",
                                   field=f"{where}.model"))
    if model == "user-centric" and (data.get("min_item_streams") or data.get("per_user_cap")):
        raise InvalidInput(Problem("min_item_streams and per_user_cap weigh plays: use them with pro-rata or "
                                   "artist-centric, not user-centric", field=f"{where}.model"))
    cap = data.get("per_user_cap")
    rules = Rules(model=model, preset=preset, params=dict(params),
                  min_item_streams=_count(data.get("min_item_streams", 0), "min_item_streams", where),
                  per_user_cap=_count(cap, "per_user_cap", where) or None if cap is not None else None,
                  per_play_floor_minor=_rate(data.get("per_play_floor_minor", 0), "per_play_floor_minor", where,
                                             None),
                  cmo_commission=_rate(data.get("cmo_commission", 0), "cmo_commission", where),
                  performer_remuneration=_rate(data.get("performer_remuneration", 0), "performer_remuneration",
                                               where))
    try:
        rules.artist_params()
    except InvalidInput as exc:
        raise InvalidInput(Problem(f"{exc}", field=f"{where}.params")) from None
    except TypeError as exc:
        raise InvalidInput(Problem(f"bad artist-centric parameters: {exc}", field=f"{where}.params")) from None
    return rules


@dataclass(frozen=True)
class Scenario:
    """A named set of rules compared with a baseline."""

    name: str
    rules: Rules
    baseline: Rules = field(default_factory=Rules)
    description: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "rules": self.rules.to_dict(),
                "baseline": self.baseline.to_dict()}

    @property
    def hash(self) -> str:
        """SHA-256 of the scenario's canonical JSON: what the report records as the rule pack used."""
        return sha256_hex(self.to_dict())


def preset_scenario(name: str) -> Scenario:
    """The scenario of a named preset, against pro-rata."""
    known = presets()
    if name not in known:
        raise InvalidInput(Problem(f"unknown scenario preset {name!r}; known: {', '.join(sorted(known))}",
                                   field="preset"))
    entry = known[name]
    return Scenario(name, parse_rules(entry["rules"], f"preset {name}"), Rules(), entry["description"])


def parse_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """A scenario from its parsed document; every problem names the key."""
    if isinstance(data, str):
        return preset_scenario(data)
    if not isinstance(data, dict):
        raise InvalidInput(Problem("a scenario is an object with name, rules and optionally baseline",
                                   field="scenario", source=source))
    unknown = sorted(set(data) - set(SCENARIO_KEYS))
    if unknown:
        raise InvalidInput(Problem(f"unknown scenario key '{unknown[0]}'; known keys: {', '.join(SCENARIO_KEYS)}",
                                   field=unknown[0], source=source))
    try:
        if "preset" in data:
            base = preset_scenario(data["preset"])
            rules = base.rules if "rules" not in data else parse_rules(data["rules"])
            description = data.get("description", base.description)
        else:
            if "rules" not in data:
                raise InvalidInput(Problem(f"a scenario needs rules (an object of {', '.join(RULES)}) or a preset",
                                           field="rules"))
            rules, description = parse_rules(data["rules"]), data.get("description", "")
        baseline = parse_rules(data["baseline"], "baseline") if "baseline" in data else Rules()
    except InvalidInput as exc:
        problem = exc.problems[0] if getattr(exc, "problems", None) else Problem(str(exc))
        raise InvalidInput(Problem(problem.message, field=problem.field, source=source)) from None
    name = data.get("name") or data.get("preset") or "scenario"
    if not isinstance(name, str) or not isinstance(description, str):
        raise InvalidInput(Problem("name and description must be text", field="name", source=source))
    return Scenario(name, rules, baseline, description)


def load_scenario(path: str | Path) -> Scenario:
    """A scenario file: JSON (``.json``) or TOML (``.toml``); a preset's name is accepted too."""
    path = Path(path)
    if not path.exists() and str(path) in presets():
        return preset_scenario(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(Problem(f"cannot read the scenario file: {exc}", source=str(path)),
                           hint=f"give a JSON or TOML file, or a preset: {', '.join(sorted(presets()))}") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InvalidInput(Problem(f"the scenario is not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON'}:"
                                   f" {exc}", source=path.name, line=line)) from None
    return parse_scenario(data, path.name)


# --------------------------------------------------------------------------- running rules on a market
@dataclass
class Outcome:
    """The money of one set of rules: per pool and item, what the item's rightholders, its performers
    (remuneration right) and the CMO (commission) get; and what is held unallocated."""

    rules: Rules
    items: pa.Table        # ALLOCATION_KEYS, item, plays, amount_minor, commission_minor, performers_minor, rightholders_minor
    held: dict[str, int]   # currency -> unallocated
    revenue: dict[str, int]
    #: per_artist's frames of this outcome, by (attributes, period): the report asks for the base's several times
    artists: dict = field(default_factory=dict, repr=False, compare=False)

    def paid_to_creators(self) -> pa.Table:
        """Per item and currency, the money that reaches rightholders and performers (after commission)."""
        import pyarrow.compute as pc

        t = self.items
        return t.append_column("creators_minor", pc.add(t["rightholders_minor"], t["performers_minor"]))


def _fraction_parts(rate: Decimal) -> tuple[int, int]:
    f = Fraction(rate)
    return f.numerator, f.denominator


def _floor_mul(col: ibis.Value, rate: Decimal) -> ibis.Value:
    """``floor(col × rate)`` in integers (rate as an exact fraction)."""
    num, den = _fraction_parts(rate)
    product = col.cast("int64") * num
    return ((product - product % den) // den).cast("int64")


def apply_floor(alloc: ibis.Table, floor: Decimal) -> ibis.Table:
    """Raise every item below ``floor`` minor units per play to it, paid by the items above it in its pool.

    The money the floors need is split over the items above the floor in proportion to what they
    have above it (largest remainder, so the pool's total does not change). When the pool cannot pay
    every floor, the whole pool is split in proportion to the floors instead.
    """
    keys = list(ALLOCATION_KEYS)
    t = alloc.mutate(_floor=_floor_mul(alloc.plays, floor))
    t = t.mutate(_deficit=ibis.greatest(t._floor - t.amount_minor, 0).cast("int64"),
                 _excess=ibis.greatest(t.amount_minor - t._floor, 0).cast("int64"))
    t = t.mutate(_need=t._deficit.sum().over(group_by=keys).cast("int64"),
                 _have=t._excess.sum().over(group_by=keys).cast("int64"),
                 _pool=t.amount_minor.sum().over(group_by=keys).cast("int64"))
    t = allocate_expr(t, keys, "_need", "_excess", item_ties, out="_take")
    t = allocate_expr(t, keys, "_pool", "_floor", item_ties, out="_scaled")
    feasible = t._need <= t._have
    amount = ibis.ifelse(feasible, ibis.greatest(t.amount_minor, t._floor) - t._take.fill_null(0),
                         t._scaled.fill_null(0))
    return t.mutate(amount_minor=amount.cast("int64")).drop("_floor", "_deficit", "_excess", "_need", "_have",
                                                             "_pool", "_take", "_scaled")


def run_rules(rules: Rules, usage: ibis.Table, pools: ibis.Table, matches: ibis.Table | None,
              runs: dict | None = None, stage: Any = None) -> Outcome:
    """Distribute the market under ``rules`` and split each item's money into commission, performers
    and rightholders; money conservation is checked.

    ``runs`` (a dict the caller keeps) reuses a distribution already made with the same model and
    parameters: rules that differ only in floors, commission or remuneration share it. ``stage`` (a
    :class:`obra.observatory.kernels.Stage` of the same data, DuckDB only) runs the models as set-based
    SQL over the staged lines instead of the royalty engine's Ibis models (the same money, tested).
    """
    params = rules.artist_params()
    model = "artist-centric" if params is not None else rules.model
    key = (model, params)
    run = (runs or {}).get(key)
    if run is None:
        if stage is not None:
            run = stage.distribute(model, params)
        else:
            run = distribute(usage, pools, matches, model=model, params=params)
        if runs is not None:
            runs[key] = run
    alloc = run.allocations.select(*ALLOCATION_KEYS, "item", "plays", "amount_minor")
    if rules.per_play_floor_minor:
        alloc = apply_floor(alloc, rules.per_play_floor_minor)
    commission = _floor_mul(alloc.amount_minor, rules.cmo_commission) if rules.cmo_commission \
        else ibis.literal(0, "int64")
    alloc = alloc.mutate(commission_minor=commission)
    after = alloc.amount_minor - alloc.commission_minor
    performers = _floor_mul(after, rules.performer_remuneration) if rules.performer_remuneration \
        else ibis.literal(0, "int64")
    alloc = alloc.mutate(performers_minor=performers)
    alloc = alloc.mutate(rightholders_minor=(alloc.amount_minor - alloc.commission_minor
                                             - alloc.performers_minor).cast("int64"))
    items = alloc.order_by([*ALLOCATION_KEYS, "item"]).to_pyarrow()
    held_rows = run.unallocated.group_by("currency").aggregate(s=run.unallocated.amount_minor.sum()) \
        .to_pyarrow().to_pylist()
    held = {r["currency"]: int(r["s"] or 0) for r in held_rows}
    revenue = {c: v.revenue for c, v in run.conservation.items()}
    paid = {r["currency"]: int(r["amount_minor_sum"])
            for r in items.group_by("currency").aggregate([("amount_minor", "sum")]).to_pylist()}
    for cur in set(revenue) | set(paid) | set(held):
        assert_conserved(revenue.get(cur, 0), paid.get(cur, 0), held.get(cur, 0),
                         context=f"scenario {rules.model} in {cur}")
    return Outcome(rules, items, held, revenue)


# --------------------------------------------------------------------------- who gains, who loses
def _band(base: int, other: int) -> str:
    if base == 0:
        return ">=+100%" if other > 0 else "0"
    change = Fraction(other - base, base)
    if change <= Fraction(-2, 5):
        return "<=-40%"
    if change < 0:
        return "-40%..0"
    if change == 0:
        return "0"
    if change >= 1:
        return ">=+100%"
    if change >= Fraction(2, 5):
        return ">=+40%"
    return "0..+40%"


def _bands(base: np.ndarray, other: np.ndarray) -> np.ndarray:
    """:func:`_band` of every artist at once, in integers (a change of ``(other - base) / base``)."""
    base = np.asarray(base, dtype=np.int64)
    other = np.asarray(other, dtype=np.int64)
    d = other - base
    out = np.select([base == 0, 5 * d <= -2 * base, d < 0, d == 0, d >= base, 5 * d >= 2 * base],
                    [np.where(other > 0, ">=+100%", "0"), "<=-40%", "-40%..0", "0", ">=+100%", ">=+40%"],
                    "0..+40%").astype(object)
    for k in np.nonzero(base < 0)[0]:    # no money is negative; if it were, the exact rule decides
        out[k] = _band(int(base[k]), int(other[k]))
    return out


def _pct(base: int, other: int) -> str | None:
    """The change in percent as an exact decimal string (two places, half even), None from zero."""
    if base == 0:
        return None
    return str((Decimal(other - base) * 100 / Decimal(base)).quantize(Decimal("0.01")))


def per_artist(outcome: Outcome, attributes: pa.Table | None, period: str) -> "Any":
    """A pandas frame per currency and artist: plays, creators' money, and the artist's groups.

    An artist's group (genre, origin, vintage, label type, kind) is the group of most of its plays
    (ties: the first in order). One grouped query (DuckDB over the Arrow tables, whatever engine ran
    the model): a national market has hundreds of thousands of item rows per outcome.
    """
    import duckdb

    key = (id(attributes), period)
    if key in outcome.artists and outcome.artists[key][0] is attributes:
        return outcome.artists[key][1].copy()
    t = outcome.paid_to_creators().select(["territory", "currency", "item", "plays", "creators_minor"])
    attrs = pa.Table.from_pandas(item_groups(attributes, t["item"].unique().to_pylist()), preserve_index=False)
    attrs = attrs.cast(pa.schema([(c, pa.int64() if c == "year" else pa.string()) for c in attrs.column_names]))
    year = int(period[:4]) if ascii_digits(period[:4]) else None
    vintage = ("'unknown'" if year is None else
               f"CASE WHEN a.year IS NULL THEN 'unknown' WHEN a.year >= {year - 1} THEN 'front-line' "
               "ELSE 'catalogue' END")
    groups = ("genre", "origin", "vintage", "label_type", "kind")
    # pandas' groupby left out a null group; so does this (an artist without one gets null, as before)
    majors = ",\n".join(f"""g_{g} AS (SELECT currency, artist, first({g} ORDER BY s DESC, {g}) AS {g}
              FROM (SELECT currency, artist, {g}, sum(plays) AS s FROM rows WHERE {g} IS NOT NULL GROUP BY ALL)
              GROUP BY ALL)""" for g in groups)
    joins = " ".join(f"LEFT JOIN g_{g} USING (currency, artist)" for g in groups)
    db = duckdb.connect()
    try:
        db.register("t", t)
        db.register("attrs", attrs)
        frame = db.sql(f"""
            WITH rows AS (
              SELECT t.currency, coalesce(a.artist, t.item) AS artist, t.plays, t.creators_minor, a.genre,
                     CASE WHEN a.origin_country IS NULL THEN 'unknown'
                          WHEN a.origin_country = t.territory THEN 'local' ELSE 'foreign' END AS origin,
                     {vintage} AS vintage, a.label_type, a.kind
              FROM t LEFT JOIN attrs a ON t.item = a.item),
            totals AS (SELECT currency, artist, sum(plays)::BIGINT AS plays,
                              sum(creators_minor)::BIGINT AS creators_minor FROM rows GROUP BY ALL),
            {majors}
            SELECT totals.currency, totals.artist, plays, creators_minor, {', '.join(groups)}
            FROM totals {joins} ORDER BY currency, artist""").to_arrow_table()
    finally:
        db.close()
    frame = frame.to_pandas()
    outcome.artists[key] = (attributes, frame)
    return frame.copy()


ATTRIBUTES = ("item", "artist", "genre", "origin_country", "year", "label_type", "kind", "creation_mode")


def item_groups(attributes: pa.Table | None, items: Any) -> "Any":
    """The attribute frame for ``items`` (unknown where the registry says nothing)."""
    import pandas as pd

    if attributes is None:
        frame = pd.DataFrame({"item": list(items)})
    else:
        frame = attributes.to_pandas()
    for col in ATTRIBUTES:
        if col not in frame:
            frame[col] = None
    frame = frame[list(ATTRIBUTES)].copy()
    for col in ("genre", "label_type", "kind"):
        frame[col] = frame[col].fillna("unknown")
    return frame.drop(columns=["creation_mode"])


def compare(base: Outcome, other: Outcome, attributes: pa.Table | None, period: str, top: int = 10) -> dict:
    """Who gains and who loses, per currency: by tier, decile and group, with bands and the largest moves."""
    import pandas as pd

    a = per_artist(base, attributes, period)
    b = per_artist(other, attributes, period)
    keys = ["currency", "artist"]
    groups = ["genre", "origin", "vintage", "label_type", "kind"]
    j = a.merge(b[keys + ["creators_minor", "plays"]], on=keys, how="outer", suffixes=("_base", "_other"))
    for g in groups:
        j[g] = j[g].fillna("unknown")
    j["base_minor"] = j["creators_minor_base"].fillna(0).astype("int64")
    j["other_minor"] = j["creators_minor_other"].fillna(0).astype("int64")
    j["plays"] = j[["plays_base", "plays_other"]].max(axis=1).fillna(0).astype("int64")
    j["change_minor"] = j["other_minor"] - j["base_minor"]
    out: dict[str, Any] = {"base": base.rules.to_dict(), "other": other.rules.to_dict(), "currencies": {}}
    for cur, c in j.groupby("currency", sort=True):
        c = c.sort_values(["plays", "artist"], ascending=[False, True]).reset_index(drop=True)
        c["rank"] = np.arange(1, len(c) + 1)
        c["tier"] = pd.cut(c["rank"], [0] + [t[2] for t in TIERS[:-1]] + [np.inf],
                           labels=[t[0] for t in TIERS]).astype(str)
        n = len(c)
        c["decile"] = (10 - (np.arange(n) * 10 // max(n, 1))).astype(int)   # 10 = the most played
        c["band"] = _bands(c["base_minor"].to_numpy(), c["other_minor"].to_numpy())
        cur_out: dict[str, Any] = {"artists": n, "gainers": int((c["change_minor"] > 0).sum()),
                                   "losers": int((c["change_minor"] < 0).sum()),
                                   "base_minor": int(c["base_minor"].sum()),
                                   "other_minor": int(c["other_minor"].sum())}
        c["gainer"] = (c["change_minor"] > 0).astype("int64")
        c["loser"] = (c["change_minor"] < 0).astype("int64")
        for g in GROUPS:
            rows = []
            agg = c.groupby(g, sort=False).agg(artists=("artist", "count"), plays=("plays", "sum"),
                                               base_minor=("base_minor", "sum"), other_minor=("other_minor", "sum"),
                                               gainers=("gainer", "sum"), losers=("loser", "sum"))
            order = [t[0] for t in TIERS] if g == "tier" else (list(range(10, 0, -1)) if g == "decile"
                                                               else sorted(agg.index, key=str))
            for key in order:
                if key not in agg.index:
                    continue
                r = agg.loc[key]
                base_minor, other_minor = int(r["base_minor"]), int(r["other_minor"])
                rows.append({g: key if g != "decile" else int(key), "artists": int(r["artists"]),
                             "plays": int(r["plays"]), "base_minor": base_minor, "other_minor": other_minor,
                             "change_minor": other_minor - base_minor, "change_pct": _pct(base_minor, other_minor),
                             "base_share": _share(base_minor, cur_out["base_minor"]),
                             "other_share": _share(other_minor, cur_out["other_minor"]),
                             "gainers": int(r["gainers"]), "losers": int(r["losers"])})
            cur_out[f"by_{g}"] = rows
        cur_out["bands"] = {band: int((c["band"] == band).sum()) for band in BANDS}
        cols = ["artist", "plays", "base_minor", "other_minor", "change_minor"]
        gain = c[c["change_minor"] > 0].sort_values(["change_minor", "artist"], ascending=[False, True]).head(top)
        lose = c[c["change_minor"] < 0].sort_values(["change_minor", "artist"], ascending=[True, True]).head(top)
        cur_out["top_gainers"] = [_plain(r) for r in gain[cols].to_dict("records")]
        cur_out["top_losers"] = [_plain(r) for r in lose[cols].to_dict("records")]
        out["currencies"][str(cur)] = cur_out
    return out


def _share(part: int, total: int) -> str:
    return str((Decimal(part) / Decimal(total)).quantize(Decimal("0.000001"))) if total else "0"


def _plain(row: dict) -> dict:
    return {k: (int(v) if isinstance(v, (np.integer, int)) else str(v)) for k, v in row.items()}
