"""Comparative law as data: cited facts about copyright, AI and creators' pay, per jurisdiction.

What the law says about text-and-data mining, AI output, performers' remuneration,
contract fairness, voice and likeness and registration differs by country and changes
by statute, ruling and bill. Obra's engines therefore never write a legal rule into
code: they ask this package, which reads one reviewed file
(``data/jurisdictions.json``, CC0) where every fact carries its citation, source, the
date it took effect and a confidence level. Correcting the law is then a reviewed data
change, checked by :func:`validate` against the file's own vocabulary and identified by
:attr:`LawData.version` (the SHA-256 of its RFC 8785 canonical JSON), so every run can
say exactly which law it applied and where it relied on an uncertain fact.

The package sits below the capabilities (royalties, registry, the CLI and the API call
it); it depends only on :mod:`obra.errors`, the standard library and ``jcs``.
"""

from obra.law.facts import ComparisonRow, Effective, Fact, Jurisdiction, LawData, load
from obra.law.remuneration import EquitableRemunerationRule, Reliance, RulePack
from obra.law.validate import validate

__all__ = [
    "ComparisonRow",
    "Effective",
    "EquitableRemunerationRule",
    "Fact",
    "Jurisdiction",
    "LawData",
    "Reliance",
    "RulePack",
    "load",
    "validate",
]
