"""IETF AIPREF: the Content-Usage header and robots.txt rule, read as draft-ietf-aipref-vocab-08 and
-attach-05 say (their own examples first), the RFC 9651 Dictionary cases of the HTTP WG's suite,
and the writer read back by the reader."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import http_sf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.aiuse.signals import aipref
from obra.aiuse.signals.aipref import (
    combine, read, read_header, read_robots, read_statement, write_header, write_robots_rules,
)
from obra.aiuse.signals.robots import reading_for, write_robots_txt
from obra.aiuse.vocabulary import TOKENS, Permission, Reading, Use
from obra.errors import InvalidInput

FUZZ = 20 if os.environ.get("OBRA_LONG_TESTS") == "1" else 1
"""``make test-long`` runs the property and junk-input tests with twenty times the examples."""

DATA = Path(__file__).parent / "data"
ATTACH_EXAMPLE = (DATA / "aipref" / "attach-05-example.robots.txt").read_text()
GEN, OTHER, INPUT, SEARCH = Use.AI_TRAIN_GENERATIVE, Use.AI_TRAIN_OTHER, Use.AI_INPUT, Use.SEARCH
Y, N, U = Reading.ALLOWED, Reading.NOT_ALLOWED, Reading.UNKNOWN


def readings(signals) -> dict[Use, Reading]:
    """Per use, the combined reading (what the statements say together)."""
    return {s.use: s.reading for s in combine(signals)}


# -- the vocabulary draft's own examples ------------------------------------------------------------

def test_vocab_example_allows_training_and_disallows_search():
    assert readings(read_header("train-ai=y, search=n")) == {GEN: Y, INPUT: U, SEARCH: N}


def test_vocab_example_duplicate_keys_leave_every_category_unknown():
    signals = read_header('train-ai=y, train-ai, search=n, search="n"')
    assert readings(signals) == {GEN: U, INPUT: U, SEARCH: U}
    rules = {s.use: s.rule for s in signals}
    assert "Boolean true" in rules[GEN] and 'String "n"' in rules[SEARCH]


def test_vocab_example_only_the_selected_values_parameters_apply():
    assert readings(read_header("train-ai;allow=n, train-ai=y")) == {GEN: Y, INPUT: U, SEARCH: U}


def test_vocab_example_parameters_on_an_unknown_preference():
    # 'train-ai;has;parameters="?";' — the trailing ";" does not parse (RFC 9651 §4.2.3.2): unknown
    assert readings(read_header('train-ai;has;parameters="?";')) == {GEN: U, INPUT: U, SEARCH: U}


def test_an_uppercase_key_voids_the_whole_field():
    signals = read_header("train-ai=n, Search=y")
    assert readings(signals) == {GEN: U, INPUT: U, SEARCH: U}
    assert all("does not parse as an RFC 9651 Dictionary" in s.rule for s in signals)


@pytest.mark.parametrize("value", ["train-ai=yes", 'train-ai="n"', "train-ai", "train-ai=?0", "train-ai=1",
                                   "train-ai=(n)", "train-ai=N", "train-ai=:bg==:", "other=n"])
def test_only_the_tokens_y_and_n_count(value):
    assert readings(read_header(value))[GEN] is U


def test_unknown_labels_are_ignored_and_the_last_duplicate_wins():
    assert readings(read_header("foo=n, train-ai=n, bar;x=1"))[GEN] is N
    assert readings(read_header("train-ai=n, train-ai=y"))[GEN] is Y


def test_train_ai_is_generative_training_only():
    signals = read_header("train-ai=n")
    assert {s.use for s in signals} == {GEN, INPUT, SEARCH}   # nothing about non-generative training
    assert all(s.token in TOKENS["aipref"] and s.standard == "aipref" for s in signals)


def test_field_lines_are_joined_as_rfc_9651_says():
    assert readings(read_header(["train-ai=y", "search=n"])) == {GEN: Y, INPUT: U, SEARCH: N}
    assert read_header(None) == [] and read_header([]) == []


# -- older labels, read through the documented mapping ----------------------------------------------

@pytest.mark.parametrize("value, draft, uses", [
    ("ai=n", "vocab-01", {GEN, OTHER}),
    ("genai=n", "vocab-01", {GEN}),
    ("train-genai=n", "vocab-02/-03", {GEN}),
    ("tdm=n", "vocab-01", {Use.TDM, GEN, OTHER}),
    ("inference=n", "vocab-01", {Use.AI_INPUT}),
])
def test_legacy_labels_are_read_through_the_mapping_and_marked(value, draft, uses):
    legacy = [s for s in read_header(value) if s.extra.get("legacy")]
    assert {s.use for s in legacy} == uses
    assert all(s.reading is N and s.extra["legacy"] == draft and "legacy label" in s.rule for s in legacy)


def test_a_current_label_is_never_marked_legacy_and_the_writer_writes_none():
    assert not any(s.extra.get("legacy") for s in read_header("train-ai=n, ai-use=n, search=y"))
    value = write_header({u: Permission.NOT_ALLOWED for u in Use})
    assert value == "train-ai=n, ai-use=n, search=n"


def test_ai_use_is_a_current_label_since_vocab_08():
    # vocab-02 had an "ai-use" too; vocab-08 brings it back as input to a generative model
    signals = [s for s in read_header("ai-use=n") if s.use is INPUT]
    assert signals[0].reading is N and "legacy" not in signals[0].rule and not signals[0].extra


# -- RFC 9651 Dictionary cases (httpwg/structured-field-tests, dictionary.json) ----------------------

SF_CASES = json.loads((DATA / "sf" / "dictionary.json").read_text())


def _as_json(value):
    if isinstance(value, http_sf.Token):
        return {"__type": "token", "value": str(value)}
    if isinstance(value, bytes):
        import base64
        return {"__type": "binary", "value": base64.b32encode(value).decode()}
    if isinstance(value, list):
        return [[_as_json(v), p] for v, p in value]
    return value


@pytest.mark.parametrize("case", SF_CASES, ids=[c["name"] for c in SF_CASES])
def test_the_parser_passes_the_http_wg_dictionary_cases(case):
    raw = ", ".join(case["raw"]).encode()
    if case.get("must_fail"):
        with pytest.raises(ValueError):
            http_sf.parse(raw, tltype="dictionary")
        return
    parsed = http_sf.parse(raw, tltype="dictionary")
    assert {k: [_as_json(v), p] for k, (v, p) in parsed.items()} == case["expected"]


@pytest.mark.parametrize("case", SF_CASES, ids=[c["name"] for c in SF_CASES])
def test_one_bad_member_anywhere_makes_the_preference_unknown(case):
    """The same cases behind a real preference: a field that must fail voids train-ai=n with it."""
    value = ", ".join(["train-ai=n"] + [r for r in case["raw"] if r])
    expected = U if case.get("must_fail") else N
    assert readings(read_header(value))[GEN] is expected


# -- the attachment draft's robots.txt example --------------------------------------------------------

@pytest.mark.parametrize("agent, path, expected", [
    ("SomeBot", "/test", N),                 # the draft's table: train-ai=n
    ("SomeBot", "/ai-ok/test", Y),           # train-ai=y
    ("SomeBot", "/never/test", U),           # not crawlable: N/A
    ("ExampleBot", "/test", Y),              # ExampleBot uses its own group
    ("ExampleBot", "/never/test", Y),
])
def test_attach_05_example(agent, path, expected):
    assert readings(read_robots(ATTACH_EXAMPLE, agent, path))[GEN] is expected


def test_a_path_that_may_not_be_crawled_carries_no_preference_and_says_why():
    signals = read_robots(ATTACH_EXAMPLE, "SomeBot", "https://example.com/never/test")
    assert signals and all(s.reading is U and "may not be crawled" in s.rule for s in signals)


def test_attach_05_introduction_example_with_a_path():
    text = "User-Agent: *\nAllow: /\nContent-Usage: / train-ai=n\n"
    signals = read_robots(text, "bot", "/anything")
    assert readings(signals)[GEN] is N and signals[0].scope == "/" and signals[0].source == aipref.ROBOTS


def test_the_longest_path_supplies_the_whole_statement_no_merging_per_label():
    text = "User-agent: *\nContent-Usage: train-ai=n, search=y\nContent-Usage: /docs/ search=n\n"
    assert readings(read_robots(text, "bot", "/docs/a")) == {GEN: U, INPUT: U, SEARCH: N}   # not train-ai=n
    assert readings(read_robots(text, "bot", "/blog/a")) == {GEN: N, INPUT: U, SEARCH: Y}


def test_identical_paths_with_conflicting_values_take_the_most_restrictive():
    text = "User-agent: *\nContent-Usage: /a/ train-ai=y, search=y\nContent-Usage: /a/ train-ai=n\n"
    signals = read_robots(text, "bot", "/a/x")
    assert readings(signals) == {GEN: N, INPUT: U, SEARCH: Y}
    decided = next(s for s in signals if s.use is GEN)
    assert "any disallow wins" in decided.rule and decided.extra["overruled"][0]["reading"] == "allowed"


def test_the_rule_value_ends_at_a_hash_and_path_encoding_is_normalised():
    text = "User-agent: *\nContent-Usage: /caf%C3%A9/ train-ai=n # not for training\n"
    assert readings(read_robots(text, "bot", "/café/menu"))[GEN] is N


def test_a_path_without_a_statement_and_rules_outside_groups_say_nothing():
    assert readings(read_robots("User-agent: *\nContent-Usage: /only-a-path\n", "bot", "/only-a-path"))[GEN] is U
    assert read_robots("Content-Usage: train-ai=n\nUser-agent: *\nAllow: /\n", "bot", "/x") == []


def test_a_content_usage_rule_ends_a_run_of_user_agent_lines_as_allow_and_disallow_do():
    text = "User-agent: a\nContent-Usage: train-ai=n\nUser-agent: b\nContent-Usage: train-ai=y\n"
    assert readings(read_robots(text, "a", "/x"))[GEN] is N
    assert readings(read_robots(text, "b", "/x"))[GEN] is Y


def test_no_robots_file_means_no_statement():
    assert read_robots(ATTACH_EXAMPLE, "bot", "/test", status=404) == []
    assert read_robots(ATTACH_EXAMPLE, "bot", "/test", status=503) == []
    assert read_robots(None, "bot", "/test") == []


# -- the header and robots.txt are two statements, combined --------------------------------------------

@pytest.mark.parametrize("header, rule, expected", [
    ("train-ai=y", "train-ai=n", N),
    ("train-ai=n", "train-ai=y", N),
    ("train-ai=y", None, Y),
    ("Train-ai=n", "train-ai=y", Y),         # the header does not parse: unknown, robots.txt decides
    (None, None, None),
])
def test_header_and_robots_combine_disallow_wins(header, rule, expected):
    text = f"User-agent: *\nContent-Usage: {rule}\n" if rule else None
    got = readings(read(header=header, robots_txt=text, agent="bot", path="/x"))
    assert got.get(GEN) is expected


# -- writer and round trips ------------------------------------------------------------------------------

def test_the_writer_writes_the_spec_syntax():
    terms = {GEN: Permission.LICENCE, OTHER: Permission.ALLOWED, SEARCH: Permission.ALLOWED}
    assert write_header(terms) == "train-ai=n, search=y"
    assert write_robots_rules(terms) == ["Content-Usage: train-ai=n, search=y"]
    assert write_robots_rules(terms, "/my works/") == ["Content-Usage: /my%20works/ train-ai=n, search=y"]
    assert write_header({OTHER: Permission.NOT_ALLOWED}) is None          # AIPREF cannot say that
    with pytest.raises(InvalidInput):
        write_robots_rules(terms, "works/")


_TERMS = st.dictionaries(st.sampled_from(list(Use)), st.sampled_from(list(Permission)))


@settings(max_examples=150 * FUZZ, deadline=None)
@given(_TERMS)
def test_header_round_trip_gives_the_terms_for_every_label(terms):
    got = readings(read_header(write_header(terms)))
    for label, uses in TOKENS["aipref"].items():
        for use in uses:
            assert got.get(use, U) is reading_for(uses, terms), (label, terms)


@settings(max_examples=60 * FUZZ, deadline=None)
@given(_TERMS, st.sampled_from([None, "/", "/works/", "/a b/ü"]))
def test_robots_round_trip_through_a_written_robots_txt(terms, path):
    text = write_robots_txt(terms, rules=write_robots_rules(terms, path))
    probe = (path or "/") + "item-1"
    got = readings(read_robots(text, "SomeSearchBot", probe))
    for label, uses in TOKENS["aipref"].items():
        for use in uses:
            assert got.get(use, U) is reading_for(uses, terms)


@settings(max_examples=300 * FUZZ, deadline=None)
@given(st.text(max_size=80))
def test_junk_headers_never_raise(value):
    signals = read_header(value)
    assert {s.use for s in signals} >= {GEN, INPUT, SEARCH}


@settings(max_examples=100 * FUZZ, deadline=None)
@given(st.lists(st.sampled_from(list("Content-Usage:/ \t\n#=yn,;\"ai*$%UA\r\x00é")
                                + ["User-agent: *\n", "Content-Usage: ", "train-ai", "Disallow: "]),
                max_size=60).map("".join), st.text(max_size=20))
def test_junk_robots_never_raise(text, path):
    for s in read_robots(text, "bot", path):
        assert s.reading in (Y, N, U)


def test_each_distinct_value_is_parsed_once():
    aipref._read_cached.cache_clear()
    values = [f"train-ai={'yn'[i % 2]}, search=y, x{i % 50}=1" for i in range(100_000)]
    start = time.perf_counter()
    for value in values:
        read_statement(value)
    elapsed = time.perf_counter() - start
    info = aipref._read_cached.cache_info()
    assert info.misses == 50 and info.hits == 100_000 - 50
    assert elapsed < 5, f"{len(values) / elapsed:.0f} headers/s"
