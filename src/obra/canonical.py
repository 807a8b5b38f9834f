"""The one canonical JSON of the house: RFC 8785 (JSON Canonicalization Scheme).

Everything Obra hashes or signs — registration records, log leaves, journal events,
certificates, statements, tree heads — is hashed over these bytes, so a third party can
recompute every hash with any RFC 8785 implementation (Python's ``jcs``, Go's
``webpki.org/jsoncanonicalizer``, JavaScript's ``canonicalize``) and no Obra code.

RFC 8785 forbids what JSON cannot carry exactly: numbers must be IEEE doubles (Obra's
money is integer minor units or decimal strings, never floats), and strings must be
valid Unicode.
"""

from __future__ import annotations

import hashlib
from typing import Any

import jcs


def canonical(obj: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of ``obj``."""
    return jcs.canonicalize(obj)


def sha256_hex(obj: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``obj``: the content hash of a document."""
    return hashlib.sha256(canonical(obj)).hexdigest()


def content_hash(document: dict, field: str = "content_hash") -> str:
    """The hash of ``document`` without its own hash ``field`` (how statements and reports carry theirs)."""
    return sha256_hex({k: v for k, v in document.items() if k != field})
