"""``obra law …``: the comparative-law data asked and compared; ``obra ai evidence`` for enforcement.

Thin shells over :meth:`obra.app.Obra.law_compare`, :meth:`~obra.app.Obra.law_show` and
``Obra.ai_evidence`` (:class:`obra.aiuse.evidence.service.EvidenceService`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from obra.cli.common import JSON_OPT, TOKEN_OPT, console, current_principal, emit, handle_errors, open_obra, user_text

law_app = typer.Typer(help="The comparative-law data: facts per jurisdiction with citations and confidence.",
                      no_args_is_help=True)


def _value(row: dict) -> str:
    value = row["value"]
    text = "—" if row["fact"] is None else ("yes" if value is True else "no" if value is False else
                                            "null" if value is None else str(value).replace("_", " "))
    if row["inherited_from"]:
        text += f" (from {row['inherited_from']})"
    if row["status"] == "pending bill":
        text += " (pending bill)"
    return user_text(text)


def _confidence(row: dict) -> str:
    fact = row["fact"]
    if fact is None:
        return ""
    return "[bold yellow]LOW: verify[/]" if row["low_confidence"] else fact["confidence"]


def _table(title: str, rows: list[dict], first: str) -> Table:
    table = Table(title=title, show_lines=False)
    for column in (first, "key", "value", "citation", "in force", "checked", "confidence"):
        table.add_column(column)
    for row in rows:
        fact = row["fact"] or {}
        table.add_row(row["jurisdiction"] if first == "jurisdiction" else row["topic"], row["key"], _value(row),
                      user_text(fact.get("citation", "no fact recorded")), user_text(fact.get("in_force") or "—"),
                      user_text(fact.get("checked", "")), _confidence(row))
        bill = row["pending_bill"]
        if bill:
            table.add_row("", "", user_text(f"bill: {bill['value']}"), user_text(bill["citation"]), "pending",
                          bill["checked"], bill["confidence"])
    return table


def _foot(data: dict) -> None:
    console.print(f"{data['facts']} facts, {data['gaps']} gaps, {data['inherited']} inherited, "
                  f"{data['pending_bills']} pending bills, {data['low_confidence']} of low confidence "
                  f"(verify those before relying on them); law data {data['law_version'][:16]}…, checked "
                  f"{data['law_checked']}. Sources: --json gives every fact's summary and URL.")


@law_app.command("compare")
@handle_errors
def compare(topic: str = typer.Argument(..., help="tdm, ai_output, remuneration, contracts, likeness or "
                                                  "registration"),
            jurisdictions: Optional[List[str]] = typer.Argument(None, help="codes such as EU DE GB US JP "
                                                                          "(default: all)"),
            as_json: bool = JSON_OPT) -> None:
    """One topic's facts across jurisdictions: value, citation, date in force, date checked, confidence. Public."""
    data = open_obra().law_compare(topic, jurisdictions or None)

    def render(d: dict) -> None:
        console.print(_table(f"{d['topic']} across {len(d['jurisdictions'])} jurisdictions", d["rows"],
                             "jurisdiction"))
        _foot(d)

    emit(data, as_json, render)


@law_app.command("show")
@handle_errors
def show(jurisdiction: str = typer.Argument(..., help="a code such as DE, GB, US, US-TN, BR"),
         as_json: bool = JSON_OPT) -> None:
    """Every topic's facts for one jurisdiction (facts of the union it is part of marked as inherited). Public."""
    data = open_obra().law_show(jurisdiction)

    def render(d: dict) -> None:
        part = f", part of {' → '.join(d['part_of_chain'])}" if d["part_of_chain"] else ""
        rows = [row for topic in d["topics"].values() for row in topic]
        console.print(_table(f"{d['jurisdiction']} — {user_text(d['name'])} ({user_text(d['region'])}{part})",
                             rows, "topic"))
        _foot(d)

    emit(data, as_json, render)


@law_app.command("validate")
@handle_errors
def validate(file: Optional[Path] = typer.Argument(None, exists=True, dir_okay=False,
                                                   help="a law file to check (default: the packaged one)"),
             as_json: bool = JSON_OPT) -> None:
    """Check a law file against its own vocabulary before proposing it: every problem names the fact's index."""
    from obra.law import load

    law = load(file)
    emit({"source": law.source, "facts": len(law.all_facts), "jurisdictions": len(law.jurisdictions),
          "topics": list(law.topics), "version": law.version}, as_json,
         lambda d: console.print(f"[green]valid[/]: {user_text(d['source'])}, {d['facts']} facts, "
                                 f"{d['jurisdictions']} jurisdictions, version {d['version']}"))


# --- obra ai evidence ------------------------------------------------------------------------------

