"""Publish your terms (issue #14, item 3): every generated file, read back by its standard's own
reader, says what the terms say — for every use that standard can say, never more.

The readers are the ones the training check uses (``obra.aiuse.signals``); the header snippets
are parsed back from each server's own syntax (nginx, Apache, Caddy) before they are read.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.aiuse import protect as P
from obra.aiuse.protect import SignalTerms, protect, protect_files, zip_bundle
from obra.aiuse.signals import aipref, cawg, content_signals, noai, robots, rsl, tdmrep
from obra.aiuse.terms import RESTRICTIVENESS, AITerms, Price, PriceModel, Purpose, UserType, UseTerm
from obra.aiuse.vocabulary import AI_USES, ALL_USES, TOKENS, TRAINING, Permission, Reading, Use, uses_of
from obra.errors import InvalidInput

EXAMPLES = 300 if os.environ.get("OBRA_LONG_TESTS") == "1" else 30
SITE = "https://example.org"
COUNTRIES = [None, "FR", "IT", "US", "JP", "BR"]
USERS = [None, *UserType]
PURPOSES = [None, *Purpose]


def terms(*uses: dict, kind: str = "party", subject: str = "7", **extra) -> AITerms:
    return AITerms.model_validate({"subject_kind": kind, "subject": subject, "uses": list(uses), **extra})


def flat(text: str) -> str:
    """The README's words with its line wrapping undone."""
    return " ".join(text.replace("\n  ", " ").split())


def per_item(cents: int, currency: str = "EUR") -> dict:
    return {"model": "per-item", "currency": currency, "amount_minor": cents}


# --- parsing the server configurations back ------------------------------------------------------

