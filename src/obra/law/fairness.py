"""The numbers of contract fairness: renegotiation thresholds, revocation periods and pay floors, per jurisdiction.

Whether a creator *has* a right to have a contract adjusted, to revoke rights that are not
exploited, or to a yearly report is a comparative-law fact (``data/jurisdictions.json``,
topic ``contracts``). *When* the right bites is a number the engines need: the best-seller
threshold (UrhG § 32a read as "agreed pay at most half the appropriate pay", CPI L131-5's
lesion of more than seven twelfths), the two years of UrhG § 41, a limitation period, the
10 % floor of the French streaming accord. Those numbers live in ``data/fairness.json``, each
with its citation, date in force, confidence and whether it is Obra's interpretation, and
where the law gives no number the entry says so (``threshold``/``months``/``value`` null):
the operator then configures one (:class:`FairnessConfig`) and the engine says it did.

Rules are found along ``part_of`` (Spain inherits the EU's Art. 20 entry; Germany has its
own). A rule is applied only where the comparative-law fact grants the right
(``contracts.contract_adjustment`` for ``disproportion``, ``contracts.revocation_non_exploitation``
for ``non_exploitation``), so the United Kingdom, with no best-seller clause, never flags.

Like the other rule packs it records the law version and the facts it relied on, so a check
or a waterfall run can state exactly which law it applied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import jcs

from obra.errors import InvalidInput, NotFound, Problem
from obra.law.facts import LawData, load
from obra.law.validate import CONFIDENCE_LEVELS

__all__ = ["DATA", "TRIGGERS", "APPLIES_TO", "FLOOR_KINDS", "FairnessConfig", "FairnessRule", "Floor", "FloorPack",
           "RuleSet", "fairness_data", "problems", "rule_set"]

DATA = "fairness.json"
TRIGGERS = ("disproportion", "non_exploitation")
APPLIES_TO = ("any", "lump_sum", "proportional")
FLOOR_KINDS = ("royalty_rate", "per_use")
#: The comparative-law fact (topic ``contracts``) that says whether each trigger's right exists.
RIGHT_FACT = {"disproportion": "contract_adjustment", "non_exploitation": "revocation_non_exploitation"}

RULE_FIELDS = ("jurisdiction", "trigger", "applies_to", "threshold", "months", "limitation_years", "limitation_from",
               "summary", "citation", "source_url", "in_force", "checked", "confidence", "interpretation")
FLOOR_FIELDS = ("jurisdiction", "kind", "value", "target", "rights", "summary", "citation", "source_url", "in_force",
                "checked", "confidence", "interpretation")


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class FairnessRule:
    """One trigger in one jurisdiction: the law's number (or the operator's) and where it comes from."""

    jurisdiction: str          # whose rule it is (may be the parent of the jurisdiction asked about)
    trigger: str
    applies_to: str
    threshold: Fraction | None
    months: int | None
    limitation_years: int | None
    limitation_from: str | None
    summary: str
    citation: str
    source_url: str
    confidence: str
    interpretation: bool
    configured: bool = False   # the number is the operator's, not the law's
    index: int = -1

    def to_json(self) -> dict:
        return {"jurisdiction": self.jurisdiction, "trigger": self.trigger, "applies_to": self.applies_to,
                "threshold": None if self.threshold is None else f"{self.threshold.numerator}/{self.threshold.denominator}",
                "months": self.months, "limitation_years": self.limitation_years,
                "limitation_from": self.limitation_from, "citation": self.citation, "source_url": self.source_url,
                "confidence": self.confidence, "interpretation": self.interpretation, "configured": self.configured}


@dataclass(frozen=True)
class Floor:
    """A statutory or sector floor on the assignor's pay in a territory."""

    jurisdiction: str
    kind: str                  # royalty_rate | per_use
    value: Fraction | int      # a fraction of the money through the deal, or minor units per use
    target: str                # recording | work
    rights: tuple[str, ...]
    citation: str
    confidence: str
    configured: bool = False

    def describe(self) -> str:
        amount = (f"{float(self.value) * 100:g} % of the money through the agreement" if self.kind == "royalty_rate"
                  else f"{self.value} minor units per use")
        source = "configured by the operator under " if self.configured else ""
        return f"{self.jurisdiction} floor: {amount} ({source}{self.citation}; confidence {self.confidence})"


