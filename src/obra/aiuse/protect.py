"""Publish your terms: every signal file a site needs, generated from a rightholder's AI-use terms.

A rightholder states terms once (:class:`~obra.aiuse.terms.AITerms`); crawlers and dataset
builders read half a dozen standards, each able to say only part of them. :func:`protect`
writes each standard's file with that standard's own writer in :mod:`obra.aiuse.signals`
(nothing is written twice) and reads every file back with the standard's own reader:

* ``robots.txt`` — a group turning away the listed AI crawlers that serve a reserved use
  (:func:`~obra.aiuse.signals.robots.write_robots_txt`, the packaged ai.robots.txt list), the
  ``Content-Usage`` (IETF AIPREF) and ``Content-Signal`` (Cloudflare) lines, and a ``License:``
  line pointing at the RSL document. The turned-away crawlers may still fetch the licence and
  the reservation, so that they can read them.
* ``.well-known/tdmrep.json`` and ``tdm-policy.json`` — the W3C TDMRep reservation and its
  ODRL policy (the offer: ``compensate`` / ``obtainConsent`` duties, a ``purpose`` constraint).
* ``license.xml`` — the RSL 1.0 licence.
* ``headers/nginx.conf``, ``headers/apache.conf``, ``headers/Caddyfile`` — the response headers
  ``Content-Usage``, ``tdm-reservation``/``tdm-policy``, ``Link: <licence>; rel="license";
  type="application/rsl+xml"`` and, when training is reserved, ``X-Robots-Tag: noai, noimageai``
  (a convention, marked as one).
* ``html-head.html`` — the same for a page's ``<head>``: TDMRep meta, RSL ``<link>``, noai meta.
* ``media/…`` — signed copies of media files with a CAWG ``cawg.training-mining`` assertion
  (only when signing credentials are configured: :meth:`SigningCredentials.from_env`).
* ``README.txt`` — what each file is for, where it goes, which standard reads it, what it
  cannot say, and what every file says about every use, read back.

**Conditions.** Yes/no signals (robots.txt, Content-Usage, Content-Signal, tdm-reservation,
X-Robots-Tag, CAWG) cannot say "for research only" or "not in the US". They state, per use,
the most restrictive permission any of the terms gives it (:class:`SignalTerms`), so that no
signal ever grants more than the terms do for some territory, purpose, user type or date; a
use the terms leave unstated for the unconditional question stays unsaid. Conditions go where
a standard can carry them: RSL says user types and territories (a licence per scope, each
granting what the terms give to every requester it admits), the TDMRep policy says
research / non-research. Everything that could not be said, and where it went instead, is
listed in the README.

**RSL is a licence.** What it does not license is not licensed: a use the terms leave unstated
reads as not licensed there, the two kinds of training share one token (``ai-train``: granted
only as far as both are) and mining has no token of its own (``all``: granted only with every
other use).

Everything is a pure function of the terms and the URLs: the same terms give the same bytes
(the zip included), so a published bundle can be checked against the terms it came from.
"""

from __future__ import annotations

import io
import mimetypes
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from itertools import product
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from obra.aiuse.signals import aipref, cawg, content_signals, noai, robots, rsl, tdmrep, tdmrep_embed
from obra.aiuse.signals.paths import pattern_matches
from obra.aiuse.terms import EU_MEMBERS, RESTRICTIVENESS, AITerms, PriceModel, Purpose, UserType, UseTerm
from obra.aiuse.vocabulary import ALL_USES, TRAINING, Permission, Reading, Use, uses_of
from obra.canonical import sha256_hex
from obra.errors import InternalInvariantError, InvalidInput, Problem
from obra.money import format_money

__all__ = [
    "ROBOTS", "TDMREP", "POLICY", "LICENSE", "NGINX", "APACHE", "CADDY", "HTML", "README", "MEDIA",
    "MAX_TERMS", "Place", "SignalTerms", "Protection", "protect", "protect_files", "sign_media", "zip_bundle",
]

ROBOTS = "robots.txt"
TDMREP = ".well-known/tdmrep.json"
POLICY = "tdm-policy.json"
LICENSE = "license.xml"
NGINX = "headers/nginx.conf"
APACHE = "headers/apache.conf"
CADDY = "headers/Caddyfile"
HTML = "html-head.html"
README = "README.txt"
MEDIA = "media/"

MAX_TERMS = 1000
"""The most use terms one bundle publishes (a site states a few dozen; this bounds the work)."""
_MAX_QUESTIONS = 20_000
"""Questions asked of the terms for one use of one RSL scope; beyond it the scope grants nothing."""

_ORIGIN = re.compile(r"(https?)://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?/?", re.ASCII)
_EMAIL = re.compile(r"[^@\s<>\"'\\`{}$;,()]+@[^@\s<>\"'\\`{}$;,()]+\.[^@\s<>\"'\\`{}$;,()]+", re.ASCII)
# Characters a URL written into robots.txt, server configurations and HTML may not hold: each
# has a meaning in one of those formats (quotes, nginx and Apache variables, Caddy placeholders).
_UNSAFE = re.compile(r"[\x00-\x20\x7f'\"\\$<>{}`|^#]")
_RSL_PAYMENT = {PriceModel.FLAT: "purchase", PriceModel.PER_ITEM: "purchase", PriceModel.PER_CRAWL: "crawl",
                PriceModel.PER_USE: "use", PriceModel.REVENUE_SHARE: "use"}
_TDM_USES: tuple[Use, ...] = uses_of("tdmrep", "tdm-reservation")
_EU_FIRST = sorted(EU_MEMBERS)


def _rank(permission: Permission) -> int:
    return RESTRICTIVENESS[permission]


def _lowest(permissions: Iterable[Permission]) -> Permission:
    return min(permissions, key=_rank)


# ---------------------------------------------------------------------------------------------
# Where the files go


