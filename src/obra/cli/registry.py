"""``obra register``, ``show``, ``search``, ``correct``, ``withdraw``, ``import``, ``party``, ``agreement``,
``principal``: the registry's commands, thin shells over ``Obra.registry`` and ``Obra.principals``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from obra.cli.common import (JSON_OPT, TOKEN_OPT, console, current_principal, emit, handle_errors, open_obra,
                             user_text)
from obra.errors import InvalidInput, Problem
from obra.model.shares import parse_share_notation
from obra.model.vocab import AccessRole
from obra.registry.service import SEARCH_LIMIT_MAX

party_app = typer.Typer(help="Parties: people and organisations.", no_args_is_help=True)
agreement_app = typer.Typer(help="Agreements between parties.", no_args_is_help=True)
principal_app = typer.Typer(help="Principals (who may write) and their tokens.", no_args_is_help=True)


def _load_record_file(path: Path) -> dict:
    """A JSON record file, read as strictly as a batch (UTF-8, no duplicate keys, exact numbers)."""
    from obra.registry.batch import load_json_document

    return load_json_document(path)


@handle_errors
def register_command(
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="a JSON work or recording", exists=True),
    entity: str = typer.Option("work", help="work or recording"),
    title: Optional[str] = typer.Option(None, help="title (when not using --file)"),
    iswc: Optional[str] = None,
    isrc: Optional[str] = None,
    kind: str = typer.Option("musical", help="musical, literary, audiovisual, visual"),
    language: Optional[str] = None,
    mode: str = typer.Option("human", "--mode", help="human, ai_assisted or ai_generated"),
    ai_system: list[str] = typer.Option([], "--ai-system", help="AI system used (repeatable), e.g. 'Suno v4'"),
    ai_contribution: Optional[str] = typer.Option(None, help="what the AI produced"),
    human_contribution: str = typer.Option("", help="what the humans contributed"),
    excluded: str = typer.Option("", "--excluded", help="material excluded from the claim"),
    share: list[str] = typer.Option([], "--share", help="party:right_type:territory:percent (repeatable)"),
    content: Optional[Path] = typer.Option(None, "--content", exists=True, dir_okay=False,
                                           help="the work's file: its ISCC codes go into the record and "
                                                "registered near-duplicates are shown as possible prior work"),
    token: Optional[str] = TOKEN_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Register a work or recording; AI-assisted and AI-generated works state their disclosure."""
    obra = open_obra()
    principal = current_principal(obra, token)
    if file:
        data = _load_record_file(file)
    else:
        if not title:
            raise InvalidInput(Problem("give --title or --file", field="title"))
        data = {"title": title, "creation_mode": mode, "shares": [parse_share_notation(s, "--share") for s in share]}
        if entity == "work":
            data |= {"kind": kind, "iswc": iswc, "language": language}
            if mode != "human" or ai_system or ai_contribution:
                data["disclosure"] = {"systems": [_system(s) for s in ai_system],
                                      "ai_contribution": ai_contribution or "",
                                      "human_contribution": human_contribution, "excluded_material": excluded}
        else:
            data["isrc"] = isrc
    if content:
        record = obra.identify.register_with_file(principal, entity, data, content)
    else:
        record = obra.registry.register(principal, entity, data)
    emit(record, as_json, _render_record)


def _system(text: str) -> dict:
    name, _, version = text.rpartition(" ")
    return {"name": name, "version": version} if name else {"name": text}


def _render_record(record) -> None:
    d = record.to_dict() if hasattr(record, "to_dict") else record
    rec = d["record"]
    body = rec.get(d["entity"], {})
    console.print(f"[bold]{d['number']}[/] v{d['version']} · {d['entity']} · [bold]{d['status']}[/]")
    console.print(f"  title: {user_text(body.get('title'))}")
    for key in ("iswc", "isrc"):
        if body.get(key):
            console.print(f"  {key.upper()}: {user_text(body[key])}")
    mode = rec.get("creation_mode", "human")
    style = "yellow" if mode != "human" else "green"
    console.print(f"  creation mode: [{style}]{mode.replace('_', '-')}[/]")
    if rec.get("disclosure"):
        disc = rec["disclosure"]
        systems = ", ".join(" ".join(filter(None, [s["name"], s.get("version")])) for s in disc["systems"])
        console.print(f"  AI systems: {user_text(systems)}")
        console.print(f"  AI produced: {user_text(disc['ai_contribution'])}")
        console.print(f"  humans contributed: {user_text(disc['human_contribution'] or '(nothing claimed)')}")
        console.print(f"  excluded from the claim: {user_text(disc['excluded_material'] or '-')}")
    for p in rec.get("parties", []):
        console.print(f"  party {p['id']}: {user_text(p['name'])}" + (f" (IPI {p['ipi']})" if p.get("ipi") else ""))
    if rec.get("content"):
        console.print(f"  ISCC: {rec['content']['iscc']} ({user_text(rec['content']['filename'])})")
    console.print(f"  record hash: {d['record_hash']}")
    if d.get("log_index") is not None:
        console.print(f"  transparency log index: {d['log_index']}")
    for w in d.get("warnings") or []:
        console.print(f"  [yellow]warning:[/] {user_text(w.get('message', w))}")


