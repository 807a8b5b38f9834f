"""``obra``: the command line. Each command translates its arguments into one core call.

Capabilities add their commands through a ``register(app)`` function in their own CLI
module (listed in :data:`COMMAND_MODULES`), so this file stays a table of contents.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from obra.access import create_principal
from obra.cli.common import (console, credentials_path, current_principal, emit, handle_errors, open_store)
from obra.errors import AuthenticationRequired, InvalidInput, PermissionDenied, Problem
from obra.model.vocab import AccessRole
from obra.registry.batch import import_file
from obra.registry.service import Registry

app = typer.Typer(help="Obra: registry, content identification and royalties for authors and performers.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
party_app = typer.Typer(help="Parties: people and organisations.", no_args_is_help=True)
agreement_app = typer.Typer(help="Agreements between parties.", no_args_is_help=True)
principal_app = typer.Typer(help="Principals (who may write) and their tokens.", no_args_is_help=True)
app.add_typer(party_app, name="party")
app.add_typer(agreement_app, name="agreement")
app.add_typer(principal_app, name="principal")

COMMAND_MODULES = ("obra.cli.transparency", "obra.cli.identify", "obra.cli.ingest", "obra.cli.distribute")

JSON_OPT = typer.Option(False, "--json", help="print one JSON document (for scripts)")
TOKEN_OPT = typer.Option(None, "--token", envvar="OBRA_TOKEN", help="bearer token of the principal")


def _ensure_local_admin(store) -> bool:
    """On first use of a store, create the local admin and keep its token in OBRA_HOME (mode 0600)."""
    path = credentials_path()
    if path.exists():
        return False
    try:
        principal, token = create_principal(store, "local-admin", AccessRole.ADMIN)
    except (AuthenticationRequired, PermissionDenied, InvalidInput):  # a shared store already has admins
        return False
    path.write_text(json.dumps({"name": principal.name, "token": token}))
    path.chmod(0o600)
    return True


@app.command()
@handle_errors
def init(as_json: bool = JSON_OPT) -> None:
    """Create the store (migrations) and, on first run, a local admin whose token is kept in OBRA_HOME."""
    store = open_store(migrate=True)
    created = _ensure_local_admin(store)
    emit({"home": str(store.home), "database": store.engine.url.render_as_string(hide_password=True),
          "office": store.office, "admin_created": created, "credentials": str(credentials_path())}, as_json)


@app.command()
@handle_errors
def migrate(as_json: bool = JSON_OPT) -> None:
    """Bring the store's schema to this version of Obra (the only command besides init that migrates)."""
    store = open_store(migrate=True)
    emit({"database": store.engine.url.render_as_string(hide_password=True), "revision": store.revision()},
         as_json)


