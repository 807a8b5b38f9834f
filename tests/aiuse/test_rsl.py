"""RSL 1.0: the licence document, its evaluation rules, discovery, and a writer that reads back
(issue #14, items 2-3 and "What bad input gets")."""

from __future__ import annotations

import dataclasses
import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from obra.aiuse.signals import rsl
from obra.aiuse.signals.rsl import (
    Outcome, RslPayment, RslTerms, evaluate, html_licenses, link_header_licenses, parse_rsl, read_terms,
    robots_licenses, write_rsl,
)
from obra.aiuse.vocabulary import AI_USES, ALL_USES, TRAINING, Permission, Reading, Use
from obra.errors import InvalidInput

DATA = Path(__file__).parent / "data" / "rsl"
EXAMPLES = 1500 if os.environ.get("OBRA_LONG_TESTS") == "1" else 120


def doc(name: str, **kw) -> rsl.RslDocument:
    return parse_rsl((DATA / name).read_bytes(), source=name, **kw)


def outcomes(document, url="https://example.com/page", **kw) -> dict[Use, Outcome]:
    return {use: evaluate(document, url, use, **kw).outcome for use in ALL_USES}


# --- the deployments and the guide ------------------------------------------------------------

def test_guardian_permits_then_prohibits_all_so_everything_is_prohibited():
    guardian = doc("guardian-license.xml")
    assert guardian.conformant
    assert set(outcomes(guardian, "https://www.theguardian.com/uk").values()) == {Outcome.PROHIBITED}
    train = evaluate(guardian, "/uk", Use.AI_TRAIN_GENERATIVE)
    assert train.token == "all" and "permitted and prohibited in the same scope" in train.rule
    assert train.signal().reading is Reading.NOT_ALLOWED


def test_stack_overflow_content_without_licence_is_non_conformant_and_unlicensed():
    so = doc("stackoverflow-license.xml")
    assert not so.conformant
    problem = so.problems[0]
    assert (problem.line, problem.field, problem.source) == (3, "license", "stackoverflow-license.xml")
    result = evaluate(so, "/questions/1", Use.AI_TRAIN_OTHER)
    assert result.outcome is Outcome.UNLICENSED and "never permitted" in result.rule
    assert result.signal().reading is Reading.UNKNOWN


def test_the_guides_train_ai_is_not_an_rsl_token():
    guide = doc("guide-ai-preferences.xml")
    assert not guide.conformant
    problem = guide.problems[0]
    assert problem.line == 4 and "'train-ai'" in problem.message and "ai-train" in problem.message
    assert set(outcomes(guide).values()) == {Outcome.UNLICENSED}


def test_medium_two_licences_are_alternative_offers():
    medium = doc("medium-license.xml")
    assert medium.conformant
    result = outcomes(medium)
    assert result[Use.AI_TRAIN_GENERATIVE] is Outcome.PROHIBITED
    assert result[Use.AI_INPUT] is result[Use.SEARCH] is result[Use.AI_INDEX] is Outcome.LICENSED
    search = evaluate(medium, "/p/1", Use.SEARCH)
    assert search.offers[0].conditions == ("attribution",) and "attribution" in search.rule
    # the second licence prohibits only ai-train and lists no permits: it offers the rest on subscription
    tdm = evaluate(medium, "/p/1", Use.TDM)
    assert tdm.outcome is Outcome.LICENCE_REQUIRED and tdm.offers[0].payment.type == "subscription"


def test_rsl_collective_needs_a_token_and_its_ai_all_is_a_closed_list():
    collective = doc("rsl-collective-royalty.xml")
    train = evaluate(collective, "/a", Use.AI_TRAIN_OTHER)
    assert train.outcome is Outcome.LICENCE_REQUIRED and train.token_required and train.token == "ai-all"
    assert train.offers[0].payment.standard == ("https://rslcollective.org/license",)
    assert "server=https://api.rslcollective.org" in train.rule
    search = evaluate(collective, "/a", Use.SEARCH)
    assert search.outcome is Outcome.PROHIBITED and "closed list" in search.rule


def test_a_server_requires_a_token_even_for_a_free_licence():
    free = parse_rsl('<rsl xmlns="https://rslstandard.org/rsl"><content url="/" server="https://ls.example">'
                     '<license><permits type="usage">search</permits><payment type="free"/></license>'
                     '</content></rsl>')
    result = evaluate(free, "/", Use.SEARCH)
    assert result.outcome is Outcome.LICENCE_REQUIRED and result.token_required
    assert "even for a free licence" in result.rule
    assert result.to_json()["offers"][0]["token_required"] is True