def nginx_headers(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        found = re.fullmatch(r"add_header (\S+) '((?:[^'\\]|\\.)*)' always;", line)
        assert found, f"not an nginx add_header line: {line!r}"
        out.append((found.group(1), re.sub(r"\\(.)", r"\1", found.group(2))))
    return out


def apache_headers(text: str) -> list[tuple[str, str]]:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert lines[0] == "<IfModule mod_headers.c>" and lines[-1] == "</IfModule>"
    out = []
    for line in lines[1:-1]:
        found = re.fullmatch(r'Header always (set|append) (\S+) "((?:[^"\\]|\\.)*)"', line)
        assert found, f"not a mod_headers line: {line!r}"
        assert (found.group(1) == "append") is (found.group(2) in ("Link", "X-Robots-Tag"))
        value = re.sub(r"\\(.)", r"\1", found.group(3))
        assert "%" not in value.replace("%%", ""), "a lone % is a mod_headers format specifier"
        out.append((found.group(2), value.replace("%%", "%")))
    return out


def caddy_headers(text: str) -> tuple[str, list[tuple[str, str]]]:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    opening = re.fullmatch(r"header ?(\S*) \{", lines[0])
    assert opening and lines[-1] == "}"
    out = []
    for line in lines[1:-1]:
        found = re.fullmatch(r'\t(\+?)(\S+) (?:"((?:[^"\\]|\\.)*)"|`([^`]*)`)', line)
        assert found, f"not a Caddy header field line: {line!r}"
        assert (found.group(1) == "+") is (found.group(2) in ("Link", "X-Robots-Tag"))
        value = re.sub(r"\\(.)", r"\1", found.group(3)) if found.group(3) is not None else found.group(4)
        assert "{" not in value, "a { in a Caddy value is a placeholder"
        out.append((found.group(2), value))
    return opening.group(1), out


# --- what the terms say, asked directly ---------------------------------------------------------

def dates_of(t: AITerms) -> list[date | None]:
    out: set[date | None] = {None}
    for term in t.uses:
        for d in (term.valid_from, term.valid_until):
            if d is not None:
                out |= {d, d - timedelta(days=1), d + timedelta(days=1)}
    return sorted(out, key=lambda d: (d is not None, d or date.min))


def answers(t: AITerms, use: Use, *, countries=COUNTRIES, users=USERS, purposes=PURPOSES) -> list[Permission | None]:
    """What the terms answer ``use`` for every question over the given requesters, purposes and dates."""
    return [None if (term := t.permission(use, territory=c, user_type=u, purpose=p, on=d)) is None
            else term.permission for c in countries for u in users for p in purposes for d in dates_of(t)]


def allowed_everywhere(t: AITerms, uses) -> bool:
    return all(a is Permission.ALLOWED for use in uses for a in answers(t, use))


def granted_everywhere(t: AITerms, uses, **scope) -> bool:
    return all(a in (Permission.ALLOWED, Permission.LICENCE) for use in uses for a in answers(t, use, **scope))


def unscoped(t: AITerms) -> bool:
    return all(term.narrowness == 0 for term in t.uses)


def check_sound(signals, t: AITerms, standard: str) -> None:
    """A yes/no signal never grants more than the terms: "allowed" only where every question the
    terms answer is allowed; "not allowed" only where some use it covers is reserved somewhere."""
    for s in signals:
        covered = uses_of(standard, s.token)
        if s.reading is Reading.ALLOWED:
            assert allowed_everywhere(t, covered), (s, t)
        elif s.reading is Reading.NOT_ALLOWED:
            assert any(term.use in covered and term.permission is not Permission.ALLOWED for term in t.uses), (s, t)


def check_exact(signals, t: AITerms, standard: str) -> None:
    """Terms without conditions read back exactly as the standard's writer defines them."""
    said = {s.token: s.reading for s in signals}
    for token, covered in TOKENS[standard].items():
        expected = robots.reading_for(covered, t)
        assert said.get(token, Reading.UNKNOWN) is expected, (token, said, t)


# --- random terms --------------------------------------------------------------------------------

_prices = st.one_of(
    st.builds(Price, model=st.sampled_from([m for m in PriceModel if m is not PriceModel.REVENUE_SHARE]),
              currency=st.sampled_from(["EUR", "USD", "JPY"]), amount_minor=st.integers(0, 10**6)),
    st.builds(Price, model=st.just(PriceModel.REVENUE_SHARE), share_percent=st.sampled_from([Decimal("12.5"),
                                                                                              Decimal("30")])))


@st.composite
def use_terms(draw, scoped: bool = True) -> UseTerm:
    permission = draw(st.sampled_from(list(Permission)))
    scope = {}
    if scoped and draw(st.booleans()):
        scope = {"territories": tuple(draw(st.lists(st.sampled_from(["FR", "US", "EU", "JP"]), max_size=2))),
                 "purposes": tuple(draw(st.lists(st.sampled_from(list(Purpose)), max_size=2))),
                 "user_types": tuple(draw(st.lists(st.sampled_from(list(UserType)), max_size=2)))}
        if draw(st.integers(0, 5)) == 0:
            start = date(2027, 1, 1) + timedelta(days=draw(st.integers(0, 400)))
            scope |= {"valid_from": start, "valid_until": start + timedelta(days=draw(st.integers(0, 400)))}
    return UseTerm(use=draw(st.sampled_from(list(Use))), permission=permission,
                   price=draw(st.none() | _prices) if permission is Permission.LICENCE else None,
                   prior_consent=permission is Permission.LICENCE and draw(st.booleans()), **scope)


@st.composite
def random_terms(draw, scoped: bool = True) -> AITerms:
    uses = []
    for term, together in draw(st.lists(st.tuples(use_terms(scoped), st.booleans()), min_size=1, max_size=6)):
        # a term for mining often comes with the same for both kinds of training (a TDMRep policy needs all three)
        together = together and term.use in uses_of("tdmrep", "tdm-reservation")
        uses += [term.model_copy(update={"use": u}) for u in uses_of("tdmrep", "tdm-reservation")] if together \
            else [term]
    subject = draw(st.sampled_from([("party", "7"), ("location", SITE + "/music/"), ("location", SITE + "/a/*.mp3$"),
                                    ("location", SITE + "/")]))
    return AITerms(subject_kind=subject[0], subject=subject[1], uses=tuple(uses),
                   contact=draw(st.none() | st.just("rights@example.org")))


# --- the property --------------------------------------------------------------------------------

def check_everything_reads_back(t: AITerms) -> P.Protection:
    done = protect(t, site=SITE)
    files, place = done.files, done.place
    signal = SignalTerms(t)
    sample, url = place.sample, SITE + place.sample
    robots_txt = files[P.ROBOTS]

    # robots.txt: every listed crawler turned away exactly when it (or one sharing its product token)
    # serves a use the terms reserve anywhere; outside a location's path nobody is turned away; the
    # turned-away crawlers may still fetch the licence and the reservation.
    reserved = {u for u in AI_USES if (p := signal.as_map().get(u)) is not None and p is not Permission.ALLOWED}
    for u in reserved:
        assert any(term.use is u and term.permission is not Permission.ALLOWED for term in t.uses)
    by_token: dict[str, bool] = {}
    for crawler in robots.ai_crawlers().values():
        token = robots.product_token(crawler.token)
        by_token[token] = by_token.get(token, False) or bool(crawler.uses & reserved)
    for crawler in robots.ai_crawlers().values():
        rule = robots.crawl_rule(robots_txt, crawler.token, sample)
        assert rule.allowed is not by_token[robots.product_token(crawler.token)], (crawler.token, rule)
        if place.path != "/":
            assert robots.crawl_rule(robots_txt, crawler.token, "/elsewhere/x").allowed
    for agent in ("*", "GPTBot", "ChatGPT-User", "SomeSearchBot"):
        links, problems = rsl.robots_licenses(robots_txt, agent)
        assert [link.url for link in links] == [place.licence_url] and not problems
        if place.path == "/":
            assert robots.crawl_rule(robots_txt, agent, "/license.xml").allowed
            if P.TDMREP in files:
                assert robots.crawl_rule(robots_txt, agent, "/.well-known/tdmrep.json").allowed

    # Content-Usage (AIPREF) and Content-Signal, from robots.txt, for a crawler that is let in.
    for standard, signals in (("aipref", aipref.read_robots(robots_txt, "SomeSearchBot", sample)),
                              ("content-signals", content_signals.read_robots(robots_txt, "SomeSearchBot", sample))):
        check_sound(signals, t, standard)
        if unscoped(t):
            check_exact(signals, t, standard)
        if place.path != "/":
            assert not aipref.read_robots(robots_txt, "SomeSearchBot", "/elsewhere/x")

    # The three server configurations carry the same headers; each read back.
    nginx = nginx_headers(files[P.NGINX])
    apache = apache_headers(files[P.APACHE])
    matcher, caddy = caddy_headers(files[P.CADDY])
    assert nginx == apache == caddy
    headers: dict[str, list[str]] = {}
    for name, value in nginx:
        headers.setdefault(name, []).append(value)
    if place.path == "/":
        assert matcher == ""
    elif matcher:
        assert place.path.startswith(matcher.rstrip("*"))
    usage = aipref.read_header(headers.get("Content-Usage"))
    check_sound(usage, t, "aipref")
    if unscoped(t):
        check_exact(usage, t, "aipref")
    links, problems = rsl.link_header_licenses(headers["Link"])
    assert [link.url for link in links] == [place.licence_url] and not problems
    x_robots = noai.read_x_robots_tag(headers.get("X-Robots-Tag"))
    training_reserved = robots.reading_for(TRAINING, signal) is Reading.NOT_ALLOWED
    assert {s.use for s in x_robots} == (set(TRAINING) if training_reserved else set())
    if training_reserved:
        assert any(term.use in TRAINING and term.permission is not Permission.ALLOWED for term in t.uses)

    # TDMRep: the file, the headers and the HTML say one reservation (covering mining and training).
    html = files[P.HTML]
    result = tdmrep.read_resource(url, tdmrep_json=files.get(P.TDMREP), headers=[(k, v) for k, v in nginx],
                                  html=html)
    assert not result.overridden and not result.problems
    covered = uses_of("tdmrep", "tdm-reservation")
    if result.reservation == 0:
        assert allowed_everywhere(t, covered)
    elif result.reservation == 1:
        assert any(term.use in covered and term.permission is not Permission.ALLOWED for term in t.uses)
    else:
        assert P.TDMREP not in files and robots.reading_for(covered, signal) is Reading.UNKNOWN
    if unscoped(t):
        assert result.reading() is robots.reading_for(covered, t)
    file_step = tdmrep.match_tdmrep(tdmrep.parse_tdmrep_json(files.get(P.TDMREP)), url)
    assert file_step.reservation == result.reservation
    assert tdmrep.read_html(html).reservation == result.reservation

    # The TDMRep policy offers mining only where the terms grant it (for its purpose), its duties
    # only as the terms ask.
    if P.POLICY in files:
        policy = tdmrep.parse_policy(files[P.POLICY])
        assert policy.conformant, policy.problems
        assert result.policy == place.policy_url == policy.terms.uid
        purposes = {None: PURPOSES, "research": [Purpose.RESEARCH],
                    "non-research": [Purpose.NON_COMMERCIAL, Purpose.COMMERCIAL]}[policy.terms.purpose]
        assert granted_everywhere(t, covered, purposes=purposes), (policy.terms, t)
        said = [a for use in covered for a in answers(t, use, purposes=purposes)]
        if not (policy.terms.consent or policy.terms.compensate):
            assert all(a is Permission.ALLOWED for a in said)
    else:
        assert result.policy is None

    # RSL: conformant; for every requester (country, user type), never more than the terms give
    # for every purpose and date; terms without conditions read back exactly (as far as RSL can say).
    document = rsl.parse_rsl(files[P.LICENSE], source="license.xml")
    assert document.conformant, document.problems
    html_links = rsl.html_licenses(html)
    assert [link.url for link in html_links.links] == [place.licence_url]
    for use in ALL_USES:
        for country in COUNTRIES:
            for user in USERS:
                outcome = rsl.evaluate(document, url, use, user=user and user.value, country=country).outcome
                given = answers(t, use, countries=[country], users=[user])
                if outcome is rsl.Outcome.LICENSED:
                    assert all(a is Permission.ALLOWED for a in given), (use, country, user, t)
                elif outcome is rsl.Outcome.LICENCE_REQUIRED:
                    assert all(a in (Permission.ALLOWED, Permission.LICENCE) for a in given), (use, country, user)
    if unscoped(t):
        back = rsl.read_terms(document, url)
        stated = {use: (term.permission if (term := t.permission(use)) else None) for use in ALL_USES}
        for use in (Use.AI_INPUT, Use.AI_INDEX, Use.SEARCH):
            expected = stated[use] if stated[use] in (Permission.ALLOWED, Permission.LICENCE) else Permission.NOT_ALLOWED
            assert back.uses[use] is expected, (use, back, t)
        pair = [stated[u] for u in TRAINING]
        expected = (min(pair, key=RESTRICTIVENESS.get) if None not in pair else Permission.NOT_ALLOWED)
        assert back.uses[Use.AI_TRAIN_GENERATIVE] is back.uses[Use.AI_TRAIN_OTHER] is expected
    return done


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_terms())
def test_every_generated_file_reads_back_to_the_terms(t):
    check_everything_reads_back(t)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_terms(scoped=False))
