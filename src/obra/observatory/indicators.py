"""The observatory's indicators: each one a query over the market, kept with the query that made it.

Every indicator is a function of a :class:`~obra.observatory.market.Market` (or of the store, for
registrations and runs) returning a :class:`Figure`: its rows, the dotted name of the function
(the method, as code) and, for what the engine computes, the SQL the engine ran. The same Ibis
expressions run on DuckDB and on Spark.

* :func:`revenue` — money per service × territory × commercial model × currency, with subscribers;
* :func:`plays` — plays, usage lines and distinct listeners per slice;
* :func:`rates` — the effective per-play and per-listener rates, exact (minor units, six places);
* :func:`play_sources` — plays by how the listener came to them, where reports say (use types);
* :func:`matching` — usage lines and plays by how they were matched, the unmatched share;
* :func:`by_kind` — money by kind of work (music, audiovisual, visual art) and creation mode;
* :func:`concentration` — per artist and per item: top shares, Gini, Theil with its breakdown by
  genre and origin, the Lorenz curve and how many reach income and play thresholds;
* :func:`value_split` / :func:`payees` — where a distribution run's money went, by role and payee
  (read from the run's statement lines, so it reconciles with the statements to the minor unit);
* :func:`unmatched_ageing` — money held for claims per period, its age, and what claims recovered;
* :func:`registrations` — registrations by kind of work and creation mode (human, AI-assisted,
  AI-generated);
* :func:`ai_licensing` — AI licence income and its split, read from the ``ai_licences`` table
  when the AI-licensing capability has created it (otherwise reported as not available).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
from sqlalchemy import func, inspect, select

from obra.money import minor_exponent
from obra.observatory import inequality
from obra.observatory.market import Market

#: How a listener came to a play, by the use type a report gives (DDEX and Obra's CSV spellings).
#: Types not listed are shown as they are, under "as reported".
PLAY_SOURCES = {
    "OnDemandStream": "listener's choice", "on_demand": "listener's choice", "user_initiated": "listener's choice",
    "search": "listener's choice", "library": "listener's own library",
    "NonInteractiveStream": "programmed", "programmed": "programmed", "radio": "programmed",
    "autoplay": "autoplay", "algorithmic_playlist": "algorithmic playlist", "editorial_playlist": "editorial playlist",
    "PermanentDownload": "download", "download": "download", "stream": "not said", "Stream": "not said",
}
#: Income thresholds in major units of the currency (a period's income), after Spotify's Loud & Clear tiers.
INCOME_THRESHOLDS = (10, 100, 1_000, 10_000, 100_000)
#: Play thresholds in a period (1,000,000 streams a month is the MCE/IPO "living" benchmark).
PLAY_THRESHOLDS = (1_000, 10_000, 100_000, 1_000_000)


@dataclass
class Figure:
    """One indicator: its rows, the function that computed it and the engine's SQL (if any)."""

    id: str
    rows: Any
    method: str
    query: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"rows": self.rows, "method": self.method, "query": self.query, "notes": self.notes}


def _method(fn: Any) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def sql(market: Market, expr: ibis.Expr) -> str | None:
    """The SQL an expression runs, with the market's tables under their contract names."""
    try:
        text = str(ibis.to_sql(expr))
    except Exception:  # noqa: BLE001 - a backend without a SQL compiler: the method still says how
        return None
    for name in ("usage", "pools", "matches"):
        table = getattr(market, name)
        if table is not None:
            try:
                text = text.replace(table.get_name(), name)
            except Exception:  # noqa: BLE001
                pass
    return re.sub(r"ibis_[a-z_]*[a-z0-9]{20,}", "tmp", text)


def _rows(expr: ibis.Expr) -> list[dict]:
    out = []
    for r in expr.to_pyarrow().to_pylist():
        out.append({k: (int(v) if isinstance(v, (int, np.integer, Decimal)) and not isinstance(v, bool) else v)
                    for k, v in r.items()})
    return out


SLICE = ["service", "territory", "commercial_model"]