@dataclass(frozen=True)
class FairnessConfig:
    """The operator's numbers where the law gives none (or overrides it, stated as configured).

    ``thresholds`` maps a jurisdiction (or ``JUR:lump_sum`` / ``JUR:proportional``) to a
    fraction string (``"1/2"``, ``"0.4"``); ``months`` a jurisdiction to a revocation period;
    ``per_use_floors`` a jurisdiction to minor units per use; ``benchmarks`` a jurisdiction to
    the appropriate share of revenue (what a fair contract would pay: §36 joint rules, tariffs).
    """

    thresholds: Mapping[str, str] = field(default_factory=dict)
    months: Mapping[str, int] = field(default_factory=dict)
    per_use_floors: Mapping[str, int] = field(default_factory=dict)
    benchmarks: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name, table in (("thresholds", self.thresholds), ("benchmarks", self.benchmarks)):
            for code, raw in table.items():
                try:
                    value = fraction(raw, f"{name}.{code}")
                except InvalidInput as exc:
                    problems += exc.problems
                    continue
                if not 0 < value <= 1:
                    problems.append(Problem(f"{name[:-1]} {raw} for {code} must be above 0 and at most 1",
                                            field=f"{name}.{code}"))
        for name, table in (("months", self.months), ("per_use_floors", self.per_use_floors)):
            for code, raw in table.items():
                if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
                    problems.append(Problem(f"{name} for {code} must be a whole number at least 0, not {raw!r}",
                                            field=f"{name}.{code}"))
        if problems:
            raise InvalidInput(problems)

    def to_json(self) -> dict:
        return {"thresholds": dict(sorted(self.thresholds.items())), "months": dict(sorted(self.months.items())),
                "per_use_floors": dict(sorted(self.per_use_floors.items())),
                "benchmarks": dict(sorted(self.benchmarks.items()))}


def fraction(raw: Any, where: str) -> Fraction:
    """``"1/2"``, ``"0.5"`` or a Decimal as an exact Fraction; floats refused (they are not exact)."""
    if isinstance(raw, (float, bool)):
        raise InvalidInput(Problem(f"{raw!r} must be written as a fraction or decimal string ('1/2', '0.4'), "
                                   "never a float", field=where))
    text = str(raw).strip()
    try:
        if "/" in text:
            num, den = text.split("/", 1)
            return Fraction(int(num), int(den))
        return Fraction(Decimal(text))
    except (ValueError, ZeroDivisionError, InvalidOperation):
        raise InvalidInput(Problem(f"{raw!r} is not a number (write e.g. 1/2 or 0.4)", field=where)) from None


# --------------------------------------------------------------------------- the data file
def problems(data: Any, law: LawData | None = None, source: str = DATA) -> list[Problem]:
    """Every problem of the parsed fairness file, each naming its entry (``rules[3].threshold``)."""
    law = law or load()
    out: list[Problem] = []

    def bad(where: str, message: str) -> None:
        out.append(Problem(message, field=where, source=source))

    if not isinstance(data, Mapping):
        return [Problem("the fairness file must be a JSON object", source=source)]
    for i, rule in enumerate(data.get("rules", ())):
        where = f"rules[{i}]"
        _common(rule, RULE_FIELDS, where, law, bad)
        if not isinstance(rule, Mapping):
            continue
        if rule.get("trigger") not in TRIGGERS:
            bad(f"{where}.trigger", f"unknown trigger {rule.get('trigger')!r}; use one of {', '.join(TRIGGERS)}")
        if rule.get("applies_to") not in APPLIES_TO:
            bad(f"{where}.applies_to", f"must be one of {', '.join(APPLIES_TO)}")
        if rule.get("threshold") is not None:
            try:
                value = fraction(rule["threshold"], f"{where}.threshold")
                if not 0 < value <= 1:
                    bad(f"{where}.threshold", "a threshold is a fraction above 0 and at most 1")
            except InvalidInput as exc:
                out.extend(Problem(p.message, field=p.field, source=source) for p in exc.problems)
        for name in ("months", "limitation_years"):
            v = rule.get(name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v <= 0):
                bad(f"{where}.{name}", "must be a whole number above 0 or null")
    seen: set[tuple] = set()
    for i, rule in enumerate(data.get("rules", ())):
        if isinstance(rule, Mapping):
            key = (rule.get("jurisdiction"), rule.get("trigger"), rule.get("applies_to"))
            if key in seen:
                bad(f"rules[{i}]", f"a second {key[1]} rule for {key[0]} ({key[2]}); keep one")
            seen.add(key)
    for i, floor in enumerate(data.get("floors", ())):
        where = f"floors[{i}]"
        _common(floor, FLOOR_FIELDS, where, law, bad)
        if not isinstance(floor, Mapping):
            continue
        if floor.get("kind") not in FLOOR_KINDS:
            bad(f"{where}.kind", f"must be one of {', '.join(FLOOR_KINDS)}")
        if floor.get("target") not in ("recording", "work"):
            bad(f"{where}.target", "must be recording or work")
        if floor.get("value") is not None:
            try:
                value = fraction(floor["value"], f"{where}.value")
                if floor.get("kind") == "royalty_rate" and not 0 < value < 1:
                    bad(f"{where}.value", "a royalty-rate floor is a fraction above 0 and below 1")
                if floor.get("kind") == "per_use" and (value < 0 or value.denominator != 1):
                    bad(f"{where}.value", "a per-use floor is a whole number of minor units")
            except InvalidInput as exc:
                out.extend(Problem(p.message, field=p.field, source=source) for p in exc.problems)
    return out


