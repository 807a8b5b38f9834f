"""Artist-centric: pro-rata over *weighted* plays, with eligibility thresholds.

The parameters (:class:`ArtistCentric`) say which plays count more (a "professional"
artist's, those the listener chose), which count less (a listener's beyond a monthly cap)
and which not at all (an item below a minimum of plays). The presets are data,
``presets.json`` beside this module, each with its parameters, what it leaves out and its
sources: Deezer's 2023 model (``deezer-2023``) and Spotify's 2024 minimum-streams rule
(``spotify-2024``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import ibis

from obra.errors import InvalidInput, Problem
from obra.royalties.distribution.common import allocate_expr, item_ties
from obra.royalties.distribution.pro_rata import pro_rata_over
from obra.royalties.records import POOL_KEYS

#: The presets of this model, with their sources.
PRESETS_FILE = Path(__file__).with_name("presets.json")


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


def load_presets(path: Path = PRESETS_FILE) -> dict[str, ArtistCentric]:
    """The presets in ``path`` by name: each entry's ``parameters`` are :class:`ArtistCentric` fields."""
    data = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in fields(ArtistCentric)}
    for name, entry in data.items():
        unknown = sorted(set(entry["parameters"]) - known)
        if unknown:
            raise InvalidInput(Problem(f"preset '{name}' has unknown parameter(s) {', '.join(unknown)}; "
                                       f"known: {', '.join(sorted(known))}", field="parameters", source=path.name))
    return {name: ArtistCentric(**entry["parameters"]) for name, entry in data.items()}


#: Named parameter sets of real-world artist-centric rules (see ``presets.json`` for their sources).
ARTIST_CENTRIC_PRESETS: dict[str, ArtistCentric] = load_presets()


def artist_centric(lines: ibis.Table, pools: ibis.Table, params: ArtistCentric | str | None = None,
                   wide: bool = True, summed: ibis.Table | None = None,
                   usage: ibis.Table | None = None) -> tuple[ibis.Table, ibis.Table]:
    """Pro-rata over plays weighted by the artist-centric rules in ``params``."""
    p = artist_params(params)
    t = lines.mutate(artist_key=lines.artist.fill_null("").lower().strip())
    keys = list(POOL_KEYS) + ["item", "user_id", "use_type", "artist_key"]
    t = t.group_by(keys).aggregate(plays=t.plays.sum().cast("int64"))
    if p.per_user_cap:
        columns = t.columns
        users = t.filter(t.user_id.notnull())
        users = users.mutate(total=users.plays.sum().over(group_by=["period", "user_id"]))
        # Only a listener over the cap is scaled down (largest remainder); the rest keep their plays
        # exactly as the allocation would give them (a total allocated over itself), without it.
        over = users.filter(users.total > p.per_user_cap).mutate(cap=ibis.literal(p.per_user_cap, "int64"))

        def ties(u: ibis.Table) -> list:
            return [u[k].fill_null("") for k in ("territory", "service", "commercial_model")] + \
                item_ties(u) + [u.use_type.fill_null(""), u.artist_key]
        over = allocate_expr(over.drop("total"), ["period", "user_id"], "cap", "plays", ties, out="capped", wide=wide)
        over = over.mutate(plays=over.capped).select(*columns)
        under = users.filter(users.total <= p.per_user_cap).select(*columns)
        t = over.union(under).union(t.filter(t.user_id.isnull()).select(*columns))
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
    return pro_rata_over(t, pools, weight="weighted", wide=wide)


def artist_params(params: ArtistCentric | str | dict | None) -> ArtistCentric:
    """The parameters a run uses: a preset by name, explicit fields, or Deezer 2023 by default."""
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