def revenue(market: Market) -> Figure:
    """The money of each slice (service, territory, commercial model, currency) and its subscribers."""
    p = market.pools
    expr = p.group_by(SLICE + ["currency"]).aggregate(
        amount_minor=p.amount_minor.sum().cast("int64"), subscribers=p.user_id.nunique().cast("int64")) \
        .order_by(SLICE + ["currency"])
    return Figure("revenue", _rows(expr), _method(revenue), sql(market, expr))


def plays(market: Market, stage: Any = None) -> Figure:
    """Plays, usage lines and distinct listeners per slice.

    ``stage``: the market's :class:`obra.observatory.kernels.Stage` (DuckDB), whose staged tables this
    and the next two indicators read instead of the usage files (the same rows, tested; one scan for all
    three). The figure's query stays the SQL over the contract datasets, which a reader can rerun.
    """
    u = market.usage
    expr = u.group_by(SLICE).aggregate(plays=u.plays.sum().cast("int64"), lines=u.count().cast("int64"),
                                       listeners=u.user_id.nunique().cast("int64")).order_by(SLICE)
    rows = stage.plays_by_slice()[0] if stage is not None else _rows(expr)
    return Figure("plays", rows, _method(plays), sql(market, expr))


def _per(amount: int, count: int) -> str | None:
    """``amount / count`` in minor units, exact to six places (half even), as text; None when count is 0."""
    if not count:
        return None
    return str((Decimal(amount) / Decimal(count)).quantize(Decimal("0.000001")))


def rates(revenue_fig: Figure, plays_fig: Figure) -> Figure:
    """Effective rates per slice: money per play and per listener (paying subscribers where the
    pools name them, else distinct listeners), in minor units."""
    played = {tuple(r[k] for k in SLICE): r for r in plays_fig.rows}
    rows = []
    for r in revenue_fig.rows:
        p = played.get(tuple(r[k] for k in SLICE), {"plays": 0, "listeners": 0})
        listeners = r["subscribers"] or p["listeners"]
        rows.append({**{k: r[k] for k in SLICE}, "currency": r["currency"], "amount_minor": r["amount_minor"],
                     "plays": p["plays"], "listeners": listeners,
                     "per_play_minor": _per(r["amount_minor"], p["plays"]),
                     "per_listener_minor": _per(r["amount_minor"], listeners),
                     "per_million_plays_minor": _per(r["amount_minor"] * 1_000_000, p["plays"])})
    return Figure("rates", rows, _method(rates),
                  notes=["rate = the slice's pool ÷ its plays (or listeners); pools are what the service pays "
                         "rightholders, so these are rightholder rates, not consumer prices"])


def play_sources(market: Market, stage: Any = None) -> Figure:
    """Plays by use type and what it says about how the listener came to the play."""
    u = market.usage
    expr = u.group_by("use_type").aggregate(plays=u.plays.sum().cast("int64"), lines=u.count().cast("int64")) \
        .order_by("use_type")
    rows = stage.by_use_and_method()[0] if stage is not None else _rows(expr)
    total = sum(r["plays"] for r in rows) or 1
    for r in rows:
        r["source"] = PLAY_SOURCES.get(r["use_type"], "as reported")
        r["share"] = str((Decimal(r["plays"]) / Decimal(total)).quantize(Decimal("0.000001")))
    notes = []
    if all(r["source"] in ("not said", "as reported") for r in rows):
        notes.append("these reports do not say how listeners came to the plays (playlist, search, autoplay)")
    return Figure("play_sources", rows, _method(play_sources), sql(market, expr), notes)


def matching(market: Market, stage: Any = None) -> Figure:
    """Usage lines and plays by match method (``none`` = unmatched, money held for claims)."""
    u = market.usage
    if market.matches is None:
        return Figure("matching", [], _method(matching), notes=["no matches for this period"])
    m = market.matches.select("source", "line", "method")
    j = u.select("source", "line", "plays").left_join(m, ["source", "line"])
    j = j.mutate(method=j.method.fill_null("none"))
    expr = j.group_by("method").aggregate(lines=j.count().cast("int64"), plays=j.plays.sum().cast("int64")) \
        .order_by("method")
    rows = stage.by_use_and_method()[1] if stage is not None else _rows(expr)
    return Figure("matching", rows, _method(matching), sql(market, expr))


