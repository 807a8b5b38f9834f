"""Reading the comparative-law file: every answer checked against the file read independently."""

from __future__ import annotations

import ast
import sys
from collections import Counter
from dataclasses import FrozenInstanceError
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import obra.law
from obra.errors import InvalidInput, NotFound
from obra.law import Fact, LawData, load

from .conftest import RAW, write

LAW = load()
QUESTIONS = sorted({(f["jurisdiction"], f["topic"], f["key"]) for f in RAW["facts"]})


def raw_facts(code: str, topic: str, key: str) -> list[tuple[int, dict]]:
    return [(i, f) for i, f in enumerate(RAW["facts"])
            if (f["jurisdiction"], f["topic"], f["key"]) == (code, topic, key)]


def test_the_eu_text_and_data_mining_opt_out_cites_the_dsm_directive():
    fact = LAW.fact("EU", "tdm", "opt_out")
    assert fact is not None and "2019/790" in fact.citation
    (index, raw), = raw_facts("EU", "tdm", "opt_out")
    assert fact.index == index and fact.value == raw["value"]
    assert fact.in_force == date.fromisoformat(raw["in_force"]) and fact.in_force_precision == "day"


def test_counts_per_topic_and_per_jurisdiction_equal_the_file():
    by_topic = Counter(f["topic"] for f in RAW["facts"])
    by_code = Counter(f["jurisdiction"] for f in RAW["facts"])
    assert {t: len(LAW.facts(topic=t)) for t in LAW.topics} == {t: by_topic[t] for t in RAW["vocabulary"]}
    assert {c: len(LAW.facts(jurisdiction=c)) for c in LAW.jurisdictions} == \
        {c: by_code[c] for c in RAW["jurisdictions"]}
    assert len(LAW.all_facts) == len(RAW["facts"])
    assert LAW.topics == tuple(RAW["vocabulary"])
    assert LAW.keys("tdm") == tuple(RAW["vocabulary"]["tdm"])


def test_every_fact_is_the_file_entry_at_its_index():
    for fact in LAW.all_facts:
        raw = RAW["facts"][fact.index]
        assert (fact.jurisdiction, fact.topic, fact.key, fact.value, fact.summary, fact.citation,
                fact.source_url, fact.confidence, fact.checked.isoformat()) == \
            (raw["jurisdiction"], raw["topic"], raw["key"], raw["value"], raw["summary"], raw["citation"],
             raw["source_url"], raw["confidence"], raw["checked"])


def test_in_force_keeps_the_precision_the_file_gives():
    for fact in LAW.all_facts:
        text = RAW["facts"][fact.index]["in_force"]
        if text is None or text == "pending":
            assert fact.in_force == text and fact.in_force_precision is None
            assert fact.pending == (text == "pending")
        elif len(text) == 4:  # only the year is known
            assert fact.in_force == date(int(text), 1, 1) and fact.in_force_precision == "year"
        else:
            assert fact.in_force == date.fromisoformat(text) and fact.in_force_precision == "day"
    assert any(f.in_force_precision == "year" for f in LAW.all_facts)


def test_a_bill_beside_the_law_in_force_does_not_replace_it():
    # Brazil: no TDM exception today; the Senate's AI bill would create one.
    (_, in_force), (_, bill) = sorted(raw_facts("BR", "tdm", "exception_exists"),
                                      key=lambda p: p[1]["in_force"] == "pending")
    assert bill["in_force"] == "pending" and in_force["in_force"] != "pending"
    fact = LAW.fact("BR", "tdm", "exception_exists")
    assert fact.value == in_force["value"] and not fact.pending
    row, = [r for r in LAW.compare("tdm", ["BR"]) if r.key == "exception_exists"]
    assert row.fact == fact and row.pending is not None and row.pending.value == bill["value"]


def test_where_the_file_records_only_a_bill_that_is_the_answer():
    only_bills = [q for q in QUESTIONS if all(f["in_force"] == "pending" for _, f in raw_facts(*q))]
    assert only_bills, "the real file has questions answered only by a pending bill"
    for question in only_bills:
        fact = LAW.fact(*question)
        assert fact is not None and fact.pending
        row, = [r for r in LAW.compare(question[1], [question[0]]) if r.key == question[2]]
        assert row.fact == fact and row.pending is None


def test_compare_shows_every_key_for_every_jurisdiction_and_marks_the_gaps():
    for topic, keys in RAW["vocabulary"].items():
        rows = LAW.compare(topic)
        assert [(r.jurisdiction, r.key) for r in rows] == [(c, k) for c in RAW["jurisdictions"] for k in keys]
        missing = {(c, k) for c in RAW["jurisdictions"] for k in keys if not raw_facts(c, topic, k)}
        assert {(r.jurisdiction, r.key) for r in rows if r.missing} == missing
    some = LAW.compare("remuneration", ["es", "DE"])
    assert [r.jurisdiction for r in some] == ["ES"] * 4 + ["DE"] * 4