def test_pay_per_crawl_amount_is_exact():
    ppc = doc("pay-per-crawl.xml")
    result = evaluate(ppc, "/any", Use.AI_INPUT)
    assert result.outcome is Outcome.LICENCE_REQUIRED
    amount = result.offers[0].payment.amounts[0]
    assert amount.value == Decimal("0.015") and isinstance(amount.value, Decimal) and amount.currency == "USD"
    assert amount.minor_units() is None                  # finer than a cent: kept exact, never rounded
    assert result.to_json()["offers"][0]["payment"]["amounts"] == [{"value": "0.015", "currency": "USD"}]


@pytest.mark.parametrize("use, user, country, expected", [
    (Use.AI_INPUT, "education", "US", Outcome.LICENSED),
    (Use.AI_INPUT, "non-commercial", "FR", Outcome.LICENSED),      # FR is in the EU
    (Use.AI_INPUT, "commercial", "US", Outcome.PROHIBITED),        # closed user list
    (Use.AI_INPUT, "education", "JP", Outcome.PROHIBITED),         # closed geo list
    (Use.AI_INPUT, None, "US", Outcome.UNLICENSED),                # depends on a user type not given
    (Use.AI_TRAIN_GENERATIVE, "education", "US", Outcome.PROHIBITED),   # closed usage list
])
def test_usage_user_and_geo_lists(use, user, country, expected):
    result = evaluate(doc("usage-user-geo.xml"), "/x", use, user=user, country=country)
    assert result.outcome is expected, result.rule
    if user is None:
        assert "no user type given" in result.rule


def test_foreign_namespaces_are_ignored_and_narrower_scope_wins():
    ext = doc("extension-namespace.xml")
    assert ext.conformant and not ext.problems
    assert evaluate(ext, "/open/doc", Use.AI_TRAIN_GENERATIVE).outcome is Outcome.LICENSED
    narrow = evaluate(ext, "/open/doc", Use.AI_TRAIN_GENERATIVE)
    assert narrow.scope == "/open/" and "narrowest" in narrow.rule
    assert evaluate(ext, "/news/1", Use.AI_TRAIN_GENERATIVE).outcome is Outcome.PROHIBITED
    index = evaluate(ext, "/news/1", Use.AI_INDEX)
    assert index.outcome is Outcome.LICENCE_REQUIRED and index.offers[0].payment.amounts[0].value == Decimal("0.001")


def test_unknown_rsl_element_is_non_conformant_and_says_where():
    bad = doc("unknown-element.xml")
    assert not bad.conformant
    problem = bad.problems[0]
    assert (problem.line, problem.field) == (5, "price") and "unknown element <price>" in problem.message
    assert evaluate(bad, "/articles/1", Use.SEARCH).outcome is Outcome.UNLICENSED


def test_a_known_element_in_the_wrong_place_is_non_conformant():
    bad = parse_rsl('<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>\n'
                    '<amount currency="USD">1</amount></license></content></rsl>')
    assert not bad.conformant and bad.problems[0].line == 2 and "not allowed inside <license>" in bad.problems[0].message


def test_rsl_0_9_lookalikes_are_each_named():
    old = doc("rsl-0.9-lookalikes.xml")
    messages = " | ".join(p.message for p in old.problems)
    assert not old.conformant
    assert "separated by spaces" in messages and "'inference' was RSL 0.9's name" in messages and "XBT" in messages


