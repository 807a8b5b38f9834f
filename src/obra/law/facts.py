"""The comparative-law facts as typed, immutable records: read once, validated, hashed.

Each fact answers one question of the file's vocabulary (topic ``tdm``, key ``opt_out``)
for one jurisdiction, with the citation it rests on, the date it took effect and how far
to trust it. :func:`load` parses the file once (parse at the edge), checks it with
:mod:`obra.law.validate`, and returns a :class:`LawData` that engines query and never
mutate. :attr:`LawData.version` is the SHA-256 of the RFC 8785 canonical JSON of the
whole file, so a run can record exactly which law it applied.

Per jurisdiction, topic and key the file holds at most one fact in force and at most one
about a pending bill (``in_force == "pending"``). :meth:`LawData.fact` answers with the
fact in force and, where the file records only a bill, with that bill's fact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import jcs

from obra.errors import InvalidInput, NotFound, Problem
from obra.law.validate import CONFIDENCE_LEVELS, PENDING, validate

#: The file shipped with Obra (CC0, see ``data/LICENSE``).
PACKAGED = "jurisdictions.json"

Value = bool | str | None


@dataclass(frozen=True)
class Jurisdiction:
    """A country, state or union the file has facts for; ``part_of`` is its parent (DE → EU)."""

    code: str
    name: str
    region: str
    part_of: str | None


@dataclass(frozen=True)
class Fact:
    """One cited answer to one question of the vocabulary, for one jurisdiction.

    ``in_force`` is the date the rule took effect, ``"pending"`` for a bill that is not law
    yet, or None where the file records no single date. Where the file gives only a year
    (``"1970"``), ``in_force`` is 1 January of that year and ``in_force_precision`` is
    ``"year"``, so no reader mistakes it for a known day. ``index`` is the fact's position
    in the file's ``facts`` list, which validation problems name (``facts[41]``).
    """

    jurisdiction: str
    topic: str
    key: str
    value: Value
    summary: str
    citation: str
    source_url: str
    in_force: date | Literal["pending"] | None
    checked: date
    confidence: str
    index: int
    in_force_precision: Literal["day", "year"] | None = "day"  # None when in_force is not a date

    @property
    def pending(self) -> bool:
        """True for a bill that is not law yet."""
        return self.in_force == PENDING

    def at_least(self, confidence: str) -> bool:
        """True when this fact is at least as certain as ``confidence`` (low < medium < high)."""
        return confidence_rank(self.confidence) >= confidence_rank(confidence)


@dataclass(frozen=True)
class ComparisonRow:
    """One cell of a comparison table: a jurisdiction's answer to one key of a topic.

    ``fact`` is what :meth:`LawData.fact` answers (None: the file has no fact, shown as
    missing); ``pending`` is a bill's fact recorded beside the fact in force, if any.
    """

    jurisdiction: str
    topic: str
    key: str
    fact: Fact | None
    pending: Fact | None = None

    @property
    def missing(self) -> bool:
        return self.fact is None


@dataclass(frozen=True)
class Effective:
    """The fact that governs a question in a jurisdiction, and where it came from.

    When the jurisdiction has no fact of its own, the fact of the jurisdiction it is part
    of applies (DE → EU, US-TN → US); ``note`` says so in words for reports.
    """

    jurisdiction: str
    topic: str
    key: str
    fact: Fact | None
    note: str

    @property
    def inherited(self) -> bool:
        """True when the fact is the parent jurisdiction's, not the jurisdiction's own."""
        return self.fact is not None and self.fact.jurisdiction != self.jurisdiction


def confidence_rank(confidence: str) -> int:
    """0 for low, 1 for medium, 2 for high; an unknown level is refused with the known ones."""
    try:
        return CONFIDENCE_LEVELS.index(confidence)
    except ValueError:
        raise InvalidInput(Problem(f"unknown confidence {confidence!r}; use one of "
                                   f"{', '.join(CONFIDENCE_LEVELS)}", field="confidence")) from None


def version_of(data: Any) -> str:
    """SHA-256 (hex) of the RFC 8785 canonical JSON of the parsed file ``data``.

    Canonical JSON ignores whitespace and key order, so only a change to the content
    (a fact, a key, a jurisdiction) gives a new version.
    """
    return hashlib.sha256(jcs.canonicalize(data)).hexdigest()


@dataclass(frozen=True, eq=False)
class LawData:
    """The whole comparative-law file, validated; query it, never change it.

    Build it with :func:`load` (or :meth:`from_json` for data already parsed). Lookups
    take jurisdiction codes in any case (``de`` is ``DE``); an unknown jurisdiction, topic
    or key raises :class:`~obra.errors.NotFound` naming the known ones, while a known
    question the file has no fact for answers None (a gap, not a mistake).
    """

    about: str
    checked: date
    vocabulary: Mapping[str, Mapping[str, str | tuple[str, ...]]]
    jurisdictions: Mapping[str, Jurisdiction]
    all_facts: tuple[Fact, ...]
    version: str
    source: str = PACKAGED
    _by_question: Mapping[tuple[str, str, str], tuple[Fact, ...]] = field(
        init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        index: dict[tuple[str, str, str], list[Fact]] = {}
        for fact in self.all_facts:
            index.setdefault((fact.jurisdiction, fact.topic, fact.key), []).append(fact)
        object.__setattr__(self, "_by_question",
                           MappingProxyType({q: tuple(fs) for q, fs in index.items()}))

    @classmethod
    def from_json(cls, data: Any, source: str = PACKAGED) -> LawData:
        """Validate the parsed file ``data`` (raising every problem at once) and read it."""
        validate(data, source)
        vocabulary = MappingProxyType({
            topic: MappingProxyType({k: tuple(s) if isinstance(s, list) else s for k, s in keys.items()})
            for topic, keys in data["vocabulary"].items()})
        jurisdictions = MappingProxyType({
            code: Jurisdiction(code, j["name"], j["region"], j["part_of"])
            for code, j in data["jurisdictions"].items()})
        facts = []
        for i, f in enumerate(data["facts"]):
            in_force, precision = _in_force(f["in_force"])
            facts.append(Fact(f["jurisdiction"], f["topic"], f["key"], f["value"], f["summary"],
                              f["citation"], f["source_url"], in_force, date.fromisoformat(f["checked"]),
                              f["confidence"], i, precision))
        return cls(data["about"], date.fromisoformat(data["checked"]), vocabulary, jurisdictions,
                   tuple(facts), version_of(data), source)

    # ------------------------------------------------------------------ names
    @property
    def topics(self) -> tuple[str, ...]:
        """The vocabulary's topics, in file order."""
        return tuple(self.vocabulary)

    def keys(self, topic: str) -> tuple[str, ...]:
        """The keys (questions) of ``topic``, in file order."""
        return tuple(self.vocabulary[self._topic(topic)])

    # ------------------------------------------------------------------ lookups
    def facts(self, jurisdiction: str | None = None, topic: str | None = None,
              key: str | None = None) -> tuple[Fact, ...]:
        """The facts matching every filter given, in file order (bills included)."""
        code = self._jurisdiction(jurisdiction) if jurisdiction is not None else None
        if topic is not None:
            topic = self._topic(topic)
        if key is not None:
            key = self._key(topic, key) if topic is not None else self._any_key(key)
        return tuple(f for f in self.all_facts
                     if (code is None or f.jurisdiction == code) and (topic is None or f.topic == topic)
                     and (key is None or f.key == key))

    def fact(self, jurisdiction: str, topic: str, key: str) -> Fact | None:
        """The jurisdiction's own answer: the fact in force, else a bill's, else None."""
        current, bill = self._pair(jurisdiction, topic, key)
        return current or bill

    def compare(self, topic: str, jurisdictions: list[str] | tuple[str, ...] | None = None
                ) -> list[ComparisonRow]:
        """Rows for a table: every key of ``topic`` for every jurisdiction, gaps included.

        Ordered by jurisdiction (as given, else file order), then key (vocabulary order).
        """
        topic = self._topic(topic)
        codes = [self._jurisdiction(c) for c in jurisdictions] if jurisdictions is not None \
            else list(self.jurisdictions)
        rows = []
        for code in codes:
            for key in self.vocabulary[topic]:
                current, bill = self._pair(code, topic, key)
                rows.append(ComparisonRow(code, topic, key, current or bill,
                                          bill if current is not None else None))
        return rows

    def effective(self, jurisdiction: str, topic: str, key: str) -> Effective:
        """The fact that governs the question, falling back along ``part_of`` (DE → EU)."""
        code = self._jurisdiction(jurisdiction)
        topic = self._topic(topic)
        key = self._key(topic, key)
        here = code
        while here is not None:
            fact = self.fact(here, topic, key)
            if fact is not None:
                if here == code:
                    note = f"{code}: {fact.citation}"
                else:
                    note = (f"{code} has no fact of its own for {topic}.{key}; the {here} fact applies "
                            f"because {code} is part of {here} ({fact.citation})")
                return Effective(code, topic, key, fact, note)
            here = self.jurisdictions[here].part_of
        return Effective(code, topic, key, None,
                         f"no fact for {topic}.{key} in {code} or the jurisdictions it is part of")

    # ------------------------------------------------------------------ internals
    def _pair(self, jurisdiction: str, topic: str, key: str) -> tuple[Fact | None, Fact | None]:
        code = self._jurisdiction(jurisdiction)
        topic = self._topic(topic)
        key = self._key(topic, key)
        found = self._by_question.get((code, topic, key), ())
        current = next((f for f in found if not f.pending), None)
        bill = next((f for f in found if f.pending), None)
        return current, bill

    def _jurisdiction(self, code: str) -> str:
        upper = code.upper()
        if upper not in self.jurisdictions:
            raise NotFound(f"no jurisdiction {code!r} in the law data; known: {', '.join(self.jurisdictions)}")
        return upper

    def _topic(self, topic: str) -> str:
        if topic not in self.vocabulary:
            raise NotFound(f"no topic {topic!r} in the law data; known: {', '.join(self.vocabulary)}")
        return topic

    def _key(self, topic: str, key: str) -> str:
        if key not in self.vocabulary[topic]:
            raise NotFound(f"no key {key!r} in topic {topic!r}; known: {', '.join(self.vocabulary[topic])}")
        return key

    def _any_key(self, key: str) -> str:
        if not any(key in keys for keys in self.vocabulary.values()):
            raise NotFound(f"no key {key!r} in any topic of the law data")
        return key


