"""Registration records as plain, hashable documents.

A registration record is the JSON document a registry publishes for one version of a
registration. Its hash (SHA-256 over the RFC 8785 JSON Canonicalization Scheme form) is
what the transparency log and certificates commit to, so anyone can recompute it from
the published record without Obra's code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from obra.canonical import sha256_hex


def record_hash(record: dict) -> str:
    """SHA-256 hex of the RFC 8785 canonical JSON of ``record``."""
    return sha256_hex(record)


@dataclass(frozen=True)
class RegistrationRecord:
    """One version of a registration, as stored and published (never edited in place)."""

    number: str
    version: int
    entity: str  # "work" | "recording"
    status: str  # registered | corrected | withdrawn
    record: dict
    record_hash: str
    registrant: str
    created_at: datetime
    reason: str | None = None
    warnings: tuple[dict, ...] = field(default=())
    log_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number, "version": self.version, "entity": self.entity,
            "status": self.status, "record": self.record, "record_hash": self.record_hash,
            "registrant": self.registrant, "created_at": self.created_at.isoformat(),
            "reason": self.reason, "warnings": list(self.warnings), "log_index": self.log_index,
        }
