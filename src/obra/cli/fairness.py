"""``obra fairness``: renegotiation checks and their letters, transparency reports, agreement terms.

Thin shells over ``Obra.fairness`` (:class:`obra.fairness.service.FairnessService`): each command
translates its options into one call; who may do what is checked there. The API routes under
``/fairness`` take the same requests.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from obra.cli.common import (JSON_OPT, LOCALE_OPT, TOKEN_OPT, console, current_principal, emit, handle_errors,
                             locale_of, open_obra)
from obra.errors import InvalidInput, Problem
from obra.fairness.service import CheckRequest
from obra.fairness.terms import AgreementTerms
from obra.ids import ascii_digits
from obra.money import format_money

fairness_app = typer.Typer(help="Fairness: renegotiation triggers and letters, yearly transparency reports.",
                           no_args_is_help=True)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInput(Problem(f"'{item}' must be KEY=VALUE, e.g. DE=1/2", field=option))
        out[key.strip()] = value.strip()
    return out


def _write(data: bytes, fmt: str, output: Optional[Path], meta: dict, as_json: bool) -> None:
    if output is not None:
        output.write_bytes(data)
        emit({**meta, "file": str(output), "format": fmt}, as_json)
    elif fmt == "pdf":
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data.decode("utf-8"))


@fairness_app.command("terms")
@handle_errors
def terms(agreement: int = typer.Argument(..., help="the agreement's id"),
          jurisdiction: Optional[str] = typer.Option(None, "--jurisdiction", help="the law governing it, e.g. DE"),
          lump_sum: Optional[str] = typer.Option(None, "--lump-sum", help="a lump sum paid to the assignor, "
                                                                          "e.g. 5000.00"),
          currency: Optional[str] = typer.Option(None, "--currency", help="the lump sum's currency"),
          appropriate_share: Optional[str] = typer.Option(
              None, "--appropriate-share", help="the share of revenue appropriate pay would be, e.g. 0.10"),
          note: Optional[str] = typer.Option(None, "--note", help="where these terms come from"),
          token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """State an agreement's governing law, lump sum and appropriate share (what a fairness check needs)."""
    request = AgreementTerms(jurisdiction=jurisdiction, lump_sum=Decimal(lump_sum) if lump_sum else None,
                             currency=currency, appropriate_share=appropriate_share, note=note)
    obra = open_obra()
    emit(obra.fairness.set_terms(current_principal(obra, token), agreement, request), as_json)


def _render_check(result: dict) -> None:
    s = result["summary"]
    console.print(f"check [bold]{result['check']}[/] as of {result['as_of']}: {s['agreements']:,} agreements, "
                  f"{s['statement_lines']:,} statement lines, periods {', '.join(s['periods']) or 'none'}")
    table = Table("flag", "trigger", "agreement", "creator", "licensee", "figures", "law")
    for f in result["flags"]:
        fig = f["figures"]
        if f["trigger"] == "disproportion":
            text = (f"{format_money(fig['remuneration_minor'], f['currency'])} of "
                    f"{format_money(fig['appropriate_minor'], f['currency'])} appropriate ({fig['ratio_decimal']})")
        else:
            text = ", ".join(f"{k}={v}" for k, v in fig.items() if not isinstance(v, (list, dict)))
        table.add_row(str(f["flag"]), f["trigger"], f["agreement"], f["creator"], f["licensee"] or "", text,
                      (f["law"] or {}).get("citation", f["basis"]))
    console.print(table)
    for why, ids in list(result["skipped"].items()) + list(result["not_applicable"].items()):
        console.print(f"[dim]{len(ids):,} agreement(s): {why} ({', '.join(ids[:10])}{'…' if len(ids) > 10 else ''})[/]")
    for note in result["notes"]:
        console.print(f"[dim]{note}[/]")