@dataclass(frozen=True)
class Place:
    """Where the signals are published: the site's origin, the path pattern the terms cover
    there (``/``: the whole site), the URLs of the RSL licence and of the TDMRep policy, and the
    rightholder's contact."""

    site: str
    path: str
    licence_url: str
    policy_url: str
    contact: str | None = None

    @property
    def sample(self) -> str:
        """A path the terms cover (the pattern with its wildcards filled), for reading back."""
        return self.path.rstrip("$").replace("*", "x") or "/"

    @property
    def scope_url(self) -> str:
        return self.site + self.path

    def same_origin_path(self, url: str) -> str | None:
        """``url``'s path when it is on the site (robots.txt can only speak of those)."""
        if not url.startswith(self.site + "/"):
            return None
        return url[len(self.site):]


def _url(value: str | None, name: str, default: str) -> tuple[str, list[Problem]]:
    url = default if value is None or not value.strip() else value.strip()
    problems = []
    parts = urlsplit(url) if not _UNSAFE.search(url) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2048:
        problems.append(Problem(f"{name} {url!r} must be an absolute http(s) URL without spaces, quotes, "
                                "'$', '#', '\\', '<', '>', '{', '}', '`', '|' or '^' (percent-encode them)", field=name))
    return url, problems


def place_for(terms: AITerms, *, site: str | None, licence_url: str | None = None, policy_url: str | None = None,
              contact: str | None = None) -> Place:
    """Check and complete where the files go; every problem named at once.

    ``site`` is the origin (``https://example.org``); for a web location it defaults to the
    location's own origin and must agree with it. The licence defaults to ``{site}/license.xml``,
    the policy to ``{site}/tdm-policy.json``, the contact to the terms' own.
    """
    problems: list[Problem] = []
    path = "/"
    if terms.subject_kind == "location":
        parts = urlsplit(terms.subject)
        own = f"{parts.scheme}://{parts.netloc}"
        path = terms.subject[len(own):] or "/"
        if site is None or not site.strip():
            site = own
    if site is None or not site.strip():
        raise InvalidInput(Problem("the site is missing: give its origin, e.g. https://example.org", field="site"),
                           hint="the files name the site's URLs (robots.txt, the licence, the policy)")
    site = site.strip()
    found = _ORIGIN.fullmatch(site)
    if not found:
        problems.append(Problem(f"site {site!r} must be an origin: scheme and host, e.g. https://example.org "
                                "(no path; a part of a site is a location's terms)", field="site"))
    else:
        site = f"{found.group(1).lower()}://{found.group(2).lower()}{found.group(3) or ''}"
        if terms.subject_kind == "location" and site != f"{urlsplit(terms.subject).scheme.lower()}://" \
                                                      f"{urlsplit(terms.subject).netloc.lower()}":
            problems.append(Problem(f"the terms are for {terms.subject}, not for the site {site}", field="site"))
    if not path.startswith("/") or _UNSAFE.search(path[:-1] if path.endswith("$") else path):
        problems.append(Problem(f"the location's path {path!r} must start with '/' and hold no spaces, quotes or "
                                "'$' other than a final one", field="subject"))
    elif "$" in path[:-1]:
        problems.append(Problem(f"the location's path {path!r} may hold '$' only at its end", field="subject"))
    licence, more = _url(licence_url, "licence_url", f"{site}/license.xml")
    problems += more if found or licence_url else []     # a default made from a bad site says nothing new
    policy, more = _url(policy_url, "policy_url", f"{site}/tdm-policy.json")
    problems += more if found or policy_url else []
    who = contact if contact is not None and contact.strip() else terms.contact
    who = who.strip() if who else None
    if who is not None and not _EMAIL.fullmatch(who):
        problems.append(Problem(f"contact {who!r} must be an e-mail address, e.g. licensing@example.org",
                                field="contact"))
    if problems:
        raise InvalidInput(problems)
    return Place(site, path, licence, policy, who)


# ---------------------------------------------------------------------------------------------
# The terms as signals can state them


def _merged(use: Use, level: Permission, deciding: Sequence[UseTerm]) -> UseTerm:
    """One term standing for ``deciding`` at ``level``: a licence keeps its price when they all
    name the same one (else none: "price on request") and asks prior consent if any does."""
    if level is not Permission.LICENCE:
        return UseTerm(use=use, permission=level)
    prices = {t.price for t in deciding}
    return UseTerm(use=use, permission=level, price=next(iter(prices)) if len(prices) == 1 else None,
                   prior_consent=any(t.prior_consent for t in deciding))


class SignalTerms:
    """The terms as a signal that cannot carry conditions may state them.

    Per use: nothing when no term answers the unconditional question (silence stays silence);
    otherwise the most restrictive permission any of the use's terms gives. That is the lowest
    answer the terms give to any question (territory, purpose, user type, date): the term that
    decides a question naming exactly its own scope is that term or an equally narrow, more
    restrictive one. So a yes/no signal written from it never grants more than the terms do
    anywhere, for anyone. Implements the writers' ``permission(use)`` protocol, and carries the
    terms' ``policy_url`` and ``contact`` for CAWG's ``constraint_info``.
    """

    def __init__(self, terms: AITerms):
        self.terms = terms
        self.policy_url = terms.policy_url
        self.contact = terms.contact
        self._by_use: dict[Use, UseTerm] = {}
        for use in ALL_USES:
            if terms.permission(use) is None:
                continue
            mine = [t for t in terms.uses if t.use is use]
            level = _lowest(t.permission for t in mine)
            self._by_use[use] = _merged(use, level, [t for t in mine if t.permission is level])

    def permission(self, use: Use) -> UseTerm | None:
        return self._by_use.get(use)

    def as_map(self) -> dict[Use, Permission]:
        return {use: term.permission for use, term in self._by_use.items()}


# ---------------------------------------------------------------------------------------------
# Questions: what the terms answer to a requester a standard can describe


def _dates(mine: Sequence[UseTerm]) -> list[date | None]:
    """One date in every stretch of time over which the set of terms in force is constant, and None."""
    points: set[date] = set()
    for t in mine:
        if t.valid_from:
            points.add(t.valid_from)
        if t.valid_until and t.valid_until < date.max:
            points.add(t.valid_until + timedelta(days=1))
    if not points:
        return [None]
    first = min(points)
    return [None, *([first - timedelta(days=1)] if first > date.min else []), *sorted(points)]


