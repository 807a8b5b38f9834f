"""The signed, dated compliance receipt of one training check: what was checked, how, and what it found.

An AI provider must keep a copyright policy and publish a summary of its training content (AI
Act Art. 53(1)(c)-(d)); a check it cannot reproduce or prove later is of little use for either.
So every run ends with one receipt, an RFC 8785 canonical JSON object signed with the office's
Ed25519 key exactly as certificates are (:meth:`obra.transparency.signing.OfficeKeys.sign_object`),
holding:

* the **inputs**: SHA-256 and size of the manifest and of the site captures, how many items and
  problems, and the registry that was joined (how many codes and terms);
* the **question**: use, jurisdiction, purpose, commercial or not, user agent, date, radius;
* the **rules**: the law data's version and the TDM rule pack's hash (:func:`obra.law.tdm.pack_version`),
  the governing fact's citation, and the **versions of every parser** (Obra; http-sf for AIPREF,
  protego for robots.txt, c2pa-python for CAWG, lxml for RSL and TDMRep's XML, pypdf) and engine
  library (DuckDB, pyarrow, NumPy, Ibis, and PySpark on Spark);
* the **summary** (counts per decision, conflicts, counting reservations per signal) and the
  SHA-256 of each output file.

The receipt's SHA-256 (:func:`receipt_hash`, over its canonical JSON, signature included) is the
payload of an ``aiuse.check`` journal event, so it is anchored in the transparency log: its
inclusion proof (``obra journal proof``) proves it existed at that time. :func:`verify_receipt`
checks a receipt offline, with only the office's published key history, and detects any change.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from importlib import metadata
from pathlib import Path

from obra.canonical import canonical
from obra.errors import Unverifiable
from obra.transparency.signing import KeyHistory, OfficeKeys, format_time, verify_signed

__all__ = ["RECEIPT_FORMAT", "MEMBERS", "parser_versions", "build_receipt", "sign_receipt", "receipt_hash",
           "verify_receipt", "ReceiptError", "file_sha256"]

RECEIPT_FORMAT = "obra.ai_check_receipt/1"
MEMBERS = {"format", "office", "issued_at", "manifest", "sites", "registry", "question", "law", "parsers",
           "engine", "summary", "outputs", "key_id", "signature"}
PARSERS = ("obra", "http-sf", "protego", "c2pa-python", "lxml", "pypdf", "duckdb", "pyarrow", "numpy",
           "ibis-framework")


class ReceiptError(Unverifiable):
    """The receipt is malformed, not signed by the office, or was altered after signing."""


def parser_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """The installed version of every parser and engine library the check used."""
    out = {}
    for name in PARSERS + extra:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, or of every file of a directory (Spark writes directories) in name order."""
    path = Path(path)
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode() + b"\0")
        with open(f, "rb") as fh:
            while chunk := fh.read(8 << 20):
                h.update(chunk)
    return h.hexdigest()


def build_receipt(*, office: str, issued_at: datetime, manifest: dict, sites: dict, registry: dict, question: dict,
                  law: dict, engine: str, summary: dict, outputs: dict[str, str], parsers: dict[str, str]) -> dict:
    """The receipt's body (unsigned)."""
    return {"format": RECEIPT_FORMAT, "office": office, "issued_at": format_time(issued_at), "manifest": manifest,
            "sites": sites, "registry": registry, "question": question, "law": law, "parsers": parsers,
            "engine": engine, "summary": summary, "outputs": outputs}


def sign_receipt(keys: OfficeKeys, body: dict, at: datetime) -> dict:
    """The body signed by the office key active at ``at`` (``key_id`` and ``signature`` added)."""
    return keys.sign_object(body, at)


def receipt_hash(receipt: dict) -> str:
    """SHA-256 of the receipt's RFC 8785 canonical JSON (signature included): what the journal anchors."""
    return hashlib.sha256(canonical(receipt)).hexdigest()


def verify_receipt(receipt: bytes | str | dict, key_history: KeyHistory | bytes | str | dict,
                   *, outputs: dict[str, str | Path] | None = None) -> dict:
    """Check a receipt offline: its shape, the office's signature by a key valid when it was issued,
    and (given the files) that each output file still has the hash it records. Returns the receipt;
    raises :class:`ReceiptError` naming the first check that fails."""
    receipt, _keys = verify_signed(receipt, key_history, format=RECEIPT_FORMAT, members=MEMBERS, what="the receipt",
                                   error=ReceiptError)
    for name, path in (outputs or {}).items():
        recorded = receipt["outputs"].get(name)
        if recorded is None:
            raise ReceiptError(f"the receipt records no output named {name!r}")
        actual = file_sha256(path)
        if actual != recorded:
            raise ReceiptError(f"output {name} hashes to {actual[:16]}…, not to the {recorded[:16]}… the receipt "
                               "records: the file was changed")
    return receipt
