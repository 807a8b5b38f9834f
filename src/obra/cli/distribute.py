"""``obra distribute``, ``obra statements`` and ``obra compare-models``: thin shells over the royalty engine.

Each command translates its options into one typed request and one call of ``Obra.royalties``
(:class:`obra.royalties.pipeline.RoyaltiesService`); access rules (who may distribute, who may
read which statement) are enforced there. ``POST /distributions`` and ``POST /statements-in``
take the same requests (``DistributionRequest``, ``SplitRequest``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from obra.cli.common import (JSON_OPT, LOCALE_OPT, TOKEN_OPT, console, current_principal, emit, handle_errors,
                             locale_of, open_obra)
from obra.money import format_money
from obra.royalties.pipeline import DistributionRequest, SplitRequest
ENGINE_OPT = typer.Option("duckdb", "--engine", help="duckdb (default) or spark")
MASTER_OPT = typer.Option(None, "--spark-master", envvar="OBRA_SPARK_MASTER",
                          help="spark.master for --engine spark (default local[2])")


def _pairs(values: list[str], option: str) -> dict[str, str]:
    """``["UY=0.05", "ES=0.04"]`` → ``{"UY": "0.05", "ES": "0.04"}``; a malformed item is refused by name."""
    from obra.errors import InvalidInput, Problem

    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInput(Problem(f"'{item}' must be KEY=VALUE, e.g. UY=0.05", field=option))
        out[key.strip()] = value.strip()
    return out


def _render_run(report: dict) -> None:
    console.print(f"run [bold]{report['run']}[/]" + (f" (supersedes run {', '.join(map(str, report['supersedes']))})"
                                                      if report.get("supersedes") else "") + f": {report['directory']}")
    console.print(f"[bold]{report['period']}[/] distributed with [bold]{report['model']['model']}[/] on "
                  f"{report['engine']}: {report['payees']:,} payee statements")
    table = Table("currency", "revenue", "distributed", "unallocated (held)")
    for cur, c in report["conservation"].items():
        table.add_row(cur, format_money(c["revenue"], cur), format_money(c["distributed"], cur),
                      format_money(c["unallocated"], cur))
    console.print(table)
    for row in report["unallocated"]:
        console.print(f"  held: {format_money(row['amount_minor'], row['currency'])} — {row['reason']}")
    for note in report["notes"]:
        console.print(f"[dim]{note}[/]")


def _render_split(report: dict) -> None:
    console.print(f"[bold]{Path(report['file']).name}[/]: {report['rows']:,} rows for {report['period']}")
    table = Table("right type", "currency", "revenue", "distributed", "unallocated (held)", "payees")
    for right, r in report["rights"].items():
        for cur, c in r["conservation"].items():
            table.add_row(right, cur, format_money(c["revenue"], cur), format_money(c["distributed"], cur),
                          format_money(c["unallocated"], cur), str(r["payees"]))
    console.print(table)
    console.print(f"statements in {report['directory']}")


def _render_comparison(result: dict) -> None:
    for cur, c in result["currencies"].items():
        table = Table("decile (10 = most played)", "artists", result["base"], result["other"], "change",
                      title=f"{result['other']} vs {result['base']} — {result['period']} ({cur})")
        for d in c["by_decile"]:
            table.add_row(str(d["decile"]), f"{d['artists']:,}", format_money(d["base_minor"], cur),
                          format_money(d["other_minor"], cur), format_money(d["change_minor"], cur))
        console.print(table)
        genres = Table("genre", result["base"], result["other"], "change")
        for g in c["by_genre"]:
            genres.add_row(str(g["genre"]), format_money(g["base_minor"], cur), format_money(g["other_minor"], cur),
                           format_money(g["change_minor"], cur))
        console.print(genres)
        console.print(f"{c['gainers']:,} artists gain, {c['losers']:,} lose")


@handle_errors
def distribute(period: str = typer.Option(..., "--period", help="e.g. 2024-03 or 2015-Q4"),
               model: str = typer.Option("pro-rata", "--model", help="pro-rata, user-centric or artist-centric"),
               preset: Optional[str] = typer.Option(None, "--preset",
                                                    help="artist-centric preset: deezer-2023 or spotify-2024"),
               er_rate: list[str] = typer.Option(
                   [], "--er-rate", help="statutory equitable remuneration rate for performers in a "
                                         "jurisdiction, e.g. UY=0.05 (repeatable; applied only where the law "
                                         "data grants the right)"),
               cmo_party: Optional[str] = typer.Option(None, "--cmo-party",
                                                       help="party id of the CMO taking a commission"),
               cmo_commission: list[str] = typer.Option(
                   [], "--cmo-commission", help="commission per right type, e.g. performance=0.12 (repeatable)"),
               floors: bool = typer.Option(False, "--floors", help="apply the statutory and sector floors of "
                                                                     "the law data per territory (obra.law.fairness)"),
               floor_per_use: list[str] = typer.Option(
                   [], "--floor-per-use", help="per-use floor in minor units where the law names one without an "
                                               "amount, e.g. ES=1 (repeatable; implies --floors)"),
               engine: str = ENGINE_OPT, spark_master: Optional[str] = MASTER_OPT,
               token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Distribute a period's pools over its usage, run the contract waterfall, write every statement.

    Running a period again is a new run that supersedes the earlier one; its statements stay readable
    with `obra statements --run N`.
    """
    request = DistributionRequest(period=period, model=model, preset=preset, engine=engine,
                                  spark_master=spark_master, er_rate=_pairs(er_rate, "--er-rate"),
                                  cmo_party=cmo_party, cmo_commission=_pairs(cmo_commission, "--cmo-commission"),
                                  floors=floors, floor_per_use=_pairs(floor_per_use, "--floor-per-use"))
    obra = open_obra()
    principal = current_principal(obra, token)
    with console.status(f"distributing {period} ({model}, {engine})", spinner="dots") if not as_json else _Null():
        report = obra.royalties.distribute(principal, request)
    emit(report, as_json, _render_run)


