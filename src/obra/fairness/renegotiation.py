"""Renegotiation triggers: when a contract has become unfair, with the evidence and the law.

For every agreement, the creator's remuneration is compared with the revenue its exploitation
generated, period by period, from the stored runs (:mod:`obra.fairness.runs`), **per licensee
and per right used** (the BGH compares per defendant and only the share of the agreed pay
attributable to the rights that defendant used: *Das Boot III*, I ZR 9/18):

* **revenue generated** through an agreement = every statement line whose agreement path
  contains it (the assignor's part, the assignee's, and any sub-licensee's further down);
* **remuneration** = the assignor's lines ending in that agreement, plus the agreement's lump
  sum (:mod:`obra.fairness.terms`) allocated over licensees and rights in proportion to the
  revenue each generated (the notional share of *Das Boot III*);
* **appropriate remuneration** = revenue × the appropriate share (the agreement's terms, else
  the operator's benchmark for the jurisdiction).

Triggers (thresholds and periods from :mod:`obra.law.fairness`, each flag citing its rule):

``disproportion``
    remuneration < threshold × appropriate remuneration (UrhG § 32a: 1/2; CPI L131-5 I for a
    lump sum: 5/12; DSM Art. 20, Auteurswet 25d, CPI L131-5 II: the operator's number). Exact
    integer arithmetic; no rounding decides a flag.
``non_exploitation``
    no use for ``months`` after the grant or the last use, with history covering that window
    (UrhG § 41: 24 months and a grace-period notice).
``guarantee_shortfall``
    a period in which the assignor earned less than the agreement's per-use minimum guarantee.
``endless_recoupment``
    an advance still unrecouped whose recoupment, at the pace observed, would take longer than
    the policy horizon (Obra's policy, :class:`Policy`, not a rule of law; stated as such).

Agreements the check cannot judge are **named, skipped and counted** by reason (no
jurisdiction, a jurisdiction the law data does not know, no appropriate share). Everything
runs as a few DuckDB statements over the runs' Parquet files; only flagged rows come back to
Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, Iterable

import pyarrow as pa

from obra.fairness.runs import StoredRun, lines_relation, period_bounds
from obra.law.fairness import FairnessRule, RuleSet, fraction
from obra.model import Agreement

CHECK_FORMAT = "obra.renegotiation_check/1"


@dataclass(frozen=True)
class Policy:
    """Obra's own defaults where the law has no rule (stated as policy in every output)."""

    recoupment_horizon_years: int = 10
    recoupment_min_periods: int = 4


@dataclass
class CheckResult:
    """Flags with their evidence; skipped agreements by reason; what was read."""

    flags: list[dict] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    not_applicable: dict[str, list[str]] = field(default_factory=dict)
    agreements: int = 0
    lines: int = 0
    periods: list[str] = field(default_factory=list)
    law_version: str = ""
    rules_version: str = ""
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        by_trigger: dict[str, int] = defaultdict(int)
        for f in self.flags:
            by_trigger[f["trigger"]] += 1
        return {"agreements": self.agreements, "statement_lines": self.lines, "periods": self.periods,
                "flags": len(self.flags), "by_trigger": dict(sorted(by_trigger.items())),
                "skipped": {k: len(v) for k, v in sorted(self.skipped.items())},
                "not_applicable": {k: len(v) for k, v in sorted(self.not_applicable.items())}}

    def to_json(self) -> dict:
        return {"format": CHECK_FORMAT, "summary": self.summary(), "flags": self.flags,
                "skipped": {k: sorted(v, key=_num) for k, v in sorted(self.skipped.items())},
                "not_applicable": {k: sorted(v, key=_num) for k, v in sorted(self.not_applicable.items())},
                "law_version": self.law_version, "rules_version": self.rules_version, "notes": self.notes}


def _num(text: str) -> tuple:
    return (len(text), text)


