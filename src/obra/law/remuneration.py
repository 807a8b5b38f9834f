"""Performers' statutory equitable remuneration for streaming, as a rule pack read from the law data.

In some countries (Spain, Germany, several Latin American states) performers keep an
unwaivable right to be paid for streaming of their recordings, collected by a society,
whatever their contract with the label says. The law data says *whether* the right
exists (``remuneration.performers_unwaivable_streaming``) and who collects it
(``remuneration.collected_by``), each with a confidence. It gives no rates: those are set
per jurisdiction by the operator (CMO tariffs, sector agreements). A rule applies only
where the right is granted with enough confidence *and* a rate is configured.

The pack records which law it was built from (:attr:`RulePack.version`, the law data's
hash) and which facts decided what it applies (:attr:`RulePack.relied_on`), so a
distribution run can state both and flag reliance on a fact below high confidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from obra.errors import InvalidInput, Problem
from obra.law.facts import LawData, confidence_rank, load

TOPIC = "remuneration"
GRANTED = "performers_unwaivable_streaming"
COLLECTOR = "collected_by"


@dataclass(frozen=True)
class EquitableRemunerationRule:
    """Performers' unwaivable streaming remuneration in one jurisdiction, with its source."""

    jurisdiction: str
    granted: bool
    confidence: str
    citation: str
    collected_by: str | None
    rate: Decimal | None  # configured by the operator; the law facts carry no rate
    summary: str


class Reliance(NamedTuple):
    """A fact a rule pack relied on: ``(jurisdiction, topic, key, confidence)``."""

    jurisdiction: str
    topic: str
    key: str
    confidence: str


@dataclass(frozen=True)
class RulePack:
    """Statutory remuneration rules per jurisdiction, from the law data (:mod:`obra.law`).

    Facts below ``min_confidence`` (default ``medium``) are not relied on; :meth:`notes`
    lists them, and the granted rights that have no rate configured.
    """

    rules: Mapping[str, EquitableRemunerationRule]
    min_confidence: str = "medium"
    version: str = ""  # SHA-256 of the law data the pack was built from
    relied_on: tuple[Reliance, ...] = ()

    def __post_init__(self) -> None:
        confidence_rank(self.min_confidence)  # refuses an unknown level by name

    @classmethod
    def load(cls, rates: Mapping[str, Decimal | str | int] | None = None, path: Path | None = None,
             min_confidence: str = "medium") -> RulePack:
        """The pack for the packaged law data (or the law file at ``path``) and the operator's rates.

        ``rates`` maps a jurisdiction code to a rate as a Decimal or a decimal string
        (``"0.05"``), at least 0 and below 1; every bad rate is named in one InvalidInput.
        """
        return cls.from_law(load(path), rates, min_confidence)

    @classmethod
    def from_law(cls, law: LawData, rates: Mapping[str, Decimal | str | int] | None = None,
                 min_confidence: str = "medium") -> RulePack:
        """The pack for already-loaded law data (see :meth:`load`)."""
        confidence_rank(min_confidence)
        configured = parse_rates(rates or {})
        rules: dict[str, EquitableRemunerationRule] = {}
        relied: list[Reliance] = []
        for code in law.jurisdictions:
            fact = law.fact(code, TOPIC, GRANTED)
            if fact is None:
                continue
            collector = law.fact(code, TOPIC, COLLECTOR)
            rules[code] = EquitableRemunerationRule(
                code, bool(fact.value), fact.confidence, fact.citation,
                collector.value if collector is not None else None,  # type: ignore[arg-type]
                configured.get(code), fact.summary)
            # The fact decides the outcome only where the operator asked for a rate and the
            # fact is certain enough to act on: then "granted" pays and "not granted" withholds.
            rate = configured.get(code)
            if rate and fact.at_least(min_confidence):
                relied.append(Reliance(code, TOPIC, GRANTED, fact.confidence))
        return cls(rules, min_confidence, law.version, tuple(sorted(relied)))

    def rule_for(self, country: str) -> EquitableRemunerationRule | None:
        """The rule that applies in ``country``, or None (not granted, unsure, or no rate)."""
        rule = self.rules.get(country)
        if rule is None or not rule.granted or rule.rate is None or rule.rate == 0:
            return None
        if confidence_rank(rule.confidence) < confidence_rank(self.min_confidence):
            return None
        return rule

    def notes(self) -> list[str]:
        """What the pack does not apply and why (shown on statements and in run reports)."""
        out = []
        for code, rule in sorted(self.rules.items()):
            if not rule.granted:
                continue
            if confidence_rank(rule.confidence) < confidence_rank(self.min_confidence):
                out.append(f"{code}: performers' streaming remuneration is reported with {rule.confidence} "
                           f"confidence only ({rule.citation}); not applied")
            elif rule.rate is None:
                out.append(f"{code}: performers keep an unwaivable streaming remuneration "
                           f"({rule.citation}); no rate configured, not applied")
        return out

    def uncertain(self) -> tuple[Reliance, ...]:
        """The relied-on facts below high confidence, which a run report should flag."""
        return tuple(r for r in self.relied_on if r.confidence != "high")


def parse_rates(rates: Mapping[str, Decimal | str | int]) -> dict[str, Decimal]:
    """Rates by upper-case jurisdiction code, exact; every bad rate named by its field.

    Floats are refused: most decimal rates (0.1) have no exact binary value, and money
    computed from them would drift.
    """
    out: dict[str, Decimal] = {}
    problems: list[Problem] = []
    for code, raw in rates.items():
        where = f"rates.{code}"
        if isinstance(raw, (float, bool)):
            problems.append(Problem(f"rate {raw!r} for {code} must be written as a decimal string or "
                                    "Decimal (e.g. '0.05'), never a float", field=where))
            continue
        try:
            rate = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
        except InvalidOperation:
            problems.append(Problem(f"rate {raw!r} for {code} is not a number (write e.g. '0.05')", field=where))
            continue
        if not rate.is_finite() or not Decimal(0) <= rate < Decimal(1):
            problems.append(Problem(f"equitable remuneration rate {rate} for {code} must be at least 0 "
                                    "and below 1", field=where))
            continue
        out[code.upper()] = rate
    if problems:
        raise InvalidInput(problems)
    return out