def _write(path: Path, content: str | bytes) -> None:
    """Write a file whole or not at all (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as out:
        out.write(content.encode("utf-8") if isinstance(content, str) else content)
    os.replace(tmp, path)


def evidence(check: str = typer.Argument(..., help="the training check: its results directory, or its journal "
                                                   "event id or receipt hash (checks kept under OBRA_HOME)"),
             work: str = typer.Option(..., "--work", help="the registration number of the work or recording"),
             against: str = typer.Option(..., "--against", help="the AI developer or dataset the evidence is for"),
             rightholder_jurisdiction: Optional[str] = typer.Option(None, help="where the rightholder is, e.g. FR"),
             developer_jurisdiction: Optional[str] = typer.Option(None, help="where the developer is, e.g. US"),
             training_jurisdiction: Optional[str] = typer.Option(None, help="where the training took place "
                                                                            "(default: the check's jurisdiction)"),
             locales: Optional[List[str]] = typer.Option(None, "--locale", help="letter language(s): en, es, fr, pt; "
                                                                                  "repeat the option (default: all four)"),
             pdf: bool = typer.Option(False, "--pdf", help="also write each letter as PDF"),
             output: Optional[Path] = typer.Option(None, "--out", file_okay=False,
                                                   help="directory for the bundle and letters (default: "
                                                        "./evidence-NUMBER)"),
             token: Optional[str] = TOKEN_OPT, as_json: bool = JSON_OPT) -> None:
    """An evidence package for enforcement: the matched items and how they matched, the reservation in force
    at the crawl date with its journal proof, the licence status, the legal basis in each jurisdiction
    concerned, a signed bundle that verifies offline, and a letter in four languages."""
    obra = open_obra()
    principal = current_principal(obra, token)
    path = Path(check)
    done = obra.ai_evidence.evidence(
        principal, path if path.is_dir() else check, work=work, against=against,
        jurisdictions={"rightholder": rightholder_jurisdiction, "developer": developer_jurisdiction,
                       "training": training_jurisdiction},
        locales=locales or None, pdf=pdf)
    target = output or Path(f"evidence-{done['work']['number']}")
    files = {"bundle": target / "evidence.json", "keys": target / "office-keys.json"}
    _write(files["bundle"], done["bundle_bytes"])
    _write(files["keys"], json.dumps(done["key_history"], indent=2))
    for lang, letter in done["letters"].items():
        files[f"letter.{lang}.html"] = target / f"letter.{lang}.html"
        _write(files[f"letter.{lang}.html"], letter["html"])
        if letter.get("pdf") is not None:
            files[f"letter.{lang}.pdf"] = target / f"letter.{lang}.pdf"
            _write(files[f"letter.{lang}.pdf"], letter["pdf"])
    shown = {k: v for k, v in done.items() if k not in ("bundle_bytes", "letters", "key_history")}
    shown["letters"] = {lang: {"sha256": x["sha256"], "pdf_sha256": x.get("pdf_sha256")}
                        for lang, x in done["letters"].items()}
    shown["files"] = {name: str(p) for name, p in files.items()}

    def render(d: dict) -> None:
        b = d["bundle"]
        console.print(f"Evidence for {user_text(d['work']['number'])} ({user_text(d['work']['title'])}) against "
                      f"{user_text(b['against']['name'])}: {len(b['items'])} matched item(s)")
        table = Table("jurisdiction", "roles", "outcome", "rule", "confidence")
        for basis in b["legal_basis"]:
            outcome = ", ".join(f"{k} {v}" for k, v in basis["decisions"].items() if v)
            table.add_row(basis["jurisdiction"], ", ".join(basis["roles"]), outcome,
                          user_text(basis["rule"]["exception_note"]), basis["rule"]["confidence"])
        console.print(table)
        for note in b["reliance"]:
            console.print(f"[yellow]note[/]: {user_text(note)}")
        console.print(f"bundle sha256 {d['bundle_sha256']}, journal event {d['journal_event']}; written to "
                      f"{user_text(str(target))} (verify offline: obra ai evidence-verify {user_text(str(files['bundle']))}"
                      f" --keys {user_text(str(files['keys']))})")

    emit(shown, as_json, render)


def evidence_verify(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="an evidence.json bundle"),
                    keys: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                                        help="the office's key history (default: this office's)"),
                    as_json: bool = JSON_OPT) -> None:
    """Verify an evidence bundle offline: the office's signature, the check's receipt, and every journal
    proof in it (the reservation stated before the crawl). Public."""
    from obra.aiuse.evidence.bundle import verify_evidence

    data = file.read_bytes()
    done = verify_evidence(data, keys.read_bytes()) if keys is not None else \
        open_obra().ai_evidence.verify(data)
    emit(done, as_json, lambda d: console.print(
        f"[green]valid[/]: evidence for {user_text(d['work'])} against {user_text(d['against'])}, issued "
        f"{d['issued_at']} by office {d['office']}; {d['proofs']} journal proofs checked"))


def register(app: typer.Typer) -> None:
    """Add ``obra law`` and ``obra ai evidence`` / ``evidence-verify`` to the ``obra`` application."""
    from obra.cli.aiuse import ai_app

    app.add_typer(law_app, name="law")
    ai_app.command("evidence")(handle_errors(evidence))
    ai_app.command("evidence-verify")(handle_errors(evidence_verify))
