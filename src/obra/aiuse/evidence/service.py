"""``obra ai evidence`` as a service: who may ask, what goes in the bundle, and the journal event.

Who may ask (:func:`obra.access.require`, action ``ai_evidence``): CMO and office staff for any
registration; a creator or registrant only for their own — one their party holds a share in,
contributed to or performed on, or that they registered (``OWN_PARTY``), as for AI-use terms.

The steps: verify the check's results against its receipt (:mod:`.results`); select the items it
matched to the work; for each crawl date, the registry's terms **in force then** — the work's own,
else its parties' catalogues (the most restrictive), as the check reads them; refuse plainly when
no reservation was on record at any crawl (no bundle, no empty letter); the legal basis in every
jurisdiction concerned (:mod:`.basis`); sign the bundle (:mod:`.bundle`); render the letters
(:mod:`.letter`); and record one ``aiuse.evidence`` journal event with the bundle's hash and each
letter's, in the same step.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select

from obra import ids
from obra.access import OWN_PARTY, Principal, require
from obra.aiuse.evidence.basis import concerned, legal_basis
from obra.aiuse.evidence.bundle import EVIDENCE_FORMAT, bundle_bytes, bundle_hash, verify_evidence
from obra.aiuse.evidence.letter import letter_html, letter_pdf
from obra.aiuse.evidence.results import locate, matched_items, open_check
from obra.aiuse.service import AITermsService, _parties_of
from obra.aiuse.terms import RESTRICTIVENESS, AITerms, Purpose, UserType
from obra.aiuse.vocabulary import Use
from obra.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from obra.journal import Journal
from obra.law import load
from obra.law.tdm import pack_version
from obra.render import SUPPORTED
from obra.render.locales import require_supported
from obra.store.schema import registrations
from obra.transparency.signing import format_time, parse_time, utc_now
from obra.transparency.translog import TransparencyLog

__all__ = ["EvidenceService", "NoReservation"]

RESERVING = ("not-allowed", "licence")


class NoReservation(Conflict):
    """The registry holds no reservation that was in force when the matched items were crawled."""


class EvidenceService:
    """Evidence packages for enforcement, from a training check's results."""

    def __init__(self, store: Any):
        self.store = store

    # --- access ----------------------------------------------------------------------------------

    def _registration(self, principal: Principal, work: str) -> Any:
        if principal is None or not principal.can("ai_evidence") and principal.role not in OWN_PARTY["ai_evidence"]:
            require(principal, "ai_evidence")   # 401 without a principal, 403 for a role that may never ask
        number = ids.parse_registration_number(work, field="work")
        with self.store.connect() as conn:
            row = conn.execute(select(registrations).where(registrations.c.number == number,
                                                           registrations.c.is_current)).first()
        if principal.can("ai_evidence"):
            if row is None:
                raise NotFound(f"no registration {number}")
            return row
        holders = _parties_of(row.record.get(row.entity, {})) if row is not None else set()
        if row is None or not (principal.party_id in holders or principal.name == row.registrant):
            raise PermissionDenied(
                f"role '{principal.role.value}' may not ai evidence for {number}: "
                + ("it is not registered here" if row is None else
                   f"it was registered by '{row.registrant}' and no share of it is held by your party "
                   f"({principal.party_id})"),
                hint="a rightholder may ask for evidence about their own works; CMO or office staff for any")
        return row

    # --- the package -----------------------------------------------------------------------------

    def evidence(self, principal: Principal, check: str | Path, *, work: str, against: str,
                 jurisdictions: dict[str, str | None] | None = None, locales: list[str] | None = None,
                 pdf: bool = False) -> dict:
        """Build, sign, render and journal the evidence package for ``work`` against ``against``.

        ``check`` is a check's results directory (a path: the CLI), or the journal event id or receipt
        hash of a check kept under the office's home (the API: never a path)."""
        row = self._registration(principal, work)
        number, entity = row.number, row.entity
        name = " ".join(str(against or "").split())
        if not name:
            raise InvalidInput(Problem("name the AI developer or dataset the evidence is against", field="against"))
        languages = [require_supported(x) for x in (locales or SUPPORTED)]
        log = TransparencyLog(self.store)
        log.keys.history()  # the office's first key is made now if there is none
        history = log.key_history()
        directory = check if isinstance(check, Path) else locate(self.store.paths.home, check)
        results = open_check(directory, history)
        items, total = matched_items(results, number)
        if not items:
            raise NotFound(f"no item of the check {results.receipt_sha256[:16]}… matched {number}",
                           hint="the check matches items to works by SHA-256, ISCC Instance-Code and ISCC "
                                "near duplicate; register the work with its file so its codes are known")
        question = results.question
        law = load()
        roles = concerned(law, jurisdictions or {}, question["jurisdiction"])
        terms = _TermsAtCrawl(AITermsService(self.store), entity, number,
                              sorted(_parties_of(row.record.get(entity, {}))), question)
        reservations = terms.reservations(items)
        if not reservations:
            raise NoReservation(terms.why_none(items), hint="state AI-use terms with `obra ai terms set`: a "
                                "reservation reaches the crawls made after it, and the journal proves its date")
        basis = legal_basis(law, items, question, roles, terms.permission_for)
        journal = Journal(self.store, log)
        for r in reservations:
            r["journal_proof"] = journal.proof(r["journal_event"])
        licensed = sum(1 for i in items if i["check"]["decision"] == "licensed")
        reliance = [note for b in basis for note in b["reliance"]]
        undated = [i["item"] for i in items if not i["crawled_at"]]
        if undated:
            reliance.append(f"{len(undated)} matched item(s) carry no crawl date, so no reservation can be shown to "
                            "precede their crawl; they are decided as if the registry said nothing")
        if total > len(items):
            reliance.append(f"{total} items matched; the first {len(items)} are quoted one by one")
        record = row.record.get(entity, {})
        moment = utc_now()
        body = {
            "format": EVIDENCE_FORMAT, "office": log.office, "issued_at": format_time(moment),
            "against": {"name": name},
            "work": {"number": number, "entity": entity, "title": record.get("title", ""),
                     "registrant": row.registrant, "parties": sorted(_parties_of(record))},
            "requested_by": {"principal": principal.name, "role": principal.role.value, "party": principal.party_id},
            "check": {"receipt": results.receipt, "receipt_sha256": results.receipt_sha256,
                      "journal_event": results.journal_event, "journal_proof": journal.proof(results.journal_event),
                      "question": question, "results_sha256": results.receipt["outputs"].get("parquet")},
            "items": items, "items_total": total, "reservations": reservations,
            "licence": {"status": "licensed" if licensed == len(items) else "partly licensed" if licensed else
                        "no licence on record", "licensed_items": licensed,
                        "note": "from the check's licence decision: items a licence the developer holds covers"},
            "legal_basis": basis, "reliance": reliance,
            "law": {"law_version": law.version, "rule_pack_version": pack_version(law)},
        }
        bundle = log.keys.sign_object(body, moment)
        digest = bundle_hash(bundle)
        letters = {}
        for lang in languages:
            html = letter_html(bundle, lang)
            letters[lang] = {"html": html, "sha256": hashlib.sha256(html.encode("utf-8")).hexdigest()}
            if pdf:
                data = letter_pdf(bundle, lang)
                letters[lang] |= {"pdf": data, "pdf_sha256": hashlib.sha256(data).hexdigest()}
        with self.store.begin() as conn:
            event = journal.record(conn, "aiuse.evidence", f"ai-evidence/{number}", {
                "bundle_sha256": digest, "work": number, "against": name, "check_receipt_sha256": results.receipt_sha256,
                "jurisdictions": {code: rs for code, rs in roles.items()}, "items": total,
                "reservations": [r["journal_event"] for r in reservations],
                "letters": {lang: x["sha256"] for lang, x in letters.items()},
                "pdfs": {lang: x["pdf_sha256"] for lang, x in letters.items() if "pdf_sha256" in x}}, principal.name)
        return {"bundle": bundle, "bundle_sha256": digest, "bundle_bytes": bundle_bytes(bundle),
                "key_history": history.to_dict(), "letters": letters, "journal_event": event.id,
                "log_index": event.log_index, "work": {"number": number, "title": record.get("title", "")}}

    def verify(self, data: bytes | str | dict) -> dict:
        """Verify a bundle against this office's key history (what a third party does offline). Public."""
        return verify_evidence(data, TransparencyLog(self.store).key_history())


