"""``obra report``: the observatory's report of a period, as a static site, a PDF and tables.

A thin shell over ``Obra.observatory`` (:class:`obra.observatory.service.ObservatoryService`), which
checks access and journals the report; ``POST /observatory/report`` takes the same request
(:class:`~obra.observatory.service.ReportRequest`). ``obra report verify DIR`` checks a written
report offline.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Optional

import typer

from obra.cli.common import JSON_OPT, TOKEN_OPT, console, current_principal, emit, handle_errors, open_obra
from obra.observatory.service import ReportRequest


def _render(result: dict) -> None:
    m = result["manifest"]
    console.print(f"observatory report of [bold]{result['period']}[/] in {result['directory']}")
    console.print(f"  report sha256 {m['report_sha256']}\n  data hash {m['data_hash']}\n  rules hash {m['rules_hash']}")
    console.print(f"  {len(m['files'])} files, signed by key {m.get('key_id', '?')[:16]}…; journal event "
                  f"{result['journal_event']}")
    console.print("  totals reconcile with the statements to the minor unit" if result["reconciled"] else
                  "[red]  totals do NOT reconcile with the statements: see reconciliation in report.json[/]")


@handle_errors
def report(period: str = typer.Option(..., "--period", help="the period, e.g. 2024-03 (distribute it first)"),
           output: Path = typer.Option(..., "--out", help="directory to write the report into"),
           scenario: Optional[str] = typer.Option(
               None, "--scenario", help="a scenario file (JSON or TOML) or a preset name: pro-rata, user-centric, "
                                        "artist-centric, spotify-2024, performer-remuneration"),
           engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark"),
           model: Optional[str] = typer.Option(None, "--model", help="the distribution run's model to reconcile "
                                                                    "with (default: the period's newest run)"),
           locale: list[str] = typer.Option(["en", "es", "fr", "pt"], "--locale",
                                            help="languages of the HTML pages (repeatable); the PDF is in the first"),
           income_thresholds: list[int] = typer.Option(
               [], "--income-threshold", help="count the artists earning at least this much, in major units of "
                                              "each currency (repeatable; default 10 … 100,000)"),
           play_thresholds: list[int] = typer.Option(
               [], "--play-threshold", help="count the artists with at least this many plays (repeatable; "
                                            "default 1,000 … 1,000,000)"),
           token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Write the observatory report of a period: indicators, three payment models compared, a scenario.

    The site (index.html and one page per language, charts as SVG), report.pdf, tables as CSV and
    Parquet, report.json with every figure's method and query, and manifest.json signed by the office.
    """
    from obra.observatory.scenarios import load_scenario

    scenario_data = load_scenario(scenario).to_dict() if scenario else None
    request = ReportRequest(period=period, scenario=scenario_data, engine=engine, model=model,
                            income_thresholds=income_thresholds or None, play_thresholds=play_thresholds or None)
    obra = open_obra()
    principal = current_principal(obra, token)
    with console.status(f"observatory report of {period}", spinner="dots") if not as_json else nullcontext():
        result = obra.observatory.write(principal, request, output, locales=tuple(locale),
                                        pdf_locales=tuple(locale[:1]))
    emit(result, as_json, _render)


@handle_errors
def verify(directory: Path = typer.Argument(..., exists=True, file_okay=False, help="a written report"),
           keys: Optional[Path] = typer.Option(None, "--keys", exists=True, dir_okay=False,
                                               help="the office's key history (default: this installation's)"),
           as_json: bool = JSON_OPT) -> None:
    """Check a written report offline: every file's SHA-256 and the office's signature."""
    from obra.observatory.report import verify_manifest

    if keys is not None:
        history = keys.read_text()
    else:
        history = open_obra().log.key_history()
    manifest = verify_manifest(directory, history)
    emit({"verified": True, "period": manifest["period"], "files": len(manifest["files"]),
          "report_sha256": manifest["report_sha256"]}, as_json,
         lambda r: console.print(f"[green]verified[/]: {r['files']} files of the {r['period']} report, "
                                 f"signed by the office"))


def register(app: typer.Typer) -> None:
    """Add ``obra report`` and ``obra report-verify`` to the ``obra`` application."""
    app.command("report")(report)
    app.command("report-verify")(verify)
