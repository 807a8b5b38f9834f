"""The evidence bundle: one signed, canonical JSON document that proves itself offline.

The bundle is an RFC 8785 canonical JSON object signed with the office's Ed25519 key, exactly as
certificates and check receipts are (:meth:`obra.transparency.signing.OfficeKeys.sign_object`).
It embeds the proofs it rests on, so :func:`verify_evidence` needs only the office's published
key history (``obra keys export``) — no network, no database:

1. the file is the canonical form of the object (any reformatting or edit is refused);
2. the office's signature, by a key valid when the bundle was issued;
3. the check's receipt: signed by the office, and hashing to ``check.receipt_sha256``;
4. the ``aiuse.check`` journal event's inclusion proof, whose event carries that receipt hash;
5. each reservation's ``aiuse.terms.set`` journal event's inclusion proof: the event states the
   terms version quoted, with the same terms hash, and was logged **before** the crawl it is quoted
   for (a reservation made after a crawl does not reach it: DSM Art. 4(3)).

Each failure raises :class:`EvidenceError` naming the check that failed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from obra.aiuse.check.receipt import ReceiptError, receipt_hash, verify_receipt
from obra.canonical import canonical, sha256_hex
from obra.errors import Unverifiable
from obra.journal import verify_proof
from obra.transparency.signing import KeyHistory, parse_time, verify_signed

__all__ = ["EVIDENCE_FORMAT", "MEMBERS", "EvidenceError", "bundle_bytes", "bundle_hash", "verify_evidence"]

EVIDENCE_FORMAT = "obra.ai_evidence/1"
MEMBERS = frozenset({"format", "office", "issued_at", "against", "work", "requested_by", "check", "items",
                     "items_total", "reservations", "licence", "legal_basis", "reliance", "law", "key_id",
                     "signature"})


class EvidenceError(Unverifiable):
    """An evidence bundle does not verify: the message says which check failed."""


def bundle_bytes(bundle: dict) -> bytes:
    """The bundle file: its canonical JSON (any reformatting invalidates it)."""
    return canonical(bundle)


def bundle_hash(bundle: dict) -> str:
    """SHA-256 of the bundle's canonical JSON, signature included: what the journal event anchors."""
    return hashlib.sha256(canonical(bundle)).hexdigest()


def _parse(data: bytes | str | dict) -> dict:
    if isinstance(data, dict):
        return data
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise EvidenceError(f"the evidence bundle is not JSON ({str(exc)[:120]})") from None
    if not isinstance(obj, dict):
        raise EvidenceError("the evidence bundle must be a JSON object")
    try:
        form = canonical(obj)
    except Exception:  # noqa: BLE001 - values JSON cannot round-trip exactly
        raise EvidenceError("the evidence bundle holds values that have no canonical JSON form") from None
    if raw not in (form, form + b"\n"):
        raise EvidenceError("the evidence bundle is not in RFC 8785 canonical form: it was reformatted or "
                            "altered after it was issued")
    return obj


def _proof(proof: Any, history: KeyHistory, what: str) -> dict:
    try:
        verify_proof(proof, history)
    except Unverifiable as exc:
        raise EvidenceError(f"{what}: {exc}") from None
    if not isinstance(proof, dict):
        raise EvidenceError(f"{what}: the proof is not an object")
    return proof["event"]


def verify_evidence(data: bytes | str | dict, key_history: KeyHistory | bytes | str | dict) -> dict:
    """Check a bundle offline (see the module's five checks); returns what it proves."""
    bundle, key_history = verify_signed(_parse(data), key_history, format=EVIDENCE_FORMAT, members=MEMBERS,
                                        what="the evidence bundle", error=EvidenceError)

    check = bundle["check"]
    try:
        verify_receipt(check["receipt"], key_history)
    except ReceiptError as exc:
        raise EvidenceError(f"the check's receipt: {exc}") from None
    if receipt_hash(check["receipt"]) != check["receipt_sha256"]:
        raise EvidenceError("the check's receipt does not hash to the receipt hash the bundle names")
    event = _proof(check["journal_proof"], key_history, "the check's journal event")
    if event.get("kind") != "aiuse.check" or event.get("payload", {}).get("receipt_sha256") != check["receipt_sha256"]:
        raise EvidenceError("the check's journal event is not the one anchoring this receipt")

    proofs = 1
    for n, reservation in enumerate(bundle["reservations"]):
        what = f"reservation {n + 1} ({reservation['subject_kind']} {reservation['subject']} v{reservation['version']})"
        event = _proof(reservation["journal_proof"], key_history, what)
        payload = event.get("payload") or {}
        if event.get("kind") != "aiuse.terms.set" or event.get("id") != reservation["journal_event"]:
            raise EvidenceError(f"{what}: the journal event is not the terms event the bundle names")
        if sha256_hex(payload.get("terms")) != reservation["terms_hash"] or payload.get("version") != \
                reservation["version"]:
            raise EvidenceError(f"{what}: the terms quoted are not the terms the journal recorded")
        logged = parse_time(event.get("at"), "the terms event time", EvidenceError)
        for crawl in reservation["crawls"]:
            if parse_time(crawl, "a crawl date", EvidenceError) < logged:
                raise EvidenceError(f"{what}: stated at {event.get('at')}, after the crawl of {crawl} it is quoted for")
        proofs += 1
    return {"valid": True, "office": bundle["office"], "issued_at": bundle["issued_at"],
            "work": bundle["work"]["number"], "against": bundle["against"]["name"], "items": len(bundle["items"]),
            "reservations": len(bundle["reservations"]), "proofs": proofs, "key_id": bundle["key_id"],
            "bundle_sha256": bundle_hash(bundle)}
