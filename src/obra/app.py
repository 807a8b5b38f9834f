"""The application object: the one thing every interface calls.

The CLI (``obra.cli``), the REST API (``obra.api``) and the web portal all hold one
:class:`Obra` and call its services; they parse input, call one method, and render the
result. Nothing else: access is checked inside the services (from the one permission table
in :mod:`obra.access`), every state change is a journal event anchored in the transparency
log (:mod:`obra.journal`), every document goes through :mod:`obra.render`, and legal rules
come from :mod:`obra.law`. A Python user gets exactly what the interfaces get::

    from obra.app import Obra
    obra = Obra.open()
    principal = obra.authenticate(token)
    record = obra.registry.register(principal, "work", {"title": "Canción del Algoritmo"})

The services:

* ``registry``  — parties, works, recordings, agreements, batch imports (:mod:`obra.registry`)
* ``identify``  — ISCC codes, near-duplicates, registering with a file (:mod:`obra.identify`)
* ``royalties`` — ingest, matching, claims, distribution runs, statements (:mod:`obra.royalties.pipeline`)
* ``log``       — the transparency log, checkpoints, certificates, keys, federation
* ``journal``   — every state change, with proofs
* ``principals``— who may write
* ``law``       — the comparative-law data the engines read (``law_compare``, ``law_show``)
* ``review``    — office staff's queue of registrations with near-duplicate warnings
* ``ai_terms``, ``protect``, ``ai_check`` — AI-use terms, the files that publish them, the training check
* ``ai_licences``, ``likeness`` — offers, quotes, licences, the licence server; voice and likeness consent
* ``ai_evidence`` — evidence bundles and letters for enforcement
* ``fairness``  — renegotiation checks and letters, transparency reports (:mod:`obra.fairness`)
* ``observatory`` — indicators, payment-model scenarios and the signed report

This module sits between the capabilities and the interfaces: it may import every
capability; no capability imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from obra import access
from obra.access import Principal, require
from obra.errors import InvalidInput, Problem
from obra.journal import Journal
from obra.store import Store
from obra.transparency.translog import TransparencyLog


class Obra:
    """One Obra installation: a store and the services over it."""

    def __init__(self, store: Store):
        self.store = store

    @classmethod
    def open(cls, url: str | None = None, home: str | Path | None = None, *, office: str | None = None,
             migrate: bool = False) -> "Obra":
        """The installation configured by arguments or ``OBRA_HOME`` / ``OBRA_DATABASE_URL`` / ``OBRA_OFFICE``."""
        return cls(Store.open(url, home, office=office, migrate=migrate))

    def authenticate(self, token: str | None) -> Principal:
        """The principal a bearer token belongs to (401 when missing or unknown)."""
        return access.authenticate(self.store, token)

    # --- services -------------------------------------------------------------------

    @cached_property
    def registry(self):
        from obra.registry.service import Registry

        return Registry(self.store)

    @cached_property
    def review(self):
        """The review queue: recent registrations with their near-duplicate warnings (office staff)."""
        from obra.identify.similar import ContentIndex
        from obra.registry.review import ReviewQueue

        return ReviewQueue(self.store, ContentIndex(self.store))

    @cached_property
    def identify(self) -> "IdentifyService":
        return IdentifyService(self)

    @cached_property
    def royalties(self):
        from obra.royalties.pipeline import RoyaltiesService

        return RoyaltiesService(self.store)

    @cached_property
    def log(self) -> "LogService":
        return LogService(self)

    @cached_property
    def journal(self) -> Journal:
        return Journal(self.store)

    @cached_property
    def principals(self) -> "PrincipalService":
        return PrincipalService(self)

    @cached_property
    def ai_terms(self):
        from obra.aiuse.service import AITermsService

        return AITermsService(self.store)

    @cached_property
    def ai_check(self):
        from obra.aiuse.check.service import CheckService

        return CheckService(self.store)

    def ai_inspect(self, url: str, **captured: Any) -> dict:
        """What every AI-use signal captured for ``url`` says, per standard and use (public, nothing fetched)."""
        from obra.aiuse.inspect import inspect

        return inspect(url, **captured)

    @cached_property
    def ai_licences(self):
        from obra.aiuse.licensing.service import LicensingService

        return LicensingService(self.store)

    @cached_property
    def likeness(self):
        from obra.aiuse.licensing.consent_service import LikenessService

        return LikenessService(self.store)

    @cached_property
    def protect(self):
        from obra.aiuse.protect_service import ProtectService

        return ProtectService(self.store)

    @cached_property
    def observatory(self):
        from obra.observatory.service import ObservatoryService

        return ObservatoryService(self.store)

    @cached_property
    def fairness(self):
        from obra.fairness.service import FairnessService

        return FairnessService(self.store)

    @cached_property
    def law(self):
        from obra.law import load

        return load()

    def law_compare(self, topic: str, jurisdictions: list[str] | None = None) -> dict:
        """One topic's facts across jurisdictions, each with its citation and confidence (public)."""
        from obra.law.compare import comparison

        return comparison(topic, jurisdictions, law=self.law)

    def law_show(self, jurisdiction: str) -> dict:
        """Every topic's facts for one jurisdiction, inherited ones marked (public)."""
        from obra.law.compare import profile

        return profile(jurisdiction, law=self.law)

    @cached_property
    def ai_evidence(self):
        from obra.aiuse.evidence.service import EvidenceService

        return EvidenceService(self.store)

    def import_records(self, principal: Principal, sections: dict[str, list], source: str = "<batch>") -> dict:
        """Import parties, works, recordings and agreements all or nothing (``repertoire.imported``)."""
        from obra.registry.batch import check_sections, import_records

        require(principal, "import")
        return import_records(self.store, principal, source=source, **check_sections(sections, source))

    def import_file(self, principal: Principal, path: Path, entity: str | None = None) -> dict:
        """Import a JSON or CSV batch file (a CWR file goes through ``royalties.ingest_cwr``)."""
        return self.import_files(principal, [path], entity)[0]

    def import_files(self, principal: Principal, paths: list[Path], entity: str | None = None) -> list[dict]:
        """Import several JSON or CSV batch files all or nothing: all are read and checked, then written in
        one transaction; a problem in any file leaves the store as it was (``repertoire.imported`` per file)."""
        from obra.registry.batch import import_files

        return import_files(self.store, principal, paths, entity)

    def read_journal(self, principal: Principal, kind: str | None = None, subject: str | None = None,
                     limit: int = 100, after: int = 0) -> list[dict]:
        """The journal's events (CMO and office staff, admins)."""
        require(principal, "read_journal")
        return [e.to_dict() for e in self.journal.events(kind, subject, limit, after)]

    def journal_proof(self, event_id: int) -> dict:
        """A journal event with its inclusion proof and a signed tree head: public, like the log."""
        return self.journal.proof(event_id)