@handle_errors
def split_statement(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                help="an incoming statement CSV (money already per work)"),
                    period: str = typer.Option(..., "--period", help="the period it pays, e.g. 2024-Q1"),
                    currency: str = typer.Option(..., "--currency", help="ISO 4217 code of its amounts"),
                    territory: str = typer.Option("2WL", "--territory",
                                                  help="where the money was earned (TIS code; default world)"),
                    work_id_column: str = typer.Option("Work ID", "--work-id-column"),
                    id_kind: str = typer.Option("number", "--id-kind", "--id",
                                                help="the work ids are Obra numbers or ISWCs: number or iswc"),
                    amount_column: str = typer.Option("Amount", "--amount-column"),
                    right_type_column: Optional[str] = typer.Option(
                        "Right type", "--right-type-column", help="cells P/M/S; '' or '-' for none (see --right-type)"),
                    right_type: str = typer.Option("performance", "--right-type",
                                                   help="the right of every row when there is no such column"),
                    minor_digits: int = typer.Option(2, "--minor-digits", help="the currency's decimals"),
                    token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Split a society's or sub-publisher's statement over the catalogue; write every payee's statement."""
    request = SplitRequest(period=period, currency=currency, territory=territory, id_kind=id_kind,
                           work_id_column=work_id_column, amount_column=amount_column,
                           right_type_column=right_type_column, right_type=right_type, minor_digits=minor_digits)
    obra = open_obra()
    principal = current_principal(obra, token)
    with console.status(f"splitting {file.name}", spinner="dots") if not as_json else _Null():
        report = obra.royalties.split_statement(principal, file, request)
    emit(report, as_json, _render_split)


@handle_errors
def statements(payee: str = typer.Option(..., "--payee", help="the payee's party id"),
               period: Optional[str] = typer.Option(None, "--period", help="default: the latest"),
               model: Optional[str] = typer.Option(None, "--model"),
               run: Optional[int] = typer.Option(None, "--run", help="a specific run, superseded ones too "
                                                                     "(see `obra runs`)"),
               right: Optional[str] = typer.Option(None, "--right", help="the right type, in an incoming run "
                                                   "(split statement, AI licence royalties) paying the payee "
                                                   "under several, e.g. ai_training"),
               fmt: str = typer.Option("json", "--format", help="json, csv, html or pdf"),
               locale: str = LOCALE_OPT,
               output: Optional[Path] = typer.Option(None, "--output", "-o", help="write to this file"),
               token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """A payee's statement (creators may read only their own); ``--json`` is the same as ``--format json``."""
    obra = open_obra()
    principal = current_principal(obra, token)
    data, st = obra.royalties.statement(principal, payee, period=period, model=model, run=run,
                                        fmt="json" if as_json and output is None else fmt, locale=locale_of(locale),
                                        right=right)
    if output is not None:
        output.write_bytes(data)
        emit({"payee": payee, "run": st["run"], "file": str(output), "format": fmt,
              "content_hash": st["content_hash"]}, as_json)
    elif fmt == "pdf":
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data.decode("utf-8"))


@handle_errors
def runs(period: Optional[str] = typer.Option(None, "--period"),
         kind: Optional[str] = typer.Option(None, "--kind", help="distribution or incoming"),
         token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Every distribution run and incoming split, superseded ones included (CMO, office staff)."""
    obra = open_obra()
    rows = obra.royalties.runs(current_principal(obra, token), period, kind)

    def render(rs: list[dict]) -> None:
        table = Table("run", "kind", "period", "model", "engine", "created", "by", "superseded by", "journal event")
        for r in rs:
            table.add_row(str(r["id"]), r["kind"], r["period"], r["model"], r["engine"], r["created_at"][:19],
                          r["created_by"], str(r["superseded_by"] or ""), str(r["journal_id"]))
        console.print(table)

    emit(rows, as_json, render)


@handle_errors
def compare_models(period: str = typer.Option(..., "--period"),
                   base: str = typer.Option("pro-rata", "--base"),
                   other: str = typer.Option("user-centric", "--other"),
                   engine: str = ENGINE_OPT, spark_master: Optional[str] = MASTER_OPT,
                   token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Who gains and who loses moving from one model to another, by decile and genre."""
    obra = open_obra()
    emit(obra.royalties.compare_models(current_principal(obra, token), period, base, other, engine, spark_master),
         as_json, _render_comparison)


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def register(app: typer.Typer) -> None:
    """Add the distribution commands to the ``obra`` application."""
    app.command("distribute")(distribute)
    app.command("split-statement")(split_statement)
    app.command("statements")(statements)
    app.command("runs")(runs)
    app.command("compare-models")(compare_models)
