"""The signal bundle of stored or given terms, for the CLI and the API (``Obra.protect``).

Terms are public, so anyone may generate the files of a subject's stored terms — the
rightholder to publish them, anyone else to check that a site publishes what was stated.
Nothing is written and nothing is recorded: the bundle is a pure function of the terms (see
:mod:`obra.aiuse.protect`), returned as bytes. A rightholder who has not stored terms yet
generates from a terms document given inline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from obra import ids
from obra.aiuse.protect import protect, zip_bundle
from obra.aiuse.service import AITermsService
from obra.aiuse.signals.cawg import SigningCredentials
from obra.aiuse.signals.tdmrep_embed import kind_of
from obra.aiuse.terms import AITerms
from obra.errors import InvalidInput, NotFound, Problem
from obra.model import parse
from obra.store import Store
from obra.store.schema import registrations

KINDS = ("work", "recording", "party", "location")


class ProtectService:
    """Generate the signal files of a subject's AI-use terms."""

    def __init__(self, store: Store):
        self.store = store
        self.terms = AITermsService(store)

    def bundle(self, subject_kind: str | None = None, subject: str | None = None, *,
               terms: AITerms | dict | None = None, site: str | None = None, licence_url: str | None = None,
               policy_url: str | None = None, contact: str | None = None,
               media: Sequence[tuple[str, bytes]] = (), credentials: SigningCredentials | None = None) -> dict:
        """The files for the terms in force for ``subject_kind``/``subject``, or for ``terms``
        given inline (one or the other). ``media`` (file name, bytes) are signed with
        ``credentials``, else those of the environment (``OBRA_C2PA_CERT``/``OBRA_C2PA_KEY``);
        EPUB and PDF files get the TDMRep reservation in their own metadata instead, unsigned.

        Returns ``{"files": {name: str | bytes}, "zip": bytes, "summary": {...}}``.
        """
        stated, source, mode = self._terms(subject_kind, subject, terms)
        if credentials is None and any(not kind_of(name, data) for name, data in media):   # EPUB/PDF need none
            credentials = SigningCredentials.from_env()
        done = protect(stated, site=site, licence_url=licence_url, policy_url=policy_url, contact=contact,
                       media=media, credentials=credentials, mode=mode, source=source)
        summary = done.to_json() | {"subject_kind": stated.subject_kind, "subject": stated.subject,
                                    "source": source}
        return {"files": done.files, "zip": zip_bundle(done.files), "summary": summary}

    def _terms(self, kind: str | None, subject: str | None, terms: AITerms | dict | None) -> tuple[AITerms, str, Any]:
        if terms is not None:
            if kind is not None or subject is not None:
                raise InvalidInput(Problem("give either a subject (KIND SUBJECT) or a terms document, not both",
                                           field="terms"))
            stated = terms if isinstance(terms, AITerms) else parse(AITerms, terms)
            return stated, "a terms document given inline, not stored", "human"
        if kind is None or subject is None:
            raise InvalidInput(Problem("say whose terms to publish: a subject (KIND SUBJECT, e.g. party 7) or a "
                                       "terms document", field="subject"))
        if kind not in KINDS:
            raise InvalidInput(Problem(f"kind {kind!r}: one of {', '.join(KINDS)}", field="kind"))
        if kind in ("work", "recording"):
            subject = ids.parse_registration_number(subject, field="subject")
        current = self.terms.current(kind, subject)
        if current is None:
            raise NotFound(f"no AI-use terms were stated for {kind} {subject}",
                           hint="state them first (obra ai terms set), or generate from a terms document (--terms)")
        source = (f"version {current['version']}, stated by {current['set_by']} at {current['set_at']}; journal "
                  f"event {current['journal_event']}, provable with: obra journal proof {current['journal_event']}")
        return AITerms.model_validate(current["terms"]), source, self._mode(kind, subject)

    def _mode(self, kind: str, subject: str) -> str:
        """How a registered work or recording was made (AI-generated media declare it when signed)."""
        if kind not in ("work", "recording"):
            return "human"
        with self.store.connect() as conn:
            row = conn.execute(select(registrations.c.entity, registrations.c.record).where(
                registrations.c.number == subject, registrations.c.is_current)).first()
        if row is None:
            return "human"
        mode = (row.record.get(row.entity) or {}).get("creation_mode", "human")
        return mode if mode in ("human", "ai_assisted", "ai_generated") else "human"
