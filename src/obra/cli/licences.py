"""``obra ai quote``, ``obra ai licence …``, ``obra ai usage``, ``obra ai royalties``, ``obra ai disclosure``
and ``obra likeness …``: AI licences that pay authors (issue #15).

Thin shells over ``Obra.ai_licences`` (:class:`obra.aiuse.licensing.service.LicensingService`),
``Obra.ai_disclosures`` and ``Obra.likeness``; access is checked inside the services.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from obra.aiuse.vocabulary import Use
from obra.cli.common import (JSON_OPT, LOCALE_OPT, TOKEN_OPT, console, current_principal, emit, handle_errors,
                             open_obra, user_text)

licence_app = typer.Typer(help="AI licences: accept a quote, show, verify offline, prove an item, revoke.",
                          no_args_is_help=True)
likeness_app = typer.Typer(help="Voice and likeness consent: record, check, revoke, takedown notices.",
                           no_args_is_help=True)


def _money(amounts: dict) -> str:
    from obra.money import format_money

    return ", ".join(format_money(int(v), c) for c, v in sorted(amounts.items())) or "nothing"


def offers(use: Use = typer.Option(Use.AI_TRAIN_GENERATIVE, help="the use to license"),
           territory: Optional[str] = typer.Option(None, help="ISO 3166-1 alpha-2 country where it is used"),
           purpose: Optional[str] = typer.Option(None, help="research, non-commercial or commercial"),
           user_type: Optional[str] = typer.Option(None, help="commercial, non-commercial, education, government, "
                                                              "personal"),
           days: int = typer.Option(365, min=1, max=3660, help="how long the licence would last"),
           as_json: bool = JSON_OPT) -> None:
    """Every work, recording, catalogue or web location whose terms offer the use under licence. Public."""
    done = open_obra().ai_licences.offers(use, territory=territory, purpose=purpose, user_type=user_type, days=days)

    def render(rows: list) -> None:
        table = Table(title=f"offers for {use.value}")
        for col in ("subject", "model", "price", "terms"):
            table.add_column(col)
        for r in rows:
            price = (f"{r['share_percent']} % of revenue" if r["share_percent"] else
                     _money({r["currency"]: r["unit_minor"]}) if r["currency"] else "")
            table.add_row(user_text(f"{r['subject_kind']} {r['subject']}"), r["model"] or "", price,
                          f"v{r['version']}, event {r['event']}")
        console.print(table)

    emit(done, as_json, render)


def quote(manifest: Path = typer.Argument(..., exists=True, help="CSV, JSONL or Parquet: number, sha256, url, count "
                                                                   "per item"),
          use: Use = typer.Option(Use.AI_TRAIN_GENERATIVE, help="the use to license"),
          territory: Optional[str] = typer.Option(None, help="ISO 3166-1 alpha-2 country where it is used"),
          purpose: Optional[str] = typer.Option(None, help="research, non-commercial or commercial"),
          user_type: Optional[str] = typer.Option(None, help="commercial, non-commercial, education, government, "
                                                             "personal"),
          days: int = typer.Option(365, min=1, max=3660, help="how long the licence would last"),
          start: Optional[str] = typer.Option(None, help="first day of the licence, YYYY-MM-DD (default today)"),
          show: int = typer.Option(20, min=0, help="print the first N items"),
          token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Price a manifest exactly, item by item, against the rightholders' offers; list what is not licensable."""
    obra = open_obra()
    svc = obra.ai_licences
    question = svc.question(use, territory=territory, purpose=purpose, user_type=user_type,
                            on=date.fromisoformat(start) if start else None, days=days)
    done = svc.quote(current_principal(obra, token), manifest, question, show=show)

    def render(d: dict) -> None:
        s = d["summary"]
        console.print(f"Quote {d['quote_id']} for {d['question']['use']}, {d['question']['valid_from']} to "
                      f"{d['question']['valid_until']} (accept by {d['expires_at']}):")
        console.print(f"  {s['licensable']:,} licensable, {s['free']:,} free to use, {s['not_licensable']:,} not "
                      f"licensable, of {s['items']:,} items")
        console.print(f"  total {_money(s['totals_minor'])}: due on acceptance {_money(s['due_on_acceptance_minor'])}, "
                      f"payable as used {_money(s['payable_on_use_minor'])}"
                      + (f"; revenue shares {', '.join(s['revenue_shares_percent'])} %" if s["revenue_shares_percent"]
                         else ""))
        for reason, n in s["not_licensable_reasons"].items():
            console.print(f"  [yellow]{n:,} not licensable[/]: {user_text(reason)}")
        table = Table(title="items")
        for col in ("line", "item", "status", "price", "offer"):
            table.add_column(col)
        for i in d["items"]:
            price = (f"{i['amount_minor']} ({i['model']}, {i['currency'] or ''} {i['unit_minor'] or ''})"
                     if i["status"] == "licensable" else "")
            table.add_row(str(i["line"]), user_text(i["number"] or i["url"] or i["sha256"] or ""), i["status"], price,
                          user_text(f"{i['offer_kind'] or ''} {i['offer_subject'] or ''}".strip() or i["reason"] or ""))
        if d["items"]:
            console.print(table)
        console.print(f"accept it: obra ai licence accept {d['quote_id']}")

    emit(done, as_json, render)


