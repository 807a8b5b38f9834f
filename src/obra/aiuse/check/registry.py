"""What the registry knows for the check: content codes to match items against, and the terms in force.

Items are matched to registrations three ways (the joins run in :mod:`obra.aiuse.check.engine`):

* **exact hash**: the item's ``sha256`` equals the SHA-256 of a registered file, or its ISCC
  Instance-Code (a hash of the exact bytes) equals a registered file's. Obra identifies files with
  ISCC, whose ``datahash`` is a BLAKE3 multihash, so a registered file's SHA-256 is known only when
  its datahash is a SHA2-256 multihash (``1220…``); the Instance-Code is always there;
* **ISCC near duplicate**: the item's Content-Code within the Hamming radius of a registered
  Content-Code of the same kind, by the exact bulk search
  (:func:`obra.identify.similar.near_duplicates`), with its distance;
* **registered URL**: the item's URL under a web location someone stated terms for (an origin
  and an RFC 9309 path pattern; the most specific pattern wins).

The terms are those **in force on the question's date** (``on``, today unless asked about another
day: the day of the use the check asks about), from :func:`obra.aiuse.service.terms_history_rows`:
every version of each subject's terms, valid from its ``set_at`` until the next version's, so a
check dated in the past reads the terms as they then stood. (Which terms stood when an item was
crawled is the evidence bundle's question, :mod:`obra.aiuse.evidence`.) Each carries the ``aiuse.terms.set`` journal event that proves when it was
stated — its inclusion proof is fetched on demand by event id, never inlined per item. A
matched registration's own terms decide; where they say nothing of the use, the catalogue terms
of its parties do (the most restrictive of them), as :meth:`obra.aiuse.service.AITermsService.decide`
reads them. Each distinct terms document is evaluated once for the question
(:func:`evaluate_terms`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

import numpy as np
import pyarrow as pa
from sqlalchemy import and_, func, select

from obra.aiuse.check.sites import like_pattern, normalise_origin
from obra.aiuse.service import _parties_of, terms_history_rows
from obra.aiuse.terms import AITerms, Purpose, UserType
from obra.aiuse.vocabulary import Use
from obra.canonical import sha256_hex
from obra.identify.similar import content_codes, content_files, file_sha256s
from obra.store.schema import registrations

__all__ = ["RegistryIndex", "evaluate_terms", "uses_hash", "PERMISSION_RANK"]

PERMISSION_RANK = {"not-allowed": 0, "licence": 1, "allowed": 2}
"""Most restrictive first: across matched registrations, the lowest rank decides."""

CODE_SCHEMA = pa.schema([("number", pa.string()), ("kind", pa.string()), ("body", pa.int64())])
TERMS_SCHEMA = pa.schema([("subject_kind", pa.string()), ("subject", pa.string()), ("version", pa.int64()),
                          ("terms_hash", pa.string()), ("uses_hash", pa.string()), ("journal_event", pa.int64()),
                          ("set_at", pa.string()), ("until", pa.string())])


@dataclass
class RegistryIndex:
    """The registry as the check joins it: Arrow tables, and the distinct terms documents.

    ``codes`` (number, kind, body): Content-Codes; ``instances`` (number, body): Instance-Codes;
    ``hashes`` (number, sha256); ``terms`` (subject_kind, subject, version, terms_hash, uses_hash,
    journal_event, set_at, until: ISO 8601 text; ``until`` null for the version in force now, a table
    without it holds current versions only) with ``documents`` (uses_hash → one terms JSON with those uses: what a
    permission depends on, so a million works stating the same terms are evaluated once); ``parties``
    (number, party): who holds a share in, contributed to or performed each registration.
    """

    codes: pa.Table
    instances: pa.Table
    hashes: pa.Table
    terms: pa.Table
    documents: dict[str, dict]
    parties: pa.Table
    source: str = "store"
    version: dict = field(default_factory=dict)

    @classmethod
    def empty(cls) -> "RegistryIndex":
        return cls(CODE_SCHEMA.empty_table(), pa.table({"number": pa.array([], pa.string()),
                                                        "body": pa.array([], pa.int64())}),
                   pa.table({"number": pa.array([], pa.string()), "sha256": pa.array([], pa.string())}),
                   TERMS_SCHEMA.empty_table(), {}, pa.table({"number": pa.array([], pa.string()),
                                                             "party": pa.array([], pa.string())}), "empty")

    @classmethod
    def from_rows(cls, *, codes: Iterable[tuple[str, str, int]] = (), instances: Iterable[tuple[str, int]] = (),
                  hashes: Iterable[tuple[str, str]] = (), terms: Iterable[dict] = (),
                  parties: Iterable[tuple[str, int | str]] = (), source: str = "rows") -> "RegistryIndex":
        """An index from plain rows (terms as :func:`current_terms_rows` gives them)."""
        codes, instances, hashes, parties = list(codes), list(instances), list(hashes), list(parties)

        def signed(v: int) -> int:
            return v - (1 << 64) if v >= 1 << 63 else v

        terms_table, documents = _terms_table(list(terms))
        return cls(
            pa.table({"number": [c[0] for c in codes], "kind": [c[1] for c in codes],
                      "body": pa.array([signed(c[2]) for c in codes], pa.int64())}, schema=CODE_SCHEMA),
            pa.table({"number": pa.array([i[0] for i in instances], pa.string()),
                      "body": pa.array([signed(i[1]) for i in instances], pa.int64())}),
            pa.table({"number": pa.array([h[0] for h in hashes], pa.string()),
                      "sha256": pa.array([h[1].lower() for h in hashes], pa.string())}),
            terms_table, documents,
            pa.table({"number": pa.array([p[0] for p in parties], pa.string()),
                      "party": pa.array([str(p[1]) for p in parties], pa.string())}), source)

    @classmethod
    def from_store(cls, store: Any) -> "RegistryIndex":
        """The store's current registry: the codes of each registration's latest version (withdrawn
        registrations left out), the terms in force, and the parties of every registration with codes."""
        latest = (select(content_codes.c.number, func.max(content_codes.c.version).label("version"))
                  .group_by(content_codes.c.number).subquery())
        withdrawn = (select(registrations.c.number)
                     .where(registrations.c.is_current.is_(True), registrations.c.status == "withdrawn"))
        with store.connect() as conn:
            rows = conn.execute(
                select(content_codes.c.number, content_codes.c.unit, content_codes.c.body)
                .join(latest, and_(latest.c.number == content_codes.c.number,
                                   latest.c.version == content_codes.c.version))
                .where(content_codes.c.number.not_in(withdrawn))).all()
            files = conn.execute(
                select(content_files.c.number, content_files.c.datahash, content_files.c.sha256)
                .join(latest, and_(latest.c.number == content_files.c.number,
                                   latest.c.version == content_files.c.version))
                .where(content_files.c.number.not_in(withdrawn))).all()
            numbers = sorted({r.number for r in rows})
            records = []
            for i in range(0, len(numbers), 500):
                records += conn.execute(select(registrations.c.number, registrations.c.entity, registrations.c.record)
                                        .where(registrations.c.number.in_(numbers[i:i + 500]),
                                               registrations.c.is_current)).all()
        codes = [(r.number, r.unit, int(r.body) % (1 << 64)) for r in rows if r.unit.startswith("content")]
        instances = [(r.number, int(r.body) % (1 << 64)) for r in rows if r.unit == "instance"]
        hashes = sorted(file_sha256s(files))
        parties = [(r.number, p) for r in records for p in sorted(_parties_of((r.record or {}).get(r.entity, {})))]
        return cls.from_rows(codes=codes, instances=instances, hashes=hashes, terms=terms_history_rows(store),
                             parties=parties, source="store")

    def locations(self) -> pa.Table:
        """The registered web locations as patterns to join item paths against: origin, LIKE
        pattern, match length, the location subject."""
        out = {"origin": [], "like": [], "length": [], "subject": []}
        kinds = self.terms["subject_kind"].to_pylist()
        seen: set[str] = set()
        for kind, subject in zip(kinds, self.terms["subject"].to_pylist()):
            if kind != "location" or subject in seen:   # one pattern per location, whatever its versions
                continue
            seen.add(subject)
            head, sep, rest = subject.partition("://")
            host, slash, path = rest.partition("/")
            origin = normalise_origin(f"{head}://{host}")
            if origin is None:
                continue
            like, length = like_pattern("/" + path if slash else "/")
            out["origin"].append(origin)
            out["like"].append(like)
            out["length"].append(length)
            out["subject"].append(subject)
        return pa.table({"origin": pa.array(out["origin"], pa.string()), "like": pa.array(out["like"], pa.string()),
                         "length": pa.array(out["length"], pa.int64()), "subject": pa.array(out["subject"], pa.string())})

    def describe(self) -> dict:
        return {"source": self.source, "content_codes": self.codes.num_rows, "instance_codes": self.instances.num_rows,
                "sha256": self.hashes.num_rows, "terms": self.terms.num_rows, "terms_documents": len(self.documents)}


def uses_hash(terms: dict) -> str:
    """The hash of what a permission depends on: the terms' ``uses`` (not the subject, contact or policy)."""
    return sha256_hex({"uses": terms.get("uses", [])})