def _territories(scope: Sequence[str], mentioned: set[str]) -> list[str | None]:
    """Countries standing for every requester a scope admits: each named country; for ``EU``
    every member named anywhere and one that is not (the others are answered alike); for no
    scope also None (a country no term names)."""
    if not scope:
        out: list[str | None] = [None, *sorted(mentioned - {"EU"})]
        scope = ("EU",) if "EU" in mentioned else ()
    else:
        out = sorted(set(scope) - {"EU"})
    if "EU" in scope:
        named = sorted(c for c in mentioned if c in EU_MEMBERS)
        other = next((c for c in _EU_FIRST if c not in mentioned), None)
        out += [c for c in named + ([other] if other else []) if c not in out]
    return out


def _floor(terms: AITerms, use: Use, *, territories: Sequence[str] = (), user_types: Sequence[UserType] = (),
           purposes: Sequence[Purpose | None] | None = None) -> tuple[Permission | None, list[UseTerm]]:
    """The lowest permission the terms give ``use`` over every question a scope admits (requesters
    in ``territories``, of ``user_types``, for ``purposes``; empty: any), with the terms deciding
    at that level. None when some question has no answer (it cannot be granted to all of them) or
    when there are more questions than :data:`_MAX_QUESTIONS` (then too it is not granted)."""
    mine = [t for t in terms.uses if t.use is use]
    if not mine:
        return None, []
    countries = _territories(territories, {c for t in mine for c in t.territories})
    users = list(user_types) or [None, *sorted({u for t in mine for u in t.user_types})]
    purpose_list = list(purposes) if purposes is not None else [None, *sorted({p for t in mine for p in t.purposes})]
    dates = _dates(mine)
    if len(countries) * len(users) * len(purpose_list) * len(dates) > _MAX_QUESTIONS:
        return None, []
    scoped = AITerms(subject_kind=terms.subject_kind, subject=terms.subject, uses=tuple(mine))
    level: Permission | None = None
    deciding: list[UseTerm] = []
    for country, user, purpose, on in product(countries, users, purpose_list, dates):
        term = scoped.permission(use, territory=country, user_type=user, purpose=purpose, on=on)
        if term is None:
            return None, []
        if level is None or _rank(term.permission) < _rank(level):
            level, deciding = term.permission, [term]
        elif term.permission is level and term not in deciding:
            deciding.append(term)
    return level, deciding


# ---------------------------------------------------------------------------------------------
# RSL


def _granted(level: Permission | None) -> Permission | None:
    return level if level in (Permission.ALLOWED, Permission.LICENCE) else None


def _rsl_expressible(levels: Mapping[Use, Permission | None]) -> dict[Use, Permission | None]:
    """Levels RSL's tokens can say, never above the given ones: both kinds of training at the
    lower of the two (``ai-train`` covers both), mining only when every other use has one same
    grant it reaches (``all``)."""
    out = {use: _granted(levels.get(use)) for use in ALL_USES}
    generative, other = out[Use.AI_TRAIN_GENERATIVE], out[Use.AI_TRAIN_OTHER]
    pair = None if generative is None or other is None else _lowest((generative, other))
    out[Use.AI_TRAIN_GENERATIVE] = out[Use.AI_TRAIN_OTHER] = pair
    rest = {out[use] for use in ALL_USES if use is not Use.TDM}
    mining = out[Use.TDM]
    if mining is not None:
        common = next(iter(rest)) if len(rest) == 1 else None
        out[Use.TDM] = common if common is not None and _rank(mining) >= _rank(common) else None
    return out


def _how_to_ask(terms: AITerms, place: Place) -> str | None:
    """Where a licensee asks: the terms' own page when it is a usable URL, else the contact."""
    if terms.policy_url and not _url(terms.policy_url, "policy_url", "")[1]:
        return terms.policy_url.strip()
    return f"mailto:{place.contact}" if place.contact else None


def _rsl_payment(deciding: Iterable[UseTerm], how: str | None) -> tuple[rsl.RslPayment, bool]:
    """One RSL payment for the licensed uses, and whether it carries their one price."""
    prices = {t.price for t in deciding}
    price = next(iter(prices)) if len(prices) == 1 else None
    if price is None:
        return rsl.RslPayment("purchase", custom=how), False
    amount = price.amount_minor if price.model is not PriceModel.REVENUE_SHARE else None
    return rsl.RslPayment(_RSL_PAYMENT[price.model], amount, price.currency if amount is not None else None,
                          custom=how), amount is not None


@dataclass
class _Rsl:
    text: str
    open_levels: dict[Use, Permission | None]
    scopes: list[tuple[tuple[str, ...], tuple[str, ...], dict[Use, Permission | None]]]
    notes: list[str]