@pytest.mark.parametrize("xml, fragment", [
    ('<rsl><content url="/"><license/></content></rsl>', "add xmlns"),
    ('<rsl xmlns="https://rslstandard.org/rsl"/>', "at least one <content>"),
    ('<rsl xmlns="https://rslstandard.org/rsl"><content><license/></content></rsl>', "needs a url"),
    ('<rsl xmlns="https://rslstandard.org/rsl" max-age="-3"><content url="/"><license/></content></rsl>', "max-age"),
    ('<rsl xmlns="https://rslstandard.org/rsl" max-age="²"><content url="/"><license/></content></rsl>', "max-age"),
    ('<rsl xmlns="https://rslstandard.org/rsl"><content url="/" encrypted="true"><license/></content></rsl>',
     "requires a server"),
    ('<rsl xmlns="https://rslstandard.org/rsl"><content url="/" lastmod="yesterday"><license/></content></rsl>',
     "RFC 3339"),
    ('<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license><permits type="usage">search</permits>'
     '<permits type="usage">ai-input</permits></license></content></rsl>', "more than one <permits"),
    ('<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license><permits type="geo">fr</permits>'
     '</license></content></rsl>', "upper-case ISO 3166-1"),
    ('<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license><payment type="use">'
     '<amount currency="USD">1e3</amount></payment></license></content></rsl>', "non-negative decimal"),
    ('<rsl xmlns="https://rslstandard.org/rsl"><content url=""><license/></content></rsl>', 'url=""'),
    ("<rsl", "not well-formed"),
])
def test_non_conformance_is_named(xml, fragment):
    parsed = parse_rsl(xml)
    assert not parsed.conformant and any(fragment in p.message for p in parsed.problems), parsed.problems


def test_entities_are_not_expanded():
    xml = ('<?xml version="1.0"?><!DOCTYPE rsl [<!ENTITY u "all">]><rsl xmlns="https://rslstandard.org/rsl">'
           '<content url="/"><license><prohibits type="usage">search &u;</prohibits></license></content></rsl>')
    parsed = parse_rsl(xml)
    assert parsed.contents[0].licenses[0].prohibits[0].tokens == ("search",)


def test_a_string_with_an_encoding_declaration_is_read():
    text = '<?xml version="1.0" encoding="ISO-8859-1"?>\n' + (DATA / "skeleton.xml").read_text()
    assert parse_rsl(text).conformant


# --- evaluation rules ------------------------------------------------------------------------

_TWO_SCOPES = ('<rsl xmlns="https://rslstandard.org/rsl">{}</rsl>')
_BROAD = '<content url="/"><license><prohibits type="usage">all</prohibits></license></content>'
_NARROW = '<content url="/open/"><license><permits type="usage">all</permits></license></content>'


def test_document_order_does_not_matter():
    a = parse_rsl(_TWO_SCOPES.format(_BROAD + _NARROW))
    b = parse_rsl(_TWO_SCOPES.format(_NARROW + _BROAD))
    for url in ("/open/x", "/closed/x", "/"):
        assert outcomes(a, url) == outcomes(b, url)
    assert set(outcomes(a, "/open/x").values()) == {Outcome.LICENSED}
    assert set(outcomes(a, "/closed/x").values()) == {Outcome.PROHIBITED}


def test_equal_scopes_are_read_together_and_prohibition_wins():
    same = parse_rsl(_TWO_SCOPES.format('<content url="/a/"><license><permits type="usage">all</permits></license>'
                                        '</content><content url="/a/"><license><prohibits type="usage">ai-train'
                                        '</prohibits></license></content>'))
    assert evaluate(same, "/a/b", Use.AI_TRAIN_OTHER).outcome is Outcome.PROHIBITED
    assert evaluate(same, "/a/b", Use.SEARCH).outcome is Outcome.LICENSED


def test_full_url_content_must_have_the_same_origin():
    full = parse_rsl(_TWO_SCOPES.format('<content url="https://example.com/premium/*"><license>'
                                        '<permits type="usage">search</permits></license></content>'))
    assert evaluate(full, "https://example.com/premium/a", Use.SEARCH).outcome is Outcome.LICENSED
    assert evaluate(full, "https://other.example/premium/a", Use.SEARCH).outcome is Outcome.UNLICENSED
    assert evaluate(full, "https://example.com/free/a", Use.SEARCH).outcome is Outcome.UNLICENSED


def test_most_restrictive_across_documents_and_silent_documents_say_nothing():
    free = parse_rsl(_TWO_SCOPES.format('<content url="/"><license><permits type="usage">all</permits></license>'
                                        '</content>'), source="robots")
    paid = doc("pay-per-crawl.xml")
    elsewhere = parse_rsl(_TWO_SCOPES.format('<content url="/other/"><license><prohibits type="usage">all'
                                             '</prohibits></license></content>'), source="link")
    both = evaluate([free, paid, elsewhere], "/a", Use.AI_INPUT)
    assert both.outcome is Outcome.LICENCE_REQUIRED and "most restrictive" in both.rule
    assert evaluate([free, elsewhere], "/a", Use.AI_INPUT).outcome is Outcome.LICENSED
    assert evaluate([free, paid, elsewhere], "/other/x", Use.AI_INPUT).outcome is Outcome.PROHIBITED