def _terms_table(rows: list[dict]) -> tuple[pa.Table, dict[str, dict]]:
    documents: dict[str, dict] = {}
    hashes, uses = [], []
    for row in rows:
        digest = uses_hash(row["terms"])
        documents.setdefault(digest, row["terms"])
        uses.append(digest)
        hashes.append(row.get("terms_hash") or sha256_hex(row["terms"]))
    table = pa.table({
        "subject_kind": pa.array([r["subject_kind"] for r in rows], pa.string()),
        "subject": pa.array([str(r["subject"]) for r in rows], pa.string()),
        "version": pa.array([int(r.get("version", 1)) for r in rows], pa.int64()),
        "terms_hash": pa.array(hashes, pa.string()),
        "uses_hash": pa.array(uses, pa.string()),
        "journal_event": pa.array([r.get("journal_event") for r in rows], pa.int64()),
        "set_at": pa.array([str(r["set_at"]) if r.get("set_at") is not None else None for r in rows], pa.string()),
        "until": pa.array([str(r["until"]) if r.get("until") is not None else None for r in rows], pa.string()),
    }, schema=TERMS_SCHEMA)
    return table, documents


def evaluate_terms(documents: dict[str, dict], hashes: Iterable[str], use: Use, *, territory: str | None,
                   purpose: str | None, commercial: bool, on: date) -> pa.Table:
    """Each distinct set of uses' answer to the question, once: uses_hash, permission (or null when
    no term covers it), the deciding term as JSON text, and the permission's rank."""
    import json

    out_hash, out_perm, out_term = [], [], []
    question = dict(territory=territory, purpose=Purpose(purpose) if purpose else None,
                    user_type=UserType.COMMERCIAL if commercial else UserType.NON_COMMERCIAL, on=on)
    for digest in dict.fromkeys(hashes):
        terms = AITerms.model_validate(documents[digest])
        term = terms.permission(use, **question)
        out_hash.append(digest)
        out_perm.append(term.permission.value if term is not None else None)
        out_term.append(json.dumps(term.model_dump(mode="json", exclude_none=True), separators=(",", ":"))
                        if term is not None else None)
    return pa.table({"uses_hash": pa.array(out_hash, pa.string()), "permission": pa.array(out_perm, pa.string()),
                     "term": pa.array(out_term, pa.string()),
                     "rank": pa.array([PERMISSION_RANK.get(p, 3) if p else 3 for p in out_perm], pa.int64())})


def signed64(values: np.ndarray) -> np.ndarray:
    """uint64 codes as the signed int64 with the same bits (how tables carry them)."""
    return np.asarray(values, np.uint64).view(np.int64)