def load(path: Path | str | None = None) -> LawData:
    """Read, validate and index the law file; the packaged file is read once per process.

    A file that does not parse or does not validate raises one
    :class:`~obra.errors.InvalidInput` naming every problem (``facts[41].value``).
    """
    if path is None:
        return _packaged()
    path = Path(path)
    return _parse(path.read_text(encoding="utf-8"), path.name)


@lru_cache(maxsize=1)
def _packaged() -> LawData:
    text = resources.files("obra.law").joinpath("data", PACKAGED).read_text(encoding="utf-8")
    return _parse(text, PACKAGED)


def _parse(text: str, source: str) -> LawData:
    repeated: list[str] = []

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for name, value in pairs:
            if name in seen:
                repeated.append(name)
            seen[name] = value
        return seen

    try:
        data = json.loads(text, object_pairs_hook=no_repeats)
    except json.JSONDecodeError as exc:
        raise InvalidInput(Problem(f"not valid JSON: {exc.msg} (column {exc.colno})",
                                   line=exc.lineno, source=source)) from None
    if repeated:
        raise InvalidInput([Problem(f"the name {name!r} appears twice in one object; JSON keeps only the "
                                    "last, so merge the two", source=source) for name in repeated])
    return LawData.from_json(data, source)


def _in_force(value: str | None) -> tuple[date | Literal["pending"] | None, Literal["day", "year"] | None]:
    """The validated ``in_force`` text as (value, precision)."""
    if value is None or value == PENDING:
        return value, None  # type: ignore[return-value]
    if len(value) == 4:
        return date(int(value), 1, 1), "year"
    return date.fromisoformat(value), "day"