def test_terms_without_conditions_read_back_exactly(t):
    check_everything_reads_back(t)


@settings(max_examples=10, deadline=None)
@given(random_terms())
def test_the_same_terms_give_the_same_bytes(t):
    first, second = protect_files(t, site=SITE), protect_files(t, site=SITE)
    assert first == second
    assert zip_bundle(first) == zip_bundle(second)
    assert sorted(zipfile.ZipFile(io.BytesIO(zip_bundle(first))).namelist()) == sorted(first)


# --- worked examples -----------------------------------------------------------------------------

CATALOGUE = terms(
    {"use": "ai-train-generative", "permission": "licence", "price": per_item(500)},
    {"use": "ai-train-other", "permission": "licence", "price": per_item(500)},
    {"use": "tdm", "permission": "licence", "price": per_item(500)},
    {"use": "ai-input", "permission": "not-allowed"},
    {"use": "search", "permission": "allowed"},
    contact="licensing@example.org")


def test_a_catalogue_licensing_training_at_five_euros_an_item():
    files = protect_files(CATALOGUE, site=SITE)
    robots_txt = files[P.ROBOTS]
    assert "License: https://example.org/license.xml" in robots_txt
    assert "Content-Usage: train-ai=n, ai-use=n, search=y" in robots_txt
    assert "Content-Signal: search=yes, ai-input=no, ai-train=no" in robots_txt
    assert not robots.crawl_rule(robots_txt, "GPTBot", "/songs/1").allowed          # trains models
    assert not robots.crawl_rule(robots_txt, "ChatGPT-User", "/songs/1").allowed    # fetches for answers
    assert robots.crawl_rule(robots_txt, "Googlebot", "/songs/1").allowed           # search: allowed
    assert robots.crawl_rule(robots_txt, "GPTBot", "/license.xml").allowed          # it may read the licence
    assert json.loads(files[P.TDMREP]) == [{"location": "/", "tdm-reservation": 1,
                                            "tdm-policy": "https://example.org/tdm-policy.json"}]
    policy = tdmrep.parse_policy(files[P.POLICY]).terms
    assert (policy.compensate, policy.consent, policy.purpose) == (True, False, None)
    assert policy.assigner.email == "licensing@example.org"
    document = rsl.parse_rsl(files[P.LICENSE])
    training = rsl.evaluate(document, SITE + "/songs/1", Use.AI_TRAIN_GENERATIVE)
    assert training.outcome is rsl.Outcome.LICENCE_REQUIRED
    assert [(a.value, a.currency) for a in training.offers[0].payment.amounts] == [(Decimal("5.00"), "EUR")]
    assert rsl.evaluate(document, SITE + "/songs/1", Use.SEARCH).outcome is rsl.Outcome.LICENSED
    assert rsl.evaluate(document, SITE + "/songs/1", Use.AI_INPUT).outcome is rsl.Outcome.PROHIBITED
    # mining at the training price: RSL says it only with "all", which search (free) breaks
    assert rsl.evaluate(document, SITE + "/songs/1", Use.TDM).outcome is rsl.Outcome.PROHIBITED
    assert "mining has no RSL token of its own" in flat(files[P.README])
    assert "add_header X-Robots-Tag 'noai, noimageai' always;" in files[P.NGINX]
    assert '<meta name="tdm-reservation" content="1">' in files[P.HTML]