@dataclass
class IdentifyService:
    """ISCC content codes and near-duplicate search over the registry's content index."""

    obra: Obra

    def codes(self, path: Path, name: str | None = None) -> dict:
        from obra.identify import identify_file

        return identify_file(path, name=name)

    def similar(self, query: Any, radius: int | None = None, units: list[str] | None = None) -> list:
        from obra.identify.similar import DEFAULT_RADIUS, ContentIndex

        return ContentIndex(self.obra.store).near(query, DEFAULT_RADIUS if radius is None else radius, units=units)

    def register_with_codes(self, principal: Principal, entity: str, data: dict, codes: Any):
        from obra.identify.registration import register_with_codes

        return register_with_codes(self.obra.registry, principal, entity, data, codes)

    def register_with_file(self, principal: Principal, entity: str, data: dict, path: Path):
        from obra.identify.registration import register_with_file

        return register_with_file(self.obra.registry, principal, entity, data, path)

    def correct_with_file(self, principal: Principal, number: str, data: dict, reason: str, path: Path):
        from obra.identify.registration import correct_with_file

        return correct_with_file(self.obra.registry, principal, number, data, reason, path)


@dataclass
class LogService:
    """The office's transparency log: heads, checkpoints, proofs, certificates, keys, federation."""

    obra: Obra

    @property
    def _log(self) -> TransparencyLog:
        return TransparencyLog(self.obra.store)

    def head(self) -> dict:
        log = self._log
        return {"office": log.office, "size": log.size(), "tree_head": log.signed_tree_head()}

    def entries(self, start: int = 0, end: int | None = None) -> list[dict]:
        return [e.to_dict() for e in self._log.entries(start, end)]

    def inclusion_proof(self, index: int, size: int | None = None) -> dict:
        return self._log.inclusion_proof(index, size)

    def consistency_proof(self, old: int, new: int | None = None) -> dict:
        return self._log.consistency_proof(old, new)

    def checkpoint(self, size: int | None = None) -> str:
        from obra.transparency.checkpoint import signed_checkpoint

        return signed_checkpoint(self._log, size)

    def vkeys(self) -> list[str]:
        from obra.transparency.checkpoint import checkpoint_vkeys

        return checkpoint_vkeys(self._log)

    def key_history(self):
        return self._log.key_history()

    def certificate(self, number: str, version: int | None = None, content_codes: list[dict] | None = None) -> dict:
        from obra.registry.certificates import certificate_for

        return certificate_for(self.obra.store, number, version, content_codes)

    def verify_certificate(self, data: bytes, key_history: Any = None):
        from obra.registry import federation
        from obra.registry.certificates import verify_certificate

        if key_history is None:
            return federation.verify_certificate_here(self.obra.store, data)
        return verify_certificate(data, key_history)

    def verify_number(self, number: str) -> dict:
        from obra.registry import federation

        return federation.verify_number(self.obra.store, number)

    def rotate_key(self, principal: Principal) -> dict:
        """Retire the office's signing key and start a new one; a ``key.rotated`` journal event."""
        require(principal, "manage_keys")
        log = self._log
        record = log.keys.rotate()
        with self.obra.store.begin() as conn:
            self.obra.journal.record(conn, "key.rotated", f"office/{log.office}",
                                     {"key_id": record.key_id, "valid_from": record.to_dict().get("valid_from")},
                                     principal.name)
        return record.to_dict()

    def export(self, since: int = 0) -> dict:
        from obra.registry import federation

        return federation.export_log(self._log, since)

    def import_log(self, principal: Principal, data: bytes | str | dict, trusted: Any = None):
        from obra.registry import federation

        require(principal, "federation")
        return federation.import_log(self.obra.store, data, trusted)

    def imported_offices(self) -> list[dict]:
        from obra.registry import federation

        return federation.imported_offices(self.obra.store)


@dataclass
class PrincipalService:
    """Principals: who may write, and with which role."""

    obra: Obra

    def create(self, by: Principal | None, name: str, role: str, party_id: int | None = None) -> dict:
        """A new principal and its token, shown once (admins only).

        The first admin of a store is made by ``obra init`` on the machine itself, never through an
        interface: an empty server must not hand an admin token to whoever asks first.
        """
        require(by, "manage_principals")
        if not name or not name.strip():
            raise InvalidInput(Problem("a principal needs a name", field="name"))
        principal, token = access.create_principal(self.obra.store, name.strip(), role, party_id, by=by)
        return {"id": principal.id, "name": principal.name, "role": principal.role.value,
                "party_id": principal.party_id, "token": token}
