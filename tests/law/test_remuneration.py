"""Performers' equitable remuneration as a rule pack read from the law data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from obra.errors import InvalidInput
from obra.law import RulePack, load
from obra.law.remuneration import Reliance, parse_rates

from .conftest import RAW, write

LEVELS = ("low", "medium", "high")
GRANTED = {f["jurisdiction"]: f for f in RAW["facts"]
           if (f["topic"], f["key"]) == ("remuneration", "performers_unwaivable_streaming")}


def test_spain_pays_performers_at_the_configured_rate():
    pack = RulePack.load(rates={"ES": "0.05"})
    rule = pack.rule_for("ES")
    assert rule is not None and rule.rate == Decimal("0.05") and isinstance(rule.rate, Decimal)
    assert rule.citation == GRANTED["ES"]["citation"] and rule.granted is GRANTED["ES"]["value"]
    assert pack.rule_for("FR") is None  # granted in France, but no rate configured
    assert any(n.startswith("FR:") and "no rate configured" in n for n in pack.notes())


def test_the_pack_records_the_law_version_and_the_facts_it_relied_on():
    rates = {code: "0.04" for code in GRANTED}
    for minimum in LEVELS:
        pack = RulePack.load(rates=rates, min_confidence=minimum)
        assert pack.version == load().version
        expected = sorted(Reliance(code, "remuneration", "performers_unwaivable_streaming", f["confidence"])
                          for code, f in GRANTED.items()
                          if LEVELS.index(f["confidence"]) >= LEVELS.index(minimum))
        assert list(pack.relied_on) == expected
        assert list(pack.uncertain()) == [r for r in expected if r.confidence != "high"]


def test_a_low_confidence_fact_is_not_relied_on_unless_asked():
    low = sorted(code for code, f in GRANTED.items() if f["value"] and f["confidence"] == "low")
    assert low, "the real file has granted rights known only with low confidence"
    code = low[0]
    cautious = RulePack.load(rates={code: "0.05"})
    assert cautious.rule_for(code) is None and cautious.relied_on == ()
    assert any(n.startswith(f"{code}:") and "low confidence" in n for n in cautious.notes())
    bold = RulePack.load(rates={code: "0.05"}, min_confidence="low")
    assert bold.rule_for(code) is not None
    assert bold.uncertain() == (Reliance(code, "remuneration", "performers_unwaivable_streaming", "low"),)


def test_no_rate_means_nothing_relied_on():
    assert RulePack.load().relied_on == ()
    assert RulePack.load(rates={"ES": "0"}).relied_on == ()


@pytest.mark.parametrize("rate, says", [
    (0.05, "never a float"), ("five percent", "not a number"), ("1", "below 1"), ("-0.01", "at least 0"),
    ("NaN", "at least 0"), (True, "never a float"),
])
def test_a_bad_rate_is_refused_by_its_field(rate, says):
    with pytest.raises(InvalidInput, match=says) as caught:
        RulePack.load(rates={"ES": rate})
    assert [p.field for p in caught.value.problems] == ["rates.ES"]


def test_every_bad_rate_is_named_at_once():
    with pytest.raises(InvalidInput) as caught:
        RulePack.load(rates={"ES": "2", "DE": "0.02", "UY": 0.1})
    assert [p.field for p in caught.value.problems] == ["rates.ES", "rates.UY"]


def test_an_unknown_confidence_level_is_refused():
    with pytest.raises(InvalidInput, match="low, medium, high"):
        RulePack.load(min_confidence="certain")


def test_a_corrected_fact_changes_the_rule_and_the_version(raw, tmp_path):
    i = next(i for i, f in enumerate(raw["facts"])
             if (f["jurisdiction"], f["topic"], f["key"]) == ("ES", "remuneration", "performers_unwaivable_streaming"))
    raw["facts"][i]["value"] = False
    pack = RulePack.load(rates={"ES": "0.05"}, path=write(tmp_path, raw))
    assert pack.rule_for("ES") is None and pack.version != RulePack.load().version
    assert pack.relied_on == (Reliance("ES", "remuneration", "performers_unwaivable_streaming",
                                       raw["facts"][i]["confidence"]),)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-2, max_value=2))
def test_a_rate_is_kept_exactly_when_at_least_0_and_below_1(rate):
    if Decimal(0) <= rate < Decimal(1):
        assert parse_rates({"uy": str(rate)}) == {"UY": rate}
        assert parse_rates({"UY": rate})["UY"].as_tuple() == rate.as_tuple()
    else:
        with pytest.raises(InvalidInput):
            parse_rates({"UY": rate})