def test_conditions_go_to_rsl_and_the_tdmrep_policy_and_the_readme_says_where():
    t = terms({"use": "ai-input", "permission": "not-allowed"},
              {"use": "ai-input", "permission": "allowed", "territories": ["EU"], "user_types": ["education"]},
              *({"use": u, "permission": "not-allowed"} for u in ("tdm", "ai-train-generative", "ai-train-other")),
              *({"use": u, "permission": "allowed", "purposes": ["research"]}
                for u in ("tdm", "ai-train-generative", "ai-train-other")))
    done = protect(t, site=SITE)
    document = rsl.parse_rsl(done.files[P.LICENSE])
    ask = lambda user, country: rsl.evaluate(document, SITE + "/x", Use.AI_INPUT, user=user, country=country).outcome
    assert ask("education", "IT") is rsl.Outcome.LICENSED            # a school in Italy
    assert ask("education", "US") is rsl.Outcome.PROHIBITED          # not in the EU
    assert ask("commercial", "IT") is rsl.Outcome.PROHIBITED         # not a school
    assert ask(None, None) is rsl.Outcome.UNLICENSED              # it depends on who asks: never "licensed"
    policy = tdmrep.parse_policy(done.files[P.POLICY]).terms
    assert (policy.purpose, policy.compensate, policy.consent) == ("research", False, False)
    assert json.loads(done.files[P.TDMREP])[0]["tdm-reservation"] == 1
    readme = flat(done.files[P.README])
    assert "ai-input allowed for territories EU; user types education: said in license.xml" in readme
    assert "tdm allowed for purposes research: said in tdm-policy.json (TDMRep, an offer for research)" in readme


