"""Check the comparative-law file against its own vocabulary before anything reads it.

Engines take legal rules from this file, so a typo in it is a wrong legal rule: a value
outside the vocabulary, a fact for an undeclared country or two facts that disagree on
the same question would silently change what a distribution pays or what a training
check answers. Like a ledger's balance assertions, the checks here run on every load,
collect every problem (each naming the fact by its position, ``facts[41].value``) and
refuse the whole file with one :class:`~obra.errors.InvalidInput`.

The file's vocabulary declares, per topic and key, either a type (``"bool"``,
``"text|null"``: names joined by ``|`` from ``bool``, ``text``, ``null``) or the list of
allowed values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from obra.errors import InvalidInput, Problem

#: Confidence levels, lowest first: high = provision text or an authoritative summary was
#: read; medium = consistent secondary sources; low = uncertain, verify before relying on it.
CONFIDENCE_LEVELS: tuple[str, ...] = ("low", "medium", "high")

#: ``in_force`` of a fact about a bill that is not law yet.
PENDING = "pending"

TOP_LEVEL = ("about", "checked", "vocabulary", "jurisdictions", "facts")
JURISDICTION_FIELDS = ("name", "region", "part_of")
FACT_FIELDS = ("jurisdiction", "topic", "key", "value", "summary", "citation", "source_url",
               "in_force", "checked", "confidence")
_TYPE_NAMES = ("bool", "text", "null")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_YEAR = re.compile(r"\d{4}")


def validate(data: Any, source: str = "jurisdictions.json") -> None:
    """Raise one :class:`InvalidInput` listing every problem in ``data``, or return quietly."""
    found = problems(data, source)
    if found:
        raise InvalidInput(found)


def problems(data: Any, source: str = "jurisdictions.json") -> list[Problem]:
    """Every problem in the parsed file ``data``, in file order (empty when it is sound)."""
    out: list[Problem] = []

    def bad(field: str, message: str) -> None:
        out.append(Problem(message, field=field, line=None, source=source))

    if not isinstance(data, Mapping):
        bad("", "the law file must be a JSON object with the keys " + ", ".join(TOP_LEVEL))
        return out
    for name in TOP_LEVEL:
        if name not in data:
            bad(name, f"missing; the law file needs the keys {', '.join(TOP_LEVEL)}")
    for name in data:
        if name not in TOP_LEVEL:
            bad(name, f"unknown top-level key; the law file has only {', '.join(TOP_LEVEL)}")
    if "about" in data and not _text(data["about"]):
        bad("about", "must say in words what the file is and how far to trust it")
    if "checked" in data and not is_iso_date(data["checked"]):
        bad("checked", f"{data['checked']!r} is not an ISO date (YYYY-MM-DD)")

    vocabulary = data.get("vocabulary")
    if not isinstance(vocabulary, Mapping):
        if "vocabulary" in data:
            bad("vocabulary", "must be an object: topic → key → type or list of allowed values")
        vocabulary = {}
    for topic, keys in vocabulary.items():
        if not isinstance(keys, Mapping) or not keys:
            bad(f"vocabulary.{topic}", "must be a non-empty object: key → type or list of allowed values")
            continue
        for key, spec in keys.items():
            message = _spec_problem(spec)
            if message:
                bad(f"vocabulary.{topic}.{key}", message)

    jurisdictions = data.get("jurisdictions")
    if not isinstance(jurisdictions, Mapping):
        if "jurisdictions" in data:
            bad("jurisdictions", "must be an object: code → {name, region, part_of}")
        jurisdictions = {}
    out.extend(_jurisdiction_problems(jurisdictions, source))

    facts = data.get("facts")
    if not isinstance(facts, list):
        if "facts" in data:
            bad("facts", "must be a list of facts")
        return out
    seen: dict[tuple[str, str, str, bool], int] = {}
    for i, fact in enumerate(facts):
        where = f"facts[{i}]"
        if not isinstance(fact, Mapping):
            bad(where, "must be an object with the fields " + ", ".join(FACT_FIELDS))
            continue
        missing = [f for f in FACT_FIELDS if f not in fact]
        if missing:
            bad(where, f"missing field(s) {', '.join(missing)}")
        for name in fact:
            if name not in FACT_FIELDS:
                bad(f"{where}.{name}", f"unknown field; a fact has only {', '.join(FACT_FIELDS)}")
        code, topic, key = fact.get("jurisdiction"), fact.get("topic"), fact.get("key")
        if "jurisdiction" in fact and code not in jurisdictions:
            bad(f"{where}.jurisdiction", f"{code!r} is not declared under 'jurisdictions'; declare it "
                f"there first (declared: {', '.join(map(str, jurisdictions))})")
        known_topic = isinstance(topic, str) and topic in vocabulary
        if "topic" in fact and not known_topic:
            bad(f"{where}.topic", f"unknown topic {topic!r}; the vocabulary has {', '.join(vocabulary)}")
        known_key = known_topic and isinstance(key, str) and key in vocabulary[topic]
        if "key" in fact and known_topic and not known_key:
            bad(f"{where}.key", f"unknown key {key!r} for topic {topic!r}; the vocabulary has "
                f"{', '.join(vocabulary[topic])} (add a new key to the vocabulary first)")
        if known_key and "value" in fact:
            message = _value_problem(vocabulary[topic][key], fact["value"])
            if message:
                bad(f"{where}.value", f"{message} for {topic}.{key}")
        for name in ("summary", "citation", "source_url"):
            if name in fact and not _text(fact[name]):
                bad(f"{where}.{name}", "must not be empty: every fact names its source")
        url = fact.get("source_url")
        if _text(url) and not url.startswith(("https://", "http://")):
            bad(f"{where}.source_url", f"{url!r} is not an http(s) address")
        in_force = fact.get("in_force")
        if in_force is not None and in_force != PENDING and not is_iso_date(in_force) \
                and not is_iso_year(in_force):
            bad(f"{where}.in_force", f"{in_force!r} is not an ISO date (YYYY-MM-DD), a year (YYYY) where "
                "only the year is known, 'pending' (a bill) or null (no single date)")
        if "checked" in fact and not is_iso_date(fact["checked"]):
            bad(f"{where}.checked", f"{fact['checked']!r} is not an ISO date (YYYY-MM-DD)")
        if "confidence" in fact and fact["confidence"] not in CONFIDENCE_LEVELS:
            bad(f"{where}.confidence", f"{fact['confidence']!r} is not one of {', '.join(CONFIDENCE_LEVELS)}")
        if all(isinstance(v, str) for v in (code, topic, key)):
            identity = (code, topic, key, in_force == PENDING)
            if identity in seen:
                status = "a pending bill" if identity[3] else "the law in force"
                bad(where, f"duplicates facts[{seen[identity]}] ({code} {topic}.{key}, {status}); correct "
                    "that fact instead of adding a second one")
            else:
                seen[identity] = i
    return out


def is_iso_date(value: Any) -> bool:
    """True for a calendar date written ``YYYY-MM-DD`` (not the other ISO 8601 forms)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_iso_year(value: Any) -> bool:
    """True for a year written ``YYYY`` (ISO 8601 reduced precision: only the year is known)."""
    return isinstance(value, str) and bool(_ISO_YEAR.fullmatch(value)) and value != "0000"