# --------------------------------------------------------------------------- concentration
def concentration(per_artist: Any, per_item: Any, thresholds: dict | None = None) -> Figure:
    """Concentration per currency over artists and over items, from a model's money per unit.

    ``per_artist``/``per_item``: frames with ``currency``, the unit, ``plays``, ``creators_minor`` and
    (artists) ``genre`` and ``origin``. Thresholds: ``{"income_major": [...], "plays": [...]}``.
    """
    thresholds = thresholds or {}
    income_major = thresholds.get("income_major", INCOME_THRESHOLDS)
    play_marks = thresholds.get("plays", PLAY_THRESHOLDS)
    rows = {}
    for cur in sorted(set(per_artist["currency"])):
        a = per_artist[per_artist["currency"] == cur]
        i = per_item[per_item["currency"] == cur]
        money = a["creators_minor"].to_numpy(dtype=np.int64)
        scale = 10 ** minor_exponent(cur)
        out = {"artists": inequality.summary(money), "items": inequality.summary(i["creators_minor"].to_numpy(np.int64)),
               "artists_by_plays": inequality.summary(a["plays"].to_numpy(np.int64)),
               "lorenz_artists": inequality.lorenz(money, 20),
               "theil_by_genre": inequality.theil_decomposition(money, a["genre"].astype(str).to_numpy()).to_dict(),
               "theil_by_origin": inequality.theil_decomposition(money, a["origin"].astype(str).to_numpy()).to_dict(),
               "income_thresholds": [{"major": t, "minor": t * scale, "artists": n}
                                     for t, n in zip(income_major, inequality.at_least(
                                         money, [t * scale for t in income_major]).values())],
               "play_thresholds": [{"plays": t, "artists": n}
                                   for t, n in inequality.at_least(a["plays"].to_numpy(np.int64), play_marks).items()]}
        rows[cur] = out
    return Figure("concentration", rows, _method(concentration),
                  notes=["units are artists (a recording's registered artist) and items (recordings); incomes are "
                         "what reaches rightholders and performers under the model, before their own contracts",
                         "most units earn little in one period: read the top shares and the Lorenz curve, "
                         "not the median"])


# --------------------------------------------------------------------------- from a distribution run
#: Who a payee is, from the roles of its party in the registry (the first that applies, in this order).
PARTY_CLASSES = (("cmo", "collecting society"), ("publisher", "publishers"), ("label", "labels and producers"),
                 ("producer", "labels and producers"), ("composer", "authors"), ("author", "authors"),
                 ("lyricist", "authors"), ("arranger", "authors"), ("translator", "authors"),
                 ("featured_performer", "performers"), ("non_featured_performer", "performers"),
                 ("performer", "performers"))


def party_classes(store: Any) -> dict[str, str]:
    """Party id (as text) → who it is in the value chain (authors, publishers, performers, ...)."""
    from obra.store.schema import parties

    out = {}
    with store.connect() as conn:
        for pid, roles in conn.execute(select(parties.c.id, parties.c.roles)):
            roles = set(roles or [])
            out[str(pid)] = next((label for role, label in PARTY_CLASSES if role in roles), "other")
    return out