def test_a_narrower_reservation_is_said_everywhere_a_yes_no_signal_cannot_say_where():
    t = terms({"use": "ai-train-generative", "permission": "allowed"},
              {"use": "ai-train-generative", "permission": "not-allowed", "territories": ["US"]})
    done = protect(t, site=SITE)
    assert "Content-Usage: train-ai=n" in done.files[P.ROBOTS]        # never "y": it is not allowed in the US
    assert "ai-train-generative: your terms say allowed in general but not allowed under some conditions" \
        in flat(done.files[P.README])
    assert terms({"use": "search", "permission": "allowed"},
                 {"use": "search", "permission": "licence", "purposes": ["commercial"]}).permission(Use.SEARCH) \
        .permission is Permission.ALLOWED   # the unconditional answer alone would have said "allowed"


def test_a_location_s_files_cover_its_path_only():
    t = terms({"use": "ai-train-generative", "permission": "not-allowed"},
              {"use": "ai-train-other", "permission": "not-allowed"},
              kind="location", subject="https://example.org/music/*")
    done = protect(t)
    assert done.place.site == SITE and done.place.path == "/music/*"
    robots_txt = done.files[P.ROBOTS]
    assert "Disallow: /music/*" in robots_txt and "Content-Signal: /music/* ai-train=no" in robots_txt
    assert not robots.crawl_rule(robots_txt, "GPTBot", "/music/a.mp3").allowed
    assert robots.crawl_rule(robots_txt, "GPTBot", "/blog/").allowed
    assert json.loads(done.files[P.TDMREP]) == [{"location": "/music/*", "tdm-reservation": 1}]
    assert "header /music/* {" in done.files[P.CADDY]
    assert rsl.parse_rsl(done.files[P.LICENSE]).contents[0].url == "https://example.org/music/*"
    with pytest.raises(InvalidInput) as exc:
        protect(t, site="https://other.example")
    assert [p.field for p in exc.value.problems] == ["site"]


