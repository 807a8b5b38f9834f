"""The law asked and compared: every row checked against the file read independently of obra.law."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.errors import NotFound
from obra.law import load
from obra.law.compare import comparison, fact_json, profile, reliance_notes

from .conftest import RAW

LAW = load()
CODES = list(RAW["jurisdictions"])


def raw_fact(code: str, topic: str, key: str, pending: bool = False) -> dict | None:
    found = [f for f in RAW["facts"] if (f["jurisdiction"], f["topic"], f["key"]) == (code, topic, key)
             and (f["in_force"] == "pending") == pending]
    return found[0] if found else None


def test_the_tdm_table_has_every_key_for_every_jurisdiction_asked_with_its_citation():
    table = comparison("tdm", ["DE", "jp", "US"])
    assert table["jurisdictions"] == ["DE", "JP", "US"] and table["keys"] == list(RAW["vocabulary"]["tdm"])
    assert len(table["rows"]) == 3 * len(RAW["vocabulary"]["tdm"])
    for row in table["rows"]:
        raw = raw_fact(row["jurisdiction"], "tdm", row["key"])
        assert raw is not None and row["status"] == "in force"
        fact = row["fact"]
        assert (fact["value"], fact["citation"], fact["source_url"], fact["in_force"], fact["checked"],
                fact["confidence"]) == (raw["value"], raw["citation"], raw["source_url"], raw["in_force"],
                                        raw["checked"], raw["confidence"])
    de = {r["key"]: r for r in table["rows"] if r["jurisdiction"] == "DE"}
    assert de["commercial_allowed"]["value"] == "yes_unless_reserved" and "44b" in de["opt_out"]["fact"]["citation"]
    assert table["law_version"] == LAW.version


def test_a_state_without_a_fact_of_its_own_shows_its_unions_marked_as_inherited():
    (row,) = [r for r in comparison("tdm", ["US-TN"])["rows"] if r["key"] == "commercial_allowed"]
    assert raw_fact("US-TN", "tdm", "commercial_allowed") is None
    assert row["status"] == "inherited" and row["inherited_from"] == "US"
    assert row["fact"]["citation"] == raw_fact("US", "tdm", "commercial_allowed")["citation"]
    assert "US-TN has no fact of its own" in row["note"]


def test_a_bill_is_shown_beside_the_law_in_force_never_in_its_place():
    (row,) = [r for r in comparison("tdm", ["BR"])["rows"] if r["key"] == "opt_out"]
    assert row["status"] == "in force" and row["fact"]["pending"] is False
    assert row["fact"]["citation"] == raw_fact("BR", "tdm", "opt_out")["citation"]
    assert row["pending_bill"]["citation"] == raw_fact("BR", "tdm", "opt_out", pending=True)["citation"]
    assert row["pending_bill"]["in_force"] == "pending"


def test_a_member_with_only_a_bill_shows_its_unions_law_in_force_and_the_bill_beside_it():
    (row,) = [r for r in comparison("likeness", ["DK"])["rows"] if r["key"] == "voice_protected"]
    assert raw_fact("DK", "likeness", "voice_protected") is None
    assert row["status"] == "inherited" and row["inherited_from"] == "EU"
    assert row["fact"]["citation"] == raw_fact("EU", "likeness", "voice_protected")["citation"]
    assert row["pending_bill"]["citation"] == raw_fact("DK", "likeness", "voice_protected", pending=True)["citation"]
    assert "DK has only a bill" in row["note"]


def test_low_confidence_facts_are_marked_and_counted():
    table = comparison("tdm")
    low = [r for r in table["rows"] if r["low_confidence"]]
    expected = {(f["jurisdiction"], f["key"]) for f in RAW["facts"]
                if f["topic"] == "tdm" and f["confidence"] == "low" and f["in_force"] != "pending"}
    assert {(r["jurisdiction"], r["key"]) for r in low if r["status"] == "in force"} == expected
    assert ("ES", "opt_out") in expected and table["low_confidence"] == len(low)


@pytest.mark.parametrize(("call", "known"), [
    (lambda: comparison("copyright"), "known: tdm, ai_output, remuneration, contracts, likeness, registration"),
    (lambda: comparison("tdm", ["DE", "XX"]), "no jurisdiction 'XX' in the law data; known: EU, DE"),
    (lambda: profile("Atlantis"), "no jurisdiction 'Atlantis' in the law data; known: EU, DE"),
])
def test_an_unknown_topic_or_jurisdiction_lists_the_known_ones(call, known):
    with pytest.raises(NotFound, match=known.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_a_jurisdiction_shows_every_topic_and_where_it_belongs():
    de = profile("de")
    assert de["jurisdiction"] == "DE" and de["part_of"] == "EU" and de["part_of_chain"] == ["EU"]
    assert list(de["topics"]) == list(RAW["vocabulary"])
    assert sum(len(rows) for rows in de["topics"].values()) == sum(len(k) for k in RAW["vocabulary"].values())
    assert set(profile("EU")["members"]) == {c for c, j in RAW["jurisdictions"].items() if j["part_of"] == "EU"}


def test_reliance_notes_say_low_confidence_and_pending_in_words():
    spain = LAW.fact("ES", "tdm", "opt_out")
    bill = LAW.facts("BR", "tdm", "opt_out")
    notes = reliance_notes([spain, *bill, None, fact_json(spain)], what="the check")
    assert any("the check relies on ES tdm.opt_out" in n and "LOW-confidence" in n and spain.source_url in n
               for n in notes)
    assert any("BR tdm.opt_out" in n and "a pending bill" in n and "not applied" in n for n in notes)
    assert len([n for n in notes if "ES tdm.opt_out" in n]) == 1          # each fact said once
    assert reliance_notes([LAW.fact("DE", "tdm", "opt_out")]) == []      # a sound fact needs no note


def test_the_tdm_rule_an_engine_applies_says_when_it_rests_on_uncertain_law():
    from obra.law.tdm import rule_for

    spain = rule_for("ES", "commercial")
    assert any("the TDM rule for ES relies on ES tdm.opt_out" in n and "LOW-confidence" in n for n in spain.reliance)
    assert spain.to_json()["reliance"] == spain.reliance
    brazil = rule_for("BR", "commercial")
    assert any("BR tdm.commercial_allowed" in n and "a pending bill" in n for n in brazil.reliance)
    assert rule_for("DE", "commercial").reliance == []


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(list(RAW["vocabulary"])), st.lists(st.sampled_from(CODES), min_size=1, max_size=6, unique=True))
def test_every_cell_is_the_jurisdictions_own_fact_or_one_up_its_chain(topic, codes):
    table = comparison(topic, codes)
    assert len(table["rows"]) == len(codes) * len(RAW["vocabulary"][topic])
    for row in table["rows"]:
        chain, here = [], row["jurisdiction"]
        while here is not None:
            chain.append(here)
            here = RAW["jurisdictions"][here]["part_of"]
        if row["fact"] is None:
            assert all(raw_fact(c, topic, row["key"]) is None and raw_fact(c, topic, row["key"], True) is None
                       for c in chain)
        else:
            assert row["fact"]["jurisdiction"] in chain
            assert (row["inherited_from"] is None) == (row["fact"]["jurisdiction"] == row["jurisdiction"])
    assert table["facts"] + table["gaps"] == len(table["rows"])