def test_no_valid_document_is_never_permitted():
    assert evaluate([], "/", Use.SEARCH).outcome is Outcome.UNLICENSED
    nothing = evaluate(doc("skeleton.xml"), "/", Use.AI_TRAIN_GENERATIVE)
    assert nothing.outcome is Outcome.PROHIBITED          # closed usage list: search only
    uncovered = parse_rsl(_TWO_SCOPES.format(_NARROW))
    assert evaluate(uncovered, "/closed", Use.SEARCH).outcome is Outcome.UNLICENSED


def test_signals_cover_every_use_and_map_tokens_through_the_vocabulary():
    sig = rsl.signals(doc("rsl-collective-royalty.xml"), "/x")
    by_use = {s.use: s for s in sig}
    assert set(by_use) == set(ALL_USES) and all(s.standard == "rsl" for s in sig)
    assert all(by_use[u].token == "ai-all" and by_use[u].reading is Reading.NOT_ALLOWED for u in AI_USES)
    assert by_use[Use.AI_TRAIN_GENERATIVE].extra["outcome"] == "licence-required"
    assert by_use[Use.SEARCH].extra["outcome"] == "prohibited"


# --- discovery -------------------------------------------------------------------------------

def test_robots_guide_example_is_global():
    links, problems = robots_licenses((DATA / "robots-guide.txt").read_text(), "AnyBot")
    assert [l.url for l in links] == ["https://example.com/license.xml"] and not problems
    assert links[0].via == "robots.txt License (global)" and links[0].line == 1


@pytest.mark.parametrize("agent, url", [
    ("ExampleBot/2.1", "https://example.com/examplebot-license.xml"),
    ("examplebot", "https://example.com/examplebot-license.xml"),        # product tokens are case-insensitive
    ("GPTBot", "https://example.com/default-license.xml"),
])
def test_robots_per_bot_groups(agent, url):
    links, _ = robots_licenses((DATA / "robots-per-bot.txt").read_text(), agent)
    assert [l.url for l in links] == [url]


def test_a_groups_license_lines_replace_the_global_ones():
    text = ("License: https://example.com/global.xml\n\nUser-agent: GPTBot\nDisallow: /private/\n"
            "License: https://example.com/gpt.xml\n\nUser-agent: *\nAllow: /\n")
    gpt, _ = robots_licenses(text, "GPTBot")
    assert [l.url for l in gpt] == ["https://example.com/gpt.xml"] and "global License lines ignored" in gpt[0].via
    other, _ = robots_licenses(text, "CCBot")
    assert [l.url for l in other] == ["https://example.com/global.xml"]


def test_robots_lookalikes_and_relative_values_are_named():
    text = ("User-agent: GPTBot\nDisallow: /\nLicense: /license.xml\nPermits: ai-search, rag\n"
            "Compensation: per-crawl 5000 micros USD https://example.com/pay\n")
    links, problems = robots_licenses(text, "GPTBot")
    assert links == ()
    assert [p.line for p in problems] == [3, 4, 5]
    assert "absolute URI" in problems[0].message and "not an RSL 1.0 robots.txt directive" in problems[1].message


def test_link_header_is_parsed_as_rfc_8288():
    header = ('<https://example.com/terms.html>; rel="license", '
              '<https://example.com/license.xml>; rel="nofollow license"; type="APPLICATION/RSL+XML", '
              '<https://example.com/a,b.xml>; title="a; b, c"; rel=license; type="application/rsl+xml"')
    links, problems = link_header_licenses(header)
    assert [l.url for l in links] == ["https://example.com/license.xml", "https://example.com/a,b.xml"]
    assert not problems


def test_link_header_relative_target_is_resolved_and_noted():
    links, problems = link_header_licenses(['</license.xml>; rel="license"; type="application/rsl+xml"'],
                                           base_url="https://example.com/page")
    assert links[0].url == "https://example.com/license.xml" and "relative" in problems[0].message
    none, problems = link_header_licenses('</license.xml>; rel="license"; type="application/rsl+xml"')
    assert none == () and "ignored" in problems[0].message