@licence_app.command("accept")
@handle_errors
def accept(quote_id: str = typer.Argument(..., help="the quote's id, e.g. Q-…"),
           output: Optional[Path] = typer.Option(None, "--out", help="write the signed licence here (JSON); its items "
                                                                     "with `obra ai licence items ID --out`"),
           token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Accept your quote: a licence signed by the office over its items, and the licence server's client
    credentials (the secret is shown once)."""
    obra = open_obra()
    principal = current_principal(obra, token)
    done = obra.ai_licences.accept(principal, quote_id)
    if output:
        output.write_text(json.dumps(done["licence"], indent=2, ensure_ascii=False), encoding="utf-8")
    emit(done, as_json, lambda d: console.print(
        f"Licence {d['licence_id']}: {d['items']:,} items, fee {_money(d['fee_minor'])}; journal event "
        f"{d['journal_event']}.\nLicence server client: id {d['client_id']}, secret {d['client_secret']} "
        "(shown once: keep it)"))


def _write_items(path: Path, leaves: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for leaf in leaves:
            fh.write(json.dumps(leaf, ensure_ascii=False, sort_keys=True) + "\n")


@licence_app.command("list")
@handle_errors
def list_licences(token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """The licences you hold (every licence for CMO and office staff)."""
    obra = open_obra()
    done = obra.ai_licences.licences(current_principal(obra, token))

    def render(rows: list) -> None:
        table = Table(title="AI licences")
        for col in ("licence", "licensee", "items", "from", "until", "status"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["licence_id"], user_text(r["licensee"]), f"{r['items']:,}", r["valid_from"],
                          r["valid_until"], r["status"])
        console.print(table)

    emit(done, as_json, render)


@licence_app.command("show")
@handle_errors
def show(licence_id: str = typer.Argument(...), token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """The signed licence and its status (its holder, CMO, office staff)."""
    obra = open_obra()
    done = obra.ai_licences.licence(current_principal(obra, token), licence_id)
    emit(done, as_json, lambda d: console.print_json(json.dumps(d, ensure_ascii=False)))


@licence_app.command("items")
@handle_errors
def items(licence_id: str = typer.Argument(...),
          output: Optional[Path] = typer.Option(None, "--out", help="write them here (JSON Lines) instead of printing"),
          token: Optional[str] = TOKEN_OPT) -> None:
    """The licence's items in Merkle leaf order, one JSON object a line (what verify --items reads)."""
    obra = open_obra()
    leaves = obra.ai_licences.items(current_principal(obra, token), licence_id)
    if output:
        _write_items(output, leaves)
        console.print(f"{len(leaves):,} items written to {user_text(output)}")
        return
    for leaf in leaves:
        typer.echo(json.dumps(leaf, ensure_ascii=False, sort_keys=True))


@licence_app.command("proof")
@handle_errors
def proof(licence_id: str = typer.Argument(...),
          position: Optional[int] = typer.Option(None, min=0, help="the item's position"),
          number: Optional[str] = typer.Option(None, help="the item's registration number"),
          token: Optional[str] = TOKEN_OPT) -> None:
    """One item with its inclusion proof under the licence's Merkle root (JSON, for verify --proof)."""
    obra = open_obra()
    done = obra.ai_licences.proof(current_principal(obra, token), licence_id, position=position, number=number)
    typer.echo(json.dumps(done, indent=2, ensure_ascii=False))


@licence_app.command("verify")
@handle_errors
def verify(licence: Path = typer.Argument(..., exists=True, help="the licence (JSON)"),
           items_file: Optional[Path] = typer.Option(None, "--items", exists=True,
                                                     help="its items (JSON Lines): checked against the signed root"),
           proof_file: Optional[Path] = typer.Option(None, "--proof", exists=True,
                                                     help="one item's inclusion proof (JSON)"),
           key_history: Optional[Path] = typer.Option(None, exists=True,
                                                      help="the office's key history (verify offline, no store)"),
           as_json: bool = JSON_OPT) -> None:
    """Verify a licence: the office's signature, its items or one item's proof, its term (offline with
    --key-history; otherwise against this office, revocation included)."""
    from obra.aiuse.licensing.licence import verify_licence

    data = licence.read_bytes()
    leaves = items_file.read_bytes() if items_file else None
    proof_doc = json.loads(proof_file.read_text(encoding="utf-8")) if proof_file else None
    if key_history is not None:
        done = verify_licence(data, key_history.read_bytes(), items=leaves, proof=proof_doc)
        doc = done.pop("licence")
        done |= {"licence_id": doc.get("licence_id"), "items": doc["items"]["count"], "revoked": None,
                 "merkle_root": doc["items"]["merkle_root"]}
    else:
        done = open_obra().ai_licences.verify(data, items=leaves, proof=proof_doc)

    def render(d: dict) -> None:
        state = ("[red]revoked[/]" if d.get("revoked") else "[yellow]expired[/]" if d["expired"]
                 else "[yellow]not yet valid[/]" if d["not_yet_valid"] else "[green]in force[/]")
        console.print(f"[green]valid[/]: licence {d['licence_id']} signed by the office; {state}; "
                      f"{d['items']:,} items under root {d['merkle_root'][:16]}…"
                      + ("; the item list matches" if d["items_checked"] else "")
                      + ("; the item is covered" if d["proof_checked"] else "")
                      + ("" if d.get("revoked") is not None else " (revocation not checked offline)"))

    emit(done, as_json, render)


@licence_app.command("income")
@handle_errors
def income(licence: Optional[str] = typer.Option(None, help="only this licence's lines"),
           status: Optional[str] = typer.Option(None, help="pending, held or distributed"),
           token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Licence income lines — fees, usage-report lines, paid fetches — of your licences (a creator: of your
    works; CMO and office staff: all)."""
    obra = open_obra()
    done = obra.ai_licences.income(current_principal(obra, token), licence_id=licence, status=status)

    def render(rows: list) -> None:
        table = Table(title="licence income")
        for col in ("licence", "source", "line", "work", "amount", "period", "status"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["licence_id"], r["source"], str(r["line"] or ""), r["number"] or "",
                          _money({r["currency"]: r["amount_minor"]}) if r["status"] != "held" else
                          user_text(r["reason"] or ""), r["period"], r["status"])
        console.print(table)

    emit(done, as_json, render)


@licence_app.command("revoke")
@handle_errors
def revoke(licence_id: str = typer.Argument(...), reason: str = typer.Option(..., help="why"),
           token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Revoke a licence (CMO, office staff): its items are no longer licensed, its tokens stop working."""
    obra = open_obra()
    done = obra.ai_licences.revoke(current_principal(obra, token), licence_id, reason)
    emit(done, as_json, lambda d: console.print(f"Licence {d['licence_id']} revoked; journal event {d['journal_event']}."))


@licence_app.command("expire")
@handle_errors
def expire(token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Record the expiry of every licence whose term has ended (CMO, office staff)."""
    obra = open_obra()
    done = obra.ai_licences.expire_due(current_principal(obra, token))
    emit(done, as_json, lambda d: console.print(f"{len(d)} licences expired."))


@licence_app.command("document")
@handle_errors
def document(licence_id: str = typer.Argument(...), fmt: str = typer.Option("html", "--format", help="html or pdf"),
             output: Path = typer.Option(..., "--out", help="where to write it"), locale: str = LOCALE_OPT,
             token: Optional[str] = TOKEN_OPT) -> None:
    """The licence as a document for people (HTML or PDF, in en, es, fr or pt)."""
    obra = open_obra()
    data = obra.ai_licences.document(current_principal(obra, token), licence_id, fmt=fmt, locale=locale)
    output.write_bytes(data)
    console.print(f"written {user_text(output)}")


def usage(licence_id: str = typer.Argument(..., help="the licence the usage was under"),
          report: Path = typer.Argument(..., exists=True, help="CSV: number|url|sha256, uses, revenue, output"),
          period: Optional[str] = typer.Option(None, help="YYYY-MM (default this month)"),
          currency: Optional[str] = typer.Option(None, help="the currency of a revenue column"),
          token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Report AI usage under a licence: each line priced, lines outside the licence held (never paid)."""
    obra = open_obra()
    done = obra.ai_licences.report_usage(current_principal(obra, token), licence_id, report.read_bytes(),
                                         source=report.name, period=period, currency=currency)

    def render(d: dict) -> None:
        console.print(f"Report {d['report_id']}{' (already recorded)' if d['already'] else ''}: {d['lines']} lines, "
                      f"{d['paid_lines']} owing {_money(d['owed_minor'])}, {d['covered_by_fee']} covered by the fee, "
                      f"{d['held_lines']} held")
        for h in d["held"]:
            console.print(f"  [yellow]held[/] line {h['line']}: {user_text(h['reason'])}")

    emit(done, as_json, render)


def royalties(period: str = typer.Argument(..., help="YYYY-MM"), currency: str = typer.Argument(...),
              token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Split a period's licence income over each work's rightholders, statements included (CMO)."""
    obra = open_obra()
    done = obra.ai_licences.royalties(current_principal(obra, token), period, currency)
    emit(done, as_json, lambda d: console.print(
        f"Run {d['run']}: {d['lines']} income lines, {_money({d['currency']: d['amount_minor']})} split over "
        f"{sum(r.get('payees', 0) for r in d['rights'].values())} payees; trace {user_text(d['trace'])}"))


def disclosure(file: Path = typer.Argument(..., exists=True, help="the public summary of training content (JSON, "
                                                                    "EU AI Office template)"),
               use: Use = typer.Option(Use.AI_TRAIN_GENERATIVE, help="the use the terms are checked for"),
               output: Optional[Path] = typer.Option(None, "--out", help="also write the report for rightholders "
                                                                        "and offices here (.html or .pdf)"),
               locale: str = LOCALE_OPT, token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """File an AI provider's training-content summary and cross-check it against reservations and licences."""
    obra = open_obra()
    done = obra.ai_licences.disclose(current_principal(obra, token), file.read_bytes(), source=file.name, use=use)
    if output:
        output.write_bytes(obra.ai_licences.disclosure_report(
            done, fmt="pdf" if output.suffix.lower() == ".pdf" else "html", locale=locale))

    def render(d: dict) -> None:
        console.print(f"Disclosure {d['disclosure_id']}{' (already filed)' if d['already'] else ''}: "
                      f"{user_text(d['provider'])}, {user_text(', '.join(d['model']))}")
        table = Table(title="top domains against the registry")
        for col in ("domain", "status", "terms stated", "licences"):
            table.add_column(col)
        for x in d["report"]["domains"]:
            table.add_row(user_text(x["domain"]), x["status"],
                          "; ".join(f"{user_text(t['subject'])} {t['permission']} {t['stated_at'][:10]}"
                                    for t in x["terms"]), ", ".join(x["licences"]))
        console.print(table)

    emit(done, as_json, render)


@likeness_app.command("consent")
@handle_errors
def likeness_consent(file: Path = typer.Argument(..., exists=True, help="the consent record (JSON); with "
                                                                         "consent_id, a new version of it"),
                     token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Record a performer's voice and likeness consent (signed, a journal event), within the statutory limits."""
    from obra.registry.batch import load_json_document

    obra = open_obra()
    done = obra.likeness.set_consent(current_principal(obra, token), load_json_document(file), source=file.name)
    emit(done, as_json, lambda d: console.print(f"Consent {d['consent_id']} version {d['version']}; journal event "
                                                f"{d['journal_event']}."))


@likeness_app.command("check")
@handle_errors
def likeness_check(performer: int = typer.Argument(..., help="the performer's party id"),
                   use: str = typer.Argument(..., help="synthetic-replica, training, generation, dubbing, "
                                                       "advertising"),
                   attribute: Optional[str] = typer.Option(None, help="voice, face, name, signature-style, body, "
                                                                      "performance"),
                   on: Optional[str] = typer.Option(None, help="the date of the use, YYYY-MM-DD (default today)"),
                   territory: Optional[str] = typer.Option(None, help="ISO 3166-1 alpha-2 country of the use"),
                   commercial: Optional[bool] = typer.Option(None, "--commercial/--non-commercial"),
                   as_json: bool = JSON_OPT) -> None:
    """Is this use of a performer's voice or likeness consented? The decision with its dated evidence. Public."""
    done = open_obra().likeness.check(performer, use, attribute=attribute,
                                      on=date.fromisoformat(on) if on else None, territory=territory,
                                      commercial=commercial)

    def render(d: dict) -> None:
        console.print(f"{d['decision']}: {user_text(d['rule'])}")
        for e in d["evidence"]:
            console.print(f"  consent {e['consent_id']} v{e['version']} ({e['decision']}), recorded {e['recorded_at']}, "
                          f"journal event {e['journal_event']}")

    emit(done, as_json, render)


@likeness_app.command("revoke")
@handle_errors
def likeness_revoke(consent_id: str = typer.Argument(...), reason: str = typer.Option(..., help="why"),
                    token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Revoke a consent from now on (a new signed version, a journal event)."""
    obra = open_obra()
    done = obra.likeness.revoke(current_principal(obra, token), consent_id, reason)
    emit(done, as_json, lambda d: console.print(f"Consent {d['consent_id']} revoked (version {d['version']})."))


@likeness_app.command("takedown")
@handle_errors
def likeness_takedown(performer: int = typer.Argument(..., help="the performer's party id"),
                      use: str = typer.Option(..., help="the offending use, e.g. advertising"),
                      url: str = typer.Option(..., help="where the offending use is"),
                      jurisdiction: str = typer.Option(..., help="whose law, e.g. US-TN, BR, DK"),
                      attribute: Optional[str] = typer.Option(None, help="voice, face, name, ..."),
                      description: Optional[str] = typer.Option(None, help="what the offending use does"),
                      output: Optional[Path] = typer.Option(None, "--out", help="write the signed notice here"),
                      token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """A signed takedown notice for a platform: the consent or its absence, the use, the legal basis."""
    obra = open_obra()
    done = obra.likeness.takedown(current_principal(obra, token), performer, use, url, jurisdiction,
                                  attribute=attribute, description=description)
    if output:
        output.write_text(json.dumps(done["notice"], indent=2, ensure_ascii=False), encoding="utf-8")
    emit(done, as_json, lambda d: console.print(f"Takedown notice signed ({d['signed_sha256'][:16]}…), consent "
                                                f"{d['notice']['consent']['decision']}; journal event "
                                                f"{d['journal_event']}."))


def register(app: typer.Typer) -> None:
    """Add the licence commands to ``obra ai`` (and ``obra likeness``)."""
    from obra.cli.aiuse import ai_app

    ai_app.command("offers")(handle_errors(offers))
    ai_app.command("quote")(handle_errors(quote))
    ai_app.command("usage")(handle_errors(usage))
    ai_app.command("royalties")(handle_errors(royalties))
    ai_app.command("disclosure")(handle_errors(disclosure))
    ai_app.add_typer(licence_app, name="licence")
    app.add_typer(likeness_app, name="likeness")
