"""The text-and-data-mining rule the training check applies: which exception, and what counts as a reservation.

The law facts (``data/jurisdictions.json``, topic ``tdm``) say, per jurisdiction, whether a TDM
exception exists and for which purposes (``research_allowed``, ``commercial_allowed``: ``yes``,
``yes_unless_reserved``, ``fair_use_case_by_case``, ``no``, ``unclear``) and what form an
opt-out takes (``opt_out``: ``machine_readable_required``, ``any_express_reservation``, ``none``,
``not_applicable``, ``unclear``). The facts do not say which *signals* are such a reservation;
``data/tdm_reservations.json`` does, per kind of opt-out, signal by signal, each with its
citation, a confidence and whether it is Obra's interpretation (almost all are: no court has
yet ruled on TDMRep, AIPREF or robots.txt as such). Engines never hard-code any of this: the
check asks :func:`rule_for` and applies what it answers.

**Which key answers the question** (an interpretation, stated with the rule): a use for
*research* that is *not commercial* is governed by ``research_allowed`` (the research
exceptions: DSM Art. 3, CDPA s.29A "non-commercial research", UrhG § 60d); every other use —
commercial research, and non-commercial uses that are not research — by ``commercial_allowed``,
the general exception where there is one (DSM Art. 4 "for any purpose", Japan Art. 30-4,
Singapore s.244), which is also what a jurisdiction without a research-only carve-out applies.

Facts are found along ``part_of`` (DE has its own; a member state without one inherits the
EU's). Facts about pending bills are never applied; the rule names them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import jcs

from obra.errors import InvalidInput, NotFound, Problem
from obra.law.compare import reliance_notes
from obra.law.facts import Fact, LawData, confidence_rank, load

__all__ = ["PURPOSES", "EXCEPTIONS", "SIGNALS", "USES", "Reservation", "TdmRule", "rule_for", "pack_version",
           "reservation_data"]

PURPOSES = ("research", "non-commercial", "commercial")
EXCEPTIONS = ("yes", "yes_unless_reserved", "fair_use_case_by_case", "no", "unclear")
TOPIC = "tdm"
DATA = "tdm_reservations.json"

USES = ("tdm", "ai-train-generative", "ai-train-other")
"""The uses a TDM exception speaks to: mining itself, and AI training, which consists of it (DSM Art.
2(2) defines TDM as automated analysis to generate information such as patterns, trends and
correlations; the OLG Hamburg, 10 Dec 2025, 5 U 104/24, held that compiling an AI training dataset is
TDM). Inference, indexing and search are other uses the TDM facts do not answer."""

SIGNALS = ("registry", "tdmrep", "aipref", "content-signals", "rsl", "cawg", "noai", "robots-agent",
           "robots-all", "robots-status")
"""The signals the check collects, in the names the reservation data uses."""


@dataclass(frozen=True)
class Reservation:
    """Whether one signal is a reservation the law of a jurisdiction gives effect to, and why."""

    signal: str
    counts: bool
    confidence: str
    interpretation: bool
    citation: str
    why: str

    def to_json(self) -> dict:
        return {"signal": self.signal, "counts": self.counts, "confidence": self.confidence,
                "interpretation": self.interpretation, "citation": self.citation, "why": self.why}


@dataclass(frozen=True)
class TdmRule:
    """What the law of ``jurisdiction`` says about mining a work for ``purpose``.

    ``exception`` is the value of the governing fact (None when the law data has no fact in
    force: the check then answers *unknown*); ``reservations`` holds, per signal, whether it
    counts as a reservation there (only for an exception a reservation can defeat, or where
    the opt-out is unclear).
    """

    jurisdiction: str
    purpose: str
    commercial: bool
    key: str
    key_reason: str
    exception: str | None
    exception_fact: Fact | None
    exception_note: str
    opt_out: str | None
    opt_out_fact: Fact | None
    opt_out_note: str
    lawful_access_required: bool | None
    lawful_access_fact: Fact | None
    reservations: Mapping[str, Reservation]
    pending: tuple[Fact, ...]
    law_version: str
    version: str
    notes: tuple[str, ...] = field(default=())

    def reservation(self, signal: str) -> Reservation | None:
        """The rule for ``signal`` here, or None when the law gives no signal effect as a reservation."""
        if signal not in SIGNALS:
            raise InvalidInput(Problem(f"unknown signal {signal!r}; known: {', '.join(SIGNALS)}", field="signal"))
        return self.reservations.get(signal)

    def counts(self, signal: str) -> bool:
        """Whether a reservation by ``signal`` is one the law here gives effect to."""
        found = self.reservation(signal)
        return found is not None and found.counts

    @property
    def reliance(self) -> list[str]:
        """What the rule says of the uncertain law it rests on: one sentence per low-confidence fact it applies
        and per pending bill it met (never applied); empty when every fact is sound."""
        facts = [self.exception_fact, self.opt_out_fact, self.lawful_access_fact, *self.pending]
        return reliance_notes(facts, what=f"the TDM rule for {self.jurisdiction}")

    @property
    def confidence(self) -> str:
        """The lowest confidence among the facts the rule rests on (``low`` when there is none)."""
        facts = [f for f in (self.exception_fact, self.opt_out_fact) if f is not None]
        if not facts:
            return "low"
        return min((f.confidence for f in facts), key=confidence_rank)

    def to_json(self) -> dict:
        def fact(f: Fact | None) -> dict | None:
            if f is None:
                return None
            return {"jurisdiction": f.jurisdiction, "topic": f.topic, "key": f.key, "value": f.value,
                    "citation": f.citation, "source_url": f.source_url, "confidence": f.confidence,
                    "in_force": f.in_force if isinstance(f.in_force, str) or f.in_force is None
                    else f.in_force.isoformat(), "summary": f.summary}

        return {"jurisdiction": self.jurisdiction, "purpose": self.purpose, "commercial": self.commercial,
                "key": self.key, "key_reason": self.key_reason, "exception": self.exception,
                "exception_fact": fact(self.exception_fact), "exception_note": self.exception_note,
                "opt_out": self.opt_out, "opt_out_fact": fact(self.opt_out_fact), "opt_out_note": self.opt_out_note,
                "lawful_access_required": self.lawful_access_required,
                "lawful_access_fact": fact(self.lawful_access_fact),
                "reservations": {k: v.to_json() for k, v in self.reservations.items()},
                "pending_bills": [fact(f) for f in self.pending], "confidence": self.confidence,
                "reliance": self.reliance,
                "notes": list(self.notes), "law_version": self.law_version, "rule_pack_version": self.version}


@lru_cache(maxsize=1)
def reservation_data() -> Mapping[str, Any]:
    """The reservation data file, parsed and checked (every signal known, every rule complete)."""
    text = resources.files("obra.law").joinpath("data", DATA).read_text(encoding="utf-8")
    data = json.loads(text)
    problems: list[Problem] = []
    if set(data.get("signals", {})) != set(SIGNALS):
        problems.append(Problem(f"signals must be exactly {', '.join(SIGNALS)}", field="signals", source=DATA))
    for kind, block in data.get("opt_out", {}).items():
        for signal, rule in block.get("rules", {}).items():
            where = f"opt_out.{kind}.rules.{signal}"
            if signal not in SIGNALS:
                problems.append(Problem(f"unknown signal {signal!r}", field=where, source=DATA))
            missing = {"counts", "confidence", "interpretation", "citation", "why"} - set(rule)
            if missing:
                problems.append(Problem(f"missing {', '.join(sorted(missing))}", field=where, source=DATA))
            elif rule["confidence"] not in ("low", "medium", "high") or not isinstance(rule["counts"], bool):
                problems.append(Problem("counts must be true/false and confidence low, medium or high",
                                        field=where, source=DATA))
    if problems:
        raise InvalidInput(*problems)
    return MappingProxyType(data)


def pack_version(law: LawData | None = None) -> str:
    """SHA-256 of the rule pack: the law data's version and the reservation data, canonical JSON."""
    law = law or load()
    return hashlib.sha256(jcs.canonicalize({"law_version": law.version, "reservations": dict(reservation_data()),
                                            "rule": "obra.law.tdm/1"})).hexdigest()