def test_bad_sites_urls_and_contacts_are_named_together():
    with pytest.raises(InvalidInput) as exc:
        protect(CATALOGUE, site="https://example.org/shop", licence_url="https://example.org/l.xml?a='1'",
                policy_url="ftp://example.org/p.json", contact="not an address")
    assert {p.field for p in exc.value.problems} == {"site", "licence_url", "policy_url", "contact"}
    with pytest.raises(InvalidInput) as exc:
        protect(CATALOGUE)
    assert exc.value.problems[0].field == "site"
    with pytest.raises(InvalidInput) as exc:
        protect(terms(), site=SITE)
    assert "nothing to publish" in exc.value.problems[0].message
    # a URL that would break out of a header value or a robots.txt line is refused, never written
    for url in ("https://example.org/l.xml#x", "https://example.org/${x}", "https://example.org/a b",
                "https://example.org/a\nUser-agent: *"):
        with pytest.raises(InvalidInput):
            protect(CATALOGUE, site=SITE, licence_url=url)


def test_a_bundle_publishes_at_most_a_thousand_terms():
    many = terms(*({"use": "search", "permission": "allowed", "territories": [f"A{chr(65 + i % 26)}"]}
                   for i in range(P.MAX_TERMS + 1)))
    with pytest.raises(InvalidInput) as exc:
        protect(many, site=SITE)
    assert exc.value.problems[0].field == "uses" and str(P.MAX_TERMS) in exc.value.problems[0].message


def test_the_licence_and_policy_may_live_elsewhere():
    files = protect_files(CATALOGUE, site=SITE, licence_url="https://licensing.example.net/catalogue/7.xml",
                          policy_url="https://licensing.example.net/catalogue/7-tdm.json")
    assert "License: https://licensing.example.net/catalogue/7.xml" in files[P.ROBOTS]
    assert "Allow: /license.xml" not in files[P.ROBOTS]       # nothing of the site's own to let crawlers read
    assert "Allow: /.well-known/tdmrep.json" in files[P.ROBOTS]
    assert json.loads(files[P.TDMREP])[0]["tdm-policy"] == "https://licensing.example.net/catalogue/7-tdm.json"


