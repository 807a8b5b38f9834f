"""The journal: every state change Obra makes, typed, immutable, and anchored in the transparency log.

A CMO that re-runs a distribution, an office that rotates its key, a rightholder who claims
unmatched usage: each must be able to prove later *what* happened and *when*. So every
state change is one :class:`Event`, written in the same transaction as the change itself,
and each event is a leaf of the office's append-only transparency log
(:mod:`obra.transparency.translog`). An event's ``record_hash`` is the SHA-256 of the RFC
8785 canonical JSON of its :meth:`Event.body`; the leaf commits to that hash, the signed
tree head commits to the leaf, so anyone holding the event, its inclusion proof and a tree
head can check it offline (:func:`verify_proof`), with no Obra code.

Registrations are already leaves of their own shape (number, version, record hash: what
certificates verify); the journal mirrors them as ``registration.*`` events pointing at
the same leaf, so one table lists every change.

Events are never edited or deleted. A correction is a new event (a superseding run, a
newer claim); the journal is the beancount ledger of the house.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from obra.canonical import sha256_hex
from obra.errors import InvalidInput, NotFound, Problem, Unverifiable
from obra.store.schema import journal_events
from obra.transparency import merkle
from obra.transparency.signing import KeyHistory, format_time, utc_now
from obra.transparency.translog import JOURNAL_TYPE, LogEntry, TransparencyLog, leaf_bytes_of, verify_tree_head

#: Every kind of event, and what it means. Later capabilities add theirs here, in one place.
EVENT_KINDS: dict[str, str] = {
    "registration.register": "a work or recording was registered (mirrors its registration leaf)",
    "registration.correct": "a registration was corrected: a new version (mirrors its leaf)",
    "registration.withdraw": "a registration was withdrawn (mirrors its leaf)",
    "registration.ai_terms": "a registration's AI-use terms changed (mirrors its leaf)",
    "party.added": "a party (person or organisation) was added",
    "agreement.added": "an agreement between parties was added",
    "repertoire.imported": "a batch of registrations was imported (JSON, CSV or CWR)",
    "usage.ingested": "a usage report (DSR or CSV) or pools file was accepted and published to the engines",
    "usage.superseded": "an accepted usage report was superseded by a corrected re-delivery (or one that "
                        "names it with --replaces): its usage is no longer read",
    "repertoire.ingested": "a CWR file was accepted: what it registered, what it found already registered",
    "usage.matched": "usage lines of a period were matched to recordings and works",
    "claim.filed": "a rightholder claimed an unmatched usage group as their recording or work",
    "distribution.run": "a period's money was distributed and its statements issued",
    "distribution.superseded": "an earlier run of the same period and model was superseded by a new run",
    "incoming.split": "a society's statement was split over the catalogue and statements issued",
    "law.rule_pack_used": "a run relied on this version of the law data (obra.law)",
    "principal.created": "a principal (who may write) was created",
    "key.rotated": "the office's signing key was rotated",
    "observatory.report": "an observatory report of a period was written: its report, data and rules hashes (issue #17)",
    "aiuse.terms.set": "a rightholder stated (new version of) AI-use terms for a work, recording, catalogue or location",
    "aiuse.check": "a training check ran over a manifest: its signed receipt's hash (inputs, question, rules, summary)",
    "fairness.terms_set": "an agreement's fairness terms were stated (governing law, lump sum, appropriate share)",
    "fairness.check": "a renegotiation check ran over the stored runs: its result's hash, summary and law version",
    "fairness.letter": "a letter was drafted from a renegotiation flag (adjustment, information, grace notice)",
    "fairness.report": "a creator's yearly transparency report was issued, signed: its hash",
    "fairness.reports": "a catalogue's transparency reports were issued at once: the hash of their manifest",
    "aiuse.evidence": "an evidence package for enforcement was generated: the signed bundle's hash, the work, the "
                      "developer or dataset, and the hash of each letter rendered from it (issue #16)",
    "aiuse.quote": "an AI developer's manifest was priced against the rightholders' offers: a quote (issue #15)",
    "aiuse.licence.issued": "a quote was accepted: a licence signed by the office over the Merkle root of its items",
    "aiuse.licence.revoked": "a licence was revoked: its items are no longer licensed from that moment",
    "aiuse.licence.expired": "a licence reached the end of its term",
    "aiuse.licence.fetch_paid": "a crawler paid for one fetch of a per-crawl resource (HTTP 402 pay-per-crawl)",
    "aiuse.usage.reported": "an AI developer's usage report under a licence: lines priced, lines held outside it",
    "aiuse.licence.royalties": "licence income of a period was split over the works' rightholders (a royalty run)",
    "aiuse.disclosure": "an AI provider's public summary of training content was filed and cross-checked",
    "registry.review": "office staff reviewed a registration's near-duplicate warnings: the reviewer, the note and "
                       "each warning as it stood (the other registration, its unit and distance)",
    "likeness.consent.set": "a performer's voice and likeness consent record (a new version, signed)",
    "likeness.consent.revoked": "a performer revoked a voice and likeness consent",
    "likeness.takedown": "a takedown notice for a use of a performer's voice or likeness was issued (signed bundle)",
}


@dataclass(frozen=True)
class Event:
    """One state change, as recorded."""

    id: int
    office: str
    kind: str
    subject: str
    actor: str
    at: str
    payload: dict
    record_hash: str
    log_index: int | None

    def body(self) -> dict:
        """What ``record_hash`` covers (registration mirrors: the registration record's hash)."""
        return {"id": self.id, "office": self.office, "kind": self.kind, "subject": self.subject,
                "actor": self.actor, "at": self.at, "payload": self.payload}

    def to_dict(self) -> dict:
        return {**self.body(), "record_hash": self.record_hash, "log_index": self.log_index}


def _row_to_event(row: Any) -> Event:
    return Event(int(row.id), row.office, row.kind, row.subject, row.actor, row.at, row.payload, row.record_hash,
                 None if row.log_index is None else int(row.log_index))


class Journal:
    """The journal of one store, writing to the local office's transparency log."""

    def __init__(self, store: Any, log: TransparencyLog | None = None):
        self.store = store
        self.log = log or TransparencyLog(store)

    # --- writing (inside the caller's transaction) -------------------------------------

    def record(self, conn: Connection, kind: str, subject: str, payload: dict, actor: str) -> Event:
        """Write one event and its log leaf in ``conn``'s transaction; both commit or neither."""
        if kind not in EVENT_KINDS:
            raise InvalidInput(Problem(f"unknown journal event kind '{kind}'", field="kind"),
                               hint="add it to obra.journal.EVENT_KINDS with what it means")
        at = format_time(utc_now())
        row = {"office": self.log.office, "kind": kind, "subject": str(subject)[:200], "actor": actor, "at": at,
               "payload": payload, "record_hash": "0" * 64}
        event_id = conn.execute(insert(journal_events).values(**row)).inserted_primary_key[0]
        event = Event(int(event_id), row["office"], kind, row["subject"], actor, at, payload, "", None)
        digest = sha256_hex(event.body())
        entry = self.log.append(conn, {"type": JOURNAL_TYPE, "journal_id": event.id, "kind": kind,
                                       "record_hash": digest})
        conn.execute(update(journal_events).where(journal_events.c.id == event.id)
                     .values(record_hash=digest, log_index=entry.index))
        return Event(event.id, event.office, kind, event.subject, actor, at, payload, digest, entry.index)

    def append(self, conn: Connection, event: dict, actor: str = "registry") -> LogEntry:
        """The registry's event sink: the registration leaf, mirrored as a ``registration.*`` event."""
        entry = self.log.append(conn, event)
        kind = f"registration.{event['type']}"
        if kind in EVENT_KINDS:
            conn.execute(insert(journal_events).values(
                office=self.log.office, kind=kind, subject=f"{event['number']}/v{event['version']}",
                actor=actor, at=entry.timestamp, payload=event,
                record_hash=event["record_hash"], log_index=entry.index))
        return entry

    # --- reading -------------------------------------------------------------------------

    def events(self, kind: str | None = None, subject: str | None = None, limit: int | None = 100,
               after: int = 0) -> list[Event]:
        """Events oldest first, optionally of one ``kind`` (or kind prefix ending in '.') and ``subject``."""
        stmt = select(journal_events).where(journal_events.c.id > after)
        if kind:
            stmt = stmt.where(journal_events.c.kind.startswith(kind) if kind.endswith(".")
                              else journal_events.c.kind == kind)
        if subject:
            stmt = stmt.where(journal_events.c.subject == subject)
        stmt = stmt.order_by(journal_events.c.id)
        if limit:
            stmt = stmt.limit(limit)
        with self.store.connect() as conn:
            return [_row_to_event(r) for r in conn.execute(stmt)]

    def event(self, event_id: int) -> Event:
        with self.store.connect() as conn:
            row = conn.execute(select(journal_events).where(journal_events.c.id == event_id)).first()
        if row is None:
            raise NotFound(f"no journal event {event_id}", hint="`obra journal list` shows the events")
        return _row_to_event(row)

    def proof(self, event_id: int) -> dict:
        """Everything needed to check an event offline: the event, its leaf, an inclusion proof, a tree head."""
        event = self.event(event_id)
        if event.log_index is None:
            raise NotFound(f"journal event {event_id} has no log entry")
        entry = self.log.entry(event.log_index)
        sth = self.log.signed_tree_head()
        inclusion = self.log.inclusion_proof(event.log_index, sth["tree_size"])
        return {"format": "obra.journal_proof/1", "event": event.to_dict(), "leaf": entry.leaf,
                "inclusion_proof": inclusion["hashes"], "tree_head": sth}

    def verify(self, event_id: int) -> dict:
        """Check an event against the log as a third party would (see :func:`verify_proof`)."""
        return verify_proof(self.proof(event_id), self.log.key_history())


def verify_proof(bundle: dict, key_history: KeyHistory) -> dict:
    """Verify a journal proof bundle offline: event hash → leaf → inclusion → signed tree head.

    Raises :class:`Unverifiable` naming the first check that failed.
    """
    try:
        event, leaf, sth = bundle["event"], bundle["leaf"], bundle["tree_head"]
        hashes = [bytes.fromhex(h) for h in bundle["inclusion_proof"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise Unverifiable(f"the proof bundle is malformed ({exc})") from None
    head = verify_tree_head(sth, key_history)
    body = {k: event.get(k) for k in ("id", "office", "kind", "subject", "actor", "at", "payload")}
    mirrored = leaf.get("type") != JOURNAL_TYPE
    expected = event.get("record_hash") if mirrored else sha256_hex(body)
    if leaf.get("record_hash") != expected or event.get("record_hash") != expected:
        raise Unverifiable(f"journal event {event.get('id')}: its content does not hash to what the log holds "
                           "(the event was altered)")
    if not mirrored and (leaf.get("journal_id") != event.get("id") or leaf.get("kind") != event.get("kind")):
        raise Unverifiable(f"journal event {event.get('id')}: the log leaf is about another event")
    if leaf.get("index") != event.get("log_index"):
        raise Unverifiable(f"journal event {event.get('id')}: the leaf is not at the event's log index")
    try:
        merkle.verify_inclusion(merkle.leaf_hash(leaf_bytes_of(leaf)), leaf["index"], head.tree_size, hashes,
                                head.root_hash)
    except merkle.ProofError as exc:
        raise Unverifiable(f"journal event {event.get('id')}: not included in the signed tree of size "
                           f"{head.tree_size} ({exc})") from None
    return {"valid": True, "id": event.get("id"), "kind": event.get("kind"), "subject": event.get("subject"),
            "log_index": leaf["index"], "logged_at": leaf["timestamp"], "tree_size": head.tree_size,
            "key_id": head.key_id}