# --------------------------------------------------------------------------- agreements → one table
AGREEMENT_SCHEMA = pa.schema([
    ("aid", pa.string()), ("aid_n", pa.int64()), ("keeps_nothing", pa.bool_()), ("assignor", pa.string()), ("assignee", pa.string()), ("start", pa.date32()),
    ("end", pa.date32()), ("currency", pa.string()), ("mg", pa.int64()), ("advance", pa.int64()),
    ("jurisdiction", pa.string()), ("contract", pa.string()), ("lump", pa.int64()), ("lump_currency", pa.string()),
    ("t_num", pa.int64()), ("t_den", pa.int64()), ("b_num", pa.int64()), ("b_den", pa.int64()),
    ("ne_months", pa.int32())])


def agreement_table(agreements: Iterable[Agreement], terms: dict[str, dict], rules: RuleSet,
                    result: CheckResult) -> tuple[pa.Table, "Context"]:
    """One row per agreement with its resolved rule numbers; skipped ones recorded in ``result``."""
    cols: dict[str, list] = defaultdict(list)
    ctx = Context()
    by_id, resolved = ctx.by_id, ctx.resolved

    def rule(code: str, trigger: str, contract: str):
        key = (code, trigger, contract)
        if key not in resolved:
            resolved[key] = rules.rule(code, trigger, contract)
        return resolved[key]

    benchmarks: dict[str, Fraction | None] = {}
    for a in agreements:
        aid = str(a.id)
        result.agreements += 1
        t = terms.get(aid, {})
        code = t.get("jurisdiction")
        if not code:
            result.skipped.setdefault("no jurisdiction (state one with `obra fairness terms`, or give the "
                                      "assignor a country)", []).append(aid)
            continue
        if code not in rules.law.jurisdictions:
            result.skipped.setdefault(f"jurisdiction {code} is not in the law data (known: "
                                      f"{', '.join(rules.law.jurisdictions)})", []).append(aid)
            continue
        by_id[aid] = a
        ctx.codes[aid] = code
        lump = t.get("lump_sum_minor")
        contract = "lump_sum" if lump else "proportional"
        d_rule, d_why = rule(code, "disproportion", contract)
        n_rule, n_why = rule(code, "non_exploitation", "any")
        share = t.get("appropriate_share")
        if share:
            bench = fraction(share, "appropriate_share")
        else:
            if code not in benchmarks:
                benchmarks[code] = rules.benchmark(code)
            bench = benchmarks[code]
        if d_rule is None:
            result.not_applicable.setdefault(d_why, []).append(aid)
        elif bench is None:
            result.skipped.setdefault(f"{code}: no appropriate share of revenue to compare with (state one per "
                                      "agreement, or a benchmark for the jurisdiction: --benchmark "
                                      f"{code}=0.10)", []).append(aid)
        if n_rule is None:
            result.not_applicable.setdefault(n_why, []).append(aid)
        cols["aid"].append(aid)
        cols["aid_n"].append(int(a.id))
        cols["keeps_nothing"].append(a.retained == 0)
        cols["assignor"].append(str(a.assignor))
        cols["assignee"].append(str(a.assignee))
        cols["start"].append(a.start)
        ends = [d for d in (a.end, a.reversion) if d]
        cols["end"].append(min(ends) if ends else None)
        cols["currency"].append(a.currency)
        cols["mg"].append(int(a.minimum_guarantee or 0))
        cols["advance"].append(int(a.advance or 0))
        cols["jurisdiction"].append(code)
        cols["contract"].append(contract)
        cols["lump"].append(int(lump) if lump else 0)
        cols["lump_currency"].append(t.get("currency") or a.currency)
        ok = d_rule is not None and bench is not None
        if ok:
            ctx.benches[aid] = bench
        cols["t_num"].append(d_rule.threshold.numerator if ok else None)
        cols["t_den"].append(d_rule.threshold.denominator if ok else None)
        cols["b_num"].append(bench.numerator if ok else None)
        cols["b_den"].append(bench.denominator if ok else None)
        cols["ne_months"].append(n_rule.months if n_rule is not None else None)
    table = pa.table({n: cols.get(n, []) for n in AGREEMENT_SCHEMA.names}, schema=AGREEMENT_SCHEMA)
    return table, ctx