def test_everything_allowed_reserves_nothing_and_licenses_everything():
    files = protect_files(terms(*({"use": u.value, "permission": "allowed"} for u in Use)), site=SITE)
    assert "Disallow" not in files[P.ROBOTS]
    assert json.loads(files[P.TDMREP]) == [{"location": "/", "tdm-reservation": 0}]
    assert P.POLICY not in files and "X-Robots-Tag" not in files[P.NGINX]
    document = rsl.parse_rsl(files[P.LICENSE])
    assert {rsl.evaluate(document, SITE + "/x", u).outcome for u in Use} == {rsl.Outcome.LICENSED}


def test_prices_that_differ_are_asked_for_not_guessed():
    t = terms({"use": "ai-train-generative", "permission": "licence", "price": per_item(500)},
              {"use": "ai-train-other", "permission": "licence", "price": per_item(900)},
              policy_url="https://example.org/ai-terms")
    files = protect_files(t, site=SITE)
    offer = rsl.evaluate(rsl.parse_rsl(files[P.LICENSE]), SITE + "/", Use.AI_TRAIN_OTHER).offers[0]
    assert offer.payment.amounts == () and offer.payment.custom == ("https://example.org/ai-terms",)
    assert "no one price" in flat(files[P.README])


# --- signed media --------------------------------------------------------------------------------

def test_signed_media_carry_the_terms_as_signals_state_them(tmp_path):
    from tests.aiuse.test_cawg import _make_ca, jpeg
    from cryptography.hazmat.primitives.asymmetric import ec

    chain, key, _root = _make_ca(ec.generate_private_key(ec.SECP256R1()))
    credentials = cawg.SigningCredentials(chain, key, "es256")
    t = terms({"use": "ai-train-generative", "permission": "licence", "price": per_item(500)},
              {"use": "ai-train-other", "permission": "allowed"},
              {"use": "ai-train-other", "permission": "not-allowed", "territories": ["JP"]},
              {"use": "tdm", "permission": "allowed"}, contact="licensing@example.org")
    done = protect(t, site=SITE, media=[("../../Cover Art.jpg", jpeg())], credentials=credentials,
                   mode="ai_generated")
    assert done.signed_media == ("Cover_Art.jpg",)
    read = cawg.read_media(done.files["media/Cover_Art.jpg"], "image/jpeg")
    entries = {e.key: e.use for e in read.entries}
    assert entries == {"cawg.ai_generative_training": "constrained",      # licence
                       "cawg.ai_training": "notAllowed",                   # not allowed in Japan: said everywhere
                       "cawg.data_mining": "allowed"}                      # inference not stated: not written
    constraint = next(e.constraint_info for e in read.entries if e.key == "cawg.ai_generative_training")
    assert "https://example.org/license.xml" in constraint and "per-item" in constraint
    assert any(s.value == cawg.TRAINED_ALGORITHMIC_MEDIA for s in read.digital_source_types)
    assert "media/Cover_Art.jpg" in flat(done.files[P.README])
    with pytest.raises(InvalidInput) as exc:
        protect(t, site=SITE, media=[("a.jpg", jpeg())])
    assert "OBRA_C2PA_CERT" in exc.value.hint


# --- the service: stored terms, public ------------------------------------------------------------

