"""The TDM rule the training check applies: read from the law facts and the reservation data, never code."""

from __future__ import annotations

import copy
import hashlib
import json

import jcs
import pytest

from obra.errors import InvalidInput
from obra.law import LawData, load
from obra.law.tdm import SIGNALS, USES, pack_version, reservation_data, rule_for

from .conftest import RAW


@pytest.mark.parametrize("code", ["EU", "DE", "FR"])
def test_eu_commercial_mining_is_allowed_unless_reserved_in_machine_readable_form(code):
    rule = rule_for(code, "commercial")
    assert rule.key == "commercial_allowed" and rule.exception == "yes_unless_reserved"
    assert rule.opt_out == "machine_readable_required"
    assert rule.exception_fact.jurisdiction == code and rule.exception_fact.citation
    for signal in ("tdmrep", "aipref", "content-signals", "rsl", "cawg", "noai", "robots-agent", "robots-all",
                   "registry"):
        assert rule.counts(signal), signal
    assert not rule.counts("robots-status")      # a failing server is not the rightholder's statement
    assert rule.reservation("tdmrep").confidence == "high"
    assert rule.reservation("noai").confidence == "low" and rule.reservation("noai").interpretation
    assert "Kneschke" in rule.opt_out_note or "OLG Hamburg" in rule.opt_out_note


def test_germany_cites_the_olg_hamburg_and_is_high_confidence():
    rule = rule_for("DE", "commercial")
    assert "§ 44b" in rule.exception_fact.citation and rule.opt_out_fact.confidence == "high"
    assert rule.confidence == "high"
    assert any("lawfully accessible" in n for n in rule.notes)


def test_eu_research_exception_cannot_be_reserved():
    rule = rule_for("EU", "research", False)
    assert rule.key == "research_allowed" and rule.exception == "yes"


def test_uk_allows_only_non_commercial_research():
    assert rule_for("GB", "research", False).exception == "yes"
    commercial_research = rule_for("GB", "research", True)
    assert commercial_research.key == "commercial_allowed" and commercial_research.exception == "no"
    not_research = rule_for("GB", "non-commercial")
    assert not_research.key == "commercial_allowed" and not_research.exception == "no"
    assert rule_for("GB", "commercial").opt_out == "none" and not rule_for("GB", "commercial").counts("tdmrep")


def test_japan_article_30_4_allows_commercial_training_and_notes_the_proviso():
    rule = rule_for("JP", "commercial")
    assert rule.exception == "yes" and "30-4" in rule.exception_fact.citation
    assert rule.opt_out == "none" and not any(rule.counts(s) for s in SIGNALS)
    assert any("unreasonably prejudices" in n for n in rule.notes)


def test_the_us_has_no_exception_only_fair_use():
    for purpose in ("commercial", "research"):
        rule = rule_for("US", purpose)
        assert rule.exception == "fair_use_case_by_case" and rule.opt_out == "not_applicable"
        assert not rule.counts("tdmrep")


def test_italy_counts_any_express_reservation():
    rule = rule_for("IT", "commercial")
    assert rule.opt_out == "any_express_reservation" and rule.counts("robots-all")
    assert rule.reservation("robots-all").confidence == "medium"


def test_pending_bills_are_named_never_applied():
    rule = rule_for("BR", "commercial")
    assert rule.exception == "no"                      # the law in force
    assert any(f.pending and f.value == "yes_unless_reserved" for f in rule.pending)


def test_a_member_state_without_facts_inherits_the_union_s():
    raw = copy.deepcopy(RAW)
    raw["jurisdictions"]["AT"] = {"name": "Austria", "region": "Europe", "part_of": "EU"}
    law = LawData.from_json(raw)
    rule = rule_for("at", "commercial", law=law)
    assert rule.jurisdiction == "AT" and rule.exception == "yes_unless_reserved"
    assert rule.exception_fact.jurisdiction == "EU" and "part of EU" in rule.exception_note


def test_uses_outside_mining_and_training_get_no_exception():
    assert set(USES) == {"tdm", "ai-train-generative", "ai-train-other"}
    rule = rule_for("DE", "commercial", use="ai-input")
    assert rule.exception is None and "ai-input" in rule.exception_note
    assert rule_for("DE", "commercial", use="ai-train-other").exception == "yes_unless_reserved"


@pytest.mark.parametrize("bad", ["XX", "", "  "])
def test_an_unknown_jurisdiction_is_named(bad):
    with pytest.raises(InvalidInput) as caught:
        rule_for(bad, "commercial")
    assert caught.value.problems[0].field == "jurisdiction"


def test_bad_purposes_are_named():
    with pytest.raises(InvalidInput, match="purpose"):
        rule_for("DE", "training")
    with pytest.raises(InvalidInput, match="commercial"):
        rule_for("DE", "commercial", False)


def test_every_opt_out_value_of_the_vocabulary_has_reservation_data():
    data = reservation_data()
    assert set(data["signals"]) == set(SIGNALS)
    assert set(RAW["vocabulary"]["tdm"]["opt_out"]) == set(data["opt_out"])
    for kind, block in data["opt_out"].items():
        for signal, rule in block["rules"].items():
            assert rule["citation"] and rule["why"], (kind, signal)


def test_the_rule_pack_hash_covers_the_law_and_the_reservation_data():
    law = load()
    expected = hashlib.sha256(jcs.canonicalize({"law_version": law.version, "reservations": dict(reservation_data()),
                                                "rule": "obra.law.tdm/1"})).hexdigest()
    assert pack_version(law) == expected == rule_for("DE", "commercial").version
    raw = copy.deepcopy(RAW)
    raw["facts"][0]["summary"] += " (edited)"
    assert pack_version(LawData.from_json(raw)) != expected


def test_the_rule_serialises_with_its_citations():
    body = rule_for("DE", "commercial").to_json()
    assert json.loads(json.dumps(body)) == body
    assert body["exception_fact"]["citation"] and body["reservations"]["tdmrep"]["counts"] is True
