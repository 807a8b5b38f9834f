"""Setting and reading AI-use terms: each change a journal event, so its date can be proven.

A reservation matters from the day it was made (DSM Art. 4(3): a crawl before the reservation
was lawful), so terms are never edited: each change writes a new version of the subject's
terms and a ``aiuse.terms.set`` journal event, in one transaction. The event's inclusion proof
in a signed tree head is the evidence of *what* was stated and *when*
(:meth:`obra.journal.Journal.proof`).

Who may set terms (:func:`obra.access.require`, action ``ai_terms``): CMO and office staff for
anyone; a creator or registrant for their own party — a work or recording whose shares,
contributors or performers include their party, or that they registered, their party's
catalogue, and web locations they declare as their party.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select

from obra import ids
from obra.access import Principal, require
from obra.aiuse.terms import AITerms, Purpose, UserType
from obra.aiuse.vocabulary import Use
from obra.canonical import sha256_hex
from obra.errors import InvalidInput, NotFound, PermissionDenied, Problem
from obra.journal import Journal
from obra.model import parse
from obra.store import Store
from obra.store.schema import ai_terms, parties, registrations


def _now() -> datetime:
    return datetime.now(timezone.utc)


class AITermsService:
    """AI-use terms of works, recordings, catalogues and web locations."""

    def __init__(self, store: Store):
        self.store = store

    # --- writing -----------------------------------------------------------------------------

    def set_terms(self, principal: Principal, terms: AITerms | dict, *, party: int | None = None) -> dict:
        """Record new terms for a subject (a new version; the earlier ones stay readable).

        ``party`` is the declaring party for a web location (defaults to the principal's own).
        """
        terms = terms if isinstance(terms, AITerms) else parse(AITerms, terms)
        with self.store.begin() as conn:
            owner = self._authorise(conn, principal, terms, party)
            version = (conn.execute(select(func.max(ai_terms.c.version)).where(
                ai_terms.c.subject_kind == terms.subject_kind, ai_terms.c.subject == terms.subject)).scalar() or 0) + 1
            body = terms.to_json()
            payload = {"terms": body, "version": version, "party": owner}
            event = Journal(self.store).record(conn, "aiuse.terms.set", self._subject(terms.subject_kind, terms.subject),
                                               payload, principal.name)
            conn.execute(insert(ai_terms).values(
                subject_kind=terms.subject_kind, subject=terms.subject, version=version, terms=body,
                terms_hash=sha256_hex(body), party_id=owner, set_by=principal.name, set_at=_now(),
                journal_event_id=event.id))
        return {"subject_kind": terms.subject_kind, "subject": terms.subject, "version": version,
                "terms": body, "terms_hash": sha256_hex(body), "journal_event": event.id,
                "log_index": event.log_index}

    @staticmethod
    def _subject(kind: str, subject: str) -> str:
        return f"ai-terms/{kind}/{subject}"

    def _authorise(self, conn: Connection, principal: Principal, terms: AITerms, party: int | None) -> int | None:
        """Check the principal may state these terms; return the party they are stated for.

        Like corrections: the role must allow ``ai_terms``; then the subject must be the
        principal's own (its registrant, or a party of theirs holds a share in it, is the
        catalogue's party, declares the location) unless the role allows ``ai_terms_any``.
        """
        require(principal, "ai_terms")
        kind, subject = terms.subject_kind, terms.subject
        anyone = principal.can("ai_terms_any")
        if kind in ("work", "recording"):
            number = ids.parse_registration_number(subject, field="subject")
            row = conn.execute(select(registrations).where(registrations.c.number == number,
                                                           registrations.c.is_current)).first()
            if row is None:
                raise NotFound(f"no registration {number}", hint="register the work first, then state its terms")
            if row.entity != kind:
                raise InvalidInput(Problem(f"{number} is a {row.entity}, not a {kind}", field="subject_kind"))
            holders = _parties_of(row.record.get(row.entity, {}))
            mine = principal.party_id if principal.party_id in holders else None
            if not (anyone or mine is not None or principal.name == row.registrant):
                raise PermissionDenied(f"{number} is not yours: it was registered by '{row.registrant}' and no "
                                       f"share of it is held by your party ({principal.party_id})",
                                       hint="the registrant, a party holding a share, or CMO or office staff "
                                            "may state its terms")
            return mine
        pid = int(subject) if kind == "party" else (party if party is not None else principal.party_id)
        if pid is not None and conn.execute(select(parties.c.id).where(parties.c.id == pid)).first() is None:
            raise NotFound(f"no party {pid}")
        if not anyone and (pid is None or pid != principal.party_id):
            raise PermissionDenied(f"you may state terms only for your own party ({principal.party_id})",
                                   hint="CMO or office staff may state terms for any party")
        return pid

    # --- reading -----------------------------------------------------------------------------

    def current(self, subject_kind: str, subject: str) -> dict | None:
        """The subject's terms in force now (its latest version), or None if none were stated."""
        with self.store.connect() as conn:
            row = conn.execute(select(ai_terms).where(ai_terms.c.subject_kind == subject_kind,
                                                      ai_terms.c.subject == subject)
                               .order_by(ai_terms.c.version.desc()).limit(1)).first()
        return None if row is None else _row(row)

    def history(self, subject_kind: str, subject: str) -> list[dict]:
        """Every version of the subject's terms, oldest first (what was stated, when, by whom)."""
        with self.store.connect() as conn:
            rows = conn.execute(select(ai_terms).where(ai_terms.c.subject_kind == subject_kind,
                                                       ai_terms.c.subject == subject)
                                .order_by(ai_terms.c.version)).all()
        if not rows:
            raise NotFound(f"no AI-use terms were stated for {subject_kind} {subject}")
        return [_row(r) for r in rows]

    def in_force(self, subject_kind: str, subject: str, at: datetime) -> dict | None:
        """The version that was in force at ``at`` (e.g. a crawl date), or None."""
        with self.store.connect() as conn:
            row = conn.execute(select(ai_terms).where(
                and_(ai_terms.c.subject_kind == subject_kind, ai_terms.c.subject == subject,
                     ai_terms.c.set_at <= at)).order_by(ai_terms.c.version.desc()).limit(1)).first()
        return None if row is None else _row(row)

    def decide(self, number: str, use: Use, *, territory: str | None = None, purpose: Purpose | None = None,
               user_type: UserType | None = None, on: date | None = None) -> dict:
        """What a registration's terms say about one use: its own terms first, else those of the
        catalogues of its parties (the most restrictive of them), else nothing stated."""
        number = ids.parse_registration_number(number)
        with self.store.connect() as conn:
            row = conn.execute(select(registrations.c.entity, registrations.c.record).where(
                registrations.c.number == number, registrations.c.is_current)).first()
        if row is None:
            raise NotFound(f"no registration {number}")
        question = dict(territory=territory, purpose=purpose, user_type=user_type, on=on)
        own = self.current(row.entity, number)
        if own is not None:
            term = AITerms.model_validate(own["terms"]).permission(use, **question)
            if term is not None:
                return {"permission": term.permission.value, "term": term.model_dump(mode="json", exclude_none=True),
                        "from": own}
        decided = None
        for pid in sorted(_parties_of(row.record.get(row.entity, {}))):
            catalogue = self.current("party", str(pid))
            if catalogue is None:
                continue
            term = AITerms.model_validate(catalogue["terms"]).permission(use, **question)
            if term is not None and (decided is None or _rank(term) < _rank(decided[0])):
                decided = (term, catalogue)
        if decided is None:
            return {"permission": None, "term": None, "from": None}
        return {"permission": decided[0].permission.value,
                "term": decided[0].model_dump(mode="json", exclude_none=True), "from": decided[1]}


def _rank(term) -> int:
    from obra.aiuse.terms import RESTRICTIVENESS

    return RESTRICTIVENESS[term.permission]


def _parties_of(record: dict) -> set[int]:
    """Party ids holding a share in, contributing to or performing on a registered record."""
    out: set[int] = set()
    for key in ("shares", "contributors", "performers"):
        for item in record.get(key) or ():
            party = item.get("party") if isinstance(item, dict) else None
            if isinstance(party, int):
                out.add(party)
    label = record.get("label")
    if isinstance(label, int):
        out.add(label)
    return out


def _row(row: Any) -> dict:
    return {"subject_kind": row.subject_kind, "subject": row.subject, "version": int(row.version),
            "terms": row.terms, "terms_hash": row.terms_hash, "party": row.party_id, "set_by": row.set_by,
            "set_at": row.set_at.isoformat() if hasattr(row.set_at, "isoformat") else row.set_at,
            "journal_event": int(row.journal_event_id)}


def terms_history_rows(store: Store) -> list[dict]:
    """Every version of every subject's terms, each with ``until``: when the next version replaced
    it (``None`` for the version in force now) — what the bulk check joins against, so an item is
    judged by the terms in force when it was crawled."""
    with store.connect() as conn:
        rows = conn.execute(select(ai_terms).order_by(ai_terms.c.subject_kind, ai_terms.c.subject,
                                                       ai_terms.c.version)).all()
    out = [_row(r) for r in rows]
    for row, after in zip(out, out[1:] + [None]):
        same = after is not None and (after["subject_kind"], after["subject"]) == (row["subject_kind"], row["subject"])
        row["until"] = after["set_at"] if same else None
    return out


def current_terms_rows(store: Store) -> list[dict]:
    """The terms in force for every subject (latest version of each), for the bulk check to join
    against: ``subject_kind, subject, version, terms (JSON), terms_hash, journal_event``."""
    latest = (select(ai_terms.c.subject_kind, ai_terms.c.subject, func.max(ai_terms.c.version).label("v"))
              .group_by(ai_terms.c.subject_kind, ai_terms.c.subject).subquery())
    with store.connect() as conn:
        rows = conn.execute(select(ai_terms).join(latest, and_(
            ai_terms.c.subject_kind == latest.c.subject_kind, ai_terms.c.subject == latest.c.subject,
            ai_terms.c.version == latest.c.v))).all()
    return [_row(r) for r in rows]
