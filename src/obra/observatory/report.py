"""The observatory report: every indicator, the models compared, a scenario, written for people and machines.

:func:`build_report` computes the report document (a dict) from a market; :func:`write_report`
writes it as a static site and files for researchers:

* ``report.json`` — every figure with the function that computed it and the engine's SQL, the
  data's fingerprint and hash, the rules' hash (RFC 8785 canonical JSON);
* ``index.html`` (English) and ``es.html``, ``fr.html``, ``pt.html`` — one page per language,
  charts inline as SVG, no script, no font or style from elsewhere, readable on a phone;
* ``report.pdf`` (and ``report.<lang>.pdf`` for other languages asked for);
* ``tables/*.csv`` and ``tables/*.parquet`` — the figures as flat tables;
* ``manifest.json`` — the SHA-256 of every file above, signed with the office key
  (:func:`sign_manifest`), verifiable offline with the office's key history (:func:`verify_manifest`).

Money is in minor units and never added across currencies.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from obra.canonical import canonical, sha256_hex
from obra.errors import InvalidInput, Problem, Unverifiable
from obra.observatory import indicators, kernels, scenarios
from obra.observatory.market import Market

REPORT_FORMAT = "obra.observatory_report/1"
MANIFEST_FORMAT = "obra.observatory_manifest/1"
#: The models every report compares (preset names of :mod:`obra.observatory.scenarios`).
MODELS = ("pro-rata", "user-centric", "artist-centric")
LOCALES = ("en", "es", "fr", "pt")


def build_report(market: Market, *, store: Any = None, run: dict | None = None,
                 scenario: scenarios.Scenario | None = None, models: Iterable[str] = MODELS,
                 thresholds: dict | None = None, law_version: str | None = None,
                 timings: dict | None = None) -> dict:
    """The report of one market: indicators, concentration, the models compared with pro-rata, the scenario.

    ``store`` and ``run`` (a distribution run of the period) add what only they know: where the
    run's money went by role and payee (reconciled with its statements), unmatched money and its
    ageing, registrations by creation mode, AI licence income. ``timings`` (a dict) receives the wall
    and CPU seconds of each stage (the benchmark's figures).
    """
    clock = _Clock(timings)
    figures: dict[str, indicators.Figure] = {}
    # On DuckDB the usage is joined to its matches once; the indicators and every model read that
    # (obra.observatory.kernels); on Spark the indicators and the royalty engine's models read the datasets.
    with clock("stage"):
        stage = kernels.Stage.of_market(market) if market.engine == "duckdb" else None
    with clock("indicators"):
        figures["revenue"] = indicators.revenue(market)
        for fn in (indicators.plays, indicators.play_sources, indicators.matching):
            f = fn(market, stage)
            figures[f.id] = f
        figures["rates"] = indicators.rates(figures["revenue"], figures["plays"])

    outcomes: dict[str, scenarios.Outcome] = {}
    rules_of: dict[str, scenarios.Rules] = {}
    for name in models:
        rules_of[name] = scenarios.preset_scenario(name).rules
    if scenario is not None:
        rules_of["scenario:baseline"] = scenario.baseline
        rules_of["scenario"] = scenario.rules
    by_rules: dict[str, scenarios.Outcome] = {}
    runs: dict = {}     # one distribution per model and parameters, whatever floors or commissions follow
    for name, rules in rules_of.items():
        key = sha256_hex(rules.to_dict())
        if key not in by_rules:
            with clock(f"model {name}"):
                by_rules[key] = scenarios.run_rules(rules, market.usage, market.pools, market.matches, runs, stage)
        outcomes[name] = by_rules[key]

    with clock("concentration"):
        base = outcomes.get("pro-rata") or scenarios.run_rules(scenarios.Rules(), market.usage, market.pools,
                                                               market.matches, runs, stage)
        artists = scenarios.per_artist(base, market.attributes, market.period)
        items = indicators.per_item(base.items)
        figures["concentration"] = indicators.concentration(artists, items, thresholds)
        figures["by_kind"] = indicators.by_kind(items, market.attributes)

    clock.start("compare")
    comparisons = {}
    for name in models:
        if name != "pro-rata":
            comparisons[name] = scenarios.compare(base, outcomes[name], market.attributes, market.period)
    figures["models"] = indicators.Figure(
        "models", {"totals": {name: _totals(o) for name, o in outcomes.items() if not name.startswith("scenario")},
                   "compared_with_pro_rata": comparisons}, f"{scenarios.compare.__module__}.compare")
    if scenario is not None:
        figures["scenario"] = indicators.Figure(
            "scenario", {"scenario": scenario.to_dict(), "hash": scenario.hash,
                         "baseline": _totals(outcomes["scenario:baseline"]), "rules": _totals(outcomes["scenario"]),
                         "comparison": scenarios.compare(outcomes["scenario:baseline"], outcomes["scenario"],
                                                         market.attributes, market.period)},
            f"{scenarios.compare.__module__}.compare")

    clock.stop("compare")
    if stage is not None:
        stage.close()

    reconciliation = None
    if store is not None:
        figures["registrations"] = indicators.registrations(store, market.period)
        figures["unmatched_ageing"] = indicators.unmatched_ageing(store, market.period)
        figures["ai_licensing"] = indicators.ai_licensing(store, market.period)
    if run is not None:
        figures["value_split"] = indicators.value_split(
            market, run, indicators.party_classes(store) if store is not None else None)
        paid = indicators.payees(market, run)
        if paid is not None and len(paid):
            figures["payees"] = indicators.Figure(
                "payees", {cur: {**_summary(paid[paid["currency"] == cur]["amount_minor"].to_numpy())}
                           for cur in sorted(set(paid["currency"]))}, f"{indicators.payees.__module__}.payees")
        reconciliation = reconcile(figures, run, paid)

    rules = {"models": {name: rules_of[name].to_dict() for name in models},
             "scenario": scenario.to_dict() if scenario else None,
             "scenario_hash": scenario.hash if scenario else None,
             "thresholds": {"income_major": list((thresholds or {}).get("income_major", indicators.INCOME_THRESHOLDS)),
                            "plays": list((thresholds or {}).get("plays", indicators.PLAY_THRESHOLDS))},
             "law_version": law_version}
    return {"format": REPORT_FORMAT, "period": market.period, "engine": market.engine,
            "data": {"fingerprint": market.fingerprint, "hash": market.data_hash},
            "rules": rules, "rules_hash": sha256_hex(rules),
            "run": {"id": run["id"], "model": run["model"]} if run else None,
            "figures": {k: _plain(f.to_dict()) for k, f in figures.items()},
            "reconciliation": reconciliation}


class _Clock:
    """Wall and CPU seconds (the whole process: DuckDB's threads included) per stage, into ``out``."""

    def __init__(self, out: dict | None):
        self.out = out
        self.started: dict[str, tuple[float, float]] = {}

    def start(self, name: str) -> None:
        self.started[name] = (time.perf_counter(), time.process_time())

    def stop(self, name: str) -> None:
        wall, cpu = self.started.pop(name)
        if self.out is not None:
            self.out[name] = {"wall_seconds": round(time.perf_counter() - wall, 3),
                              "cpu_seconds": round(time.process_time() - cpu, 3)}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.start(name)
        try:
            yield
        finally:
            self.stop(name)


def _summary(values: Any) -> dict:
    from obra.observatory import inequality

    s = inequality.summary(values)
    s["lorenz"] = inequality.lorenz(values, 20)
    return s


def _totals(outcome: scenarios.Outcome) -> dict:
    """Per currency: revenue, paid to items, commission, performers' remuneration, held."""
    out: dict[str, dict] = {}
    sums = outcome.items.group_by("currency").aggregate(
        [("amount_minor", "sum"), ("commission_minor", "sum"), ("performers_minor", "sum")])
    for r in sums.to_pylist():
        out[r["currency"]] = {"paid_minor": int(r["amount_minor_sum"]), "commission_minor": int(r["commission_minor_sum"]),
                              "performers_minor": int(r["performers_minor_sum"])}
    for cur in set(outcome.revenue) | set(outcome.held):
        c = out.setdefault(cur, {"paid_minor": 0, "commission_minor": 0, "performers_minor": 0})
        c["revenue_minor"] = outcome.revenue.get(cur, 0)
        c["held_minor"] = outcome.held.get(cur, 0)
    return dict(sorted(out.items()))


def reconcile(figures: dict, run: dict, paid: Any) -> dict:
    """The report's totals against the run's statements, per currency, to the minor unit.

    Checks: the pools' revenue = the run's revenue; statement lines summed by role = the run's
    distributed money; by payee = the statements' totals (``totals.json``); distributed + held =
    revenue. ``ok`` is true only when every one holds.
    """
    directory = Path(run["directory"])
    totals = json.loads((directory / "totals.json").read_text()) if (directory / "totals.json").exists() else {}
    gross: dict[str, int] = {}
    for per_cur in (totals.get("payees") or {}).values():
        for cur, t in per_cur.items():
            gross[cur] = gross.get(cur, 0) + int(t.get("gross_minor", 0))
    revenue: dict[str, int] = {}
    for r in figures["revenue"].rows:
        revenue[r["currency"]] = revenue.get(r["currency"], 0) + r["amount_minor"]
    split = figures["value_split"].rows
    by_role: dict[str, int] = {}
    for r in split["roles"]:
        if not r["role"].startswith("unallocated"):
            by_role[r["currency"]] = by_role.get(r["currency"], 0) + r["amount_minor"]
    by_payee: dict[str, int] = {}
    if paid is not None:
        for cur, amount in zip(paid["currency"], paid["amount_minor"]):
            by_payee[cur] = by_payee.get(cur, 0) + int(amount)
    out = {}
    for cur, t in sorted(split["totals"].items()):
        row = {"pools_revenue_minor": revenue.get(cur, 0), "run_revenue_minor": t["revenue"],
               "run_distributed_minor": t["distributed"], "run_unallocated_minor": t["unallocated"],
               "statement_lines_minor": by_role.get(cur, 0), "payees_minor": by_payee.get(cur, 0),
               "statements_gross_minor": gross.get(cur, 0)}
        row["ok"] = (row["pools_revenue_minor"] == row["run_revenue_minor"]
                     == row["run_distributed_minor"] + row["run_unallocated_minor"]
                     and row["statement_lines_minor"] == row["payees_minor"] == row["statements_gross_minor"]
                     == row["run_distributed_minor"])
        out[cur] = row
    return out


def _plain(value: Any) -> Any:
    """JSON-ready: tuples to lists, NumPy scalars to Python, floats kept (indices), keys as text."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return round(float(value), 12)
    if isinstance(value, float):
        return round(value, 12)
    return value


def report_bytes(report: dict) -> bytes:
    """The report as RFC 8785 canonical JSON (what ``report.json`` holds and the manifest hashes)."""
    return canonical(report)


# --------------------------------------------------------------------------- tables for researchers
def tables(report: dict) -> dict[str, list[dict]]:
    """The report's figures as flat tables (one list of rows per table name)."""
    f = report["figures"]
    out: dict[str, list[dict]] = {}
    for name in ("revenue", "plays", "rates", "play_sources", "matching", "by_kind", "unmatched_ageing"):
        if name in f and isinstance(f[name]["rows"], list):
            out[name] = f[name]["rows"]
    if "value_split" in f:
        out["value_split"] = f["value_split"]["rows"]["roles"]
    if "registrations" in f:
        out["registrations"] = f["registrations"]["rows"]["rows"]
    conc = []
    lorenz = []
    for cur, c in f["concentration"]["rows"].items():
        for unit in ("artists", "items", "artists_by_plays"):
            s = c[unit]
            conc.append({"currency": cur, "units_of": unit, "units": s["units"], "total": s["total"],
                         "gini": s["gini"], "theil": s["theil"],
                         **{f"top_{k}": v for k, v in s["top_shares"].items()}})
        for p, share in c["lorenz_artists"]:
            lorenz.append({"currency": cur, "population_share": p, "income_share": share})
    out["concentration"] = conc
    out["lorenz"] = lorenz
    comparisons = dict(f["models"]["rows"]["compared_with_pro_rata"])
    if "scenario" in f:
        comparisons["scenario"] = f["scenario"]["rows"]["comparison"]
    rows = []
    for name, comp in comparisons.items():
        for cur, c in comp["currencies"].items():
            for group in scenarios.GROUPS:
                for r in c[f"by_{group}"]:
                    rows.append({"comparison": name, "currency": cur, "group": group, "value": str(r[group]),
                                 **{k: v for k, v in r.items() if k != group}})
    out["winners_and_losers"] = rows
    return out


def _csv(rows: list[dict]) -> bytes:
    columns: list[str] = []
    for r in rows:
        for k in r:
            if k not in columns:
                columns.append(k)
    buf = io.StringIO()
    w = csv.DictWriter(buf, columns, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- the files
def write_report(report: dict, out: str | Path, *, locales: Iterable[str] = LOCALES, pdf_locales: Iterable[str] = ("en",),
                 keys: Any = None, at: datetime | None = None) -> dict:
    """Write the report's files under ``out`` and return the (signed, if ``keys``) manifest."""
    from obra.observatory.render import for_print, report_html
    from obra.render.printing import pdf

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    locales = list(locales)
    for locale in list(pdf_locales):
        if locale not in LOCALES:
            raise InvalidInput(Problem(f"unknown language {locale!r}; use {', '.join(LOCALES)}", field="locale"))
    written: dict[str, bytes] = {"report.json": report_bytes(report) + b"\n"}
    for name, rows in tables(report).items():
        written[f"tables/{name}.csv"] = _csv(rows)
        if rows:
            sink = io.BytesIO()
            pq.write_table(pa.Table.from_pylist([{k: (json.dumps(v) if isinstance(v, (dict, list)) else v)
                                                  for k, v in r.items()} for r in rows]), sink, compression="zstd")
            written[f"tables/{name}.parquet"] = sink.getvalue()
    report_hash = hashlib.sha256(written["report.json"]).hexdigest()
    pages = {}
    for locale in locales:
        pages[locale] = report_html(report, locale, languages=locales)
        written["index.html" if locale == "en" else f"{locale}.html"] = pages[locale].encode("utf-8")
    for locale in pdf_locales:
        html = pages.get(locale) or report_html(report, locale, languages=locales, printed=True)
        written["report.pdf" if locale == "en" else f"report.{locale}.pdf"] = pdf(
            for_print(html), identifier=report_hash[:32].encode("ascii"))
    for name, data in written.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    manifest = {"format": MANIFEST_FORMAT, "period": report["period"], "report_sha256": report_hash,
                "data_hash": report["data"]["hash"], "rules_hash": report["rules_hash"],
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(written.items())}}
    if keys is not None:
        from obra.transparency.signing import format_time, utc_now

        keys.history()   # the office's first key is made now if there is none: before taking the time
        at = at or utc_now()
        manifest = keys.sign_object({**manifest, "office": keys.office, "issued_at": format_time(at)}, at)
    (out / "manifest.json").write_bytes(canonical(manifest) + b"\n")
    return manifest


def verify_manifest(directory: str | Path, key_history: Any = None) -> dict:
    """Check a written report offline: every file's hash, and the office's signature when ``key_history`` is given.

    Raises :class:`obra.errors.Unverifiable` naming the first file or check that fails.
    """
    from obra.transparency.signing import KeyHistory, SignatureError, parse_time

    directory = Path(directory)
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise Unverifiable(f"cannot read the report's manifest.json: {exc}") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise Unverifiable(f"manifest.json is not an observatory manifest ({manifest.get('format')!r})")
    for name, digest in sorted(manifest.get("files", {}).items()):
        path = directory / name
        if not path.exists():
            raise Unverifiable(f"{name} is missing from the report")
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != digest:
            raise Unverifiable(f"{name} hashes to {actual[:16]}…, not to the {digest[:16]}… the manifest records: "
                               "the file was changed")
    if key_history is not None:
        history = key_history if isinstance(key_history, KeyHistory) else KeyHistory.parse(key_history)
        if "signature" not in manifest:
            raise Unverifiable("the manifest is not signed")
        try:
            history.verify_object(manifest, parse_time(manifest.get("issued_at")), "observatory report")
        except SignatureError as exc:
            raise Unverifiable(str(exc)) from None
    return manifest
