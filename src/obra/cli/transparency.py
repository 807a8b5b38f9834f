"""``obra log`` (with ``checkpoint`` and ``vkey``), ``verify``, ``certificate``, ``keys``, ``federation``.

Thin shells over :mod:`obra.transparency.translog`, :mod:`~obra.registry.certificates`,
:mod:`~obra.transparency.signing` and :mod:`~obra.registry.federation`. Writes (key rotation,
importing another office's log) need an authenticated principal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from obra.cli.common import (JSON_OPT, LOCALE_OPT, TOKEN_OPT, console, current_principal, emit, handle_errors,
                             locale_of, open_obra, open_store)
from obra.errors import InvalidInput, Problem
from obra.registry import federation
from obra.registry.certificates import (certificate_bytes, render_html, render_pdf,
                                        verify_certificate)
from obra.transparency.checkpoint import checkpoint_vkeys, signed_checkpoint
from obra.transparency.signing import KeyHistory, KeyHistoryError
from obra.transparency.translog import TransparencyLog


log_app = typer.Typer(help="The transparency log: its signed tree head, entries, proofs and C2SP checkpoint.",
                      invoke_without_command=True)
keys_app = typer.Typer(help="The office's signing keys: list, rotate, export the published history.",
                       no_args_is_help=True)
federation_app = typer.Typer(help="Exchange signed logs with other offices.", no_args_is_help=True)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(Problem(f"cannot read the file: {exc.strerror}", source=str(path))) from None


def _key_history(path: Path) -> KeyHistory:
    try:
        return KeyHistory.parse(_read(path))
    except KeyHistoryError as exc:
        raise InvalidInput(Problem(str(exc), source=str(path))) from None


def _write(out: Path | None, data: bytes) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)


def log_command(
    ctx: typer.Context,
    office: Optional[str] = typer.Option(None, help="another office's imported log (default: this office)"),
    entries: Optional[str] = typer.Option(None, "--entries", help="entries START:END (END exclusive)"),
    number: Optional[str] = typer.Option(None, "--number", help="every entry of a registration number, proved"),
    inclusion: Optional[int] = typer.Option(None, "--inclusion", help="inclusion proof of entry INDEX"),
    consistency: Optional[int] = typer.Option(None, "--consistency", help="consistency proof from size OLD"),
    size: Optional[int] = typer.Option(None, "--size", help="tree size for proofs (default: current)"),
    as_json: bool = JSON_OPT,
) -> None:
    """Show the transparency log: its signed tree head, entries, or proofs."""
    if ctx.invoked_subcommand is not None:
        return
    store = open_store()
    if number:
        emit(federation.verify_number(store, number), as_json)
        return
    log = TransparencyLog(store, office)
    if inclusion is not None:
        emit(log.inclusion_proof(inclusion, size), as_json)
    elif consistency is not None:
        emit(log.consistency_proof(consistency, size), as_json)
    elif entries is not None:
        start, _, end = entries.partition(":")
        try:
            rows = log.entries(int(start or 0), int(end) if end else None)
        except ValueError:
            raise InvalidInput(Problem(f"'{entries}' is not START:END", field="--entries")) from None
        emit([e.to_dict() for e in rows], as_json, _render_entries)
    else:
        sth = log.signed_tree_head(size) if log.local else log.latest_tree_head()
        emit({"office": log.office, "size": log.size(), "tree_head": sth}, as_json)


@log_app.command("checkpoint")
@handle_errors
def log_checkpoint(size: Optional[int] = typer.Option(None, "--size", help="tree size (default: current)")) -> None:
    """The log's C2SP checkpoint: a signed note any transparency-log witness or verifier reads."""
    _write(None, signed_checkpoint(TransparencyLog(open_store()), size).encode("utf-8"))


@log_app.command("vkey")
@handle_errors
def log_vkey(every: bool = typer.Option(False, "--all", help="every key in the history, oldest first")) -> None:
    """The verifier key checkpoints are checked with (--all: also retired keys, for older checkpoints)."""
    vkeys = checkpoint_vkeys(TransparencyLog(open_store()))
    _write(None, "".join(f"{v}\n" for v in (vkeys if every else vkeys[-1:])).encode("utf-8"))