def value_split(market: Market, run: dict, classes: dict[str, str] | None = None) -> Figure:
    """Where a run's money went, per currency: by who the payees are (authors, publishers, performers,
    labels, the CMO's commission, from the registry's party roles) and held unallocated, from the run's
    statement lines."""
    directory = Path(run["directory"])
    lines_file = directory / "statement_lines.parquet"
    report = json.loads((directory / "run.json").read_text())
    rows: list[dict] = []
    query = None
    if lines_file.exists():
        from obra.royalties import engine as engines

        t = engines.read_parquet(market.con, str(lines_file))
        expr = t.group_by(["currency", "role", "payee"]).aggregate(amount_minor=t.amount_minor.sum().cast("int64")) \
            .order_by(["currency", "role", "payee"])
        query = re.sub(r"ibis_[a-z_]*[a-z0-9]{20,}", "statement_lines", sql(market, expr) or "")
        sums: dict[tuple, list[int]] = {}
        for r in expr.to_pyarrow().to_pylist():
            who = "collecting society" if r["role"] == "cmo_commission" else (
                "performers" if r["role"] == "equitable_remuneration" else (classes or {}).get(str(r["payee"]), "other"))
            entry = sums.setdefault((r["currency"], who), [0, 0])
            entry[0] += int(r["amount_minor"])
            entry[1] += 1
        rows = [{"currency": cur, "role": who, "amount_minor": amount, "payees": n}
                for (cur, who), (amount, n) in sorted(sums.items())]
    for held in report.get("unallocated", []):
        rows.append({"currency": held["currency"], "role": f"unallocated: {held['reason']}",
                     "amount_minor": int(held["amount_minor"]), "payees": 0})
    totals = {cur: {"revenue": c["revenue"], "distributed": c["distributed"], "unallocated": c["unallocated"]}
              for cur, c in report.get("conservation", {}).items()}
    return Figure("value_split", {"run": run["id"], "model": run["model"], "roles": rows, "totals": totals,
                                  "totals_hash": report.get("totals_hash")},
                  _method(value_split), query or None,
                  ["the platform's own share is not in the usage reports (pools are what it pays rightholders)",
                   "who a payee is comes from its party's roles in the registry; a CMO's commission and statutory "
                   "remuneration come from the statement line's role"])


def payees(market: Market, run: dict) -> Any:
    """Per payee and currency, what a run's statements pay (a pandas frame), for concentration."""
    lines_file = Path(run["directory"]) / "statement_lines.parquet"
    if not lines_file.exists():
        return None
    from obra.royalties import engine as engines

    t = engines.read_parquet(market.con, str(lines_file))
    return t.group_by(["currency", "payee"]).aggregate(amount_minor=t.amount_minor.sum().cast("int64")) \
        .order_by(["currency", "payee"]).to_pandas()


def unmatched_ageing(store: Any, period: str) -> Figure:
    """Money held for claims, per distribution period up to ``period``: at the first run, now, what
    later runs (after claims and matching) paid out of it, and its age in months."""
    from obra.royalties.pipeline import runs as all_runs

    rows = []
    first: dict[tuple, dict] = {}
    current: dict[tuple, dict] = {}
    for r in all_runs(store, "distribution"):
        if r["period"] > period:
            continue
        key = (r["period"], r["model"])
        first.setdefault(key, r)
        if r.get("superseded_by") is None:
            current[key] = r
    for key, now in sorted(current.items()):
        held_now = _held(now)
        held_first = _held(first[key])
        for cur in sorted(set(held_now) | set(held_first)):
            rows.append({"period": key[0], "model": key[1], "currency": cur, "age_months": _months(key[0], period),
                         "held_first_minor": held_first.get(cur, 0), "held_now_minor": held_now.get(cur, 0),
                         "recovered_minor": held_first.get(cur, 0) - held_now.get(cur, 0),
                         "runs": now["id"] - first[key]["id"] + 1 if now["id"] != first[key]["id"] else 1})
    return Figure("unmatched_ageing", rows, _method(unmatched_ageing),
                  notes=["recovered = held at the period's first run minus held at its current run "
                         "(money claims and later matching paid out)"])


def _held(run: dict) -> dict[str, int]:
    try:
        report = json.loads((Path(run["directory"]) / "run.json").read_text())
    except (OSError, ValueError):
        return {}
    return {cur: int(c.get("unallocated", 0)) for cur, c in report.get("conservation", {}).items()}


def _months(start: str, end: str) -> int | None:
    def index(p: str) -> int | None:
        m = re.match(r"^(\d{4})(?:-(\d{2})|-Q([1-4]))?$", p)
        if not m:
            return None
        year = int(m.group(1))
        month = int(m.group(2)) if m.group(2) else (3 * int(m.group(3)) - 2 if m.group(3) else 1)
        return year * 12 + month - 1
    a, b = index(start), index(end)
    return None if a is None or b is None else b - a


