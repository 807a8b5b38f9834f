"""Registering with the work's file: content codes in the record, possible prior work shown.

The file is identified *before* the transaction (ISCC generation can take seconds and a
bad file must leave nothing behind). Then, in one transaction, the registry writes the
version with the codes inside the published, hashed and logged record, and the content
index records the codes and returns registered works within the Hamming radius: these
are warnings ("possible prior work") for a person to look at, never a refusal.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from obra.access import Principal, require
from obra.identify.iscc import ContentCodes, identify_file
from obra.identify.similar import DEFAULT_RADIUS, ContentIndex
from obra.registry.records import RegistrationRecord
from obra.registry.service import Registry


def content_record(codes: ContentCodes) -> dict:
    """What a registration record carries about its file (published and hashed)."""
    return {
        "iscc": codes.iscc,
        "units": [{"kind": u.kind, "code": u.code} for u in codes.units()],
        "datahash": codes.datahash,
        "filename": Path(codes.filename).name,
        "mediatype": codes.mediatype,
        "filesize": codes.filesize,
    }


def _warnings(matches) -> tuple[dict, ...]:
    return tuple({"kind": "possible_prior_work", "number": m.number, "version": m.version, "unit": m.unit,
                  "distance": m.distance,
                  "message": f"{m.unit} code is {m.distance} bits from {m.number} (v{m.version}): possible prior work"}
                 for m in matches)


def register_with_file(registry: Registry, principal: Principal, entity: str, data, path: str | Path,
                       radius: int = DEFAULT_RADIUS) -> RegistrationRecord:
    """Register ``data`` with the content codes of ``path``; near duplicates come back as warnings.

    The access check comes first: a caller who may not register costs no content-code computation.
    """
    require(principal, "register")
    return register_with_codes(registry, principal, entity, data, identify_file(path), radius)


def register_with_codes(registry: Registry, principal: Principal, entity: str, data, codes: ContentCodes,
                        radius: int = DEFAULT_RADIUS) -> RegistrationRecord:
    """As :func:`register_with_file`, for codes already computed (e.g. from an upload)."""
    index = ContentIndex(registry.store)
    with registry.store.begin() as conn:
        record = registry.register(principal, entity, data, conn=conn, content=content_record(codes))
        prior = index.register(conn, record.number, record.version, codes, radius)
    return replace(record, warnings=_warnings(prior))


def correct_with_file(registry: Registry, principal: Principal, number: str, data, reason: str,
                      path: str | Path, radius: int = DEFAULT_RADIUS) -> RegistrationRecord:
    """A correction that replaces the registration's file (a new version with new codes)."""
    require(principal, "correct")
    codes = identify_file(path)
    index = ContentIndex(registry.store)
    with registry.store.begin() as conn:
        record = registry.correct(principal, number, data, reason, conn=conn, content=content_record(codes))
        prior = index.register(conn, record.number, record.version, codes, radius)
    return replace(record, warnings=_warnings(prior))