def _jurisdiction_problems(jurisdictions: Mapping[str, Any], source: str) -> list[Problem]:
    out: list[Problem] = []
    for code, entry in jurisdictions.items():
        where = f"jurisdictions.{code}"
        if not isinstance(entry, Mapping):
            out.append(Problem("must be an object {name, region, part_of}", field=where, source=source))
            continue
        for name in JURISDICTION_FIELDS:
            if name not in entry:
                out.append(Problem(f"missing field {name!r}", field=where, source=source))
        for name in entry:
            if name not in JURISDICTION_FIELDS:
                out.append(Problem(f"unknown field; a jurisdiction has only {', '.join(JURISDICTION_FIELDS)}",
                                   field=f"{where}.{name}", source=source))
        for name in ("name", "region"):
            if name in entry and not _text(entry[name]):
                out.append(Problem("must be a non-empty text", field=f"{where}.{name}", source=source))
        parent = entry.get("part_of")
        if parent is not None and parent not in jurisdictions:
            out.append(Problem(f"part_of {parent!r} is not a declared jurisdiction; declare it or use null",
                               field=f"{where}.part_of", source=source))
            continue
        chain = [code]
        while isinstance(parent, str) and parent in jurisdictions:
            if parent in chain:
                out.append(Problem(f"part_of goes round in a circle ({' → '.join(chain + [parent])})",
                                   field=f"{where}.part_of", source=source))
                break
            chain.append(parent)
            up = jurisdictions[parent]
            parent = up.get("part_of") if isinstance(up, Mapping) else None
    return out


def _spec_problem(spec: Any) -> str | None:
    if isinstance(spec, list):
        if not spec or not all(_text(v) for v in spec):
            return "a list of allowed values must hold at least one non-empty text"
        if len(set(spec)) != len(spec):
            return "a list of allowed values must not repeat a value"
        return None
    if isinstance(spec, str) and spec and all(name in _TYPE_NAMES for name in spec.split("|")):
        return None
    return (f"{spec!r} is neither a list of allowed values nor a type made of "
            f"{', '.join(_TYPE_NAMES)} joined by '|'")


def _value_problem(spec: Any, value: Any) -> str | None:
    if isinstance(spec, list):
        if isinstance(value, str) and value in spec:
            return None
        return f"{value!r} is not an allowed value (allowed: {', '.join(spec)})"
    if _spec_problem(spec):
        return None  # the vocabulary entry itself is reported, once
    names = spec.split("|")
    if ("bool" in names and isinstance(value, bool)) or ("null" in names and value is None) \
            or ("text" in names and isinstance(value, str) and value.strip()):
        return None
    return f"{value!r} is not of type {spec}"


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())