def _render_entries(rows: list[dict]) -> None:
    table = Table("index", "time", "type", "number / event", "version", "record hash")
    for r in rows:
        leaf = r["leaf"]
        about = leaf.get("number") or f"{leaf.get('kind')} #{leaf.get('journal_id')}"
        table.add_row(str(r["index"]), r["timestamp"], leaf["type"], about, str(leaf.get("version") or ""),
                      leaf["record_hash"][:16] + "…")
    console.print(table)


def verify_command(
    cert: Path = typer.Argument(..., help="the certificate file (JSON)"),
    keys: Optional[Path] = typer.Option(None, "--keys", help="the office's published key history (offline)"),
    as_json: bool = JSON_OPT,
) -> None:
    """Verify a certificate: signature, record hash and inclusion proof. Exit 0 only if valid.

    With --keys it runs fully offline; without, it uses the key history (and log) this store
    holds for the certificate's office, its own or an imported one.
    """
    data = _read(cert)
    if keys is not None:
        verified = verify_certificate(data, _key_history(keys))
    else:
        verified = federation.verify_certificate_here(open_store(), data)
    emit(verified.to_dict(), as_json, lambda d: console.print(
        f"[bold green]valid[/]: {d['number']} version {d['version']}, log entry {d['log_index']} "
        f"registered at {d['registered_at']}, signed by office {d['office']} "
        f"(key {d['key_id'][:12]}…, {d['key_status']})"))