def _common(entry: Any, fields: tuple[str, ...], where: str, law: LawData, bad) -> None:
    if not isinstance(entry, Mapping):
        bad(where, "each entry must be a JSON object")
        return
    missing = [f for f in fields if f not in entry]
    extra = [f for f in entry if f not in fields]
    if missing:
        bad(where, f"missing {', '.join(missing)}")
    if extra:
        bad(where, f"unknown fields {', '.join(extra)}; the fields are {', '.join(fields)}")
    if entry.get("jurisdiction") not in law.jurisdictions:
        bad(f"{where}.jurisdiction", f"unknown jurisdiction {entry.get('jurisdiction')!r}; known: "
                                     f"{', '.join(law.jurisdictions)}")
    if entry.get("confidence") not in CONFIDENCE_LEVELS:
        bad(f"{where}.confidence", f"must be one of {', '.join(CONFIDENCE_LEVELS)}")
    for name in ("citation", "source_url", "summary"):
        if name in entry and (not isinstance(entry[name], str) or not entry[name].strip()):
            bad(f"{where}.{name}", "must be non-empty text")
    for name in ("in_force", "checked"):
        try:
            date.fromisoformat(str(entry.get(name)))
        except ValueError:
            bad(f"{where}.{name}", "must be a date YYYY-MM-DD")
    if not isinstance(entry.get("interpretation"), bool):
        bad(f"{where}.interpretation", "must be true or false")


@lru_cache(maxsize=1)
def fairness_data() -> Mapping[str, Any]:
    """The packaged fairness file, parsed and checked (every problem named at once)."""
    text = resources.files("obra.law").joinpath("data", DATA).read_text(encoding="utf-8")
    return parse(json.loads(text))


def parse(data: Any, law: LawData | None = None, source: str = DATA) -> Mapping[str, Any]:
    found = problems(data, law, source)
    if found:
        raise InvalidInput(found, hint="correct the fairness file; each problem names its entry")
    return MappingProxyType(data)