def test_germany_falls_back_to_the_eu_and_says_so(raw, tmp_path):
    # The real file restates every EU fact for Germany; take one away to see the fallback.
    raw["facts"] = [f for f in raw["facts"] if (f["jurisdiction"], f["topic"], f["key"]) != ("DE", "tdm", "opt_out")]
    law = load(write(tmp_path, raw))
    assert law.fact("DE", "tdm", "opt_out") is None
    effective = law.effective("DE", "tdm", "opt_out")
    assert effective.inherited and effective.fact == law.fact("EU", "tdm", "opt_out")
    assert "DE is part of EU" in effective.note and effective.fact.citation in effective.note
    own = LAW.effective("DE", "tdm", "opt_out")
    assert not own.inherited and own.fact == LAW.fact("DE", "tdm", "opt_out")


def test_a_state_falls_back_to_its_federation():
    us_only = [(t, k) for (c, t, k) in QUESTIONS if c == "US" and not raw_facts("US-TN", t, k)]
    assert us_only, "the real file leaves most federal questions to the US facts"
    for topic, key in us_only:
        effective = LAW.effective("US-TN", topic, key)
        assert effective.inherited and effective.fact == LAW.fact("US", topic, key)
        assert "US-TN is part of US" in effective.note


def test_a_question_nobody_answers_is_reported_as_missing():
    gaps = [(c, t, k) for c in RAW["jurisdictions"] for t, keys in RAW["vocabulary"].items() for k in keys
            if RAW["jurisdictions"][c]["part_of"] is None and not raw_facts(c, t, k)]
    code, topic, key = gaps[0]
    effective = LAW.effective(code, topic, key)
    assert effective.fact is None and not effective.inherited and "no fact" in effective.note
    assert LAW.fact(code, topic, key) is None


@given(st.sampled_from(QUESTIONS))
def test_every_lookup_agrees_with_the_others(question):
    code, topic, key = question
    fact = LAW.fact(code, topic, key)
    assert fact in LAW.facts(code, topic, key)
    assert LAW.effective(code, topic, key).fact == fact
    row, = [r for r in LAW.compare(topic, [code]) if r.key == key]
    assert row.fact == fact
    assert {f.index for f in LAW.facts(code, topic, key)} == {i for i, _ in raw_facts(code, topic, key)}


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(NotFound, match="known: EU, DE"):
        LAW.fact("XX", "tdm", "opt_out")
    with pytest.raises(NotFound, match="known: tdm"):
        LAW.compare("ai")
    with pytest.raises(NotFound, match="opt_out"):
        LAW.effective("DE", "tdm", "optout")
    with pytest.raises(NotFound):
        LAW.facts(key="optout")
    assert LAW.fact("de", "tdm", "opt_out") == LAW.fact("DE", "tdm", "opt_out")


def test_the_data_cannot_be_changed_by_a_reader():
    fact = LAW.all_facts[0]
    with pytest.raises(FrozenInstanceError):
        fact.value = not fact.value  # type: ignore[misc]
    with pytest.raises(TypeError):
        LAW.vocabulary["tdm"]["opt_out"] = "bool"  # type: ignore[index]
    with pytest.raises(TypeError):
        LAW.jurisdictions["XX"] = LAW.jurisdictions["EU"]  # type: ignore[index]


def test_the_packaged_file_is_read_once_and_a_copy_reads_the_same(tmp_path):
    assert load() is load()
    copy = load(write(tmp_path, RAW))
    assert isinstance(copy, LawData) and copy is not LAW
    assert copy.version == LAW.version and copy.all_facts == LAW.all_facts


def test_a_file_that_is_not_json_is_refused_with_its_line(tmp_path):
    path = tmp_path / "law.json"
    path.write_text('{\n  "about": "x",\n  "facts": [,]\n}', encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load(path)
    problem, = caught.value.problems
    assert problem.source == "law.json" and problem.line == 3


def test_a_name_given_twice_in_one_object_is_refused(tmp_path):
    text = write(tmp_path, RAW).read_text(encoding="utf-8")
    text = text.replace('"jurisdictions": {', '"jurisdictions": {\n  "EU": {"name": "x", "region": "y", '
                        '"part_of": null},', 1)
    path = tmp_path / "twice.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput, match="'EU' appears twice"):
        load(path)


def test_fact_is_a_frozen_record_with_the_fields_engines_need():
    assert list(Fact.__dataclass_fields__)[:11] == [
        "jurisdiction", "topic", "key", "value", "summary", "citation", "source_url", "in_force",
        "checked", "confidence", "index"]


def test_the_law_package_imports_only_errors_the_standard_library_and_jcs():
    package = Path(obra.law.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            for name in names:
                top = name.split(".")[0]
                allowed = top in sys.stdlib_module_names or top in {"jcs", "__future__"} \
                    or name == "obra.errors" or name == "obra.law" or name.startswith("obra.law.")
                assert allowed, f"{module.name} imports {name}"
