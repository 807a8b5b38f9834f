"""The numbers of contract fairness come from the law data, cited, and bad data is refused by entry."""

from __future__ import annotations

import copy
from fractions import Fraction

import pytest

from obra.errors import InvalidInput
from obra.law.fairness import FairnessConfig, fairness_data, problems, rule_set


def test_every_rule_and_floor_is_cited_and_valid():
    data = fairness_data()
    assert not problems(dict(data))
    for entry in list(data["rules"]) + list(data["floors"]):
        assert entry["citation"] and entry["source_url"].startswith("https://")


@pytest.mark.parametrize(("jurisdiction", "contract", "threshold", "citation"), [
    ("DE", "lump_sum", Fraction(1, 2), "UrhG § 32a"),
    ("DE", "proportional", Fraction(1, 2), "UrhG § 32a"),
    ("FR", "lump_sum", Fraction(5, 12), "CPI Art. L131-5, al. 1"),
])
def test_thresholds_by_jurisdiction(jurisdiction, contract, threshold, citation):
    rule, why = rule_set().rule(jurisdiction, "disproportion", contract)
    assert rule.threshold == threshold and rule.citation.startswith(citation) and not rule.configured


def test_no_number_in_the_law_means_not_applied_until_configured_and_members_inherit_the_eu_rule():
    plain = rule_set()
    assert plain.rule("FR", "disproportion", "proportional")[0] is None          # "exagérément faible"
    assert plain.rule("IT", "disproportion", "lump_sum")[0] is None              # DSM Art. 20: no number
    configured = rule_set(FairnessConfig(thresholds={"EU": "1/3", "FR:proportional": "0.25"}))
    it, why = configured.rule("IT", "disproportion", "lump_sum")
    assert it.jurisdiction == "EU" and it.threshold == Fraction(1, 3) and it.configured and "part of" in why
    assert configured.rule("FR", "disproportion", "proportional")[0].threshold == Fraction(1, 4)
    assert configured.rule("DE", "disproportion", "lump_sum")[0].threshold == Fraction(1, 2)  # law wins where set


def test_a_jurisdiction_without_the_right_never_flags_even_when_configured():
    configured = rule_set(FairnessConfig(thresholds={"GB": "1/2", "US": "1/2"}, months={"GB": 24}))
    for code in ("GB", "US"):
        rule, why = configured.rule(code, "disproportion", "lump_sum")
        assert rule is None and why.startswith(f"{code}: no disproportion right")
    assert configured.rule("DE", "non_exploitation")[0].months == 24


def test_floors_by_territory():
    rules = rule_set(FairnessConfig(per_use_floors={"ES": 1}))
    (fr,) = rules.floors("FR")[0]
    assert fr.kind == "royalty_rate" and fr.value == Fraction(1, 10) and "Accord du 12 mai 2022" in fr.citation
    assert rules.floors("DE")[0] == []                     # the EU per-use entry has no amount, none configured
    (es,) = rules.floors("ES")[0]
    assert es.kind == "per_use" and es.value == 1 and es.configured


def test_a_broken_entry_is_refused_naming_it():
    data = copy.deepcopy(dict(fairness_data()))
    data["rules"][2]["threshold"] = "3/2"
    data["rules"][3]["trigger"] = "bestseller"
    data["floors"][0]["jurisdiction"] = "XX"
    data["rules"].append(dict(data["rules"][0]))
    with pytest.raises(InvalidInput) as err:
        rule_set(data=data)
    fields = {p.field for p in err.value.problems}
    assert {"rules[2].threshold", "rules[3].trigger", "floors[0].jurisdiction", f"rules[{len(data['rules']) - 1}]"} <= fields


def test_operator_numbers_are_checked():
    with pytest.raises(InvalidInput) as err:
        FairnessConfig(thresholds={"NL": "2"}, benchmarks={"DE": 0.1}, months={"NL": -1})
    assert {p.field for p in err.value.problems} == {"thresholds.NL", "benchmarks.DE", "months.NL"}