class _TermsAtCrawl:
    """The registry's terms for one work as they stood at each crawl date, as the check reads terms: the
    work's own version in force then, else its parties' catalogue versions (the most restrictive)."""

    def __init__(self, service: AITermsService, entity: str, number: str, parties: list[int], question: dict):
        self.service, self.entity, self.number, self.parties = service, entity, number, parties
        self.use = Use(question.get("use") or Use.AI_TRAIN_GENERATIVE.value)
        self.purpose = Purpose(question["purpose"]) if question.get("purpose") else None
        self.user_type = UserType.COMMERCIAL if question.get("commercial") else UserType.NON_COMMERCIAL
        self.training = question["jurisdiction"]
        self._rows: dict[str, list[dict]] = {}

    def _in_force(self, crawl: str) -> list[dict]:
        if crawl not in self._rows:
            at = parse_time(crawl, "the crawl date")
            rows = [self.service.in_force(self.entity, self.number, at)]
            rows += [self.service.in_force("party", str(p), at) for p in self.parties]
            self._rows[crawl] = [r for r in rows if r is not None]
        return self._rows[crawl]

    def decided(self, item: dict, code: str) -> tuple[str, dict | None, dict | None]:
        """(permission or ``none``, the terms version that decided, the deciding term) for ``item`` in ``code``."""
        crawl = item.get("crawled_at")
        if not crawl:
            return "none", None, None
        at = parse_time(crawl, "the crawl date")
        best: tuple[int, tuple[str, dict, dict]] | None = None
        for row in self._in_force(crawl):
            term = AITerms.model_validate(row["terms"]).permission(
                self.use, territory=code, purpose=self.purpose, user_type=self.user_type, on=at.date())
            if term is None:
                continue
            found = (term.permission.value, row, term.model_dump(mode="json", exclude_none=True))
            if row["subject_kind"] == self.entity:   # the work's own terms decide when they speak
                return found
            if best is None or RESTRICTIVENESS[term.permission] < best[0]:
                best = (RESTRICTIVENESS[term.permission], found)
        return best[1] if best is not None else ("none", None, None)

    def permission_for(self, item: dict, code: str) -> str:
        return self.decided(item, code)[0]

    def reservations(self, items: list[dict]) -> list[dict]:
        """The terms versions that reserved the use (not allowed, or only under licence) at the crawl of at
        least one item, for the training jurisdiction; each with the crawls it is quoted for."""
        out: dict[tuple[str, str, int], dict] = {}
        for item in items:
            permission, row, term = self.decided(item, self.training)
            if permission not in RESERVING or row is None:
                continue
            key = (row["subject_kind"], row["subject"], row["version"])
            entry = out.setdefault(key, {
                "subject_kind": row["subject_kind"], "subject": row["subject"], "version": row["version"],
                "permission": permission, "term": term, "terms": row["terms"], "terms_hash": row["terms_hash"],
                "set_at": row["set_at"], "set_by": row["set_by"], "journal_event": row["journal_event"],
                "crawls": [], "items": []})
            if item["crawled_at"] not in entry["crawls"]:
                entry["crawls"].append(item["crawled_at"])
            entry["items"].append(item["item"])
        return list(out.values())

    def why_none(self, items: list[dict]) -> str:
        """Why there is no reservation to enforce, in one plain sentence."""
        stated = []
        for kind, subject in [(self.entity, self.number), *(("party", str(p)) for p in self.parties)]:
            try:
                stated += self.service.history(kind, subject)
            except NotFound:
                continue
        crawls = sorted(i["crawled_at"] for i in items if i.get("crawled_at"))
        if not stated:
            return (f"{self.number} has no AI-use reservation on record: no terms were ever stated for it or for "
                    "the catalogues of its parties, so there is nothing to enforce from the registry and no letter "
                    "was written")
        if not crawls:
            return (f"the items matched to {self.number} carry no crawl date, so no reservation on record can be "
                    "shown to precede their crawl; no letter was written")
        first = min(stated, key=lambda r: str(r["set_at"]))
        if all(_after(r["set_at"], crawls[-1]) for r in stated):
            return (f"{self.number}'s first reservation on record was stated at {first['set_at']}, after the crawl "
                    f"of every matched item (the latest {crawls[-1]}): a reservation does not reach a crawl made "
                    "before it (DSM Art. 4(3)); no letter was written")
        return (f"{self.number}'s terms in force at the crawl dates did not reserve {self.use.value} in "
                f"{self.training}: they allowed it or said nothing of it; no letter was written")


def _after(set_at: Any, crawl: str) -> bool:
    moment = set_at if isinstance(set_at, datetime) else datetime.fromisoformat(str(set_at))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment > parse_time(crawl, "the crawl date")