def test_html_link_and_inline_script():
    html = ('<html><head><base href="https://example.com/news/">'
            '<link rel="license" type="application/rsl+xml" href="/license.xml">'
            '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/"></head><body><article>'
            '<script type="application/rsl+xml"><rsl xmlns="https://rslstandard.org/rsl"><content url="">'
            '<license><permits type="usage">search</permits></license></content></rsl></script>'
            '</article></body></html>')
    found = html_licenses(html)
    assert [l.url for l in found.links] == ["https://example.com/license.xml"]
    assert len(found.inline) == 1 and found.inline[0].conformant
    assert evaluate(found.inline[0], "https://example.com/news/1", Use.SEARCH).outcome is Outcome.LICENSED


def test_inline_script_must_hold_exactly_one_content():
    two = ('<script type="application/rsl+xml"><rsl xmlns="https://rslstandard.org/rsl">'
           '<content url=""><license/></content><content url="/x"><license/></content></rsl></script>')
    inline = html_licenses(two).inline[0]
    assert not inline.conformant and "exactly one <content>" in inline.problems[0].message


# --- the writer ------------------------------------------------------------------------------

_GROUPS = [(Use.TDM,), TRAINING, (Use.AI_INPUT,), (Use.AI_INDEX,), (Use.SEARCH,)]
_permissions = st.sampled_from(list(Permission))
_payments = st.builds(
    RslPayment, type=st.sampled_from(["purchase", "subscription", "training", "crawl", "use", "contribution"]),
    amount_minor=st.none(), currency=st.none(),
    standard=st.none() | st.just("https://example.com/licenses/standard"),
    custom=st.none() | st.just("https://example.com/contact")).flatmap(
    lambda p: st.one_of(st.just(p), st.tuples(st.integers(0, 10**9), st.sampled_from(["USD", "EUR", "JPY", "KWD"]))
                        .map(lambda a: dataclasses.replace(p, amount_minor=a[0], currency=a[1]))))


@st.composite
def _terms(draw):
    per_group = draw(st.lists(_permissions, min_size=5, max_size=5))
    uses = {use: perm for group, perm in zip(_GROUPS, per_group) for use in group}
    allowed = frozenset(u for u, p in uses.items() if p is Permission.ALLOWED)
    licensed = frozenset(u for u, p in uses.items() if p is Permission.LICENCE)
    assume(rsl._cover(allowed) is not None and rsl._cover(licensed) is not None)
    return RslTerms(uses=uses, url=draw(st.sampled_from(["/", "/articles/", "/img/*.jpg$",
                                                         "https://example.com/books/*"])),
                    payment=draw(_payments) if licensed else None,
                    users=tuple(draw(st.lists(st.sampled_from(rsl.USER_TOKENS), unique=True, max_size=3))),
                    territories=tuple(draw(st.lists(st.sampled_from(["US", "FR", "EU", "JP"]), unique=True,
                                                    max_size=3))),
                    server=draw(st.none() | st.just("https://licence.example.com")),
                    terms_url=draw(st.none() | st.just("https://rslstandard.org/rsl/default-terms")))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_terms())
def test_written_documents_read_back_to_the_same_terms(terms):
    text = write_rsl(terms)
    parsed = parse_rsl(text)
    assert parsed.conformant, parsed.problems
    probe = {"/": "/x", "/articles/": "/articles/x", "/img/*.jpg$": "/img/a.jpg",
             "https://example.com/books/*": "https://example.com/books/x"}[terms.url]
    back = read_terms(parsed, url=probe)
    expected = terms
    if not any(p is not Permission.NOT_ALLOWED for p in terms.uses.values()):
        expected = dataclasses.replace(terms, users=(), territories=())   # nothing granted: no one to limit
    assert back == expected


def test_writer_uses_rsl_tokens_and_exact_amounts():
    terms = RslTerms(uses={Use.SEARCH: Permission.ALLOWED, Use.AI_INPUT: Permission.LICENCE,
                           Use.AI_TRAIN_GENERATIVE: Permission.LICENCE, Use.AI_TRAIN_OTHER: Permission.LICENCE},
                     payment=RslPayment("crawl", 15, "USD", standard="https://example.com/pay-per-crawl"))
    text = write_rsl(terms)
    assert '<permits type="usage">ai-train ai-input</permits>' in text
    assert '<amount currency="USD">0.15</amount>' in text
    assert "<prohibits" not in text            # tdm + ai-index have no exact RSL cover: the closed lists exclude them
    assert outcomes(parse_rsl(text), "/x")[Use.TDM] is Outcome.PROHIBITED
    yen = write_rsl(dataclasses.replace(terms, payment=RslPayment("use", 1500, "JPY")))
    assert '<amount currency="JPY">1500</amount>' in yen