def _governing(law: LawData, code: str, key: str) -> tuple[Fact | None, str, tuple[Fact, ...]]:
    """The fact in force for ``tdm.key`` in ``code`` or the jurisdictions it is part of; the note
    saying where it came from; and the pending bills met on the way (never applied)."""
    pending: list[Fact] = []
    here: str | None = code
    while here is not None:
        facts = law.facts(here, TOPIC, key)
        pending += [f for f in facts if f.pending]
        current = next((f for f in facts if not f.pending), None)
        if current is not None:
            note = (f"{code}: {current.citation}" if here == code else
                    f"{code} has no fact of its own for {TOPIC}.{key}; the {here} fact applies because "
                    f"{code} is part of {here} ({current.citation})")
            return current, note, tuple(pending)
        here = law.jurisdictions[here].part_of
    return None, f"no fact in force for {TOPIC}.{key} in {code} or the jurisdictions it is part of", tuple(pending)


def rule_for(jurisdiction: str, purpose: str, commercial: bool | None = None, *, use: str | None = None,
             law: LawData | None = None) -> TdmRule:
    """The TDM rule for mining works in ``jurisdiction`` for ``purpose`` (research, non-commercial,
    commercial); ``commercial`` defaults to ``purpose == "commercial"``. ``use`` (an AI-use name such
    as ``ai-train-generative``) outside :data:`USES` gets no exception: the TDM facts do not answer it."""
    law = law or load()
    if purpose not in PURPOSES:
        raise InvalidInput(Problem(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}", field="purpose"))
    if commercial is None:
        commercial = purpose == "commercial"
    if purpose == "commercial" and not commercial:
        raise InvalidInput(Problem("a commercial purpose cannot be non-commercial", field="commercial"),
                           hint="use --purpose non-commercial or research for a non-commercial use")
    if not isinstance(jurisdiction, str) or not jurisdiction.strip():
        raise InvalidInput(Problem("a jurisdiction is required (e.g. EU, DE, GB, US, JP)", field="jurisdiction"))
    try:
        code = law.jurisdictions[jurisdiction.strip().upper()].code
    except KeyError:
        raise InvalidInput(Problem(f"no jurisdiction {jurisdiction!r} in the law data", field="jurisdiction"),
                           hint=f"known: {', '.join(law.jurisdictions)}") from None
    if purpose == "research" and not commercial:
        key = "research_allowed"
        key_reason = ("a non-commercial research use: the research exception governs (interpretation: DSM "
                      "Art. 3, CDPA s.29A 'non-commercial research', UrhG § 60d are research exceptions)")
    else:
        key = "commercial_allowed"
        what = "commercial research" if purpose == "research" else (
            "a commercial use" if commercial else "a non-commercial use that is not research")
        key_reason = (f"{what}: the general exception governs (interpretation: research exceptions such as "
                      "DSM Art. 3 and CDPA s.29A do not cover it; DSM Art. 4 and Japan Art. 30-4 apply for any purpose)")
    fact, note, pending = _governing(law, code, key)
    if use is not None and use not in USES:
        fact, note = None, (f"the TDM exceptions speak to mining and AI training ({', '.join(USES)}), not to {use}: "
                            "no statutory exception is applied")
    opt_fact, opt_note_src, opt_pending = _governing(law, code, "opt_out")
    access_fact, _n, _p = _governing(law, code, "lawful_access_required")
    exception = fact.value if fact is not None else None
    if exception is not None and exception not in EXCEPTIONS:
        raise NotFound(f"the law data's {TOPIC}.{key} for {code} has value {exception!r}, not one of "
                       f"{', '.join(EXCEPTIONS)}")
    opt_out = opt_fact.value if opt_fact is not None else None
    data = reservation_data()
    block = data["opt_out"].get(opt_out if isinstance(opt_out, str) else "unclear", data["opt_out"]["unclear"])
    reservations = {signal: Reservation(signal, bool(r["counts"]), r["confidence"], bool(r["interpretation"]),
                                        r["citation"], r["why"])
                    for signal, r in block.get("rules", {}).items()}
    notes: list[str] = []
    if code == "JP" and exception == "yes":
        notes.append("Art. 30-4 does not apply where the use unreasonably prejudices the rightholder (ACA General "
                     "Understanding, Mar 2024: e.g. circumventing technical measures to copy a database licensed "
                     "for AI training); reservations are reported for that review")
    if access_fact is not None and access_fact.value is True and exception in ("yes", "yes_unless_reserved"):
        notes.append(f"the exception covers lawfully accessible works only ({access_fact.citation})")
    return TdmRule(
        jurisdiction=code, purpose=purpose, commercial=bool(commercial), key=key, key_reason=key_reason,
        exception=exception, exception_fact=fact, exception_note=note, opt_out=opt_out, opt_out_fact=opt_fact,
        opt_out_note=f"{block.get('note', '')} ({opt_note_src})".strip(), lawful_access_required=
        access_fact.value if access_fact is not None else None, lawful_access_fact=access_fact,
        reservations=MappingProxyType(reservations), pending=pending + opt_pending, law_version=law.version,
        version=pack_version(law), notes=tuple(notes))
