"""The fairness service: what ``Obra.fairness`` is, and what the CLI and the API call.

Access is checked here from the one permission table (:mod:`obra.access`): CMOs and office
staff check and report on the whole catalogue; a creator (or registrant) only on agreements
they granted and on their own reports (``OWN_PARTY``). Every check, letter and report is kept
under ``$OBRA_HOME/fairness/``, listed in ``fairness_documents`` with its SHA-256 and anchored
by a journal event (``fairness.check``, ``fairness.letter``, ``fairness.report``,
``fairness.reports``) written in the same transaction.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select, update

from obra.access import Principal, require
from obra.canonical import canonical, sha256_hex
from obra.errors import InvalidInput, NotFound, Problem
from obra.fairness import letters
from obra.fairness.renegotiation import Policy, check
from obra.fairness.runs import current_runs
from obra.fairness.terms import AgreementTerms, all_terms, set_terms
from obra.fairness.transparency_report import (build_report, generated_by_period, report_hash, report_rows,
                                               sign_and_write, sign_reports, to_csv, verify_report)
from obra.ids import ascii_digits
from obra.journal import Journal
from obra.law import load as load_law
from obra.law.fairness import FairnessConfig, rule_set
from obra.store.schema import fairness_documents, parties, registrations
from obra.transparency.translog import TransparencyLog

FORMATS = ("json", "csv", "html", "pdf")
LETTER_FORMATS = ("html", "pdf")


class CheckRequest(BaseModel):
    """What ``obra fairness check`` and ``POST /fairness/checks`` both take."""

    model_config = ConfigDict(extra="forbid")

    as_of: date | None = Field(None, description="the day the check speaks for (default today)")
    party: str | None = Field(None, description="only agreements this party granted (a creator: their own)")
    threshold: dict[str, str] = Field(default_factory=dict, description=(
        "disproportion threshold where the law gives no number, per jurisdiction (or JUR:lump_sum, "
        "JUR:proportional), e.g. {\"NL\": \"1/2\"}"))
    months: dict[str, int] = Field(default_factory=dict, description=(
        "non-exploitation period in months where the law gives none, e.g. {\"NL\": 24}"))
    benchmark: dict[str, str] = Field(default_factory=dict, description=(
        "appropriate share of revenue per jurisdiction where an agreement states none, e.g. {\"DE\": \"0.10\"}"))

    def config(self) -> FairnessConfig:
        return FairnessConfig(thresholds={k.upper(): v for k, v in self.threshold.items()},
                              months={k.upper(): v for k, v in self.months.items()},
                              benchmarks={k.upper(): v for k, v in self.benchmark.items()})


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class FairnessService:
    """Renegotiation checks and their letters, transparency reports, agreement terms."""

    store: Any

    # ------------------------------------------------------------------ paths and records
    @property
    def home(self) -> Path:
        return Path(self.store.paths.home) / "fairness"

    def _names(self) -> dict[str, str]:
        with self.store.connect() as conn:
            return {str(i): n for i, n in conn.execute(select(parties.c.id, parties.c.name))}

    def _titles(self) -> dict[str, str]:
        r = registrations
        with self.store.connect() as conn:
            return {n: t for n, t in conn.execute(select(r.c.number, r.c.title).where(r.c.is_current.is_(True)))}

    def _keep(self, conn: Any, principal: Principal, kind: str, party: str | None, subject: str, year: int | None,
              digest: str, directory: Path, payload: dict) -> tuple[int, Any]:
        doc = conn.execute(insert(fairness_documents).values(
            kind=kind, party_id=int(party) if party is not None and ascii_digits(str(party)) else None,
            subject=subject[:200], year=year, sha256=digest, directory=str(directory), created_at=_now(),
            created_by=principal.name)).inserted_primary_key[0]
        event = Journal(self.store).record(conn, f"fairness.{kind}", f"fairness/{kind}/{doc}",
                                           {"document": doc, "sha256": digest, **payload}, principal.name)
        conn.execute(update(fairness_documents).where(fairness_documents.c.id == doc).values(journal_id=event.id))
        return int(doc), event

    def _document(self, doc_id: int, kind: str) -> dict:
        with self.store.connect() as conn:
            row = conn.execute(select(fairness_documents).where(fairness_documents.c.id == doc_id,
                                                                fairness_documents.c.kind == kind)).mappings().first()
        if row is None:
            raise NotFound(f"no {kind} {doc_id}", hint="`obra fairness documents` lists them")
        return dict(row)

    # ------------------------------------------------------------------ terms
    def set_terms(self, principal: Principal, agreement: int, terms: AgreementTerms) -> dict:
        """State an agreement's governing law, lump sum and appropriate share (``fairness.terms_set``)."""
        require(principal, "fairness_terms")
        with self.store.begin() as conn:
            row = set_terms(conn, agreement, terms, principal.name, load_law())
            event = Journal(self.store).record(conn, "fairness.terms_set", f"agreement/{agreement}",
                                               {k: v for k, v in row.items() if k not in ("updated_at", "updated_by")},
                                               principal.name)
        return {**row, "journal_event": event.id}

    # ------------------------------------------------------------------ renegotiation
    def check(self, principal: Principal, request: CheckRequest) -> dict:
        """Run every renegotiation trigger over the stored runs; keep the result (``fairness.check``)."""
        import duckdb

        if request.party is not None:
            require(principal, "fairness_check", party=request.party)
        else:
            require(principal, "fairness_check")
        as_of = request.as_of or _now().date()
        law = load_law()
        unknown = [Problem(f"unknown jurisdiction {key.split(':')[0]!r}; known: {', '.join(law.jurisdictions)}",
                           field=f"{name}.{key}")
                   for name, table in (("threshold", request.threshold), ("months", request.months),
                                       ("benchmark", request.benchmark))
                   for key in table if key.split(":")[0].upper() not in law.jurisdictions]
        if unknown:
            raise InvalidInput(unknown)
        rules = rule_set(request.config(), law)
        repertoire = self.store.repertoire()
        agreements = repertoire.agreements
        if request.party is not None:
            agreements = [a for a in agreements if str(a.assignor) == str(request.party)]
        runs = current_runs(self.store)
        con = duckdb.connect()
        try:
            result = check(con, runs, agreements, all_terms(self.store), rules, as_of, Policy())
        finally:
            con.close()
        body = {**result.to_json(), "as_of": as_of.isoformat(), "party": request.party,
                "config": request.config().to_json(), "runs": [r.run for r in runs]}
        self.home.mkdir(parents=True, exist_ok=True)
        target = self.home / "checks"
        target.mkdir(exist_ok=True)
        data = canonical(body)
        digest = sha256_hex(body)
        with self.store.begin() as conn:
            doc, event = self._keep(conn, principal, "check", request.party, f"check as of {as_of}", None, digest,
                                    target, {"as_of": as_of.isoformat(), "party": request.party,
                                             "summary": result.summary(), "law_version": result.law_version,
                                             "rules_version": result.rules_version})
            (target / f"check-{doc:06d}.json").write_bytes(data + b"\n")
        return {"check": doc, "journal_event": event.id, "sha256": digest, **body}

    def check_result(self, principal: Principal, check_id: int) -> dict:
        """A kept check (a creator reads only a check of their own agreements)."""
        require(principal, "fairness_check", party=principal.party_id if principal else None)  # before any lookup
        row = self._document(check_id, "check")
        require(principal, "fairness_check", party=row["party_id"])
        body = json.loads((Path(row["directory"]) / f"check-{check_id:06d}.json").read_text())
        return {"check": check_id, "journal_event": row["journal_id"], "sha256": row["sha256"], **body}

    def letter(self, principal: Principal, check_id: int, flag: int, fmt: str = "html",
               locale: str = "en") -> tuple[bytes, dict]:
        """The drafted letter for one flag of a kept check, in ``locale`` (``fairness.letter``)."""
        if fmt not in LETTER_FORMATS:
            raise InvalidInput(Problem(f"unknown letter format {fmt!r}; use {' or '.join(LETTER_FORMATS)}",
                                       field="format"))
        require(principal, "fairness_check", party=principal.party_id if principal else None)  # before any lookup
        row = self._document(check_id, "check")
        body = json.loads((Path(row["directory"]) / f"check-{check_id:06d}.json").read_text())
        found = next((f for f in body["flags"] if f["flag"] == flag), None)
        if found is None:
            raise NotFound(f"check {check_id} has no flag {flag}", hint=f"it has {len(body['flags'])} flags")
        require(principal, "fairness_check", party=found["creator"])
        issued = _now().date()
        names = self._names()
        data = letters.letter_pdf(found, check_id, issued, locale, names) if fmt == "pdf" else \
            letters.letter_html(found, check_id, issued, locale, names).encode("utf-8")
        target = self.home / "letters"
        target.mkdir(parents=True, exist_ok=True)
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        with self.store.begin() as conn:
            doc, event = self._keep(conn, principal, "letter", found["creator"],
                                    f"{found['letter']} agreement {found['agreement']}", None, digest, target,
                                    {"check": check_id, "flag": flag, "letter": found["letter"],
                                     "agreement": found["agreement"], "trigger": found["trigger"], "locale": locale,
                                     "format": fmt})
            (target / f"letter-{doc:06d}.{fmt}").write_bytes(data)
        return data, {"document": doc, "journal_event": event.id, "sha256": digest, "letter": found["letter"],
                      "flag": found}

    # ------------------------------------------------------------------ transparency reports
    def _report_inputs(self, year: int) -> tuple[list, pa.Table, dict]:
        runs = current_runs(self.store, year)
        repertoire = self.store.repertoire()
        table = pa.table({"aid": [str(a.id) for a in repertoire.agreements],
                          "assignor": [str(a.assignor) for a in repertoire.agreements],
                          "assignee": [str(a.assignee) for a in repertoire.agreements]})
        clauses = {str(a.id): {"kind": str(a.kind), "rights": [str(r) for r in a.rights], "start": a.start.isoformat(),
                               "end": a.end.isoformat() if a.end else None, "retained_by_assignee": str(a.retained),
                               "territories": list(a.territories)} for a in repertoire.agreements}
        return runs, table, clauses

    def _law_of(self, party: str) -> dict:
        law = load_law()
        with self.store.connect() as conn:
            country = conn.execute(select(parties.c.country).where(parties.c.id == int(party))).scalar() \
                if ascii_digits(party) else None
        code = (country or "").upper()
        if code not in law.jurisdictions:
            return {"jurisdiction": code or None, "obligation": None,
                    "note": "the creator's country is not in the law data; the report follows DSM Art. 19, "
                            "CPI L131-5-1 and the UK code's fields"}
        eff = law.effective(code, "contracts", "transparency_obligation")
        fact = eff.fact
        return {"jurisdiction": code, "note": eff.note,
                "obligation": None if fact is None else {"value": fact.value, "citation": fact.citation,
                                                         "source_url": fact.source_url,
                                                         "confidence": fact.confidence}}

    def _build_reports(self, year: int, creators: list[str] | None) -> list[dict]:
        """The signed reports of ``creators`` (every creator with income: ``None``)."""
        bodies, keys, moment = self._report_bodies(year, creators)
        return sign_reports(keys, bodies, moment)   # the key read and checked once for all of them

    def _report_bodies(self, year: int, creators: list[str] | None) -> tuple[list[dict], Any, Any]:
        """The unsigned reports, the office's keys and the issue time they carry."""
        import duckdb

        runs, table, clauses = self._report_inputs(year)
        con = duckdb.connect()
        try:
            rows = report_rows(con, runs, table, creators).fetch_arrow_table().to_pylist()
            generated = generated_by_period(con)
        finally:
            con.close()
        by_creator: dict[str, list[dict]] = {}
        for r in rows:
            by_creator.setdefault(r["creator"], []).append(r)
        log = TransparencyLog(self.store)
        log.keys.history()
        names, titles, law = self._names(), self._titles(), load_law()
        moment = _now()
        bodies = [build_report(creator, year, by_creator.get(creator, []), runs, generated, office=log.office,
                               issued_at=moment, names=names, titles=titles, clauses=clauses,
                               law=self._law_of(creator), law_version=law.version)
                  for creator in (creators if creators is not None else sorted(by_creator, key=lambda s: (len(s), s)))]
        return bodies, log.keys, moment

    def report(self, principal: Principal, party: str, year: int, fmt: str = "json",
               locale: str = "en") -> tuple[bytes, dict]:
        """The signed transparency report of ``party`` for ``year`` (``fairness.report``)."""
        require(principal, "fairness_report", party=party)
        if fmt not in FORMATS:
            raise InvalidInput(Problem(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}",
                                       field="format"))
        if not ascii_digits(str(party)):
            raise InvalidInput(Problem(f"{party!r} is not a party id", field="party"))
        with self.store.connect() as conn:
            if conn.execute(select(parties.c.id).where(parties.c.id == int(party))).first() is None:
                raise NotFound(f"no party {party}")
        (report,) = self._build_reports(year, [str(party)])
        digest = report_hash(report)
        target = self.home / "reports" / str(year)
        target.mkdir(parents=True, exist_ok=True)
        with self.store.begin() as conn:
            doc, event = self._keep(conn, principal, "report", str(party), f"report {party} {year}", year, digest,
                                    target, {"party": str(party), "year": year, "report_sha256": digest})
            (target / f"report-{doc:06d}.json").write_bytes(canonical(report) + b"\n")
        return self.render_report(report, fmt, locale), {"document": doc, "journal_event": event.id,
                                                         "sha256": digest, "report": report}

    def render_report(self, report: dict, fmt: str, locale: str = "en") -> bytes:
        if fmt == "json":
            return canonical(report) + b"\n"
        if fmt == "csv":
            return to_csv(report)
        if fmt == "html":
            return letters.report_html(report, locale).encode("utf-8")
        return letters.report_pdf(report, locale)

    def reports(self, principal: Principal, year: int) -> dict:
        """Every creator's signed report for ``year`` at once (CMOs, office staff; ``fairness.reports``)."""
        require(principal, "fairness_report")
        bodies, keys, moment = self._report_bodies(year, None)
        target = self.home / "reports" / str(year)
        target.mkdir(parents=True, exist_ok=True)
        staging = target / f".staging-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            # signed and written by worker processes for a large catalogue (each report its own file)
            manifest = sign_and_write(keys, bodies, moment, staging)
            manifest_hash = sha256_hex(manifest)
            (staging / "manifest.json").write_bytes(canonical({"year": year, "reports": manifest}) + b"\n")
            with self.store.begin() as conn:
                doc, event = self._keep(conn, principal, "reports", None, f"catalogue reports {year}", year,
                                        manifest_hash, target, {"year": year, "reports": len(manifest),
                                                                "manifest_sha256": manifest_hash})
                final = target / f"catalogue-{doc:06d}"
                os.replace(staging, final)
                if manifest:
                    conn.execute(insert(fairness_documents), [
                        {"kind": "report", "party_id": int(p) if ascii_digits(p) else None, "subject": f"report {p} {year}",
                         "year": year, "sha256": h, "directory": str(final), "journal_id": event.id,
                         "created_at": _now(), "created_by": principal.name} for p, h in manifest.items()])
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return {"document": doc, "journal_event": event.id, "year": year, "reports": len(manifest),
                "manifest_sha256": manifest_hash, "directory": str(final)}

    def verify(self, report: bytes | str | dict) -> dict:
        """Check a report against this office's key history (what anyone does offline with the history)."""
        return verify_report(report, TransparencyLog(self.store).key_history())

    def documents(self, principal: Principal, party: str | None = None, kind: str | None = None) -> list[dict]:
        """The letters, reports and checks kept (a creator: only those addressed to them)."""
        d = fairness_documents
        if party is not None:
            require(principal, "fairness_report", party=party)
        else:
            require(principal, "fairness_report")
        stmt = select(d.c.id, d.c.kind, d.c.party_id, d.c.subject, d.c.year, d.c.sha256, d.c.journal_id,
                      d.c.created_at, d.c.created_by)
        if party is not None:
            if not ascii_digits(str(party)):
                raise InvalidInput(Problem(f"party must be a party's number, got {str(party)[:40]!r}", field="party"),
                                   hint="give the number of the party the documents are addressed to, e.g. 12")
            stmt = stmt.where(d.c.party_id == int(party))
        if kind is not None:
            stmt = stmt.where(d.c.kind == kind)
        with self.store.connect() as conn:
            return [{**dict(r), "created_at": r["created_at"].isoformat()}
                    for r in conn.execute(stmt.order_by(d.c.id)).mappings()]