@pytest.mark.parametrize("terms, field", [
    (RslTerms(uses={Use.AI_TRAIN_GENERATIVE: Permission.ALLOWED}), "uses"),       # ai-train covers both kinds
    (RslTerms(uses={Use.TDM: Permission.ALLOWED}), "uses"),                       # tdm only through "all"
    (RslTerms(uses={Use.SEARCH: Permission.LICENCE}), "payment"),
    (RslTerms(uses={Use.SEARCH: Permission.LICENCE}, payment=RslPayment("free")), "payment.type"),
    (RslTerms(uses={Use.SEARCH: Permission.LICENCE}, payment=RslPayment("use", 5)), "payment.amount_minor"),
    (RslTerms(uses={Use.SEARCH: Permission.LICENCE}, payment=RslPayment("use", 5, "XBT")), "payment.currency"),
    (RslTerms(uses={Use.SEARCH: Permission.ALLOWED}, users=("robots",)), "users"),
    (RslTerms(uses={Use.SEARCH: Permission.ALLOWED}, territories=("fr",)), "territories"),
])
def test_writer_refuses_what_rsl_cannot_say(terms, field):
    with pytest.raises(InvalidInput) as exc:
        write_rsl(terms)
    assert field in [p.field for p in exc.value.problems]


def test_everything_refused_writes_prohibits_all():
    text = write_rsl(RslTerms(uses={}))
    assert '<prohibits type="usage">all</prohibits>' in text
    assert set(outcomes(parse_rsl(text), "/").values()) == {Outcome.PROHIBITED}


# --- junk never raises -----------------------------------------------------------------------

_tokens = st.sampled_from(list(rsl.USAGE_TOKENS) + list(rsl.USER_TOKENS) + ["US", "EU", "fr", "train-ai", "a,b", ""])
_leaf = st.tuples(st.sampled_from(["permits", "prohibits"]), st.sampled_from(["usage", "user", "geo", "x"]),
                  st.lists(_tokens, max_size=3)).map(lambda t: f'<{t[0]} type="{t[1]}">{" ".join(t[2])}</{t[0]}>')
_payment = st.tuples(st.sampled_from(list(rsl.PAYMENT_TYPES) + ["inference"]), st.sampled_from(["", "1.5", "x"])).map(
    lambda t: f'<payment type="{t[0]}"><amount currency="USD">{t[1]}</amount></payment>')
_license = st.lists(_leaf | _payment | st.just("<bogus/>"), max_size=4).map(lambda xs: f"<license>{''.join(xs)}</license>")
_content = st.tuples(st.sampled_from(["/", "/a/", "/a/*", "", "https://example.com/", "x"]),
                     st.sampled_from(["", ' server="https://s.example"']), st.lists(_license, max_size=3)).map(
    lambda t: f'<content url="{t[0]}"{t[1]}>{"".join(t[2])}</content>')
_docs = st.lists(_content, max_size=4).map(lambda cs: f'<rsl xmlns="{rsl.RSL_NS}">{"".join(cs)}</rsl>')


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300), _docs), st.sampled_from(list(Use)),
       st.none() | st.sampled_from(rsl.USER_TOKENS), st.none() | st.sampled_from(["US", "FR", "JP"]))
def test_junk_never_raises_and_is_never_permitted_unless_conformant(data, use, user, country):
    parsed = parse_rsl(data)
    result = evaluate(parsed, "https://example.com/a/b", use, user=user, country=country)
    assert isinstance(result.outcome, Outcome)
    if not parsed.conformant:
        assert result.outcome is Outcome.UNLICENSED and parsed.problems
    assert result.to_json()["outcome"] == result.outcome.value


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_junk_discovery_input_never_raises(text):
    robots_licenses(text, text[:10] or "*")
    link_header_licenses(text, base_url="https://example.com/")
    link_header_licenses([text, "<" + text])
    html_licenses(text)
    html_licenses('<script type="application/rsl+xml">' + text)
