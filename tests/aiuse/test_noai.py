"""noai / noimageai: a convention, read as one (every signal says so), in X-Robots-Tag with Google's
agent syntax and in meta robots; junk HTML never raises; the writer reserves and reads back."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.aiuse.signals.noai import read_meta, read_x_robots_tag, write_meta, write_x_robots_tag
from obra.aiuse.vocabulary import TRAINING, Permission, Reading, Use

FUZZ = 20 if os.environ.get("OBRA_LONG_TESTS") == "1" else 1
"""``make test-long`` runs the property and junk-input tests with twenty times the examples."""


def uses(signals) -> set[Use]:
    return {s.use for s in signals}


def test_noai_reserves_training_and_is_recorded_as_a_convention():
    signals = read_x_robots_tag("noai")
    assert uses(signals) == set(TRAINING) and all(s.reading is Reading.NOT_ALLOWED for s in signals)
    assert all("DeviantArt convention" in s.rule and "not a standard" in s.rule for s in signals)
    assert all(s.extra["convention"] == "DeviantArt 2022" and s.standard == "noai" for s in signals)


def test_noimageai_is_for_images_only():
    signals = read_x_robots_tag("noimageai")
    assert uses(signals) == set(TRAINING)
    assert all(s.extra["media"] == "image" and "images only" in s.rule for s in signals)


def test_directives_are_case_insensitive_and_others_are_not_read_as_ai():
    assert uses(read_x_robots_tag("NoIndex, NOAI")) == set(TRAINING)
    assert read_x_robots_tag("noindex, nofollow, noarchive") == []
    assert read_x_robots_tag(None) == [] and read_x_robots_tag("") == []


@pytest.mark.parametrize("value, agent, applies", [
    ("googlebot: noai", "GPTBot", False),          # scoped to another crawler
    ("googlebot: noai", "Googlebot", True),
    ("GPTBot: noindex, noai", "gptbot", True),     # the scope runs over the list that follows
    ("noai", "GPTBot", True),                      # unscoped: every crawler
    ("unavailable_after: 25 Jun 2010 15:00:00 PST, noai", "GPTBot", True),   # not an agent name
    ("googlebot: noai", None, True),               # no agent asked: every directive, with its scope
])
def test_agent_scoped_directives_follow_googles_syntax(value, agent, applies):
    assert bool(read_x_robots_tag(value, agent)) is applies


def test_a_scoped_directive_carries_its_scope_and_several_field_lines_are_read():
    signals = read_x_robots_tag(["googlebot: noimageai", "otherbot: noai"])
    assert {s.scope for s in signals} == {"user-agent googlebot", "user-agent otherbot"}
    assert read_x_robots_tag(["googlebot: noimageai", "otherbot: noai"], "otherbot")[0].token == "noai"


def test_meta_robots_and_crawler_named_metas():
    html = ('<html><head><meta name="robots" content="noindex, noai">'
            '<META NAME="GPTBot" CONTENT="noimageai"><meta name="description" content="noai">'
            '</head><body>noai</body></html>')
    signals = read_meta(html)
    assert {(s.token, s.scope) for s in signals} == {("noai", None), ("noimageai", "user-agent GPTBot")}
    assert {s.token for s in read_meta(html, "ClaudeBot")} == {"noai"}
    assert all(s.source == "HTML meta robots" for s in signals)


@settings(max_examples=300 * FUZZ, deadline=None)
@given(st.text(max_size=200))
def test_junk_html_and_headers_never_raise(text):
    read_meta(text)
    read_meta("<meta name=robots content='noai'>" + text)
    read_x_robots_tag(text, "bot")


@pytest.mark.parametrize("html", ["<![if !IE]>", "<!DOCTYPE", "<meta name=robots content=noai", "<![CDATA[x",
                                  "</", "<!--", "<meta name='robots' content=\"noai\"/><![bogus"])
def test_malformed_html_is_read_as_far_as_it_goes(html):
    read_meta(html)


@settings(max_examples=60 * FUZZ, deadline=None)
@given(st.dictionaries(st.sampled_from(list(Use)), st.sampled_from(list(Permission))))
def test_writer_round_trip(terms):
    reserved = any(terms.get(u) in (Permission.NOT_ALLOWED, Permission.LICENCE) for u in TRAINING)
    header, meta = write_x_robots_tag(terms), write_meta(terms)
    if not reserved:
        assert header is None and meta is None         # the convention cannot say "allowed"
        return
    assert header == "noai, noimageai"
    for signals in (read_x_robots_tag(header), read_meta(meta)):
        assert uses(signals) == set(TRAINING)
        assert all(s.reading is Reading.NOT_ALLOWED for s in signals)