def _load_record_file(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(Problem(f"not valid JSON: {exc.msg}", line=exc.lineno, source=str(path))) from None


def _parse_share(text: str) -> dict:
    parts = text.split(":")
    if len(parts) != 4:
        raise InvalidInput(Problem(f"'{text}' must be party:right_type:territory:percent", field="--share"))
    party, right, territory, pct = parts
    return {"party": party, "right_type": right, "territory": territory, "share": pct}


@app.command()
@handle_errors
def register(
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
    store = open_store()
    principal = current_principal(store, token)
    if file:
        data = _load_record_file(file)
    else:
        if not title:
            raise InvalidInput(Problem("give --title or --file", field="title"))
        data = {"title": title, "creation_mode": mode, "shares": [_parse_share(s) for s in share]}
        if entity == "work":
            data |= {"kind": kind, "iswc": iswc, "language": language}
            if mode != "human" or ai_system or ai_contribution:
                data["disclosure"] = {"systems": [_system(s) for s in ai_system],
                                      "ai_contribution": ai_contribution or "",
                                      "human_contribution": human_contribution, "excluded_material": excluded}
        else:
            data["isrc"] = isrc
    registry = Registry(store)
    if content:
        from obra.identify.registration import register_with_file

        record = register_with_file(registry, principal, entity, data, content)
    else:
        record = registry.register(principal, entity, data)
    emit(record, as_json, _render_record)


def _system(text: str) -> dict:
    name, _, version = text.rpartition(" ")
    return {"name": name, "version": version} if name else {"name": text}


def _render_record(record) -> None:
    d = record.to_dict() if hasattr(record, "to_dict") else record
    rec = d["record"]
    body = rec.get(d["entity"], {})
    console.print(f"[bold]{d['number']}[/] v{d['version']} · {d['entity']} · [bold]{d['status']}[/]")
    console.print(f"  title: {body.get('title')}")
    for key in ("iswc", "isrc"):
        if body.get(key):
            console.print(f"  {key.upper()}: {body[key]}")
    mode = rec.get("creation_mode", "human")
    style = "yellow" if mode != "human" else "green"
    console.print(f"  creation mode: [{style}]{mode.replace('_', '-')}[/]")
    if rec.get("disclosure"):
        disc = rec["disclosure"]
        systems = ", ".join(" ".join(filter(None, [s["name"], s.get("version")])) for s in disc["systems"])
        console.print(f"  AI systems: {systems}")
        console.print(f"  AI produced: {disc['ai_contribution']}")
        console.print(f"  humans contributed: {disc['human_contribution'] or '(nothing claimed)'}")
        console.print(f"  excluded from the claim: {disc['excluded_material'] or '-'}")
    for p in rec.get("parties", []):
        console.print(f"  party {p['id']}: {p['name']}" + (f" (IPI {p['ipi']})" if p.get("ipi") else ""))
    if rec.get("content"):
        console.print(f"  ISCC: {rec['content']['iscc']} ({rec['content']['filename']})")
    console.print(f"  record hash: {d['record_hash']}")
    if d.get("log_index") is not None:
        console.print(f"  transparency log index: {d['log_index']}")
    for w in d.get("warnings") or []:
        console.print(f"  [yellow]warning:[/] {w.get('message', w)}")


@app.command()
@handle_errors
def show(number: str, version: Optional[int] = None, history: bool = typer.Option(False, help="all versions"),
         as_json: bool = JSON_OPT) -> None:
    """Show a registration's public record (current version unless --version)."""
    registry = Registry(open_store())
    if history:
        emit([r.to_dict() for r in registry.history(number)], as_json,
             lambda rows: [_render_record(r) for r in rows])
    else:
        emit(registry.show(number, version), as_json, _render_record)


@app.command()
@handle_errors
def search(text: Optional[str] = typer.Argument(None, help="title words (accents and case ignored)"),
           iswc: Optional[str] = None, isrc: Optional[str] = None,
           party: Optional[str] = typer.Option(None, help="party id, IPI name number or name"),
           entity: Optional[str] = None, mode: Optional[str] = typer.Option(None, "--mode"),
           limit: int = 50, as_json: bool = JSON_OPT) -> None:
    """Search current registrations by title, identifier or party."""
    rows = Registry(open_store()).search(text, iswc=iswc, isrc=isrc, party=party, entity=entity,
                                        creation_mode=mode, limit=limit)

    def render(rows):
        table = Table("number", "entity", "title", "ISWC/ISRC", "mode", "status")
        for r in rows:
            table.add_row(r["number"], r["entity"], r["title"], r["iswc"] or r["isrc"] or "", r["creation_mode"],
                          r["status"])
        console.print(table)
    emit(rows, as_json, render)


@app.command()
@handle_errors
def correct(number: str, file: Path = typer.Option(..., "--file", "-f", exists=True),
            reason: str = typer.Option(..., help="why the record changes"),
            content: Optional[Path] = typer.Option(None, "--content", exists=True, dir_okay=False,
                                                   help="a replacement file for the work (new content codes)"),
            token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Correct a registration: a new version; earlier ones stay visible."""
    store = open_store()
    registry, principal, data = Registry(store), current_principal(store, token), _load_record_file(file)
    if content:
        from obra.identify.registration import correct_with_file

        record = correct_with_file(registry, principal, number, data, reason, content)
    else:
        record = registry.correct(principal, number, data, reason)
    emit(record, as_json, _render_record)


@app.command()
@handle_errors
def withdraw(number: str, reason: str = typer.Option(...), token: Optional[str] = TOKEN_OPT,
             as_json: bool = JSON_OPT) -> None:
    """Withdraw a registration (a new version with status 'withdrawn')."""
    store = open_store()
    emit(Registry(store).withdraw(current_principal(store, token), number, reason), as_json, _render_record)


@app.command("import")
@handle_errors
def import_(files: list[Path] = typer.Argument(..., exists=True),
            entity: Optional[str] = typer.Option(None, help="for CSV: parties, works or recordings"),
            token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Import JSON or CSV batches; a batch with one bad row is rejected whole, with every problem listed."""
    store = open_store()
    principal = current_principal(store, token)
    results = [import_file(store, principal, f, entity) for f in files]
    emit([{k: (len(v) if isinstance(v, list) else v) for k, v in r.items()} for r in results], as_json)


@party_app.command("add")
@handle_errors
def party_add(name: str, kind: str = "person", role: list[str] = typer.Option([], "--role"),
              ipi: Optional[str] = None, isni: Optional[str] = None, country: Optional[str] = None,
              token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Add a party (person or organisation)."""
    store = open_store()
    party = Registry(store).add_party(current_principal(store, token), {
        "name": name, "kind": kind, "roles": role, "ipi": ipi, "isni": isni, "country": country})
    emit(party, as_json)


@party_app.command("show")
@handle_errors
def party_show(party_id: int, as_json: bool = JSON_OPT) -> None:
    emit(Registry(open_store()).party(party_id), as_json)


@agreement_app.command("add")
@handle_errors
def agreement_add(file: Path = typer.Option(..., "--file", "-f", exists=True), token: Optional[str] = TOKEN_OPT,
                  as_json: bool = JSON_OPT) -> None:
    """Add an agreement from a JSON file (see docs/data-model.md)."""
    store = open_store()
    emit(Registry(store).add_agreement(current_principal(store, token), _load_record_file(file)), as_json)


@principal_app.command("add")
@handle_errors
def principal_add(name: str, role: str = typer.Option(..., help=", ".join(r.value for r in AccessRole)),
                  party: Optional[int] = typer.Option(None, help="the party a creator principal is"),
                  token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Create a principal and print its token once (admin only)."""
    store = open_store()
    principal, new_token = create_principal(store, name, role, party, by=current_principal(store, token))
    emit({"name": principal.name, "role": principal.role.value, "party_id": principal.party_id,
          "token": new_token}, as_json)


@app.command()
@handle_errors
def demo(seed: int = 2026, works: int = typer.Option(3000, help="works in the demo catalogue"),
         as_json: bool = JSON_OPT) -> None:
    """Load the demo catalogue and run the main job end to end; print where the results are."""
    from obra_demo.run import run_demo

    store = open_store(migrate=True)  # the demo sets up a fresh store, like `obra init`
    _ensure_local_admin(store)
    summary = run_demo(store, current_principal(store), seed=seed, works=works)
    emit(summary, as_json, _render_demo)


def _render_demo(summary: dict) -> None:
    console.print("[bold green]Obra demo finished.[/] Results:")
    for key, value in summary.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        console.print(f"  {key.replace('_', ' ')}: {value}", soft_wrap=True)


@app.command()
@handle_errors
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the REST API (OpenAPI at /docs)."""
    import uvicorn

    from obra.api.app import create_app

    uvicorn.run(create_app(open_store()), host=host, port=port)


for _module in COMMAND_MODULES:
    try:
        importlib.import_module(_module).register(app)
    except ModuleNotFoundError as _exc:  # a capability not installed in this build
        if _exc.name != _module:
            raise


def run() -> None:
    app()