@handle_errors
def show(number: str, version: Optional[int] = None, history: bool = typer.Option(False, help="all versions"),
         as_json: bool = JSON_OPT) -> None:
    """Show a registration's public record (current version unless --version)."""
    registry = open_obra().registry
    if history:
        emit([r.to_dict() for r in registry.history(number)], as_json,
             lambda rows: [_render_record(r) for r in rows])
    else:
        emit(registry.show(number, version), as_json, _render_record)


@handle_errors
def search(text: Optional[str] = typer.Argument(None, help="title words (accents and case ignored)"),
           iswc: Optional[str] = None, isrc: Optional[str] = None,
           party: Optional[str] = typer.Option(None, help="party id, IPI name number or name"),
           entity: Optional[str] = typer.Option(None, help="work or recording"),
           mode: Optional[str] = typer.Option(None, "--mode", help="human, ai_assisted or ai_generated"),
           limit: int = typer.Option(50, help=f"at most this many results (1 to {SEARCH_LIMIT_MAX})"),
           as_json: bool = JSON_OPT) -> None:
    """Search current registrations by title, identifier or party."""
    rows = open_obra().registry.search(text, iswc=iswc, isrc=isrc, party=party, entity=entity,
                                        creation_mode=mode, limit=limit)

    def render(rows):
        table = Table("number", "entity", "title", "ISWC/ISRC", "mode", "status")
        for r in rows:
            table.add_row(r["number"], r["entity"], user_text(r["title"]), r["iswc"] or r["isrc"] or "",
                          r["creation_mode"],
                          r["status"])
        console.print(table)
    emit(rows, as_json, render)


@handle_errors
def correct(number: str, file: Path = typer.Option(..., "--file", "-f", exists=True),
            reason: str = typer.Option(..., help="why the record changes"),
            content: Optional[Path] = typer.Option(None, "--content", exists=True, dir_okay=False,
                                                   help="a replacement file for the work (new content codes)"),
            token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Correct a registration: a new version; earlier ones stay visible."""
    obra = open_obra()
    principal, data = current_principal(obra, token), _load_record_file(file)
    if content:
        record = obra.identify.correct_with_file(principal, number, data, reason, content)
    else:
        record = obra.registry.correct(principal, number, data, reason)
    emit(record, as_json, _render_record)


@handle_errors
def withdraw(number: str, reason: str = typer.Option(...), token: Optional[str] = TOKEN_OPT,
             as_json: bool = JSON_OPT) -> None:
    """Withdraw a registration (a new version with status 'withdrawn')."""
    obra = open_obra()
    emit(obra.registry.withdraw(current_principal(obra, token), number, reason), as_json, _render_record)


@handle_errors
def import_(files: list[Path] = typer.Argument(..., exists=True),
            entity: Optional[str] = typer.Option(None, help="for CSV and JSON Lines (.jsonl): parties, works or "
                                                              "recordings"),
            token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Import JSON, JSON Lines or CSV batches, all files in one transaction: one bad row in any file rejects
    them all, with every problem listed. A party key of one file may be used by the files after it. Written
    set-based, far faster than one record at a time (see docs/load-your-register.md)."""
    obra = open_obra()
    principal = current_principal(obra, token)
    results = obra.import_files(principal, files, entity)
    emit([{k: (len(v) if isinstance(v, list) else v) for k, v in r.items()} for r in results], as_json)


@party_app.command("add")
@handle_errors
def party_add(name: str, kind: str = "person", role: list[str] = typer.Option([], "--role"),
              ipi: Optional[str] = None, isni: Optional[str] = None, country: Optional[str] = None,
              token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Add a party (person or organisation)."""
    obra = open_obra()
    party = obra.registry.add_party(current_principal(obra, token), {
        "name": name, "kind": kind, "roles": role, "ipi": ipi, "isni": isni, "country": country})
    emit(party, as_json)


@party_app.command("show")
@handle_errors
def party_show(party_id: int, as_json: bool = JSON_OPT) -> None:
    emit(open_obra().registry.party(party_id), as_json)


@agreement_app.command("add")
@handle_errors
def agreement_add(file: Path = typer.Option(..., "--file", "-f", exists=True), token: Optional[str] = TOKEN_OPT,
                  as_json: bool = JSON_OPT) -> None:
    """Add an agreement from a JSON file (see docs/data-model.md)."""
    obra = open_obra()
    emit(obra.registry.add_agreement(current_principal(obra, token), _load_record_file(file)), as_json)


@principal_app.command("add")
@handle_errors
def principal_add(name: str, role: str = typer.Option(..., help=", ".join(r.value for r in AccessRole)),
                  party: Optional[int] = typer.Option(None, help="the party a creator principal is"),
                  token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Create a principal and print its token once (admin only)."""
    obra = open_obra()
    emit(obra.principals.create(current_principal(obra, token), name, role, party), as_json)


def register(app: typer.Typer) -> None:
    """Add the registry's commands to the ``obra`` application."""
    app.command("register")(register_command)
    app.command("show")(show)
    app.command("search")(search)
    app.command("correct")(correct)
    app.command("withdraw")(withdraw)
    app.command("import")(import_)
    app.add_typer(party_app, name="party")
    app.add_typer(agreement_app, name="agreement")
    app.add_typer(principal_app, name="principal")
