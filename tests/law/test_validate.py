"""The validator on real mutations of the real file: every problem named by the fact's index."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.errors import InvalidInput
from obra.law import load, validate
from obra.law.validate import problems

from .conftest import RAW, write


def index_of(code: str, topic: str, key: str) -> int:
    """Position of the (first) fact for a question in the real file."""
    return next(i for i, f in enumerate(RAW["facts"])
                if (f["jurisdiction"], f["topic"], f["key"]) == (code, topic, key))


def fields(data) -> list[str]:
    return [p.field for p in problems(data)]


def test_the_real_file_is_sound():
    assert problems(RAW) == []
    validate(RAW)


def test_a_value_outside_the_allowed_list_is_named_by_index(raw):
    i = index_of("EU", "tdm", "opt_out")
    raw["facts"][i]["value"] = "robots_txt"
    found, = problems(raw)
    assert found.field == f"facts[{i}].value" and found.source == "jurisdictions.json" and found.line is None
    assert "'robots_txt' is not an allowed value" in found.message and "machine_readable_required" in found.message


def test_a_yes_where_the_vocabulary_wants_true_or_false(raw):
    i = index_of("DE", "tdm", "exception_exists")
    raw["facts"][i]["value"] = "yes"
    assert fields(raw) == [f"facts[{i}].value"]


def test_a_collecting_society_may_be_named_or_null_but_not_a_number(raw):
    i = index_of("ES", "remuneration", "collected_by")
    raw["facts"][i]["value"] = None
    assert fields(raw) == []
    raw["facts"][i]["value"] = 7
    assert fields(raw) == [f"facts[{i}].value"]


def test_an_unknown_key_and_an_unknown_topic(raw):
    i, j = index_of("FR", "tdm", "opt_out"), index_of("FR", "contracts", "termination_right")
    raw["facts"][i]["key"] = "opt_in"
    raw["facts"][j]["topic"] = "contract"
    found = problems(raw)
    assert [p.field for p in found] == [f"facts[{i}].key", f"facts[{j}].topic"]
    assert "opt_out" in found[0].message and "contracts" in found[1].message


def test_a_second_fact_for_the_same_question_is_a_duplicate(raw):
    i = index_of("ES", "remuneration", "performers_unwaivable_streaming")
    raw["facts"].append(dict(raw["facts"][i], value=False))
    found, = problems(raw)
    assert found.field == f"facts[{len(RAW['facts'])}]" and f"duplicates facts[{i}]" in found.message


def test_a_bill_beside_the_law_in_force_is_not_a_duplicate_but_two_bills_are(raw):
    i = index_of("ES", "remuneration", "performers_unwaivable_streaming")
    raw["facts"].append(dict(raw["facts"][i], in_force="pending"))
    assert fields(raw) == []
    raw["facts"].append(dict(raw["facts"][i], in_force="pending"))
    assert fields(raw) == [f"facts[{len(RAW['facts']) + 1}]"]


@pytest.mark.parametrize("field, text", [
    ("checked", "2026-13-01"), ("checked", "24/11/2026"), ("checked", "2026"),
    ("in_force", "06/06/2019"), ("in_force", "20190606"), ("in_force", "2019-02-30"), ("in_force", "soon"),
])
def test_a_date_that_is_not_an_iso_date(raw, field, text):
    i = index_of("EU", "tdm", "commercial_allowed")
    raw["facts"][i][field] = text
    assert fields(raw) == [f"facts[{i}].{field}"]


@pytest.mark.parametrize("text", ["2019-06-06", "2019", "pending", None])
def test_in_force_may_be_a_day_a_year_pending_or_unknown(raw, text):
    raw["facts"][index_of("EU", "tdm", "commercial_allowed")]["in_force"] = text
    assert fields(raw) == []


def test_a_part_of_that_points_nowhere_or_in_a_circle(raw):
    raw["jurisdictions"]["DE"]["part_of"] = "EUR"
    assert fields(raw) == ["jurisdictions.DE.part_of"]
    raw["jurisdictions"]["DE"]["part_of"] = "EU"
    raw["jurisdictions"]["EU"]["part_of"] = "FR"
    found = problems(raw)
    assert "jurisdictions.EU.part_of" in [p.field for p in found]
    assert any("circle" in p.message for p in found)


def test_a_fact_for_an_undeclared_jurisdiction(raw):
    i = index_of("US-CA", "likeness", "voice_protected")
    raw["facts"][i]["jurisdiction"] = "US-NY"
    found, = problems(raw)
    assert found.field == f"facts[{i}].jurisdiction" and "declare it" in found.message


def test_confidence_citation_and_source_are_required(raw):
    i = index_of("JP", "tdm", "exception_exists")
    raw["facts"][i]["confidence"] = "certain"
    raw["facts"][i]["citation"] = " "
    raw["facts"][i]["source_url"] = ""
    assert fields(raw) == [f"facts[{i}].citation", f"facts[{i}].source_url", f"facts[{i}].confidence"]


def test_a_misspelt_or_missing_field_in_a_fact(raw):
    i = index_of("KR", "tdm", "opt_out")
    raw["facts"][i]["confidance"] = raw["facts"][i].pop("confidence")
    assert sorted(fields(raw)) == sorted([f"facts[{i}]", f"facts[{i}].confidance"])


def test_a_vocabulary_entry_must_be_a_type_or_a_list(raw):
    raw["vocabulary"]["contracts"]["termination_right"] = "boolean"
    assert fields(raw) == ["vocabulary.contracts.termination_right"]


def test_every_problem_is_raised_together_and_nothing_is_loaded(raw, tmp_path):
    a, b, c = (index_of("EU", "tdm", "opt_out"), index_of("GB", "tdm", "exception_exists"),
               index_of("CN", "registration", "office"))
    raw["facts"][a]["value"] = "maybe"
    raw["facts"][b]["key"] = "exception"
    raw["facts"][c]["checked"] = "yesterday"
    raw["jurisdictions"]["US-TN"]["part_of"] = "USA"
    with pytest.raises(InvalidInput) as caught:
        load(write(tmp_path, raw, "mine.json"))
    assert [p.field for p in caught.value.problems] == [
        "jurisdictions.US-TN.part_of", f"facts[{a}].value", f"facts[{b}].key", f"facts[{c}].checked"]
    assert {p.source for p in caught.value.problems} == {"mine.json"}
    assert f"mine.json: field 'facts[{a}].value'" in str(caught.value)


def test_a_file_without_facts_is_refused_by_name():
    assert fields({k: v for k, v in RAW.items() if k != "facts"}) == ["facts"]
    assert fields([]) == [""]


# Any value of the wrong type in any fact is found, and only there.
WRONG = st.one_of(st.integers(), st.lists(st.booleans(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                                     st.booleans(), max_size=1))


@settings(max_examples=60, deadline=None)
@given(i=st.integers(0, len(RAW["facts"]) - 1), value=WRONG)
def test_any_wrong_value_is_named_by_its_index(i, value):
    facts = list(RAW["facts"])
    facts[i] = dict(facts[i], value=value)
    assert fields(dict(RAW, facts=facts)) == [f"facts[{i}].value"]


def test_python_m_obra_law_checks_a_file_before_it_is_proposed(raw, tmp_path, capsys):
    from obra.law.__main__ import main

    assert main([]) == 0
    assert f"{len(RAW['facts'])} facts" in capsys.readouterr().out
    i = index_of("EU", "tdm", "opt_out")
    raw["facts"][i]["value"] = "robots_txt"
    assert main([str(write(tmp_path, raw, "proposal.json"))]) == 1
    assert f"proposal.json: field 'facts[{i}].value'" in capsys.readouterr().err