def certificate_command(
    number: str = typer.Argument(..., help="registration number, e.g. OBRA-2026-0000001-7"),
    version: Optional[int] = typer.Option(None, help="a specific version (default: current)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="write the signed JSON here (default: stdout)"),
    html: Optional[Path] = typer.Option(None, "--html", help="also write an HTML rendering here"),
    pdf: Optional[Path] = typer.Option(None, "--pdf", help="also write a PDF rendering here"),
    codes: Optional[Path] = typer.Option(None, "--codes", help="JSON list of content codes to certify"),
    locale: str = LOCALE_OPT,
) -> None:
    """Issue the signed certificate of a registration (and its HTML/PDF renderings)."""
    content_codes = None
    if codes is not None:
        try:
            content_codes = json.loads(_read(codes))
        except ValueError as exc:
            raise InvalidInput(Problem(f"not valid JSON: {exc}", source=str(codes))) from None
        if not isinstance(content_codes, list):
            raise InvalidInput(Problem("content codes must be a JSON list of objects", source=str(codes)))
    cert = open_obra().log.certificate(number, version, content_codes)
    if html is not None:
        html.write_text(render_html(cert, locale_of(locale)), encoding="utf-8")
    if pdf is not None:
        pdf.write_bytes(render_pdf(cert, locale_of(locale)))
    _write(out, certificate_bytes(cert) + b"\n")


@keys_app.command("list")
@handle_errors
def keys_list(as_json: bool = JSON_OPT) -> None:
    """Every key this office has used, with its validity interval."""
    history = TransparencyLog(open_store()).key_history()

    def render(d: dict) -> None:
        table = Table("key id", "status", "valid from", "valid until")
        for k in d["keys"]:
            table.add_row(k["key_id"][:16] + "…", k["status"], k["valid_from"], k["valid_until"] or "")
        console.print(table)

    emit(history.to_dict(), as_json, render)


@keys_app.command("rotate")
@handle_errors
def keys_rotate(token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Retire the active key and make a new one, endorsed by the old one."""
    obra = open_obra()
    emit(obra.log.rotate_key(current_principal(obra, token)), as_json)


@keys_app.command("export")
@handle_errors
def keys_export(out: Optional[Path] = typer.Option(None, "--out", "-o", help="file (default: stdout)")) -> None:
    """The published key history: what third parties need to verify certificates."""
    _write(out, TransparencyLog(open_store()).key_history().to_json().encode())


@federation_app.command("export")
@handle_errors
def federation_export(since: int = typer.Option(0, help="first entry to include (the size they hold)"),
                      out: Optional[Path] = typer.Option(None, "--out", "-o", help="file (default: stdout)")) -> None:
    """This office's signed log, for another office to import."""
    export = federation.export_log(TransparencyLog(open_store()), since)
    _write(out, (json.dumps(export, ensure_ascii=False) + "\n").encode())


@federation_app.command("import")
@handle_errors
def federation_import(file: Path = typer.Argument(..., help="a log export from another office"),
                      keys: Optional[Path] = typer.Option(None, "--keys",
                                                          help="that office's key history, obtained out of band"),
                      token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Verify another office's signed log and keep it, so its numbers can be verified here."""
    obra = open_obra()
    trusted = _key_history(keys) if keys is not None else None
    emit(obra.log.import_log(current_principal(obra, token), _read(file), trusted), as_json)


@federation_app.command("offices")
@handle_errors
def federation_offices(as_json: bool = JSON_OPT) -> None:
    """The offices whose logs this store holds."""
    emit(federation.imported_offices(open_store()), as_json)


journal_app = typer.Typer(help="The journal: every state change, each anchored in the transparency log.",
                          no_args_is_help=True)


@journal_app.command("list")
@handle_errors
def journal_list(kind: Optional[str] = typer.Option(None, help="one kind, e.g. distribution.run (or a prefix "
                                                                "ending in '.', e.g. registration.)"),
                 subject: Optional[str] = typer.Option(None, help="one subject, e.g. run/3"),
                 after: int = typer.Option(0, help="only events after this id"),
                 limit: int = typer.Option(100, help="at most this many"),
                 token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """Every state change, oldest first (CMO and office staff)."""
    obra = open_obra()
    rows = obra.read_journal(current_principal(obra, token), kind, subject, limit, after)

    def render(rs: list[dict]) -> None:
        table = Table("id", "at", "kind", "subject", "actor", "log index")
        for r in rs:
            table.add_row(str(r["id"]), r["at"], r["kind"], r["subject"], r["actor"], str(r["log_index"]))
        console.print(table)

    emit(rows, as_json, render)


@journal_app.command("proof")
@handle_errors
def journal_proof(event_id: int = typer.Argument(..., help="journal event id"),
                  out: Optional[Path] = typer.Option(None, "--out", "-o", help="file (default: stdout)")) -> None:
    """An event with its inclusion proof and a signed tree head, to verify offline."""
    _write(out, (json.dumps(open_obra().journal_proof(event_id), ensure_ascii=False, indent=1) + "\n").encode())


@journal_app.command("verify")
@handle_errors
def journal_verify(proof: Path = typer.Argument(..., help="a proof file from `obra journal proof`"),
                   keys: Optional[Path] = typer.Option(None, "--keys", help="the office's key history (offline)"),
                   as_json: bool = JSON_OPT) -> None:
    """Check a journal event offline: its hash, its leaf, its inclusion in a signed tree head."""
    from obra.journal import verify_proof

    try:
        bundle = json.loads(_read(proof))
    except ValueError as exc:
        raise InvalidInput(Problem(f"not valid JSON: {exc}", source=str(proof))) from None
    history = _key_history(keys) if keys is not None else open_obra().log.key_history()
    emit(verify_proof(bundle, history), as_json, lambda d: console.print(
        f"[bold green]valid[/]: journal event {d['id']} ({d['kind']}, {d['subject']}) logged at "
        f"{d['logged_at']} as entry {d['log_index']} of a signed tree of size {d['tree_size']}"))


def register(app: typer.Typer) -> None:
    """Add the transparency commands to the ``obra`` application."""
    log_app.callback(invoke_without_command=True)(handle_errors(log_command))
    app.add_typer(log_app, name="log")
    app.command("verify")(handle_errors(verify_command))
    app.command("certificate")(handle_errors(certificate_command))
    app.add_typer(keys_app, name="keys")
    app.add_typer(federation_app, name="federation")
    app.add_typer(journal_app, name="journal")