# --------------------------------------------------------------------------- resolved rules
@dataclass(frozen=True)
class RuleSet:
    """The fairness rules for every jurisdiction, resolved along ``part_of`` with the operator's numbers."""

    law: LawData
    data: Mapping[str, Any]
    config: FairnessConfig
    version: str

    def rule(self, jurisdiction: str, trigger: str, contract: str = "any") -> tuple[FairnessRule | None, str]:
        """The rule for ``trigger`` in ``jurisdiction`` for a ``contract`` (lump_sum or proportional), and why.

        Answers (None, reason) when the law grants no such right, when no entry exists, or when
        the law gives no number and the operator configured none.
        """
        code = self.law._jurisdiction(jurisdiction)
        if trigger not in TRIGGERS:
            raise NotFound(f"no trigger {trigger!r}; known: {', '.join(TRIGGERS)}")
        right = self.law.effective(code, "contracts", RIGHT_FACT[trigger])
        if right.fact is None or right.fact.pending or right.fact.value is not True:
            why = right.fact.citation if right.fact is not None else "no fact in the law data"
            return None, f"{code}: no {trigger.replace('_', '-')} right ({why})"
        here: str | None = code
        while here is not None:
            entries = [(i, r) for i, r in enumerate(self.data["rules"])
                       if r["jurisdiction"] == here and r["trigger"] == trigger]
            chosen = (next(((i, r) for i, r in entries if r["applies_to"] == contract), None)
                      or next(((i, r) for i, r in entries if r["applies_to"] == "any"), None))
            if chosen is not None:
                return self._resolve(code, chosen[0], chosen[1], contract)
            here = self.law.jurisdictions[here].part_of
        return None, f"{code}: the right exists ({right.fact.citation}) but the fairness data has no {trigger} entry"

    def _resolve(self, code: str, index: int, entry: Mapping[str, Any], contract: str) -> tuple[FairnessRule | None, str]:
        threshold = fraction(entry["threshold"], "threshold") if entry["threshold"] is not None else None
        months = entry["months"]
        configured = False
        if entry["trigger"] == "disproportion":
            for key in (f"{code}:{contract}", code, f"{entry['jurisdiction']}:{contract}", entry["jurisdiction"]):
                if key in self.config.thresholds:
                    threshold, configured = fraction(self.config.thresholds[key], f"thresholds.{key}"), True
                    break
            if threshold is None:
                return None, (f"{code}: {entry['citation']} gives no number; configure a threshold "
                              f"(--threshold {code}=1/2)")
        else:
            for key in (code, entry["jurisdiction"]):
                if key in self.config.months:
                    months, configured = int(self.config.months[key]), True
                    break
            if months is None:
                return None, (f"{code}: {entry['citation']} gives no period; configure one (--months {code}=24)")
        rule = FairnessRule(entry["jurisdiction"], entry["trigger"], entry["applies_to"], threshold, months,
                            entry["limitation_years"], entry["limitation_from"], entry["summary"], entry["citation"],
                            entry["source_url"], entry["confidence"], entry["interpretation"], configured, index)
        inherited = "" if entry["jurisdiction"] == code else f" (the {entry['jurisdiction']} rule applies: {code} is part of it)"
        return rule, f"{code}: {entry['citation']}{inherited}"

    def benchmark(self, jurisdiction: str) -> Fraction | None:
        """The operator's appropriate share of revenue for ``jurisdiction`` (along part_of), if configured."""
        here: str | None = self.law._jurisdiction(jurisdiction)
        while here is not None:
            if here in self.config.benchmarks:
                return fraction(self.config.benchmarks[here], f"benchmarks.{here}")
            here = self.law.jurisdictions[here].part_of
        return None

    def floors(self, jurisdiction: str) -> tuple[list[Floor], list[str]]:
        """The floors that apply in ``jurisdiction`` (own entries, else the parent's), and notes on the rest."""
        code = self.law._jurisdiction(jurisdiction)
        here: str | None = code
        out: list[Floor] = []
        notes: list[str] = []
        kinds_done: set[str] = set()
        while here is not None:
            for entry in self.data["floors"]:
                if entry["jurisdiction"] != here or entry["kind"] in kinds_done:
                    continue
                value: Fraction | int | None = None
                configured = False
                if entry["kind"] == "per_use":
                    for key in (code, here):
                        if key in self.config.per_use_floors:
                            value, configured = int(self.config.per_use_floors[key]), True
                            break
                if value is None and entry["value"] is not None:
                    raw = fraction(entry["value"], "value")
                    value = int(raw) if entry["kind"] == "per_use" else raw
                if value is None:
                    notes.append(f"{code}: {entry['citation']} sets no {entry['kind'].replace('_', '-')} amount; "
                                 "none configured, not applied")
                    continue
                kinds_done.add(entry["kind"])
                out.append(Floor(code, entry["kind"], value, entry["target"], tuple(entry["rights"]),
                                 entry["citation"], entry["confidence"], configured))
            here = self.law.jurisdictions[here].part_of
        return out, notes


def rule_set(config: FairnessConfig | None = None, law: LawData | None = None,
             data: Mapping[str, Any] | None = None) -> RuleSet:
    """The fairness rules of the packaged (or given) law and fairness data with the operator's numbers."""
    law = law or load()
    data = fairness_data() if data is None else parse(data, law)
    config = config or FairnessConfig()
    version = hashlib.sha256(jcs.canonicalize({"law_version": law.version, "fairness": dict(data),
                                               "config": config.to_json(), "rule": "obra.law.fairness/1"})).hexdigest()
    return RuleSet(law, data, config, version)


@dataclass(frozen=True)
class FloorPack:
    """The floors the royalty waterfall applies, per pool territory (built once per run)."""

    rules: RuleSet
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, per_use: Mapping[str, int] | None = None, law: LawData | None = None) -> "FloorPack":
        return cls(rule_set(FairnessConfig(per_use_floors=dict(per_use or {})), law))

    @property
    def version(self) -> str:
        return self.rules.version

    def for_territory(self, country: str) -> list[Floor]:
        """The floors of the territory's law; a territory the law data does not know has none."""
        if country not in self._cache:
            try:
                self._cache[country] = self.rules.floors(country)[0]
            except NotFound:
                self._cache[country] = []
        return self._cache[country]

    def notes(self, territories: list[str]) -> list[str]:
        out: list[str] = []
        for country in sorted(set(territories)):
            try:
                out += self.rules.floors(country)[1]
            except NotFound:
                continue
        return out