@dataclass
class Context:
    """What the check resolved per agreement: the agreement, its jurisdiction, benchmark and rules."""

    by_id: dict[str, Agreement] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    benches: dict[str, Fraction] = field(default_factory=dict)
    resolved: dict[tuple, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- the check
def check(con: Any, runs: list[StoredRun], agreements: Iterable[Agreement], terms: dict[str, dict], rules: RuleSet,
          as_of: date, policy: Policy = Policy(), agreement_ids: set[str] | None = None) -> CheckResult:
    """Every trigger for every agreement over the stored ``runs``; ``con`` is a DuckDB connection."""
    result = CheckResult(law_version=rules.law.version, rules_version=rules.version,
                         periods=sorted({r.period for r in runs}))
    if agreement_ids is not None:
        agreements = [a for a in agreements if str(a.id) in agreement_ids]
    table, ctx = agreement_table(agreements, terms, rules, result)
    con.register("fair_agreements", table)
    result.lines = lines_relation(con, runs)
    bounds = {p: period_bounds(p) for p in result.periods}
    con.register("fair_periods", pa.table({"period": list(bounds), "p_start": [b[0] for b in bounds.values()],
                                           "p_end": [b[1] for b in bounds.values()]}))
    # one row per agreement, licensee, right, period and currency: the revenue through the agreement, the
    # assignor's part, and the uses. Agreement ids are joined as integers (paths hold store ids; a law-cited
    # path such as "law:UY" joins none). Each (pool, item) has one line per recipient, all with the item's
    # plays, so the uses are counted on one of them: the assignee's line through the agreement, or the
    # assignor's where the assignee keeps nothing.
    con.execute("""CREATE OR REPLACE TEMP TABLE fair_per AS
        SELECT any_value(a.aid) AS aid, l.service AS licensee, l.right_type, l.period, l.currency,
               sum(l.amount_minor)::BIGINT AS revenue,
               sum(CASE WHEN l.payee = a.assignor AND l.last_n = l.aid_n THEN l.amount_minor ELSE 0 END)::BIGINT
                   AS paid,
               sum(CASE WHEN (NOT a.keeps_nothing AND l.payee = a.assignee)
                          OR (a.keeps_nothing AND l.payee = a.assignor AND l.last_n = l.aid_n)
                        THEN l.plays ELSE 0 END)::BIGINT AS units
        FROM (SELECT period, right_type, service, currency, payee, plays, amount_minor,
                     TRY_CAST(unnest(parts) AS BIGINT) AS aid_n, TRY_CAST(parts[-1] AS BIGINT) AS last_n
              FROM (SELECT *, string_split(path, '>') AS parts FROM fair_lines WHERE path <> '')) l
        JOIN fair_agreements a ON a.aid_n = l.aid_n
        GROUP BY l.aid_n, l.service, l.right_type, l.period, l.currency""")
    _disproportion(con, result, ctx, terms)
    _non_exploitation(con, result, ctx, as_of, bounds)
    _guarantee(con, result, ctx)
    _recoupment(runs, result, ctx, policy)
    result.flags.sort(key=lambda f: (_num(f["agreement"]), f["trigger"], f.get("licensee") or "",
                                     f.get("right_type") or ""))
    for i, f in enumerate(result.flags, 1):
        f["flag"] = i
    if any(f["trigger"] == "endless_recoupment" for f in result.flags):
        result.notes.append(f"endless recoupment is Obra's policy, not a rule of law: an advance flagged when, at "
                            f"the pace observed over at least {policy.recoupment_min_periods} periods, it would take "
                            f"more than {policy.recoupment_horizon_years} years to recoup")
    return result


def _series_many(con: Any, keys: list[tuple], per_licensee: bool) -> dict[tuple, list[dict]]:
    """The per-period series of many flags in one query: keyed (aid, licensee, right, currency), or (aid,)."""
    out: dict[tuple, list[dict]] = defaultdict(list)
    if not keys:
        return out
    if per_licensee:
        con.register("fair_keys", pa.table({"aid": [k[0] for k in keys], "licensee": [k[1] for k in keys],
                                            "right_type": [k[2] for k in keys], "currency": [k[3] for k in keys]}))
        rows = con.execute("""SELECT p.aid, p.licensee, p.right_type, p.currency, p.period, p.revenue, p.paid, p.units
                              FROM fair_per p JOIN fair_keys k USING (aid, licensee, right_type, currency)
                              ORDER BY p.aid, p.licensee, p.right_type, p.currency, p.period""").fetchall()
        for aid, lic, right, cur, period, r, d, u in rows:
            out[(aid, lic, right, cur)].append({"period": period, "currency": cur, "revenue_minor": int(r),
                                                "paid_minor": int(d), "units": int(u)})
    else:
        con.register("fair_keys", pa.table({"aid": [k[0] for k in keys]}))
        rows = con.execute("""SELECT p.aid, p.period, p.currency, sum(p.revenue)::BIGINT, sum(p.paid)::BIGINT,
                                     sum(p.units)::BIGINT
                              FROM fair_per p JOIN fair_keys k USING (aid)
                              GROUP BY p.aid, p.period, p.currency ORDER BY p.aid, p.period, p.currency""").fetchall()
        for aid, period, cur, r, d, u in rows:
            out[(aid,)].append({"period": period, "currency": cur, "revenue_minor": int(r), "paid_minor": int(d),
                                "units": int(u)})
    con.unregister("fair_keys")
    return out


def _clause(a: Agreement, terms: dict) -> dict:
    return {"agreement": str(a.id), "kind": str(a.kind), "assignor": str(a.assignor), "assignee": str(a.assignee),
            "rights": [str(r) for r in a.rights], "territories": list(a.territories), "start": a.start.isoformat(),
            "end": a.end.isoformat() if a.end else None, "retained_by_assignee": str(a.retained),
            "currency": a.currency, "advance_minor": int(a.advance), "minimum_guarantee_minor": int(a.minimum_guarantee),
            "lump_sum_minor": terms.get("lump_sum_minor"), "appropriate_share": terms.get("appropriate_share"),
            "terms_note": terms.get("note")}


def _law(rule: FairnessRule) -> dict:
    return rule.to_json() | {"summary": rule.summary}


def limitation(rule: FairnessRule, periods: list[str]) -> list[dict]:
    """When each year's claim becomes time-barred, under the rule's limitation period (if the data has one).

    Knowledge is taken at the end of the period the revenue was reported for (the earliest a
    statement could show it); the law may date it later (BGH *Fluch der Karibik*: not watching
    the market is not gross negligence), so this is the earliest possible bar, stated as such.
    """
    if not rule.limitation_years:
        return []
    years = sorted({int(p[:4]) for p in periods})
    out = []
    for y in years:
        if rule.jurisdiction == "DE":
            bar = date(y + rule.limitation_years, 12, 31)
        else:
            last = max(period_bounds(p)[1] for p in periods if p.startswith(str(y)))
            bar = date(last.year + rule.limitation_years, last.month, last.day)
        out.append({"revenue_year": y, "earliest_time_bar": bar.isoformat(), "years": rule.limitation_years,
                    "from": rule.limitation_from})
    return out


def _disproportion(con: Any, result: CheckResult, ctx: Context, terms: dict) -> None:
    rows = con.execute("""
        WITH t AS (
            SELECT aid, licensee, right_type, currency, sum(revenue)::HUGEINT AS revenue, sum(paid)::HUGEINT AS paid,
                   sum(units)::BIGINT AS units, min(period) AS first_period, max(period) AS last_period
            FROM fair_per GROUP BY aid, licensee, right_type, currency),
        w AS (SELECT t.*, sum(revenue) OVER (PARTITION BY aid, currency) AS r_all FROM t)
        SELECT w.aid, w.licensee, w.right_type, w.currency, w.revenue, w.paid, w.units, w.r_all,
               w.first_period, w.last_period,
               CASE WHEN a.lump_currency = w.currency THEN a.lump ELSE 0 END AS lump
        FROM w JOIN fair_agreements a ON a.aid = w.aid
        WHERE a.t_num IS NOT NULL AND w.revenue > 0
          AND (w.paid * w.r_all + (CASE WHEN a.lump_currency = w.currency THEN a.lump ELSE 0 END) * w.revenue)
              * a.t_den * a.b_den < a.t_num::HUGEINT * a.b_num * w.revenue * w.r_all
        ORDER BY w.aid, w.licensee, w.right_type, w.currency""").fetchall()
    all_series = _series_many(con, [(r[0], r[1], r[2], r[3]) for r in rows], True)
    laws: dict[int, dict] = {}        # one law block per rule, one clause per agreement, one timeline per span
    clauses: dict[str, dict] = {}
    timelines: dict[tuple, list] = {}
    for aid, licensee, right, cur, revenue, paid, units, r_all, first, last, lump in rows:
        a = ctx.by_id[aid]
        t = terms.get(aid, {})
        code = ctx.codes[aid]
        contract = "lump_sum" if t.get("lump_sum_minor") else "proportional"
        rule, why = ctx.resolved[(code, "disproportion", contract)]
        bench = ctx.benches[aid]
        lump_share = Fraction(int(lump) * int(revenue), int(r_all)) if r_all else Fraction(0)
        remuneration = Fraction(int(paid)) + lump_share
        appropriate = Fraction(int(revenue)) * bench
        ratio = remuneration / appropriate
        series = all_series[(aid, licensee, right, cur)]
        result.flags.append({
            "trigger": "disproportion", "agreement": aid, "creator": str(a.assignor), "counterparty": str(a.assignee),
            "licensee": licensee, "right_type": right, "currency": cur, "jurisdiction": code,
            "letter": "adjustment_request",
            "figures": {"revenue_minor": int(revenue), "paid_minor": int(paid),
                        "lump_sum_share_minor": _half_up(lump_share), "remuneration_minor": _half_up(remuneration),
                        "appropriate_share": _frac(bench), "appropriate_minor": _half_up(appropriate),
                        "ratio": _frac(ratio), "ratio_decimal": f"{float(ratio):.4f}",
                        "threshold": _frac(rule.threshold), "units": int(units),
                        "revenue_all_licensees_minor": int(r_all), "periods": [first, last]},
            "series": series, "clause": clauses[aid] if aid in clauses else clauses.setdefault(aid, _clause(a, t)),
            "law": laws[id(rule)] if id(rule) in laws else laws.setdefault(id(rule), _law(rule)), "basis": why,
            "limitation": _timeline(timelines, rule, tuple(sorted({x["period"] for x in series}))),
            "allocation": "the lump sum is allocated over licensees and rights in proportion to the revenue each "
                          "generated (BGH I ZR 9/18, Das Boot III)" if lump else None,
        })


def _timeline(cache: dict, rule: FairnessRule, periods: tuple[str, ...]) -> list[dict]:
    key = (id(rule), periods)
    if key not in cache:
        cache[key] = limitation(rule, list(periods))
    return cache[key]


def _frac(x: Fraction | None) -> str | None:
    return None if x is None else f"{x.numerator}/{x.denominator}"


def _half_up(x: Fraction) -> int:
    return (x.numerator * 2 + x.denominator) // (2 * x.denominator)


def _non_exploitation(con: Any, result: CheckResult, ctx: Context, as_of: date,
                      bounds: dict[str, tuple[date, date]]) -> None:
    if not bounds:
        return
    first_start = min(b[0] for b in bounds.values())
    rows = con.execute("""
        WITH used AS (SELECT p.aid, max(fp.p_end) AS last_use FROM fair_per p JOIN fair_periods fp USING (period)
                      WHERE p.units > 0 OR p.revenue > 0 GROUP BY p.aid)
        SELECT a.aid, a.start, u.last_use, a.ne_months
        FROM fair_agreements a LEFT JOIN used u USING (aid)
        WHERE a.ne_months IS NOT NULL AND (a."end" IS NULL OR a."end" > ?::DATE)
          AND greatest(a.start, coalesce(u.last_use, a.start)) + to_months(a.ne_months) <= ?::DATE
          AND greatest(a.start, ?::DATE) + to_months(a.ne_months) <= ?::DATE
        ORDER BY a.aid""", [as_of, as_of, first_start, as_of]).fetchall()
    all_series = _series_many(con, [(r[0],) for r in rows], False)
    for aid, start, last_use, months in rows:
        a = ctx.by_id[aid]
        code = ctx.codes[aid]
        rule, why = ctx.resolved[(code, "non_exploitation", "any")]
        since = last_use or start
        result.flags.append({
            "trigger": "non_exploitation", "agreement": aid, "creator": str(a.assignor),
            "counterparty": str(a.assignee), "licensee": None, "right_type": None, "currency": a.currency,
            "jurisdiction": code, "letter": "grace_notice",
            "figures": {"granted": start.isoformat(), "last_use": last_use.isoformat() if last_use else None,
                        "months": int(months), "without_use_since": since.isoformat(), "as_of": as_of.isoformat(),
                        "observed_from": first_start.isoformat()},
            "series": all_series[(aid,)], "clause": _clause(a, {}), "law": _law(rule), "basis": why,
            "limitation": [],
            "next_step": "send a notice setting an appropriate grace period for exploitation; revocation is "
                         "possible only once it has passed without exploitation",
        })


def _guarantee(con: Any, result: CheckResult, ctx: Context) -> None:
    rows = con.execute("""
        SELECT p.aid, p.period, p.currency, sum(p.paid)::BIGINT AS paid, sum(p.units)::BIGINT AS units, a.mg
        FROM fair_per p JOIN fair_agreements a USING (aid)
        WHERE a.mg > 0 AND p.currency = a.currency
        GROUP BY p.aid, p.period, p.currency, a.mg
        HAVING sum(p.paid) < sum(p.units) * a.mg
        ORDER BY p.aid, p.period""").fetchall()
    by_aid: dict[str, list] = defaultdict(list)
    for aid, period, cur, paid, units, mg in rows:
        by_aid[aid].append({"period": period, "currency": cur, "paid_minor": int(paid), "units": int(units),
                            "guaranteed_minor": int(units) * int(mg), "short_minor": int(units) * int(mg) - int(paid)})
    for aid, periods in by_aid.items():
        a = ctx.by_id[aid]
        result.flags.append({
            "trigger": "guarantee_shortfall", "agreement": aid, "creator": str(a.assignor),
            "counterparty": str(a.assignee), "licensee": None, "right_type": None, "currency": a.currency,
            "jurisdiction": ctx.codes[aid], "letter": "information_request",
            "figures": {"minimum_guarantee_minor": int(a.minimum_guarantee),
                        "short_minor": sum(p["short_minor"] for p in periods), "periods": len(periods)},
            "series": periods, "clause": _clause(a, {}), "law": None,
            "basis": "the agreement's own minimum guarantee (per use)", "limitation": [],
        })


def _recoupment(runs: list[StoredRun], result: CheckResult, ctx: Context, policy: Policy) -> None:
    advances = {aid: a for aid, a in ctx.by_id.items() if a.advance}
    if not advances:
        return
    series: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: r.period):
        for aid, balance in run.balances.items():
            if aid in advances:
                series[aid].append((run.period, int(balance)))
    for aid, points in sorted(series.items()):
        a = advances[aid]
        if len(points) < policy.recoupment_min_periods or points[-1][1] <= 0:
            continue
        start_balance = int(a.advance)
        recouped = start_balance - points[-1][1]
        per_period = Fraction(recouped, len(points))
        last = points[-1][0]
        per_year = 4 if "-Q" in last else 1 if len(last) == 4 else 12
        horizon = policy.recoupment_horizon_years * per_year
        remaining = None if per_period == 0 else points[-1][1] / per_period
        if remaining is not None and remaining <= horizon:
            continue
        result.flags.append({
            "trigger": "endless_recoupment", "agreement": aid, "creator": str(a.assignor),
            "counterparty": str(a.assignee), "licensee": None, "right_type": None, "currency": a.currency,
            "jurisdiction": ctx.codes[aid], "letter": "information_request",
            "figures": {"advance_minor": start_balance, "unrecouped_minor": points[-1][1], "recouped_minor": recouped,
                        "periods_observed": len(points),
                        "periods_to_recoup": None if remaining is None else int(remaining) + (remaining % 1 > 0),
                        "horizon_periods": horizon},
            "series": [{"period": p, "unrecouped_minor": b} for p, b in points], "clause": _clause(a, {}),
            "law": None, "basis": "Obra's policy (see notes)", "limitation": [],
        })