def test_anyone_generates_the_files_of_stored_terms_with_their_provenance(store, principals, monkeypatch):
    from cryptography.hazmat.primitives.asymmetric import ec

    from obra.aiuse.protect_service import ProtectService
    from obra.aiuse.service import AITermsService
    from obra.registry.service import Registry
    from tests.aiuse.test_cawg import _make_ca, jpeg

    registrant = principals["registrant"][0]
    number = Registry(store).register(registrant, "work", {
        "title": "Canción del Algoritmo", "creation_mode": "ai_generated",
        "disclosure": {"systems": [{"name": "Udio"}], "ai_contribution": "music and vocals"}}).number
    stated = AITermsService(store).set_terms(registrant, {"subject_kind": "work", "subject": number,
                                                          "contact": "rights@example.org", "uses": [
        {"use": "ai-train-generative", "permission": "not-allowed"},
        {"use": "ai-train-other", "permission": "not-allowed"}, {"use": "search", "permission": "allowed"}]})
    chain, key, _root = _make_ca(ec.generate_private_key(ec.SECP256R1()))
    monkeypatch.setenv("OBRA_C2PA_CERT", chain.decode())
    monkeypatch.setenv("OBRA_C2PA_KEY", key.decode())
    done = ProtectService(store).bundle("work", number.lower(), site=SITE, media=[("cover.jpg", jpeg())])
    assert done["summary"]["subject"] == number and done["summary"]["signed_media"] == ["cover.jpg"]
    assert f"journal event {stated['journal_event']}" in done["summary"]["source"]
    readme = flat(done["files"][P.README])
    assert f"obra journal proof {stated['journal_event']}" in readme and "version 1" in readme
    archive = zipfile.ZipFile(io.BytesIO(done["zip"]))
    assert set(archive.namelist()) == set(done["files"])
    signed = cawg.read_media(archive.read("media/cover.jpg"), "image/jpeg")
    assert {e.key: e.use for e in signed.entries} == {"cawg.ai_generative_training": "notAllowed",
                                                      "cawg.ai_training": "notAllowed"}
    assert any(s.value == cawg.TRAINED_ALGORITHMIC_MEDIA and s.active for s in signed.digital_source_types)
    # nothing is stored: the journal has the terms' event and no other
    from obra.journal import Journal

    assert Journal(store).events(limit=None)[-1].id == stated["journal_event"]


def test_what_to_publish_is_asked_for_by_name(store, monkeypatch):
    from obra.aiuse.protect_service import ProtectService
    from obra.errors import NotFound

    service = ProtectService(store)
    with pytest.raises(NotFound) as missing:
        service.bundle("party", "7", site=SITE)
    assert "--terms" in missing.value.hint
    with pytest.raises(InvalidInput) as both:
        service.bundle("party", "7", terms=CATALOGUE, site=SITE)
    assert both.value.problems[0].field == "terms"
    with pytest.raises(InvalidInput) as neither:
        service.bundle(site=SITE)
    assert neither.value.problems[0].field == "subject"
    with pytest.raises(InvalidInput) as kind:
        service.bundle("song", "7", site=SITE)
    assert kind.value.problems[0].field == "kind"
    with pytest.raises(InvalidInput) as bad:
        service.bundle(terms={"subject_kind": "party", "subject": "7", "uses": [{"use": "train-ai"}]}, site=SITE)
    assert any(p.field.startswith("uses") for p in bad.value.problems)
    inline = service.bundle(terms=CATALOGUE.to_json(), site=SITE)
    assert inline["summary"]["source"] == "a terms document given inline, not stored"
    monkeypatch.delenv("OBRA_C2PA_CERT", raising=False)
    monkeypatch.delenv("OBRA_C2PA_KEY", raising=False)
    with pytest.raises(InvalidInput) as unsigned:
        service.bundle(terms=CATALOGUE, site=SITE, media=[("a.jpg", b"\xff\xd8")])
    assert {p.field for p in unsigned.value.problems} == {"OBRA_C2PA_CERT", "OBRA_C2PA_KEY"}


def test_epub_and_pdf_carry_the_reservation_in_their_own_metadata_without_credentials():
    from .test_tdmrep import _epub, _opf, _pdf

    book, paper = _epub(_opf("3.0", "")), _pdf(None)
    done = protect(CATALOGUE, site=SITE, media=[("Novela (1ª ed.).epub", book), ("paper.pdf", paper)])
    assert done.tdm_media == ("Novela_1_ed._.epub", "paper.pdf") and done.signed_media == ()
    policy = "https://example.org/tdm-policy.json"
    for step in (tdmrep.read_epub(done.files["media/Novela_1_ed._.epub"]), tdmrep.read_pdf(done.files["media/paper.pdf"])):
        assert (step.reservation, step.policy) == (1, policy)
    assert "media/Novela_1_ed._.epub, paper.pdf" in done.files[P.README]
    # Terms that neither reserve nor allow everything TDMRep covers: nothing to write into the book, said so.
    silent = protect(terms({"use": "search", "permission": "allowed"}), site=SITE, media=[("b.epub", book)])
    assert silent.tdm_media == () and "media/b.epub" not in silent.files
    assert any("b.epub: not written" in note for note in silent.notes)
