"""The law asked and compared: one topic across jurisdictions, or one jurisdiction across topics.

``obra law compare tdm DE JP US`` and ``GET /law/compare/tdm`` print the same rows: for every key
(question) of a topic and every jurisdiction asked, the answer the law data gives, with its
citation, source, date in force, date checked and confidence. A jurisdiction that has no fact of
its own shows the fact of the one it is part of (DE → EU), marked as inherited, as an engine would
apply it (:meth:`obra.law.LawData.effective`); a bill recorded beside the law in force is shown
beside it, never in its place. Every low-confidence fact is marked and counted, and
:func:`reliance_notes` says, in the words an engine puts in its output, which uncertain or
pending facts a result rests on.

Everything here is a plain JSON view of :class:`~obra.law.LawData`: no legal rule is decided in
this module, and nothing is read but the validated law data.
"""

from __future__ import annotations

from collections.abc import Iterable
from obra.law.facts import Fact, LawData, load

__all__ = ["LOW", "comparison", "fact_json", "profile", "reliance_notes", "summary"]

#: The confidence level engines must not rely on silently (see the law file's ``about``).
LOW = "low"


def fact_json(fact: Fact | None) -> dict | None:
    """A fact as plain JSON: what it answers, with its citation, source, dates and confidence."""
    if fact is None:
        return None
    in_force = fact.in_force if isinstance(fact.in_force, str) or fact.in_force is None else fact.in_force.isoformat()
    if fact.in_force_precision == "year" and in_force not in (None, "pending"):
        in_force = in_force[:4]
    return {"jurisdiction": fact.jurisdiction, "topic": fact.topic, "key": fact.key, "value": fact.value,
            "summary": fact.summary, "citation": fact.citation, "source_url": fact.source_url,
            "in_force": in_force, "pending": fact.pending, "checked": fact.checked.isoformat(),
            "confidence": fact.confidence, "low_confidence": fact.confidence == LOW, "index": fact.index}


def _row(law: LawData, code: str, topic: str, key: str, own: Fact | None, bill: Fact | None) -> dict:
    """One cell: the jurisdiction's own fact, else the inherited one, else a gap, each said in words."""
    if own is not None and own.pending:
        bill, own = own, _in_force_above(law, code, topic, key)
        if own is None:
            fact, status = bill, "pending bill"
            note = f"{code}: only a bill is recorded ({bill.citation}); it is not law yet"
        else:
            fact, status = own, "inherited"
            note = (f"{code} has only a bill ({bill.citation}); the {own.jurisdiction} fact in force applies "
                    f"because {code} is part of {own.jurisdiction} ({own.citation})")
    elif own is not None:
        fact, status, note = own, "in force", f"{code}: {own.citation}"
    else:
        effective = law.effective(code, topic, key)
        fact, note = effective.fact, effective.note
        status = "inherited" if effective.inherited else "no fact"
        if fact is not None and fact.pending:
            status = "pending bill"
    row = {"jurisdiction": code, "name": law.jurisdictions[code].name, "topic": topic, "key": key,
           "status": status, "inherited_from": fact.jurisdiction if fact is not None and fact.jurisdiction != code
           else None, "note": note, "fact": fact_json(fact), "pending_bill": fact_json(bill)}
    row["value"] = fact.value if fact is not None else None
    row["low_confidence"] = bool(fact is not None and fact.confidence == LOW)
    return row


def _in_force_above(law: LawData, code: str, topic: str, key: str) -> Fact | None:
    """The fact in force for the question in a jurisdiction ``code`` is part of (never a bill), or None."""
    here = law.jurisdictions[code].part_of
    while here is not None:
        current = next((f for f in law.facts(here, topic, key) if not f.pending), None)
        if current is not None:
            return current
        here = law.jurisdictions[here].part_of
    return None


def comparison(topic: str, jurisdictions: Iterable[str] | None = None, *, law: LawData | None = None) -> dict:
    """Every key of ``topic`` for every jurisdiction asked (all, in file order, when none are).

    An unknown topic or jurisdiction raises :class:`~obra.errors.NotFound` listing the known ones.
    """
    law = law or load()
    codes = list(jurisdictions) if jurisdictions else None
    rows = [_row(law, r.jurisdiction, r.topic, r.key, r.fact, r.pending) for r in law.compare(topic, codes)]
    asked = list(dict.fromkeys(r["jurisdiction"] for r in rows))
    return {"topic": topic, "keys": list(law.keys(topic)), "jurisdictions": asked, "rows": rows,
            **summary(rows), "law_version": law.version, "law_checked": law.checked.isoformat(),
            "about": law.about}


def profile(jurisdiction: str, *, law: LawData | None = None) -> dict:
    """Every topic's facts for one jurisdiction (inherited ones marked), with what it is part of."""
    law = law or load()
    law.facts(jurisdiction)  # an unknown jurisdiction raises NotFound listing the known ones
    code = jurisdiction.upper()
    j = law.jurisdictions[code]
    chain, up = [], j.part_of
    while up is not None:
        chain.append(up)
        up = law.jurisdictions[up].part_of
    topics: dict[str, list[dict]] = {}
    every: list[dict] = []
    for topic in law.topics:
        rows = [_row(law, r.jurisdiction, r.topic, r.key, r.fact, r.pending) for r in law.compare(topic, [code])]
        topics[topic] = rows
        every += rows
    return {"jurisdiction": code, "name": j.name, "region": j.region, "part_of": j.part_of, "part_of_chain": chain,
            "members": [c for c, x in law.jurisdictions.items() if x.part_of == code], "topics": topics,
            **summary(every), "law_version": law.version, "law_checked": law.checked.isoformat()}


def summary(rows: list[dict]) -> dict:
    """Counts for the foot of a table: facts shown, gaps, inherited, pending, low confidence."""
    return {"facts": sum(1 for r in rows if r["fact"] is not None),
            "gaps": sum(1 for r in rows if r["fact"] is None),
            "inherited": sum(1 for r in rows if r["status"] == "inherited"),
            "pending_bills": sum(1 for r in rows if r["status"] == "pending bill" or r["pending_bill"]),
            "low_confidence": sum(1 for r in rows if r["low_confidence"])}


def reliance_notes(facts: Iterable[Fact | dict | None], *, what: str = "this result") -> list[str]:
    """What an engine says when it relies on uncertain law: one sentence per low-confidence or
    pending fact among ``facts`` (a :class:`Fact` or its :func:`fact_json`), none when all are sound."""
    notes, seen = [], set()
    for fact in facts:
        data = fact_json(fact) if isinstance(fact, Fact) else fact
        if not data:
            continue
        ident = (data["jurisdiction"], data["topic"], data["key"], data.get("pending"))
        if ident in seen:
            continue
        seen.add(ident)
        name = f"{data['jurisdiction']} {data['topic']}.{data['key']}"
        if data.get("pending") or data.get("in_force") == "pending":
            notes.append(f"{what} refers to {name} = {data['value']!r}, a pending bill ({data['citation']}): "
                         "not law yet, not applied")
        if data["confidence"] == LOW:
            notes.append(f"{what} relies on {name} = {data['value']!r} ({data['citation']}), a LOW-confidence fact "
                         f"(checked {data['checked']}): verify it at {data['source_url']} before relying on it")
    return notes

