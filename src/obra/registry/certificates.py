"""Registration certificates: a signed JSON document anyone can verify offline.

A certificate binds together, under the office's Ed25519 signature:

* the registration **record** (exactly as published) and its **record hash**
  (SHA-256 of the record's RFC 8785 canonical JSON);
* the record's **content codes** (ISCC), if any;
* the **log entry** that registered it (its leaf in the transparency log, with the time);
* a **signed tree head** of the log and the **inclusion proof** of that leaf in it.

Verifying needs only the office's published key history: no network, no database, no Obra
(``docs/verify-a-certificate.md`` gives the formats and a 30-line verifier). The file is
the RFC 8785 canonical form of the certificate object, so changing *any* byte, even
whitespace, makes it fail; every failure is a specific :class:`CertificateError` subclass
whose message says what does not hold.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from obra import ids
from obra.errors import InvalidInput, NotFound, ObraError, Unverifiable
from obra.render import certificate_html, certificate_pdf
from obra.transparency import merkle
from obra.registry.records import record_hash
from obra.transparency.signing import (BadSignature, KeyHistory, KeyHistoryError, KeyNotValid, SignatureError,
                                   UnknownKey, canonical, format_time, parse_time, utc_now)
from obra.transparency.translog import TransparencyLog, TreeHeadError, verify_tree_head

CERTIFICATE_FORMAT = "obra.certificate/1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MEMBERS = {"format", "office", "number", "version", "issued_at", "record", "record_hash",
            "content_codes", "log_entry", "tree_head", "inclusion_proof", "key_id", "signature"}


class CertificateError(Unverifiable):
    """A certificate does not verify. The message says which check failed and why."""


class MalformedCertificate(CertificateError):
    """Not a certificate at all: not JSON, not canonical, a member missing or of the wrong type."""


class CertificateKeyError(CertificateError):
    """The signing key is unknown to the key history, or was not valid when the certificate was issued."""


class CertificateSignatureInvalid(CertificateError):
    """The office's signature does not match the certificate's contents: it was altered."""


class RecordHashMismatch(CertificateError):
    """The record in the certificate does not hash to the record hash it claims."""


class LogEntryMismatch(CertificateError):
    """The log entry is about a different registration, version or record than the certificate."""


class TreeHeadInvalid(CertificateError):
    """The signed tree head inside the certificate is malformed or not signed by the office."""


class InclusionProofInvalid(CertificateError):
    """The inclusion proof does not show the log entry is in the signed tree."""


@dataclass(frozen=True)
class VerifiedCertificate:
    """What a valid certificate proves."""

    office: str
    number: str
    version: int
    record: dict
    record_hash: str
    content_codes: list[dict]
    log_index: int
    registered_at: datetime
    issued_at: datetime
    tree_size: int
    root_hash: str
    key_id: str
    key_status: str

    def to_dict(self) -> dict:
        return {"valid": True, "office": self.office, "number": self.number, "version": self.version,
                "record_hash": self.record_hash, "log_index": self.log_index,
                "registered_at": format_time(self.registered_at), "issued_at": format_time(self.issued_at),
                "tree_size": self.tree_size, "root_hash": self.root_hash, "key_id": self.key_id,
                "key_status": self.key_status, "content_codes": self.content_codes}


# --- issuing ---------------------------------------------------------------------------

def issue_certificate(log: TransparencyLog, record: dict, content_codes: list[dict] | None = None,
                      *, index: int | None = None) -> dict:
    """Sign a certificate for ``record`` (one version of a registration) as it stands in the log.

    The log entry is the one whose record hash matches ``record``; the tree head is the
    log's current signed head, with the inclusion proof up to it.
    """
    if not log.local:
        raise ObraError(f"only office {log.office} can issue certificates for its registrations")
    number = ids.parse_registration_number(record.get("number"), field="record.number")
    digest = record_hash(record)
    entries = [log.entry(index)] if index is not None else log.entries_for(number)
    matching = [e for e in entries if e.leaf.get("record_hash") == digest and e.number == number]
    if not matching:
        raise NotFound(f"no entry in the transparency log of office {log.office} records this version of "
                       f"{number} (record hash {digest[:16]}…): it was not registered through the log")
    entry = matching[-1]
    codes = [dict(c) for c in (content_codes or [])]
    if not all(isinstance(c, dict) for c in codes):
        raise InvalidInput("content codes must be JSON objects")
    sth = log.signed_tree_head()
    proof = log.inclusion_proof(entry.index, sth["tree_size"])
    moment = utc_now()
    body = {
        "format": CERTIFICATE_FORMAT, "office": log.office, "number": number,
        "version": entry.version, "issued_at": format_time(moment), "record": record,
        "record_hash": digest, "content_codes": codes,
        "log_entry": {"index": entry.index, "leaf": entry.leaf},
        "tree_head": sth, "inclusion_proof": proof["hashes"],
    }
    return log.keys.sign_object(body, moment)


def certificate_for(store, number: str, version: int | None = None,
                    content_codes: list[dict] | None = None) -> dict:
    """The certificate of registration ``number`` (current version unless ``version``)."""
    from obra.registry.service import Registry

    shown = Registry(store, sinks=[]).show(ids.parse_registration_number(number), version)
    if content_codes is None and shown.record.get("content"):
        content = shown.record["content"]
        content_codes = [{"iscc": content["iscc"], "datahash": content["datahash"]}, *content["units"]]
    return issue_certificate(TransparencyLog(store), shown.record, content_codes)


def certificate_bytes(certificate: dict) -> bytes:
    """The certificate file: its RFC 8785 canonical JSON (any reformatting invalidates it)."""
    return canonical(certificate)


# --- verifying -------------------------------------------------------------------------

def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    obj: dict = {}
    for k, v in pairs:
        if k in obj:
            raise MalformedCertificate(f"member {k!r} appears twice in one object")
        obj[k] = v
    return obj


def parse_certificate(cert_bytes: bytes | str) -> dict:
    """Parse certificate bytes into its JSON object, refusing anything not in canonical form."""
    if isinstance(cert_bytes, str):
        cert_bytes = cert_bytes.encode("utf-8")
    if not isinstance(cert_bytes, (bytes, bytearray)):
        raise MalformedCertificate("a certificate is a file of bytes")
    raw = bytes(cert_bytes)
    try:
        obj = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                         parse_constant=_reject_constant)
    except MalformedCertificate:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedCertificate(f"the certificate is not valid JSON ({str(exc)[:120]}); the file is "
                                   "truncated or corrupted") from None
    if not isinstance(obj, dict):
        raise MalformedCertificate("a certificate is a JSON object")
    try:
        canonical_form = canonical(obj)
    except Exception:  # noqa: BLE001 - jcs refuses values JSON cannot round-trip
        raise MalformedCertificate("the certificate holds values that have no canonical JSON form") from None
    if raw not in (canonical_form, canonical_form + b"\n"):
        raise MalformedCertificate("the certificate is not in RFC 8785 canonical form: the file was "
                                   "reformatted or altered after it was issued")
    return obj


def _reject_constant(name: str):
    raise MalformedCertificate(f"{name} is not a JSON value")


def _require(obj: dict, name: str, kind: type | tuple, what: str = "certificate") -> Any:
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise MalformedCertificate(f"the {what}'s '{name}' must be a {expected}")
    return value


def verify_certificate(cert_bytes: bytes | str, key_history: KeyHistory | bytes | str | dict) -> VerifiedCertificate:
    """Check a certificate offline against the office's key history.

    Checks, in order: canonical JSON shape; the office's signature by a key valid at the
    issue time; the record hash; that the log entry is this record's; the signed tree head;
    the inclusion proof of the entry in that tree. Raises a :class:`CertificateError`
    subclass naming the first check that fails.
    """
    cert = parse_certificate(cert_bytes)
    if not isinstance(key_history, KeyHistory):
        try:
            key_history = KeyHistory.parse(key_history)
        except KeyHistoryError as exc:
            raise CertificateKeyError(f"the office key history cannot be used: {exc}") from None

    # 1. shape
    if cert.get("format") != CERTIFICATE_FORMAT:
        raise MalformedCertificate(f"the certificate format must be {CERTIFICATE_FORMAT!r}, "
                                   f"not {cert.get('format')!r}")
    missing = _MEMBERS - set(cert)
    if missing:
        raise MalformedCertificate(f"the certificate lacks {', '.join(sorted(missing))}")
    unexpected = set(cert) - _MEMBERS
    if unexpected:
        raise MalformedCertificate(f"the certificate has unknown members {', '.join(sorted(unexpected))}")
    office = _require(cert, "office", str)
    try:
        number = ids.parse_registration_number(_require(cert, "number", str))
    except InvalidInput as exc:
        raise MalformedCertificate(str(exc.problems[0])) from None
    if number != cert["number"] or ids.office_of(number) != office:
        raise MalformedCertificate(f"registration number {cert['number']} is not one of office {office}")
    version = _require(cert, "version", int)
    record = _require(cert, "record", dict)
    digest = _require(cert, "record_hash", str)
    codes = _require(cert, "content_codes", list)
    if not all(isinstance(c, dict) for c in codes):
        raise MalformedCertificate("every content code must be a JSON object")
    entry = _require(cert, "log_entry", dict)
    index = _require(entry, "index", int, "log entry")
    leaf = _require(entry, "leaf", dict, "log entry")
    sth = _require(cert, "tree_head", dict)
    proof_hex = _require(cert, "inclusion_proof", list)
    if not all(isinstance(h, str) and _HEX64.fullmatch(h) for h in proof_hex):
        raise MalformedCertificate("every inclusion proof element must be 64 lowercase hex characters")
    issued_at = parse_time(cert.get("issued_at"), "the issue time", MalformedCertificate)

    # 2. the office's signature, by a key valid when the certificate was issued
    if office != key_history.office:
        raise CertificateKeyError(f"the certificate was issued by office {office}, but the key history "
                                  f"given is office {key_history.office}'s")
    try:
        key = key_history.verify_object(cert, issued_at, "certificate")
    except (UnknownKey, KeyNotValid) as exc:
        raise CertificateKeyError(str(exc)) from None
    except BadSignature as exc:
        raise CertificateSignatureInvalid(str(exc)) from None
    except SignatureError as exc:
        raise MalformedCertificate(str(exc)) from None

    # 3. the record is the one hashed
    computed = hashlib.sha256(canonical(record)).hexdigest()
    if computed != digest:
        raise RecordHashMismatch(f"the record hashes to {computed[:16]}…, not to the certified "
                                 f"{digest[:16]}…: the record was altered")
    if record.get("number") != number or record.get("version", version) != version:
        raise RecordHashMismatch(f"the record is {record.get('number')} version {record.get('version')}, "
                                 f"but the certificate is for {number} version {version}")

    # 4. the log entry is this record's
    expected = {"office": office, "index": index, "number": number, "version": version,
                "record_hash": digest}
    for name, value in expected.items():
        if leaf.get(name) != value:
            raise LogEntryMismatch(f"the log entry's {name} is {leaf.get(name)!r}, but the certificate "
                                   f"says {value!r}")
    registered_at = parse_time(leaf.get("timestamp"), "the log entry timestamp", LogEntryMismatch)

    # 5. the signed tree head
    try:
        head = verify_tree_head(sth, key_history)
    except TreeHeadError as exc:
        raise TreeHeadInvalid(str(exc)) from None
    except SignatureError as exc:
        raise TreeHeadInvalid(f"the tree head: {exc}") from None
    if head.timestamp < registered_at:
        raise TreeHeadInvalid("the tree head is older than the log entry it is said to contain")

    # 6. the inclusion proof
    try:
        merkle.verify_inclusion(merkle.leaf_hash(canonical(leaf)), index, head.tree_size,
                                [bytes.fromhex(h) for h in proof_hex], head.root_hash)
    except merkle.ProofError as exc:
        raise InclusionProofInvalid(str(exc)) from None

    return VerifiedCertificate(
        office=office, number=number, version=version, record=record, record_hash=digest,
        content_codes=codes, log_index=index, registered_at=registered_at, issued_at=issued_at,
        tree_size=head.tree_size, root_hash=head.root_hash.hex(), key_id=key.key_id,
        key_status=key.status)


# --- human-readable renderings ----------------------------------------------------------

def render_html(certificate: dict, locale: str = "en") -> str:
    """A self-contained HTML page (no external resources) showing the certificate in ``locale``.

    ``locale`` is one of ``obra.render.SUPPORTED``; pass a request's Accept-Language or a
    ``--locale`` option through :func:`obra.render.negotiate` first.
    """
    return certificate_html(certificate, locale)


def render_pdf(certificate: dict, locale: str = "en") -> bytes:
    """The HTML rendering as PDF (fonts from the system, nothing fetched, the same bytes every time)."""
    return certificate_pdf(certificate, locale)


__all__ = ["CERTIFICATE_FORMAT", "CertificateError", "CertificateKeyError", "CertificateSignatureInvalid",
           "InclusionProofInvalid", "LogEntryMismatch", "MalformedCertificate", "RecordHashMismatch",
           "TreeHeadInvalid", "VerifiedCertificate", "certificate_bytes", "certificate_for", "issue_certificate",
           "parse_certificate", "render_html", "render_pdf", "verify_certificate"]