def _rsl_document(terms: AITerms, signal: SignalTerms, place: Place) -> _Rsl:
    """The RSL licence: one ``<content>`` for everyone (the unconditional grants) and one per
    territory / user-type scope of the terms that grants more to the requesters it admits."""
    how = _how_to_ask(terms, place)
    notes: list[str] = []
    documents: list[str] = []

    def write(levels: dict[Use, Permission | None], deciding: dict[Use, list[UseTerm]],
              territories: tuple[str, ...] = (), users: tuple[str, ...] = ()) -> str:
        licensed = [t for use, level in levels.items() if level is Permission.LICENCE for t in deciding[use]]
        needed = Permission.LICENCE in levels.values()
        payment, priced = _rsl_payment(licensed, how) if needed else (None, True)
        if needed and not priced:
            notes.append("RSL: one price per licence; the licensed uses"
                         f"{' in ' + '/'.join(territories + users) if territories or users else ''} have no one "
                         "price, so the licence says where to ask instead of an amount")
        return rsl.write_rsl(rsl.RslTerms(uses={u: lv for u, lv in levels.items() if lv is not None},
                                          url=place.scope_url, payment=payment, users=users,
                                          territories=territories, terms_url=how if how and how.startswith(
                                              "http") else None))

    wanted = {use: _granted(level) for use, level in signal.as_map().items()}
    open_levels = _rsl_expressible(wanted)
    open_deciding = {use: [t for t in terms.uses if t.use is use and t.permission is open_levels[use]]
                     for use in ALL_USES}
    for use in ALL_USES:
        if wanted.get(use) is not None and open_levels[use] != wanted[use]:
            why = ("ai-train covers both kinds of training: granted only as far as both are"
                   if use in TRAINING else "mining has no RSL token of its own (only 'all', every use)")
            notes.append(f"RSL: {use.value} is {_words(wanted[use])} in your terms but written as "
                         f"{_words(open_levels[use]) if open_levels[use] else 'not licensed'}: {why}")
    scopes = []
    seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for term in terms.uses:
        key = (term.territories, tuple(u.value for u in term.user_types))
        if term.purposes or term.valid_from or term.valid_until or key == ((), ()) or key in seen:
            continue
        seen.add(key)
        floors = {use: _floor(terms, use, territories=term.territories, user_types=term.user_types)
                  for use in ALL_USES}
        levels = _rsl_expressible({use: level for use, (level, _d) in floors.items()})
        if not any(lv is not None and (open_levels[use] is None or _rank(lv) > _rank(open_levels[use]))
                   for use, lv in levels.items()):
            continue
        deciding = {use: [t for t in floors[use][1] if t.permission is levels[use]] for use in ALL_USES}
        documents.append(write(levels, deciding, key[0], key[1]))
        scopes.append((key[0], key[1], levels))
    if any(open_levels.values()) or not documents:
        documents.insert(0, write(open_levels, open_deciding))
    text = _merge_rsl(documents)
    parsed = rsl.parse_rsl(text, source=LICENSE)
    if not parsed.conformant:
        raise InternalInvariantError(f"the RSL document written is not conformant: {parsed.problems}")
    return _Rsl(text, open_levels, scopes, notes)


