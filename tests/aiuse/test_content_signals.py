"""Cloudflare Content Signals: read as the policy says (yes / no / absent neither grants nor
restricts), kept apart from AIPREF, placed per group or file-wide, and written so they read back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.aiuse.signals import aipref, content_signals
from obra.aiuse.signals.content_signals import read_line, read_robots, write_robots_rules
from obra.aiuse.signals.robots import crawl_rule, reading_for, write_robots_txt
from obra.aiuse.vocabulary import TOKENS, Permission, Reading, Use
from obra.errors import InvalidInput

FUZZ = 20 if os.environ.get("OBRA_LONG_TESTS") == "1" else 1
"""``make test-long`` runs the property and junk-input tests with twenty times the examples."""

MANAGED = (Path(__file__).parent / "data" / "robots" / "cloudflare-managed.robots.txt").read_text()
GEN, OTHER, INPUT, SEARCH = Use.AI_TRAIN_GENERATIVE, Use.AI_TRAIN_OTHER, Use.AI_INPUT, Use.SEARCH
Y, N, U = Reading.ALLOWED, Reading.NOT_ALLOWED, Reading.UNKNOWN


def readings(signals) -> dict[Use, Reading]:
    return {s.use: s.reading for s in signals}


def test_cloudflares_default_reserves_training_allows_search_and_says_nothing_of_input():
    got = readings(read_robots(MANAGED, "SomeCrawler", "/article"))
    assert got == {SEARCH: Y, INPUT: U, GEN: N, OTHER: N}


def test_the_managed_block_and_the_sites_own_star_group_merge():
    assert crawl_rule(MANAGED, "SomeCrawler", "/lp/offer").allowed is False     # the site's rule
    assert crawl_rule(MANAGED, "GPTBot", "/article").allowed is False           # the managed block
    # GPTBot's own group has no Content-Signal line and there is no file-wide one: no signals
    assert read_robots(MANAGED, "GPTBot", "/article") == []


def test_absent_signals_neither_grant_nor_restrict():
    signals = read_line("ai-train=no")
    absent = [s for s in signals if s.token != "ai-train"]
    assert absent and all(s.reading is U and "neither grants nor restricts" in s.rule for s in absent)


def test_ai_train_covers_every_training_where_aiprefs_train_ai_covers_generative_only():
    text = "User-agent: *\nContent-Usage: train-ai=n\nContent-Signal: ai-train=yes\n"
    cs = readings(read_robots(text, "bot", "/x"))
    ap = {s.use: s.reading for s in aipref.read_robots(text, "bot", "/x")}
    assert cs[GEN] is Y and cs[OTHER] is Y            # two sources, read separately...
    assert ap[GEN] is N and OTHER not in ap           # ...with different scopes
    assert {s.standard for s in read_robots(text, "bot", "/x")} == {content_signals.STANDARD}


@pytest.mark.parametrize("line, expected", [
    ("search=yes, ai-input=yes, ai-train=no", {SEARCH: Y, INPUT: Y, GEN: N, OTHER: N}),
    ("search=yes,ai-train=no", {SEARCH: Y, INPUT: U, GEN: N, OTHER: N}),
    ("AI-Train=No, Search=YES", {SEARCH: Y, INPUT: U, GEN: N, OTHER: N}),   # read case-insensitively
    ("ai-train=true, search=y, ai-input=", {SEARCH: U, INPUT: U, GEN: U, OTHER: U}),
    ("ai-train=yes, ai-train=no", {SEARCH: U, INPUT: U, GEN: N, OTHER: N}),  # a repeated key: any no
    ("use=immediate, train-ai=no", {SEARCH: U, INPUT: U, GEN: U, OTHER: U}),  # other keys ignored
])
def test_values_are_yes_or_no(line, expected):
    assert readings(read_line(line)) == expected


def test_a_group_line_replaces_the_file_wide_line():
    text = ("Content-Signal: ai-train=no, search=yes\n"
            "User-agent: NewsBot\nContent-Signal: ai-train=yes\nAllow: /\n"
            "User-agent: *\nAllow: /\n")
    assert readings(read_robots(text, "NewsBot", "/x"))[SEARCH] is U          # the group's line only
    assert readings(read_robots(text, "NewsBot", "/x"))[GEN] is Y
    assert readings(read_robots(text, "OtherBot", "/x"))[GEN] is N            # no line in *: file-wide


def test_a_path_scoped_line_supplies_the_whole_statement_for_its_paths():
    text = "User-agent: *\nContent-Signal: search=yes, ai-train=no\nContent-Signal: /open/ ai-train=yes\n"
    assert readings(read_robots(text, "bot", "/open/a")) == {SEARCH: U, INPUT: U, GEN: Y, OTHER: Y}
    closed = read_robots(text, "bot", "/closed/a")
    assert readings(closed)[GEN] is N and closed[0].scope is None
    assert "line 2" in closed[0].rule


def test_no_file_means_no_signals():
    assert read_robots(MANAGED, "bot", "/x", status=404) == []
    assert read_robots(None, "bot", "/x") == []


def test_the_writer_writes_yes_and_no_and_never_more_than_the_terms():
    terms = {SEARCH: Permission.ALLOWED, INPUT: Permission.ALLOWED, GEN: Permission.NOT_ALLOWED,
             OTHER: Permission.ALLOWED}
    assert write_robots_rules(terms) == ["Content-Signal: search=yes, ai-input=yes, ai-train=no"]
    assert write_robots_rules(terms, "/blog/") == ["Content-Signal: /blog/ search=yes, ai-input=yes, ai-train=no"]
    assert write_robots_rules({GEN: Permission.ALLOWED}) == []      # ai-train needs both kinds allowed
    with pytest.raises(InvalidInput):
        write_robots_rules(terms, "blog")


_TERMS = st.dictionaries(st.sampled_from(list(Use)), st.sampled_from(list(Permission)))


@settings(max_examples=100 * FUZZ, deadline=None)
@given(_TERMS, st.sampled_from([None, "/", "/works/"]))
def test_round_trip_through_a_written_robots_txt(terms, path):
    text = write_robots_txt(terms, rules=aipref.write_robots_rules(terms) + write_robots_rules(terms, path))
    got = readings(read_robots(text, "AnyCrawler", (path or "/") + "x"))
    for token, uses in TOKENS["content-signals"].items():
        for use in uses:
            assert got.get(use, U) is reading_for(uses, terms), (token, terms)


@settings(max_examples=200 * FUZZ, deadline=None)
@given(st.text(max_size=100), st.text(max_size=20))
def test_junk_never_raises(text, path):
    read_line(text)
    for s in read_robots("User-agent: *\nContent-Signal: " + text, "bot", path):
        assert s.reading in (Y, N, U)
