"""robots.txt for AI crawlers (RFC 9309): the RFC's examples, google/robotstxt's cases, the fetch
status rules, the maintained crawler list, and the writer read back by the reader."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.aiuse.signals import robots
from obra.aiuse.signals.paths import match_length
from obra.aiuse.signals.robots import (
    CrawlRule, ai_crawl_rules, ai_crawlers, crawl_rule, crawler_uses, crawlers_to_block, parse,
    product_token, reading_for, write_robots_txt,
)
from obra.aiuse.vocabulary import AI_USES, TRAINING, Permission, Reading, Use

FUZZ = 20 if os.environ.get("OBRA_LONG_TESTS") == "1" else 1
"""``make test-long`` runs the property and junk-input tests with twenty times the examples."""

DATA = Path(__file__).parent / "data" / "robots"
RFC_5_1 = (DATA / "rfc9309-5.1.robots.txt").read_text()


# -- RFC 9309's own examples -----------------------------------------------------------------------

@pytest.mark.parametrize("agent, path, allowed", [
    ("foobot", "/example/page.html", True),       # foobot: only two URLs
    ("foobot", "/example/allowed.gif", True),
    ("foobot", "/example/other.html", False),
    ("foobot", "/publications/", False),
    ("barbot", "/example/page.html", False),      # barbot and bazbot share a group
    ("bazbot", "/example/page.html", False),
    ("bazbot", "/example/other.html", True),
    ("quxbot", "/example/page.html", True),       # an empty group: unrestricted
    ("otherbot", "/publications/paper", True),    # the * group
    ("otherbot", "/example/x", False),
    ("otherbot", "/images/a.gif", False),         # "*" matches "/" too
])
def test_rfc_9309_section_5_1_example(agent, path, allowed):
    assert crawl_rule(RFC_5_1, agent, path).allowed is allowed


def test_rfc_9309_section_5_2_longest_match_is_used():
    text = "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n"
    rule = crawl_rule(text, "foobot", "/example/page/disallowed.gif")
    assert not rule.allowed and rule.line == 3


def test_the_publications_gif_case_is_decided_by_octets_not_order():
    # "/publications/a.gif": Allow /publications/ (14 octets) beats Disallow *.gif$ (6 octets)
    rule = crawl_rule(RFC_5_1, "otherbot", "/publications/a.gif")
    assert rule.allowed is True and "Allow: /publications/" in rule.rule


# -- translated from google/robotstxt robots_test.cc (Apache-2.0, Copyright 2019 Google LLC; see
#    tests/aiuse/data/robots/LICENSE-google-robotstxt) ----------------------------------------------

GOOGLE_GROUPS = ("allow: /foo/bar/\n\nuser-agent: FooBot\ndisallow: /\nallow: /x/\nuser-agent: BarBot\n"
                 "disallow: /\nallow: /y/\n\n\nallow: /w/\nuser-agent: BazBot\n\nuser-agent: FooBot\n"
                 "allow: /z/\ndisallow: /\n")


@pytest.mark.parametrize("text, agent, url, allowed", [
    # ID_LineSyntax_Line (a missing colon is read as meant for the REP fields)
    ("user-agent: FooBot\ndisallow: /\n", "FooBot", "http://foo.bar/x/y", False),
    ("foo: FooBot\nbar: /\n", "FooBot", "http://foo.bar/x/y", True),
    ("user-agent FooBot\ndisallow /\n", "FooBot", "http://foo.bar/x/y", False),
    # ID_LineSyntax_Groups
    (GOOGLE_GROUPS, "FooBot", "http://foo.bar/x/b", True),
    (GOOGLE_GROUPS, "FooBot", "http://foo.bar/z/d", True),
    (GOOGLE_GROUPS, "FooBot", "http://foo.bar/y/c", False),
    (GOOGLE_GROUPS, "BarBot", "http://foo.bar/y/c", True),
    (GOOGLE_GROUPS, "BarBot", "http://foo.bar/w/a", True),
    (GOOGLE_GROUPS, "BarBot", "http://foo.bar/z/d", False),
    (GOOGLE_GROUPS, "BazBot", "http://foo.bar/z/d", True),
    (GOOGLE_GROUPS, "FooBot", "http://foo.bar/foo/bar/", False),   # rules outside groups ignored
    (GOOGLE_GROUPS, "BazBot", "http://foo.bar/foo/bar/", False),
    # ID_LineSyntax_Groups_OtherRules: other records do not close a group
    ("User-agent: BarBot\nSitemap: https://foo.bar/sitemap\nUser-agent: *\nDisallow: /\n",
     "BarBot", "http://foo.bar/", False),
    ("User-agent: FooBot\nInvalid-Unknown-Line: unknown\nUser-agent: *\nDisallow: /\n",
     "FooBot", "http://foo.bar/", False),
    # ID_REPLineNamesCaseInsensitive, ID_UserAgentValueCaseInsensitive
    ("uSeR-aGeNt: FooBot\nAlLoW: /x/\ndIsAlLoW: /\n", "FooBot", "http://foo.bar/x/y", True),
    ("uSeR-aGeNt: FooBot\nAlLoW: /x/\ndIsAlLoW: /\n", "FooBot", "http://foo.bar/a/b", False),
    ("User-Agent: FOO BAR\nAllow: /x/\nDisallow: /\n", "foo", "http://foo.bar/x/y", True),
    ("User-Agent: FoO bAr\nAllow: /x/\nDisallow: /\n", "Foo", "http://foo.bar/a/b", False),
    # ID_GlobalGroups_Secondary
    ("", "FooBot", "http://foo.bar/x/y", True),
    ("user-agent: *\nallow: /\nuser-agent: FooBot\ndisallow: /\n", "FooBot", "http://foo.bar/x/y", False),
    ("user-agent: *\nallow: /\nuser-agent: FooBot\ndisallow: /\n", "BarBot", "http://foo.bar/x/y", True),
    ("user-agent: FooBot\nallow: /\nuser-agent: BarBot\ndisallow: /\n", "QuxBot", "http://foo.bar/x/y", True),
    # ID_AllowDisallow_Value_CaseSensitive
    ("user-agent: FooBot\ndisallow: /x/\n", "FooBot", "http://foo.bar/x/y", False),
    ("user-agent: FooBot\ndisallow: /X/\n", "FooBot", "http://foo.bar/x/y", True),
    # ID_LongestMatch
    ("user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/\n", "FooBot", "http://foo.bar/x/page.html", False),
    ("user-agent: FooBot\nallow: /x/page.html\ndisallow: /x/\n", "FooBot", "http://foo.bar/x/page.html", True),
    ("user-agent: FooBot\nallow: /x/page.html\ndisallow: /x/\n", "FooBot", "http://foo.bar/x/", False),
    ("user-agent: FooBot\ndisallow: \nallow: \n", "FooBot", "http://foo.bar/x/page.html", True),
    ("user-agent: FooBot\ndisallow: /\nallow: /\n", "FooBot", "http://foo.bar/x/page.html", True),
    ("user-agent: FooBot\ndisallow: /x\nallow: /x/\n", "FooBot", "http://foo.bar/x", False),
    ("user-agent: FooBot\ndisallow: /x\nallow: /x/\n", "FooBot", "http://foo.bar/x/", True),
    ("user-agent: FooBot\nallow: /page\ndisallow: /*.html\n", "FooBot", "http://foo.bar/page.html", False),
    ("user-agent: FooBot\nallow: /page\ndisallow: /*.html\n", "FooBot", "http://foo.bar/page", True),
    ("User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n", "FooBot", "http://foo.bar/x/page", True),
    ("User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n", "FooBot", "http://foo.bar/y/page", False),
    # ID_SpecialCharacters
    ("User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n", "FooBot", "http://foo.bar/foo/bar/quz", False),
    ("User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n", "FooBot", "http://foo.bar/foo//quz", True),
    ("User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n", "FooBot", "http://foo.bar/foo/bar", False),
    ("User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n", "FooBot", "http://foo.bar/foo/bar/", True),
    ("User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n", "FooBot", "http://foo.bar/foo/bar", True),
    ("User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n", "FooBot", "http://foo.bar/foo/quz", False),
    # GoogleOnly_DocumentationChecks (a few)
    ("user-agent: FooBot\ndisallow: /\nallow: /fish\n", "FooBot", "http://foo.bar/fish.html?id=anything", True),
    ("user-agent: FooBot\ndisallow: /\nallow: /fish\n", "FooBot", "http://foo.bar/Fish.asp", False),
    ("user-agent: FooBot\ndisallow: /\nallow: /fish\n", "FooBot", "http://foo.bar/?id=fish", False),
    ("user-agent: FooBot\ndisallow: /\nallow: /*.php$\n", "FooBot", "http://foo.bar/folder/filename.php", True),
    ("user-agent: FooBot\ndisallow: /\nallow: /*.php$\n", "FooBot", "http://foo.bar/filename.php?parameters", False),
    ("user-agent: FooBot\nallow: /$\ndisallow: /\n", "FooBot", "http://example.com/", True),
    ("user-agent: FooBot\nallow: /$\ndisallow: /\n", "FooBot", "http://example.com/page.html", False),
    # ID_Encoding, where RFC 9309 and Google part: the RFC has both sides normalised, so a raw
    # UTF-8 URL matches an encoded rule (Google expects the caller to have encoded the URL).
    ("User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%E3%83%84\n", "FooBot", "http://foo.bar/foo/bar/%E3%83%84", True),
    ("User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/ツ\n", "FooBot", "http://foo.bar/foo/bar/%E3%83%84", True),
    ("User-agent: FooBot\nDisallow: /\nAllow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n", "FooBot",
     "http://foo.bar/foo/bar?qux=taz&baz=http://foo.bar?tar&par", True),
])
def test_google_robotstxt_cases(text, agent, url, allowed):
    assert crawl_rule(text, agent, url).allowed is allowed


def test_lines_end_at_cr_lf_or_crlf():
    for eol in ("\n", "\r\n", "\r"):
        text = eol.join(["User-Agent: foo", "Allow: /some/path", "User-Agent: bar", "", "", "Disallow: /"])
        assert crawl_rule(text, "bar", "/x").allowed is False
        assert crawl_rule(text, "bar", "/x").line == 6
        assert crawl_rule(text, "foo", "/x").allowed is True


# -- fetch status (RFC 9309 §2.3.1) ---------------------------------------------------------------

@pytest.mark.parametrize("status, allowed", [
    (404, True), (410, True), (401, True), (403, True),    # "unavailable": anything may be crawled
    (500, False), (503, False), (None, False),            # "unreachable": complete disallow
    (301, True),                                          # redirects past the limit: unavailable
])
def test_the_fetch_status_decides_before_the_text(status, allowed):
    rule = crawl_rule("User-agent: *\nAllow: /\nDisallow: /private/", "GPTBot", "/private/x", status=status)
    assert rule.allowed is allowed and rule.status == status
    assert ("§2.3.1.3" if allowed else "§2.3.1.4") in rule.rule


def test_robots_txt_itself_is_always_allowed_even_when_everything_is_disallowed():
    assert crawl_rule("User-agent: *\nDisallow: /", "GPTBot", "https://a.example/robots.txt").allowed
    assert crawl_rule(None, "GPTBot", "/robots.txt", status=503).allowed


# -- a crawl block is recorded as what it is ------------------------------------------------------

def test_a_disallow_is_a_crawl_rule_for_the_agent_not_a_usage_reading():
    rule = crawl_rule("User-agent: GPTBot\nDisallow: /\n", "GPTBot", "/article")
    assert isinstance(rule, CrawlRule) and rule.allowed is False
    assert "crawl-disallowed for agent GPTBot" in rule.rule and rule.group == "GPTBot"
    out = rule.to_json()
    assert out["reading"] == "crawl-disallowed" and "use" not in out


def test_groups_are_chosen_by_product_token_case_insensitively():
    text = "User-agent: Googlebot/2.1\nDisallow: /g/\nUser-agent: *\nDisallow: /\n"
    assert product_token("Googlebot/2.1") == "googlebot" and product_token(" * ") == "*"
    assert crawl_rule(text, "GOOGLEBOT", "/a").allowed is True
    assert crawl_rule(text, "googlebot", "/g/a").allowed is False
    assert crawl_rule(text, "Googlebot-Image", "/a").allowed is False    # not a prefix match


def test_only_the_first_500_kib_are_parsed():
    padding = "# " + "x" * 1000 + "\n"
    text = "User-agent: *\nAllow: /\n" + padding * 520 + "Disallow: /late/\n"
    assert parse(text).truncated
    assert crawl_rule(text, "a", "/late/x").allowed is True


@settings(max_examples=200 * FUZZ, deadline=None)
@given(st.text(max_size=300), st.text(max_size=30), st.text(max_size=40))
def test_junk_never_raises(text, agent, path):
    rule = crawl_rule(text, agent, path)
    assert isinstance(rule.allowed, bool) and rule.rule


# -- protego (the decision) and obra.aiuse.signals.paths (the reason) agree ------------------------

# Patterns and paths of the characters that matter, with well-formed escapes only (a stray "%" in a
# pattern is malformed: protego then matches it against any escape, and the reason says protego
# decided; see test_a_stray_percent_in_a_pattern_is_decided_by_protego).
_PIECES = ["/", "a", "b", ".", "*", "$", "%2F", "%61", "é"]
_PATTERN = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=5).map(lambda s: "/" + "".join(s))


@settings(max_examples=300 * FUZZ, deadline=None)
@given(st.lists(st.tuples(st.booleans(), _PATTERN), max_size=6),
       st.lists(st.sampled_from([p for p in _PIECES if p != "$"]), max_size=6).map("".join))
def test_protego_and_the_shared_matcher_agree_on_longest_match(rules, tail):
    text = "User-agent: *\n" + "".join(f"{'Allow' if a else 'Disallow'}: {p}\n" for a, p in rules)
    path = "/" + tail
    lengths = {True: -1, False: -1}
    for is_allow, pattern in rules:
        n = match_length(pattern, path)
        if n is not None:
            lengths[is_allow] = max(lengths[is_allow], n)
    expected = lengths[True] >= lengths[False]
    rule = crawl_rule(text, "bot", path)
    assert rule.allowed is expected, rule


def test_a_stray_percent_in_a_pattern_is_decided_by_protego():
    rule = crawl_rule("User-agent: *\nDisallow: /%\n", "bot", "/*")
    assert rule.allowed is False and "protego" in rule.rule and rule.line is None


def test_a_literal_dollar_in_a_path_meets_protegos_double_reading_of_a_final_dollar():
    # protego reads "Disallow: /a$" both as anchored and as the literal "/a$" (so "/a$b" is
    # disallowed); RFC 9309's letter has only the anchor. protego decides, and says so.
    rule = crawl_rule("User-agent: *\nDisallow: /a$\n", "bot", "/a$b")
    assert rule.allowed is False and "protego" in rule.rule
    assert crawl_rule("User-agent: *\nDisallow: /a$\n", "bot", "/ab").allowed is True


# -- the maintained AI crawler list -----------------------------------------------------------------

def test_the_crawler_list_is_packaged_with_its_licence():
    import obra.aiuse
    root = Path(obra.aiuse.__file__).parent / "data"
    assert "MIT License" in (root / "LICENSE").read_text()
    raw = json.loads((root / "aibots.json").read_text())
    crawlers = ai_crawlers()
    assert len(crawlers) == len(raw) >= 100
    assert all(c.uses and c.uses <= set(AI_USES) for c in crawlers.values())


@pytest.mark.parametrize("token, serves", [
    ("GPTBot", set(TRAINING)), ("CCBot", set(TRAINING)), ("ClaudeBot", set(TRAINING)),
    ("ChatGPT-User", {Use.AI_INPUT}), ("OAI-SearchBot", {Use.AI_INPUT}),
    ("Amzn-SearchBot", {Use.AI_INPUT, Use.AI_INDEX}),        # "AI Search Crawlers"
    ("Claude-Web", set(AI_USES)),                          # "Undocumented AI Agents": every AI use
])
def test_crawlers_serve_the_uses_their_function_says(token, serves):
    assert ai_crawlers()[token].uses == serves


def test_a_crawler_whose_function_says_nothing_is_read_as_every_ai_use():
    uses, why = crawler_uses("Unclear at this time.")
    assert uses == set(AI_USES) and "does not say" in why


def test_ai_crawl_rules_gives_one_rule_per_listed_crawler():
    rules = ai_crawl_rules("User-agent: GPTBot\nDisallow: /\n", "/a")
    assert len(rules) == len(ai_crawlers())
    assert [r.agent for r in rules if not r.allowed] == ["GPTBot"]


# -- writer -----------------------------------------------------------------------------------------

def _terms(**kw):
    return {Use(k.replace("_", "-")): v for k, v in kw.items()}


def test_a_training_reservation_blocks_training_crawlers_and_lets_assistants_in():
    terms = _terms(ai_train_generative=Permission.NOT_ALLOWED, ai_train_other=Permission.LICENCE,
                   ai_input=Permission.ALLOWED, search=Permission.ALLOWED)
    text = write_robots_txt(terms, rules=["Content-Usage: train-ai=n, search=y"])
    assert crawl_rule(text, "GPTBot", "/a").allowed is False
    assert crawl_rule(text, "ChatGPT-User", "/a").allowed is True
    assert crawl_rule(text, "Googlebot", "/a").allowed is True
    assert parse(text).records_for("Googlebot", "content-usage")[0].value == "train-ai=n, search=y"


def test_an_input_reservation_blocks_assistants_and_nothing_reserved_blocks_nobody():
    text = write_robots_txt(_terms(ai_input=Permission.NOT_ALLOWED))
    assert crawl_rule(text, "ChatGPT-User", "/a").allowed is False
    assert crawl_rule(text, "GPTBot", "/a").allowed is True
    assert "Disallow" not in write_robots_txt(_terms(ai_input=Permission.ALLOWED))


@settings(max_examples=40 * FUZZ, deadline=None)
@given(st.dictionaries(st.sampled_from(list(Use)), st.sampled_from(list(Permission))))
def test_every_listed_crawler_is_blocked_exactly_when_it_serves_a_reserved_use(terms):
    text = write_robots_txt(terms)
    reserved = {u for u in AI_USES if terms.get(u) in (Permission.NOT_ALLOWED, Permission.LICENCE)}
    blocked = {c.token for c in crawlers_to_block(terms)}
    for crawler in ai_crawlers().values():
        assert (crawler.token in blocked) is bool(crawler.uses & reserved)
    # read back: a blocked crawler may not crawl; one that is not blocked may, unless its product
    # token is shared with a blocked one ("ChatGPT Agent" is read as "chatgpt")
    blocked_tokens = {product_token(t) for t in blocked}
    for crawler in ai_crawlers().values():
        expected = product_token(crawler.token) not in blocked_tokens
        assert crawl_rule(text, crawler.token, "/work/1").allowed is expected, crawler.token


def test_reading_for_never_grants_more_than_the_terms():
    assert reading_for(TRAINING, _terms(ai_train_generative=Permission.ALLOWED)) is Reading.UNKNOWN
    assert reading_for(TRAINING, _terms(ai_train_generative=Permission.ALLOWED,
                                        ai_train_other=Permission.LICENCE)) is Reading.NOT_ALLOWED
    assert reading_for(TRAINING, _terms(ai_train_generative=Permission.ALLOWED,
                                        ai_train_other=Permission.ALLOWED)) is Reading.ALLOWED


def test_one_parse_serves_many_queries():
    text = write_robots_txt(_terms(ai_train_generative=Permission.NOT_ALLOWED))
    crawl_rule(text, "GPTBot", "/warm")
    start = time.perf_counter()
    for i in range(20_000):
        crawl_rule(text, "GPTBot" if i % 2 else "Googlebot", f"/works/{i}")
    elapsed = time.perf_counter() - start
    assert robots.parse.cache_info().hits >= 20_000
    assert elapsed < 5, f"{20_000 / elapsed:.0f} decisions/s"


def test_the_writers_take_the_terms_model_and_write_only_the_unscoped_answer():
    from obra.aiuse.signals import aipref, content_signals, noai
    from obra.aiuse.terms import AITerms, UseTerm
    terms = AITerms(subject_kind="location", subject="https://example.org/music/*", uses=(
        UseTerm(use=Use.AI_TRAIN_GENERATIVE, permission=Permission.NOT_ALLOWED),
        UseTerm(use=Use.AI_TRAIN_OTHER, permission=Permission.ALLOWED, purposes=("research",)),
        UseTerm(use=Use.SEARCH, permission=Permission.ALLOWED)))
    assert robots.permissions(terms) == {Use.AI_TRAIN_GENERATIVE: Permission.NOT_ALLOWED,
                                         Use.SEARCH: Permission.ALLOWED}   # research-only: unsaid
    assert aipref.write_header(terms) == "train-ai=n, search=y"
    assert content_signals.write_robots_rules(terms) == ["Content-Signal: search=yes, ai-train=no"]
    assert noai.write_x_robots_tag(terms) == "noai, noimageai"
    assert crawl_rule(write_robots_txt(terms), "GPTBot", "/music/x").allowed is False