def _merge_rsl(documents: Sequence[str]) -> str:
    """The ``<content>`` elements of several documents written by :func:`rsl.write_rsl` in one
    ``<rsl>`` (contents of the same scope are read together: their order does not matter)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    roots = [etree.fromstring(d.encode("utf-8"), parser) for d in documents]
    first = roots[0]
    for other in roots[1:]:
        for content in list(other):
            first.append(content)
    etree.indent(first, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(first, encoding="unicode") + "\n"


# ---------------------------------------------------------------------------------------------
# TDMRep


@dataclass(frozen=True)
class _Offer:
    purpose: str | None
    consent: bool
    compensate: bool


def _offer(terms: AITerms, signal: SignalTerms, purposes: Sequence[Purpose] | None) -> _Offer | None:
    """What the terms offer for mining (and the training a TDMRep reservation also covers) to
    every requester of ``purposes`` (None: any purpose), as an ODRL permission, or None."""
    deciding: list[UseTerm] = []
    for use in _TDM_USES:
        if purposes is None:
            term = signal.permission(use)
            level, found = (term.permission, [t for t in terms.uses if t.use is use and t.permission is
                                              term.permission]) if term else (None, [])
        else:
            level, found = _floor(terms, use, purposes=purposes)
        if _granted(level) is None:
            return None
        deciding += [t for t in found if t.permission is Permission.LICENCE]
    purpose = None if purposes is None else ("research" if Purpose.RESEARCH in purposes else "non-research")
    return _Offer(purpose, consent=any(t.prior_consent or t.price is None for t in deciding),
                  compensate=any(t.price is not None for t in deciding))


def _tdm_policy(terms: AITerms, signal: SignalTerms) -> tuple[_Offer | None, list[str]]:
    """The one offer a TDMRep policy carries: for any purpose, else for research, else for every
    other purpose (a policy has one permission; the README names the offer left out)."""
    notes = []
    offers = [_offer(terms, signal, None), _offer(terms, signal, (Purpose.RESEARCH,)),
              _offer(terms, signal, (Purpose.NON_COMMERCIAL, Purpose.COMMERCIAL))]
    chosen = next((o for o in offers if o is not None), None)
    if chosen is not None and chosen.purpose == "research" and offers[2] is not None:
        notes.append("TDMRep: a policy holds one offer; the one for research is written, the one for other "
                     "purposes is in license.xml or your terms only")
    return chosen, notes


# ---------------------------------------------------------------------------------------------
# Server configurations and HTML


@dataclass(frozen=True)
class _Header:
    name: str
    value: str
    what: str
    adds: bool = False
    """A list-valued field another value may already be in (Link, X-Robots-Tag): added, not replaced."""


def _nginx(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _apache(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def _caddy(value: str) -> str:
    return f"`{value}`" if '"' in value else f'"{value}"'


def _caddy_matcher(path: str) -> str | None:
    """The Caddy path matcher of an RFC 9309 prefix pattern (``/music/`` → ``/music/*``), when one says the same."""
    if path == "/":
        return ""
    body = path[:-1] if path.endswith("*") else path
    if "*" in body or "$" in body:
        return None
    return f"{body}*"


def _server_configs(headers: Sequence[_Header], place: Place) -> dict[str, str]:
    where = "the whole site" if place.path == "/" else f"the URLs matching {place.path} (an RFC 9309 pattern)"
    top = (f"AI-use response headers for {place.scope_url}, written by Obra from the rightholder's terms.",
           f"They belong on the responses of {where}; README.txt says what each one means.")
    nginx = [f"# {line}" for line in top]
    nginx += ["# nginx: put these lines in the server { } block of the site"
              + ("." if place.path == "/" else f", or in the location {{ }} serving {place.path}."),
              "# A location { } with add_header lines of its own ignores the server's: repeat them there.", ""]
    apache = [f"# {line}" for line in top]
    apache += ["# Apache httpd (mod_headers): put this in the site's <VirtualHost>, or in its .htaccess",
               "# (AllowOverride FileInfo)" + ("." if place.path == "/" else f", or in a <Location> for {place.path}."),
               "<IfModule mod_headers.c>"]
    caddy = [f"# {line}" for line in top]
    matcher = _caddy_matcher(place.path)
    caddy.append("# Caddy: put this inside the site's block in the Caddyfile. Behind reverse_proxy, add a line")
    caddy.append("# `defer` inside the block so that the upstream's headers do not replace these.")
    if matcher is None:
        caddy.append(f"# Add a path matcher for {place.path} (Caddy patterns differ from RFC 9309's).")
    caddy.append(f"header {matcher} {{" if matcher else "header {")
    for header in headers:
        nginx += [f"# {header.what}", f"add_header {header.name} {_nginx(header.value)} always;"]
        verb = "append" if header.adds else "set"
        apache += [f"    # {header.what}", f"    Header always {verb} {header.name} {_apache(header.value)}"]
        caddy += [f"\t# {header.what}", f"\t{'+' if header.adds else ''}{header.name} {_caddy(header.value)}"]
    apache.append("</IfModule>")
    caddy.append("}")
    return {NGINX: "\n".join(nginx) + "\n", APACHE: "\n".join(apache) + "\n", CADDY: "\n".join(caddy) + "\n"}


# ---------------------------------------------------------------------------------------------
# The bundle


@dataclass(frozen=True)
class Protection:
    """The generated files (text, and signed media as bytes), where they go, what every file
    says about every use when read back with its standard's reader, and what could not be said."""

    files: dict[str, str | bytes]
    place: Place
    readings: dict[str, dict[Use, str]]
    notes: tuple[str, ...]
    terms_hash: str
    signed_media: tuple[str, ...] = ()
    tdm_media: tuple[str, ...] = ()
    """EPUB and PDF copies carrying the TDMRep reservation in their metadata."""

    def to_json(self) -> dict:
        return {"site": self.place.site, "path": self.place.path, "licence_url": self.place.licence_url,
                "policy_url": self.place.policy_url, "contact": self.place.contact, "terms_hash": self.terms_hash,
                "files": sorted(self.files), "signed_media": list(self.signed_media),
                "tdm_media": list(self.tdm_media),
                "readings": {name: {u.value: r for u, r in by_use.items()} for name, by_use in self.readings.items()},
                "notes": list(self.notes)}


def _words(permission: Permission | None) -> str:
    return {Permission.ALLOWED: "allowed", Permission.NOT_ALLOWED: "not allowed",
            Permission.LICENCE: "under licence", None: "not stated"}[permission]


def _reading_words(reading: Reading) -> str:
    return {Reading.ALLOWED: "allowed", Reading.NOT_ALLOWED: "not allowed", Reading.UNKNOWN: "-"}[reading]


def protect(terms: AITerms, *, site: str | None = None, licence_url: str | None = None,
            policy_url: str | None = None, contact: str | None = None,
            media: Sequence[tuple[str, bytes]] = (), credentials: cawg.SigningCredentials | None = None,
            mode: cawg.Mode = "human", source: str | None = None) -> Protection:
    """Every signal file for ``terms`` (see the module docstring), read back before it is returned.

    ``media`` are ``(file name, bytes)`` to sign (with ``credentials``, required then) as
    ``media/<name>``; ``mode`` is how the work was made (AI-generated works declare
    ``trainedAlgorithmicMedia``); ``source`` says in the README where the terms came from.
    Refused with every problem named: terms stating no use, more than :data:`MAX_TERMS` terms,
    a site, URL or contact that cannot be written safely, media without credentials.
    """
    if not terms.uses:
        raise InvalidInput(Problem("the terms state no use: there is nothing to publish", field="uses"),
                           hint="state at least one use (obra ai terms set)")
    if len(terms.uses) > MAX_TERMS:
        raise InvalidInput(Problem(f"{len(terms.uses)} use terms; one bundle publishes at most {MAX_TERMS}",
                                   field="uses"))
    place = place_for(terms, site=site, licence_url=licence_url, policy_url=policy_url, contact=contact)
    books = [(name, data) for name, data in media if tdmrep_embed.kind_of(name, data)]   # TDMRep goes inside
    media = [(name, data) for name, data in media if not tdmrep_embed.kind_of(name, data)]
    if media and credentials is None:
        raise InvalidInput(Problem("signing media files needs signing credentials", field="media"),
                           hint="set OBRA_C2PA_CERT and OBRA_C2PA_KEY (see docs/protect-your-works.md)")
    signal = SignalTerms(terms)
    notes: list[str] = []
    files: dict[str, str | bytes] = {}

    # RSL first: robots.txt, the headers and the HTML point at it.
    licence = _rsl_document(terms, signal, place)
    notes += licence.notes
    files[LICENSE] = licence.text

    # TDMRep: the reservation covers mining and both kinds of training; its policy, the offer.
    reading = robots.reading_for(_TDM_USES, signal)
    reservation = {Reading.NOT_ALLOWED: 1, Reading.ALLOWED: 0}.get(reading)
    offer, more = _tdm_policy(terms, signal) if reservation == 1 else (None, [])
    notes += more
    policy = place.policy_url if offer is not None else None
    if offer is not None:
        assigner = tdmrep.Assigner(uid=f"mailto:{place.contact}" if place.contact else place.site + "/",
                                   email=place.contact, url=place.site + "/")
        files[POLICY] = tdmrep.policy_json(tdmrep.PolicyTerms(
            uid=place.policy_url, assigner=assigner, consent=offer.consent, compensate=offer.compensate,
            purpose=offer.purpose))
    if reservation is not None:
        files[TDMREP] = tdmrep.write_tdmrep_json([tdmrep.LocationTerms(place.path, reservation, policy)])

    # robots.txt: crawl rules, Content-Usage, Content-Signal, License.
    path = None if place.path == "/" else place.path
    lines = aipref.write_robots_rules(signal, path) + content_signals.write_robots_rules(signal, path)
    readable = [p for p in (place.same_origin_path(place.licence_url), "/.well-known/tdmrep.json" if reservation
                            is not None else None, place.same_origin_path(policy) if policy else None)
                if p is not None and pattern_matches(place.path, p)]
    files[ROBOTS] = robots.write_robots_txt(
        signal, rules=lines, disallow=place.path, allow=sorted(set(readable)),
        preamble=["# The licence of this site's content (RSL 1.0), for every crawler", f"License: {place.licence_url}"])

    # Response headers and the HTML head.
    headers: list[_Header] = []
    usage = aipref.write_header(signal)
    if usage is not None:
        headers.append(_Header("Content-Usage", usage, "IETF AIPREF: what AI uses the content may serve"))
    if reservation is not None:
        for line in tdmrep.header_lines(reservation, policy):
            name, _, value = line.partition(": ")
            headers.append(_Header(name, value, "W3C TDMRep: text and data mining reserved (1) or not (0)"
                                   if name == "tdm-reservation" else "W3C TDMRep: the licence policy"))
    headers.append(_Header("Link", f'<{place.licence_url}>; rel="license"; type="{rsl.MEDIA_TYPE}"',
                           "RSL 1.0: the licence document", adds=True))
    x_robots = noai.write_x_robots_tag(signal)
    if x_robots is not None:
        headers.append(_Header("X-Robots-Tag", x_robots, "noai, noimageai: a convention (DeviantArt 2022), not a "
                               "standard; some dataset tools honour it", adds=True))
    files.update(_server_configs(headers, place))
    files[HTML] = _html_head(place, reservation, policy, signal)

    # Signed copies of media files (CAWG training-and-data-mining in a C2PA manifest).
    signed = [_media_name(name) for name, _data in media]
    marked = [_media_name(name) for name, _data in books]
    if len(set(signed + marked)) != len(signed + marked):
        raise InvalidInput(Problem("two media files have the same name", field="media"))
    for name, data in media:
        safe = _media_name(name)
        copy = sign_media(terms, data, credentials, licence_url=place.licence_url, contact=place.contact,
                          mode=mode, mime_type=mimetypes.guess_type(safe)[0])
        files[MEDIA + safe] = copy.data
    # EPUB and PDF copies with the TDMRep reservation (and policy) in their own metadata.
    for name, data in books:
        if reservation is None:
            notes.append(f"{_media_name(name)}: not written — your terms give TDMRep nothing to say "
                         "(they neither reserve nor allow every use its reservation covers)")
            marked.remove(_media_name(name))
            continue
        files[MEDIA + _media_name(name)] = tdmrep_embed.embed(name, data, reservation, policy)

    readings = _read_back(files, place, usage, x_robots, signal)
    notes += _condition_notes(terms, signal, licence, offer)
    terms_hash = sha256_hex(terms.to_json())
    files[README] = _readme(terms, place, files, readings, notes, terms_hash, source, tuple(signed),
                            len(robots.crawlers_to_block(signal)), tuple(marked))
    return Protection(files, place, readings, tuple(notes), terms_hash, tuple(signed), tuple(marked))


def protect_files(terms: AITerms, **options) -> dict[str, str | bytes]:
    """The files of :func:`protect`: path in the bundle → content."""
    return protect(terms, **options).files


def _media_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip()
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "media"
    return safe[:120]


def sign_media(terms: AITerms, source: bytes | str | Path, credentials: cawg.SigningCredentials | None, *,
               licence_url: str | None = None, contact: str | None = None, mode: cawg.Mode = "human",
               mime_type: str | None = None, dest: str | Path | None = None) -> cawg.SignedMedia:
    """A signed copy of a media file carrying ``terms`` as a CAWG ``cawg.training-mining`` 1.1
    assertion (:func:`obra.aiuse.signals.cawg.sign_media`, with the terms as yes/no signals state
    them: :class:`SignalTerms`). ``credentials`` default to the environment's
    (:meth:`~obra.aiuse.signals.cawg.SigningCredentials.from_env`)."""
    credentials = credentials if credentials is not None else cawg.SigningCredentials.from_env()
    return cawg.sign_media(source, credentials, SignalTerms(terms), mime_type=mime_type, mode=mode,
                           licence_url=licence_url, contact=contact or terms.contact, dest=dest)


def _html_head(place: Place, reservation: int | None, policy: str | None, signal: SignalTerms) -> str:
    out = [f"<!-- AI-use signals for {escape(place.scope_url)}, written by Obra from the rightholder's terms.",
           "     Put these lines inside the <head> of every page the terms cover. -->"]
    if reservation is not None:
        out.append("<!-- W3C TDMRep: text and data mining reserved (1) or not (0), and its licence policy -->")
        out.append(tdmrep.html_meta(reservation, policy).rstrip("\n"))
    out.append("<!-- RSL 1.0: the licence document -->")
    out.append(f'<link rel="license" type="{rsl.MEDIA_TYPE}" href="{escape(place.licence_url, quote=True)}">')
    meta = noai.write_meta(signal)
    if meta is not None:
        out.append("<!-- noai, noimageai: a convention (DeviantArt 2022), not a standard. If the page already has a")
        out.append('     meta name="robots" element, add these two words to its content instead. -->')
        out.append(meta)
    return "\n".join(out) + "\n"


def _read_back(files: Mapping[str, str | bytes], place: Place, usage: str | None, x_robots: str | None,
               signal: SignalTerms) -> dict[str, dict[Use, str]]:
    """What every file says about every use, read with each standard's own reader (for the README,
    and as a last check: a file that does not read back to the terms is our fault)."""
    robots_txt = str(files[ROBOTS])
    sample, url = place.sample, place.site + place.sample
    out: dict[str, dict[Use, str]] = {}
    blocked = [c for c in robots.ai_crawlers().values()
               if not robots.crawl_rule(robots_txt, c.token, sample).allowed]
    out["robots.txt crawl"] = {use: (f"{n} crawlers turned away" if (n := sum(use in c.uses for c in blocked))
                                     else "-") for use in ALL_USES}
    for name, signals in (("Content-Usage", aipref.read_robots(robots_txt, "*", sample)),
                          ("Content-Signal", content_signals.read_robots(robots_txt, "*", sample))):
        said = {s.use: _reading_words(s.reading) for s in signals}
        out[name] = {use: said.get(use, "-") for use in ALL_USES}
    if TDMREP in files:
        step = tdmrep.match_tdmrep(tdmrep.parse_tdmrep_json(str(files[TDMREP])), url)
        said = {use: _reading_words(Reading.NOT_ALLOWED if step.reservation == 1 else Reading.ALLOWED)
                for use in _TDM_USES}
        out["TDMRep"] = {use: said.get(use, "-") for use in ALL_USES}
    else:
        out["TDMRep"] = {use: "-" for use in ALL_USES}
    document = rsl.parse_rsl(str(files[LICENSE]), source=LICENSE)
    out["RSL"] = {use: {rsl.Outcome.LICENSED: "licensed", rsl.Outcome.LICENCE_REQUIRED: "licence required",
                        rsl.Outcome.PROHIBITED: "not licensed", rsl.Outcome.UNLICENSED: "-"}[
                            rsl.evaluate(document, url, use).outcome] for use in ALL_USES}
    reserved = {s.use for s in noai.read_x_robots_tag(x_robots)} if x_robots else set()
    out["X-Robots-Tag"] = {use: "not allowed" if use in reserved else "-" for use in ALL_USES}
    links, _problems = rsl.robots_licenses(robots_txt, "GPTBot")
    if [link.url for link in links] != [place.licence_url]:
        raise InternalInvariantError("robots.txt does not name the licence for every crawler")
    return out


def _condition_notes(terms: AITerms, signal: SignalTerms, licence: _Rsl, offer: _Offer | None) -> list[str]:
    """In words: every term with conditions, and where it could be said."""
    notes = []
    for use, level in signal.as_map().items():
        unconditional = terms.permission(use)
        if unconditional is not None and level is not unconditional.permission:
            notes.append(f"{use.value}: your terms say {_words(unconditional.permission)} in general but "
                         f"{_words(level)} under some conditions; the signals that cannot carry "
                         f"conditions say {_words(level)} everywhere")
    scopes = {(t, u) for t, u, _levels in licence.scopes}
    for term in terms.uses:
        if not term.narrowness:
            continue
        conditions = "; ".join(part for part in (
            f"territories {', '.join(term.territories)}" if term.territories else "",
            f"purposes {', '.join(p.value for p in term.purposes)}" if term.purposes else "",
            f"user types {', '.join(u.value for u in term.user_types)}" if term.user_types else "",
            f"from {term.valid_from}" if term.valid_from else "",
            f"until {term.valid_until}" if term.valid_until else "") if part)
        where = []
        if (term.territories, tuple(u.value for u in term.user_types)) in scopes:
            where.append("license.xml (RSL, a licence for that scope)")
        if offer is not None and offer.purpose and term.use in _TDM_USES and term.purposes and \
                {p.value if p is Purpose.RESEARCH else "non-research" for p in term.purposes} == {offer.purpose}:
            where.append(f"tdm-policy.json (TDMRep, an offer for {offer.purpose})")
        notes.append(f"{term.use.value} {_words(term.permission)} for {conditions}: "
                     + (f"said in {' and '.join(where)}; " if where else "")
                     + "not expressible in robots.txt, Content-Usage, Content-Signal, the tdm-reservation, "
                       "X-Robots-Tag or CAWG" + ("" if where else ", nor here in RSL or the TDMRep policy"))
    return notes


# ---------------------------------------------------------------------------------------------
# README


_FILES: dict[str, tuple[str, str, str, str]] = {
    # file: (what it is for, where to put it, which standard reads it, what it cannot say)
    ROBOTS: (
        "Tells crawlers what they may fetch. A group turns away the AI crawlers of the maintained list "
        "(ai-robots-txt/ai.robots.txt) that serve a use your terms reserve; they may still fetch your licence and "
        "your reservation. The Content-Usage line (IETF AIPREF) and the Content-Signal line (Cloudflare) say "
        "what AI uses the content may serve; the License line points every crawler at your RSL licence.",
        "at {site}/robots.txt. If the site already has one, keep your own rules and add these groups and lines "
        "(a crawler reads one group: the one naming it, else the * group).",
        "RFC 9309 (every well-behaved crawler), IETF AIPREF, Cloudflare Content Signals, RSL 1.0.",
        "A crawl rule says who may fetch, not what may be done with what was fetched: it is not a licence, and "
        "only crawlers that name themselves and obey are turned away. A turned-away crawler does not read the "
        "Content-Usage or Content-Signal lines. Content-Usage has words only for training of generative models "
        "(train-ai), input to a model (ai-use) and search: it cannot say non-generative training, indexing for "
        "AI or mining. Content-Signal has ai-train (every kind of training, one value for both), ai-input and "
        "search. Both are yes or no: a use under licence is written as no, and neither can say a price, a "
        "territory, a purpose, a kind of user or a period."),
    TDMREP: (
        "The W3C TDM Reservation Protocol: whether text and data mining (and so AI training) of the content is "
        "reserved (1) or not (0), the opt-out of Article 4(3) of the EU's DSM Directive, and where the policy to "
        "obtain a licence is.",
        "at {site}/.well-known/tdmrep.json.",
        "W3C TDMRep (Community Group Final Report, 2024), read by text-and-data-mining tools and EU AI providers.",
        "One value for mining and every kind of training together: it cannot reserve training and allow "
        "mining, nor say anything of AI input, indexing or search. No territory, user type or period."),
    POLICY: (
        "The TDMRep policy: an ODRL offer to mine the content (and train on it) with its conditions: pay "
        "(compensate), ask first (obtainConsent), only for research or only for other purposes.",
        "at {policy_url} (the tdmrep.json, the headers and the HTML point at it).",
        "W3C TDMRep (its ODRL profile).",
        "One offer per policy; no amount (only that payment is due), no territory, user type or period."),
    LICENSE: (
        "Your licence in RSL 1.0 (Really Simple Licensing): what is licensed, to whom, where, and at what price; "
        "whatever it does not license is not licensed.",
        "at {licence_url} (robots.txt, the Link header and the HTML link point at it).",
        "RSL 1.0 (rslstandard.org), read by crawlers and licensing services that support it.",
        "Training of generative and of other models share one word (ai-train): it is licensed only as far as "
        "both are. Mining has no word of its own (only 'all', every use). It says user types and territories "
        "but not purposes (research, commercial) or periods; one price per licence; 'share of revenue' has no "
        "amount in RSL."),
    NGINX: ("The same signals as HTTP response headers, for nginx.",
            "in the site's server { } block (see the comments in the file), then reload nginx.",
            "IETF AIPREF (Content-Usage), W3C TDMRep (tdm-reservation, tdm-policy), RSL 1.0 (Link), and the noai "
            "convention (X-Robots-Tag).",
            "What the standards above cannot say (see robots.txt, tdmrep.json and license.xml). X-Robots-Tag "
            "noai, noimageai is a convention (DeviantArt, 2022), not a standard: it can only reserve training."),
    APACHE: ("The same response headers, for Apache httpd (mod_headers).",
             "in the site's <VirtualHost> or .htaccess, then reload Apache.",
             "As for nginx.", "As for nginx."),
    CADDY: ("The same response headers, for Caddy.",
            "inside the site's block in the Caddyfile, then reload Caddy.",
            "As for nginx.", "As for nginx."),
    HTML: ("The same signals for web pages: TDMRep meta elements, the RSL licence link, the noai meta.",
           "inside the <head> of every page the terms cover.",
           "W3C TDMRep (HTML technique), RSL 1.0 (HTML link), the noai convention.",
           "As for the headers; and it only reaches crawlers that read the page."),
}


def _readme(terms: AITerms, place: Place, files: Mapping[str, str | bytes], readings: Mapping[str, Mapping[Use, str]],
            notes: Sequence[str], terms_hash: str, source: str | None, signed: Sequence[str], blocked: int,
            marked: Sequence[str] = ()) -> str:
    out = [f"AI-use signals for {place.scope_url}", "=" * min(78, 20 + len(place.scope_url)), "",
           f"Written by Obra from the AI-use terms of {terms.subject_kind} {terms.subject}"
           + (f" ({source})" if source else "") + ".",
           f"Terms hash (SHA-256 of the terms as RFC 8785 JSON): {terms_hash}",
           "The same terms always give the same files: generate them again to check a published copy.", "",
           "YOUR TERMS", ""]
    for term in terms.uses:
        price = ""
        if term.price is not None:
            p = term.price
            amount = (format_money(p.amount_minor, p.currency) if p.amount_minor is not None
                      else f"{p.share_percent} % of revenue")
            price = f", {p.model.value} {amount}"
        consent = ", prior consent" if term.prior_consent else ""
        scope = "".join(f"; {name} {', '.join(map(str, values))}" for name, values in (
            ("territories", term.territories), ("purposes", [p.value for p in term.purposes]),
            ("user types", [u.value for u in term.user_types])) if values)
        if term.valid_from or term.valid_until:
            scope += f"; {term.valid_from or '…'} to {term.valid_until or '…'}"
        out.append(f"  {term.use.value:<21} {_words(term.permission)}{price}{consent}{scope}")
    out += ["", "WHAT EACH FILE SAYS ABOUT EACH USE (read back with each standard's own reader,",
            f"for a crawler that is not turned away, at {place.site + place.sample})", ""]
    columns = list(readings)
    width = {c: max(len(c), *(len(readings[c][u]) for u in ALL_USES)) for c in columns}
    out.append("  " + f"{'use':<21}" + "  ".join(f"{c:<{width[c]}}" for c in columns))
    for use in ALL_USES:
        out.append("  " + f"{use.value:<21}" + "  ".join(f"{readings[c][use]:<{width[c]}}" for c in columns))
    out += ["", "  '-': the file says nothing of that use (it has no word for it, or your terms do not say).",
            f"  robots.txt turns away {blocked} listed AI crawlers in all.", "", "THE FILES", ""]
    values = {"site": place.site, "licence_url": place.licence_url, "policy_url": place.policy_url}
    for name, (what, where, reader, cannot) in _FILES.items():
        if name not in files:
            continue
        out += [name, *_wrap("What it is for: " + what), *_wrap("Where it goes: " + _fill(where, values)),
                *_wrap("Who reads it: " + reader), *_wrap("What it cannot say: " + cannot), ""]
    if signed:
        out += [f"{MEDIA}{', '.join(signed)}",
                *_wrap("What it is for: signed copies of your media files. Each carries your terms in a C2PA "
                       "manifest (CAWG training-and-data-mining 1.1: data mining, AI inference, generative and "
                       "other training; a licence is written 'constrained', naming the licence) signed with your "
                       "credentials; a file that already had a manifest keeps it as its parent."),
                *_wrap("Where it goes: publish these copies instead of the originals."),
                *_wrap("Who reads it: C2PA / Content Credentials readers (c2pa-python, verify tools)."),
                *_wrap("What it cannot say: search and indexing for AI; conditions (as the yes/no signals); "
                       "and anyone can strip the manifest from a copy."), ""]
    if marked:
        out += [f"{MEDIA}{', '.join(marked)}",
                *_wrap("What it is for: copies of your EPUB and PDF files with the TDMRep reservation"
                       + (" and the licence policy" if POLICY in files else "") + " in their own metadata (the "
                       "EPUB package document; the PDF's XMP), so a copy that leaves your site still says it."),
                *_wrap("Where it goes: publish these copies instead of the originals."),
                *_wrap("Who reads it: TDMRep readers of EPUB and PDF (publishers' and miners' tools)."),
                *_wrap("What it cannot say: anything but text and data mining and training (one yes/no), and "
                       "anyone can strip metadata from a copy."), ""]
    missing = [name for name in (TDMREP, POLICY) if name not in files]
    if missing:
        out += ["NOT WRITTEN", ""]
        if TDMREP in missing:
            out += _wrap(f"{TDMREP}: your terms neither reserve nor allow every use a TDMRep reservation covers "
                         "(mining and both kinds of training), so there is nothing it can say.")
        elif POLICY in missing:
            out += _wrap(f"{POLICY}: your terms reserve mining or training without offering it to anyone under "
                         "conditions a TDMRep policy can say, so the reservation names no policy.")
        out.append("")
    if notes:
        out += ["WHAT COULD NOT BE SAID EVERYWHERE", ""]
        for note in notes:
            out += _wrap("- " + note)
        out.append("")
    return "\n".join(out)


def _fill(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _wrap(text: str, width: int = 100) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False) \
        or [""]


def zip_bundle(files: Mapping[str, str | bytes]) -> bytes:
    """The files as a zip archive, the same bytes for the same files (fixed times, sorted names)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = files[name]
            archive.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)
    return out.getvalue()