@fairness_app.command("check")
@handle_errors
def check_cmd(as_of: Optional[datetime] = typer.Option(None, "--as-of", formats=["%Y-%m-%d"],
                                                       help="the day the check speaks for (default today)"),
              party: Optional[str] = typer.Option(None, "--party", help="only agreements this party granted"),
              threshold: list[str] = typer.Option([], "--threshold", help="disproportion threshold where the law "
                                                                          "gives none, e.g. NL=1/2 (repeatable)"),
              months: list[str] = typer.Option([], "--months", help="non-exploitation period where the law gives "
                                                                    "none, e.g. NL=24 (repeatable)"),
              benchmark: list[str] = typer.Option([], "--benchmark", help="appropriate share of revenue per "
                                                                          "jurisdiction, e.g. DE=0.10 (repeatable)"),
              token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Check every agreement for renegotiation triggers over the stored distribution runs."""
    period_months = {}
    for key, value in _pairs(months, "--months").items():
        if not ascii_digits(value):
            raise InvalidInput(Problem(f"--months {key}={value}: a whole number of months", field="--months"))
        period_months[key] = int(value)
    request = CheckRequest(as_of=as_of.date() if as_of else None, party=party,
                           threshold=_pairs(threshold, "--threshold"), months=period_months,
                           benchmark=_pairs(benchmark, "--benchmark"))
    obra = open_obra()
    emit(obra.fairness.check(current_principal(obra, token), request), as_json, _render_check)


@fairness_app.command("letter")
@handle_errors
def letter(check: int = typer.Argument(..., help="the check's number"),
           flag: int = typer.Argument(..., help="the flag's number in that check"),
           fmt: str = typer.Option("html", "--format", help="html or pdf"), locale: str = LOCALE_OPT,
           output: Optional[Path] = typer.Option(None, "--output", "-o", help="write to this file"),
           token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Draft the letter a flag calls for (adjustment request, information request, grace notice)."""
    obra = open_obra()
    data, meta = obra.fairness.letter(current_principal(obra, token), check, flag, fmt, locale_of(locale))
    _write(data, fmt, output, {k: v for k, v in meta.items() if k != "flag"}, as_json)


@fairness_app.command("report")
@handle_errors
def report(party: str = typer.Argument(..., help="the creator's party id"),
           year: int = typer.Option(..., "--year", help="the calendar year reported"),
           fmt: str = typer.Option("json", "--format", help="json, csv, html or pdf"), locale: str = LOCALE_OPT,
           output: Optional[Path] = typer.Option(None, "--output", "-o", help="write to this file"),
           token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Issue a creator's signed yearly transparency report (creators: their own)."""
    obra = open_obra()
    data, meta = obra.fairness.report(current_principal(obra, token), party, year, fmt, locale_of(locale))
    _write(data, fmt, output, {k: v for k, v in meta.items() if k != "report"}, as_json)


@fairness_app.command("reports")
@handle_errors
def reports(year: int = typer.Option(..., "--year", help="the calendar year reported"),
            token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Issue every creator's signed report for a year at once (CMOs and office staff)."""
    obra = open_obra()
    emit(obra.fairness.reports(current_principal(obra, token), year), as_json)


@fairness_app.command("verify")
@handle_errors
def verify(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="a report's JSON file"),
           keys: Optional[Path] = typer.Option(None, "--keys", exists=True, dir_okay=False,
                                               help="the office's key history (offline; default: this store's)"),
           as_json: bool = JSON_OPT) -> None:
    """Check a transparency report's signature offline; fails if anything in it was changed."""
    from obra.fairness.transparency_report import verify_report

    data = file.read_bytes()
    if keys is not None:
        checked = verify_report(data, keys.read_bytes())
    else:
        checked = open_obra().fairness.verify(data)
    emit({"valid": True, "creator": checked["creator"], "year": checked["year"], "office": checked["office"],
          "key_id": checked["key_id"]}, as_json)


@fairness_app.command("documents")
@handle_errors
def documents(party: Optional[str] = typer.Option(None, "--party", help="only those addressed to this party"),
              kind: Optional[str] = typer.Option(None, "--kind", help="check, letter, report or reports"),
              token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """The checks, letters and reports issued (creators: their own)."""
    obra = open_obra()
    rows = obra.fairness.documents(current_principal(obra, token), party, kind)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    table = Table("id", "kind", "party", "subject", "sha256", "journal event")
    for r in rows:
        table.add_row(str(r["id"]), r["kind"], str(r["party_id"] or ""), r["subject"], r["sha256"][:16],
                      str(r["journal_id"]))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``obra fairness`` to the ``obra`` application."""
    app.add_typer(fairness_app, name="fairness")
