"""The observatory as a service: what ``Obra.observatory`` is, and what the CLI and the API call.

Access: indicators over a whole market (including per-artist gains and losses) are for the
collecting society and the office (``observatory`` in :data:`obra.access.PERMISSIONS`). Writing a
report is a state change of the installation's record: each one is an ``observatory.report``
journal event carrying the report's, data's and rules' hashes, so a published figure can be traced
to the data and the rules it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from obra.access import Principal, require
from obra.errors import InvalidInput, Problem
from obra.journal import Journal
from obra.observatory import report as reports
from obra.observatory import scenarios


class ReportRequest(BaseModel):
    """What ``obra report`` and ``POST /observatory/report`` both send."""

    model_config = ConfigDict(extra="forbid")

    period: str = Field(description="the period, e.g. 2024-03 (a distribution run of it must exist)")
    scenario: dict | str | None = Field(None, description=(
        "a scenario: an object with name, rules and optionally baseline, or a preset name "
        "(pro-rata, user-centric, artist-centric, spotify-2024, performer-remuneration)"))
    engine: str = Field("duckdb", description="duckdb or spark")
    model: str | None = Field(None, description="the distribution run's model to reconcile with "
                                                "(default: the period's newest run)")
    income_thresholds: list[int] | None = Field(None, description=(
        "income thresholds in major units of each currency for the count of artists reaching them "
        "(default 10, 100, 1000, 10000, 100000)"))
    play_thresholds: list[int] | None = Field(None, description=(
        "play thresholds for the count of artists reaching them (default 1000 … 1000000)"))

    def thresholds(self) -> dict | None:
        for name in ("income_thresholds", "play_thresholds"):
            if any(v < 0 for v in getattr(self, name) or []):
                raise InvalidInput(Problem("a threshold must not be negative", field=name))
        out = {}
        if self.income_thresholds:
            out["income_major"] = sorted(set(self.income_thresholds))
        if self.play_thresholds:
            out["plays"] = sorted(set(self.play_thresholds))
        return out or None


def choose_run(store: Any, period: str, model: str | None = None) -> dict:
    """The current distribution run of ``period`` (of ``model``), or a clear error naming the runs there are."""
    from obra.royalties.pipeline import current_run, runs

    run = current_run(store, "distribution", period=period, model=model)
    if run is None:
        existing = sorted({f"{r['period']} ({r['model']}, run {r['id']})" for r in runs(store, "distribution")
                           if r.get("superseded_by") is None})
        raise InvalidInput(Problem(f"no distribution run for period {period}" + (f" with model {model}" if model else "")
                                   + "; runs there are: " + (", ".join(existing) or "none"), field="period"),
                           hint=f"run `obra distribute --period {period}` first")
    return run


@dataclass
class ObservatoryService:
    """Reports on royalty flows and scenarios over one store."""

    store: Any

    def build(self, principal: Principal, request: ReportRequest, session: Any = None) -> dict:
        """The report document of a period (nothing written)."""
        from obra.law import RulePack
        from obra.observatory.market import load_market

        require(principal, "observatory")
        request.thresholds()
        scenario = scenarios.parse_scenario(request.scenario, "scenario") if request.scenario is not None else None
        run = choose_run(self.store, request.period, request.model)
        market = load_market(self.store, request.period, request.engine, session=session)
        return reports.build_report(market, store=self.store, run=run, scenario=scenario,
                                    thresholds=request.thresholds(), law_version=RulePack.load().version)

    def write(self, principal: Principal, request: ReportRequest, out: str | Path, *,
              locales: tuple[str, ...] = reports.LOCALES, pdf_locales: tuple[str, ...] = ("en",),
              session: Any = None) -> dict:
        """Build the report, write its site, tables and signed manifest under ``out``, journal it."""
        from obra.transparency.translog import TransparencyLog

        report = self.build(principal, request, session=session)
        manifest = reports.write_report(report, out, locales=locales, pdf_locales=pdf_locales,
                                        keys=TransparencyLog(self.store).keys)
        with self.store.begin() as conn:
            event = Journal(self.store).record(conn, "observatory.report", f"period/{request.period}", {
                "period": request.period, "report_sha256": manifest["report_sha256"],
                "data_hash": manifest["data_hash"], "rules_hash": manifest["rules_hash"],
                "scenario": (report["rules"]["scenario"] or {}).get("name"), "engine": request.engine},
                principal.name)
        return {"directory": str(Path(out)), "manifest": manifest, "journal_event": event.id,
                "reconciled": all(r["ok"] for r in (report.get("reconciliation") or {}).values()),
                "period": request.period}

    def document(self, principal: Principal, request: ReportRequest, fmt: str = "json",
                 locale: str = "en") -> tuple[bytes, str]:
        """The report as one document for the API: JSON, an HTML page or a PDF, in ``locale``."""
        from obra.observatory.render import for_print, report_html
        from obra.render import pdf
        from obra.render.locales import require_supported

        if fmt not in ("json", "html", "pdf"):
            raise InvalidInput(Problem(f"unknown format {fmt!r}; use json, html or pdf", field="format"))
        locale = require_supported(locale)
        report = self.build(principal, request)
        if fmt == "json":
            return reports.report_bytes(report), "application/json"
        html = report_html(report, locale)
        if fmt == "html":
            return html.encode("utf-8"), "text/html; charset=utf-8"
        return pdf(for_print(html)), "application/pdf"

    def scenario_presets(self) -> dict:
        """The named scenarios (public: they are rules, not data)."""
        return scenarios.presets()

