"""Voice and likeness consent as a service: what ``obra likeness …`` and ``/likeness`` call.

Who may record or revoke a consent (``likeness_consent``): the performer's own creator or
registrant principal for their party, CMO and office staff for anyone (``likeness_consent_any``).
Every version is kept, signed with the office key (RFC 8785 JSON, like certificates) and recorded
as a journal event (``likeness.consent.set`` / ``likeness.consent.revoked``). The check is public:
a platform asks whether a use is consented and gets the decision with its dated evidence. The
takedown notice is a signed bundle (``likeness.takedown`` event): the consent record or its
absence, the offending use, and the legal basis for the jurisdiction from :mod:`obra.law`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import func, insert, select

from obra.access import Principal, require
from obra.aiuse.licensing.consent import check_limits, decide, parse_consent
from obra.canonical import canonical
from obra.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from obra.journal import Journal
from obra.store.schema import ai_consents, parties
from obra.transparency.signing import format_time
from obra.transparency.translog import TransparencyLog

__all__ = ["LikenessService", "CONSENT_FORMAT", "TAKEDOWN_FORMAT"]

CONSENT_FORMAT = "obra.likeness_consent/1"
TAKEDOWN_FORMAT = "obra.likeness_takedown/1"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class LikenessService:
    def __init__(self, store: Any):
        self.store = store

    def _authorise(self, principal: Principal, party: int) -> None:
        require(principal, "likeness_consent")
        if principal.can("likeness_consent_any"):
            return
        if principal.party_id is None or principal.party_id != party:
            raise PermissionDenied(f"you may record consent only for your own party ({principal.party_id}), not "
                                   f"{party}", hint="CMO or office staff may record consent for any performer")

    def _sign(self, body: dict) -> dict:
        log = TransparencyLog(self.store)
        log.keys.history()
        moment = _now()
        return log.keys.sign_object({**body, "issued_at": format_time(moment), "office": log.office}, moment)

    def set_consent(self, principal: Principal, data: dict | Any, *, source: str = "consent.json") -> dict:
        """Record a consent (a new record, or a new version with ``consent_id`` in ``data``), signed and logged."""
        require(principal, "likeness_consent")
        data = dict(data) if isinstance(data, dict) else data
        consent_id = data.pop("consent_id", None) if isinstance(data, dict) else None
        record = parse_consent(data, source)
        self._authorise(principal, record.party)
        rules = check_limits(record)
        body = record.model_dump(mode="json", exclude_none=True)
        with self.store.begin() as conn:
            if conn.execute(select(parties.c.id).where(parties.c.id == record.party)).first() is None:
                raise NotFound(f"no party {record.party}", hint="the performer must be a registered party")
            if consent_id is None:
                consent_id, version = "C-" + secrets.token_hex(8).upper(), 1
            else:
                current = conn.execute(select(func.max(ai_consents.c.version), func.min(ai_consents.c.party_id))
                                       .where(ai_consents.c.consent_id == consent_id)).first()
                if current is None or current[0] is None:
                    raise NotFound(f"no consent {consent_id}")
                if current[1] != record.party:
                    raise InvalidInput(Problem(f"consent {consent_id} is party {current[1]}'s", field="party"))
                version = int(current[0]) + 1
            signed = self._sign({"format": CONSENT_FORMAT, "consent_id": consent_id, "version": version,
                                 "status": "active", "record": body,
                                 "rules": [{"jurisdiction": r["jurisdiction"], "citation": r["citation"],
                                            "status": r["status"]} for r in rules]})
            digest = hashlib.sha256(canonical(signed)).hexdigest()
            event = Journal(self.store).record(conn, "likeness.consent.set", f"likeness/{consent_id}", {
                "consent_id": consent_id, "version": version, "party": record.party, "decision": record.decision,
                "uses": list(record.uses), "attributes": list(record.attributes), "signed_sha256": digest},
                principal.name)
            conn.execute(insert(ai_consents).values(
                consent_id=consent_id, version=version, party_id=record.party, record=body, signed=signed,
                status="active", created_by=principal.name, created_at=_now(), journal_event_id=event.id))
        return {"consent_id": consent_id, "version": version, "signed": signed, "signed_sha256": digest,
                "journal_event": event.id, "rules": rules}

    def revoke(self, principal: Principal, consent_id: str, reason: str) -> dict:
        """Revoke a consent from now on: a new, signed version with status ``revoked``."""
        if not reason or not reason.strip():
            raise InvalidInput(Problem("say why the consent is revoked", field="reason"))
        with self.store.connect() as conn:
            row = conn.execute(select(ai_consents).where(ai_consents.c.consent_id == consent_id)
                               .order_by(ai_consents.c.version.desc()).limit(1)).first()
        if row is None:
            require(principal, "likeness_consent")
            raise NotFound(f"no consent {consent_id}")
        self._authorise(principal, row.party_id)
        if row.status == "revoked":
            raise Conflict(f"consent {consent_id} was already revoked")
        version = row.version + 1
        signed = self._sign({"format": CONSENT_FORMAT, "consent_id": consent_id, "version": version,
                             "status": "revoked", "record": row.record, "reason": reason.strip()})
        digest = hashlib.sha256(canonical(signed)).hexdigest()
        with self.store.begin() as conn:
            event = Journal(self.store).record(conn, "likeness.consent.revoked", f"likeness/{consent_id}", {
                "consent_id": consent_id, "version": version, "party": row.party_id, "reason": reason.strip(),
                "signed_sha256": digest}, principal.name)
            conn.execute(insert(ai_consents).values(
                consent_id=consent_id, version=version, party_id=row.party_id, record=row.record, signed=signed,
                status="revoked", created_by=principal.name, created_at=_now(), journal_event_id=event.id))
        return {"consent_id": consent_id, "version": version, "status": "revoked", "journal_event": event.id}

    def _latest(self, party: int) -> list[dict]:
        with self.store.connect() as conn:
            rows = conn.execute(select(ai_consents).where(ai_consents.c.party_id == party)
                                .order_by(ai_consents.c.consent_id, ai_consents.c.version)).all()
        latest: dict[str, Any] = {}
        for r in rows:
            latest[r.consent_id] = r
        return [{"consent_id": r.consent_id, "version": r.version, "status": r.status, "record": r.record,
                 "journal_event": r.journal_event_id, "recorded_at": format_time(_aware(r.created_at)),
                 "signed_sha256": hashlib.sha256(canonical(r.signed)).hexdigest()} for r in latest.values()]

    def check(self, party: int, use: str, *, attribute: str | None = None, on: date | None = None,
              territory: str | None = None, commercial: bool | None = None) -> dict:
        """Is ``use`` of the performer consented? The decision and its dated evidence (public)."""
        from obra.aiuse.licensing.consent import LikenessUse

        if use not in LikenessUse.__args__:
            raise InvalidInput(Problem(f"unknown use {use!r}", field="use"),
                               hint=f"use one of: {', '.join(LikenessUse.__args__)}")
        with self.store.connect() as conn:
            if conn.execute(select(parties.c.id).where(parties.c.id == party)).first() is None:
                raise NotFound(f"no party {party}")
        return {"party": party, **decide(self._latest(party), use, attribute=attribute, on=on, territory=territory,
                                         commercial=commercial)}

    def takedown(self, principal: Principal, party: int, use: str, url: str, jurisdiction: str, *,
                 attribute: str | None = None, description: str | None = None) -> dict:
        """A signed takedown notice for a platform: the consent record or its absence, the offending use,
        the legal basis for ``jurisdiction`` from :mod:`obra.law` (with citations and confidence)."""
        from obra.aiuse.licensing.consent import rules_for
        from obra.law import load

        self._authorise(principal, party)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2048:
            raise InvalidInput(Problem("the offending use's URL must be an http(s) URL", field="url"))
        law = load()
        try:
            basis = [law.effective(jurisdiction, "likeness", key) for key in ("voice_protected", "digital_replica_rules")]
        except (KeyError, ValueError) as exc:
            raise InvalidInput(Problem(f"unknown jurisdiction {jurisdiction!r}: {exc}", field="jurisdiction")) from None
        consent = self.check(party, use, attribute=attribute)
        with self.store.connect() as conn:
            name = conn.execute(select(parties.c.name).where(parties.c.id == party)).scalar()
        legal = [{"key": e.key, "value": e.fact.value if e.fact else None, "summary": e.fact.summary if e.fact else None,
                  "citation": e.fact.citation if e.fact else None, "source_url": e.fact.source_url if e.fact else None,
                  "confidence": e.fact.confidence if e.fact else None, "note": e.note} for e in basis]
        body = {"format": TAKEDOWN_FORMAT, "performer": {"party": party, "name": name},
                "offending_use": {"url": url, "use": use, "attribute": attribute, "description": description},
                "consent": consent, "jurisdiction": jurisdiction.upper(), "legal_basis": legal,
                "statutory_rules": [{"jurisdiction": r["jurisdiction"], "citation": r["citation"],
                                     "status": r["status"]} for r in rules_for(jurisdiction)],
                "law_version": law.version,
                "request": "remove or disable access to the offending use: "
                           + ("no consent of the performer covers it" if consent["decision"] in ("no-consent",
                                                                                                 "prohibited")
                              else "check it against the consent record's terms")}
        signed = self._sign(body)
        digest = hashlib.sha256(canonical(signed)).hexdigest()
        with self.store.begin() as conn:
            event = Journal(self.store).record(conn, "likeness.takedown", f"likeness/party/{party}", {
                "party": party, "url": url, "use": use, "decision": consent["decision"], "signed_sha256": digest},
                principal.name)
        return {"notice": signed, "signed_sha256": digest, "journal_event": event.id}