# --------------------------------------------------------------------------- from the registry
def registrations(store: Any, period: str | None = None) -> Figure:
    """Current registrations by entity, kind of work and creation mode (and how many were made in ``period``)."""
    from obra.store.schema import registrations as r

    cols = [r.c.entity, r.c.kind, r.c.creation_mode]
    stmt = select(*cols, func.count()).where(r.c.is_current, r.c.status != "withdrawn").group_by(*cols)
    with store.connect() as conn:
        rows = [{"entity": e, "kind": k or "unknown", "creation_mode": m, "registrations": int(n)}
                for e, k, m, n in conn.execute(stmt)]
    rows.sort(key=lambda x: (x["entity"], x["kind"], x["creation_mode"]))
    totals: dict[str, int] = {}
    for x in rows:
        totals[x["creation_mode"]] = totals.get(x["creation_mode"], 0) + x["registrations"]
    all_n = sum(totals.values()) or 1
    shares = {mode: str((Decimal(n) / Decimal(all_n)).quantize(Decimal("0.000001"))) for mode, n in sorted(totals.items())}
    return Figure("registrations", {"rows": rows, "by_creation_mode": totals, "shares": shares},
                  _method(registrations), str(stmt.compile(compile_kwargs={"literal_binds": True})))


def ai_licensing(store: Any, period: str) -> Figure:
    """AI licence income of ``period`` per currency, status and source, when the AI-licensing tables exist.

    Reads the ``ai_licence_income`` table of the AI-licensing capability (issue #15: one row per
    amount a licence brings per work, its ``period``, ``currency``, ``amount_minor``, ``source`` (fee,
    usage report, paid fetch) and ``status`` (pending, held, distributed)). The table is found in the
    database, not imported, so the observatory works in an installation without that capability and
    reports that no AI licence data exists there.
    """
    from sqlalchemy import MetaData, Table

    if "ai_licence_income" not in inspect(store.engine).get_table_names():
        return Figure("ai_licensing", None, _method(ai_licensing),
                      notes=["no AI licences in this installation (the ai_licence_income table does not exist)"])
    t = Table("ai_licence_income", MetaData(), autoload_with=store.engine)
    keys = [t.c.currency, t.c.status, t.c.source]
    stmt = (select(*keys, func.sum(t.c.amount_minor), func.count(), func.count(func.distinct(t.c.licence_id)),
                   func.count(func.distinct(t.c.number)))
            .where(t.c.period == period).group_by(*keys).order_by(*keys))
    with store.connect() as conn:
        rows = [{"currency": c, "status": st, "use": src, "amount_minor": int(a or 0), "lines": int(n),
                 "licences": int(lic), "works": int(w)} for c, st, src, a, n, lic, w in conn.execute(stmt)]
    return Figure("ai_licensing", rows, _method(ai_licensing), str(stmt.compile()),
                  ["status: pending (not yet distributed), held (outside the licence), distributed"])


def by_kind(items: Any, attributes: pa.Table | None) -> Figure:
    """Money by kind of work (musical, audiovisual, visual, literary) and creation mode, per currency."""
    import pandas as pd

    frame = items[["currency", "item", "plays", "creators_minor"]]
    if attributes is not None and attributes.num_rows:
        attrs = attributes.select(["item", "kind", "creation_mode"]).to_pandas()
        frame = frame.merge(attrs, on="item", how="left")
    else:
        frame = frame.assign(kind=None, creation_mode=None)
    frame = frame.fillna({"kind": "unknown", "creation_mode": "unknown"})
    g = frame.groupby(["currency", "kind", "creation_mode"], sort=True).agg(
        items=("item", "nunique"), plays=("plays", "sum"), amount_minor=("creators_minor", "sum")).reset_index()
    rows = [{k: (int(v) if isinstance(v, (np.integer,)) else v) for k, v in r.items()}
            for r in pd.DataFrame(g).to_dict("records")]
    return Figure("by_kind", rows, _method(by_kind))


def per_item(items: pa.Table) -> Any:
    """Per currency and item: plays and money to rightholders and performers (a pandas frame)."""
    frame = items.select(["currency", "item", "plays", "amount_minor", "commission_minor"]).to_pandas()
    frame["creators_minor"] = frame["amount_minor"] - frame["commission_minor"]
    return frame.groupby(["currency", "item"], sort=True).agg(
        plays=("plays", "sum"), creators_minor=("creators_minor", "sum")).reset_index()

