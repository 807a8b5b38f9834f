"""RSL 1.0 (Really Simple Licensing, ``RSL-SPEC-1.0``): the licence document, its evaluation,
its discovery, and a writer.

**The document** (namespace ``https://rslstandard.org/rsl``, media type ``application/rsl+xml``):
``<rsl max-age>`` holds one or more ``<content url server encrypted lastmod>``; each content
holds one or more ``<license>``, plus ``<copyright>``, ``<terms>``, ``<alternate>``,
``<schema>``; a licence holds ``<permits>``/``<prohibits>`` (``type`` = ``usage`` | ``user`` |
``geo``, space-separated tokens, at most one of each per type), at most one ``<payment type>``
(with ``<standard>``, ``<custom>``, ``<amount currency>``, ``<accepts>``; absent = free),
``<legal>`` and ``<reporting>``. :func:`parse_rsl` reads it with lxml without entities, DTDs
or network, and never raises: an unknown element *in the RSL namespace* makes the document
non-conformant and the problem says where (line, element); elements of other namespaces are
extensions and are ignored; a ``<content>`` without ``<license>`` (Stack Overflow's document),
a token outside RSL 1.0's vocabularies (the official guide's ``train-ai``, RSL 0.9's comma
lists), a ``payment type="inference"`` (0.9's name for ``use``) or ``currency="XBT"`` (not ISO
4217, erratum 2026-05-13) are non-conformant too, each named with its line and a hint.
Amounts are :class:`~decimal.Decimal`, never floats.

Vocabularies: usage tokens are RSL's, mapped into Obra's uses only through
``TOKENS["rsl"]`` (``all`` every use, ``ai-all`` every AI use, ``ai-train`` both kinds of
training, ``ai-input``, ``ai-index``, ``search``); user types ``commercial``,
``non-commercial``, ``education``, ``government``, ``personal``; geo codes ISO 3166-1 alpha-2
in upper case, or ``EU`` (which covers the member states).

**Evaluation** for (URL or path, use, user type, country) — :func:`evaluate`:

1. Only conformant documents count; with none, the use is **unlicensed** (never "permitted").
2. In each document, every ``<content>`` whose ``url`` matches is collected (RFC 9309 path
   matching; a full URL must also have the same origin; ``url=""`` is the scope of the HTML
   or embedded association that carried the document); the **narrower** scope (the longest
   match) beats the broader; contents of equal scope are read together, so document order
   never matters.
3. Within that scope a licence **prohibits** the request when a ``<prohibits>`` lists the use
   (directly or through ``all``/``ai-all``), the user type or the country; a licence
   **grants** it when every ``<permits>`` it has admits the request (a ``<permits type=X>``
   is a closed list for X: what it does not list it does not grant). A prohibition anywhere in
   the scope wins over any permit (permitted and prohibited in the same scope → not
   licensed: The Guardian's ``permits ai-train ai-input`` + ``prohibits all`` prohibits
   everything). Licences that grant are alternative offers: a free one (no payment,
   ``free`` or ``attribution``) makes the use **licensed**, otherwise it is
   **licence-required** with the payment terms. A ``server`` on the content means a licence
   token is required even for a free licence, and the result says so.
4. Across documents (channels) the most restrictive result wins: prohibited, then
   licence-required, then licensed; documents that do not cover the URL say nothing.

**Discovery** — :func:`robots_licenses` (robots.txt ``License:`` lines, global and per
user-agent group; a chosen group's lines replace the global ones, erratum 2026-01-16),
:func:`link_header_licenses` (``Link: <…>; rel="license"; type="application/rsl+xml"``, parsed
as RFC 8288 link-values, quoted strings and all), :func:`html_licenses` (``<link
rel="license" type="application/rsl+xml">`` and inline ``<script
type="application/rsl+xml">`` with exactly one ``<content>``).

**Writer** — :func:`write_rsl` from :class:`RslTerms` (usage tokens from ``TOKENS["rsl"]``,
amounts from integer minor units); :func:`read_terms` reads a document back into the same
terms, which the tests hold for every expressible set of terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from html.parser import HTMLParser
from typing import Iterable, Mapping, Sequence
from urllib.parse import urljoin, urlsplit

from lxml import etree

from obra.aiuse.signals.paths import match_length, path_of
from obra.aiuse.vocabulary import ALL_USES, TOKENS, Permission, Reading, Signal, Use, uses_of
from obra.errors import InvalidInput, Problem
from obra.ids import ascii_digits
from obra.money import minor_exponent, to_minor

__all__ = [
    "RSL_NS", "MEDIA_TYPE", "USAGE_TOKENS", "USER_TOKENS", "PAYMENT_TYPES", "EU_MEMBERS",
    "TokenList", "Amount", "Payment", "Legal", "Reporting", "License", "Content", "RslDocument",
    "parse_rsl", "Outcome", "Offer", "RslEvaluation", "evaluate", "signals",
    "LicenseLink", "robots_licenses", "link_header_licenses", "HtmlLicenses", "html_licenses",
    "RslPayment", "RslTerms", "write_rsl", "read_terms",
]

RSL_NS = "https://rslstandard.org/rsl"
MEDIA_TYPE = "application/rsl+xml"
DEFAULT_MAX_AGE_DAYS = 30

USAGE_TOKENS: tuple[str, ...] = tuple(TOKENS["rsl"])
USER_TOKENS = ("commercial", "non-commercial", "education", "government", "personal")
PAYMENT_TYPES = ("purchase", "subscription", "training", "crawl", "use", "contribution", "attribution", "free")
_NO_MONEY = ("free", "attribution")
LEGAL_TYPES = ("warranty", "disclaimer", "attestation", "contact", "proof")
REPORTING_TYPES = ("telemetry", "provenance", "audit")
EU_MEMBERS = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE HU".split())

# Where each RSL element may appear (parent → children). Anything else in the namespace is unknown.
_CHILDREN: dict[str, frozenset[str]] = {
    "rsl": frozenset({"content"}),
    "content": frozenset({"license", "copyright", "terms", "alternate", "schema"}),
    "license": frozenset({"permits", "prohibits", "payment", "legal", "reporting"}),
    "payment": frozenset({"standard", "custom", "amount", "accepts"}),
}
_LEAVES = frozenset({"permits", "prohibits", "standard", "custom", "amount", "accepts", "legal", "reporting",
                     "copyright", "terms", "alternate", "schema"})
_ELEMENTS = frozenset(_CHILDREN) | _LEAVES

# Look-alikes seen in the wild, and what to write instead.
_LOOKALIKES = {
    "train-ai": "'train-ai' is AIPREF's token; RSL 1.0 says 'ai-train'",
    "train-genai": "'train-genai' is an old AIPREF/TDM·AI label; RSL 1.0 says 'ai-train'",
    "ai-use": "'ai-use' is not RSL; RSL 1.0 says 'ai-input'",
    "inference": "'inference' is not RSL 1.0; RSL 1.0 says 'ai-input' (usage) or payment type 'use'",
    "ai": "'ai' is not RSL 1.0; RSL 1.0 says 'ai-all'",
    "tdm": "'tdm' is not an RSL 1.0 usage token ('all' covers every automated use)",
}
_MAX_BYTES = 4 << 20
_DECIMAL = re.compile(r"\d+(?:\.\d+)?")
_GEO = re.compile(r"[A-Z]{2}")


def _parser() -> etree.XMLParser:
    """A parser that never fetches, never expands entities and never loads a DTD."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_pis=True, remove_comments=True)


# ---------------------------------------------------------------------------------------------
# The document


@dataclass(frozen=True)
class TokenList:
    """A ``<permits>`` or ``<prohibits>``: its ``type`` (usage, user, geo) and tokens, verbatim."""

    kind: str
    tokens: tuple[str, ...]
    line: int | None = None

    def xml(self, element: str) -> str:
        return f'<{element} type="{self.kind}">{" ".join(self.tokens)}</{element}>'


@dataclass(frozen=True)
class Amount:
    """A price, exact: ``value`` as written (a Decimal) and the ISO 4217 ``currency``."""

    value: Decimal
    currency: str

    def minor_units(self) -> int | None:
        """The amount in the currency's minor unit, or None when it is finer (0.015 USD)."""
        try:
            return to_minor(self.value, self.currency)
        except InvalidInput:
            return None

    def to_json(self) -> dict:
        return {"value": str(self.value), "currency": self.currency}


@dataclass(frozen=True)
class Payment:
    """A ``<payment>``: its type and the ways to pay."""

    type: str
    standard: tuple[str, ...] = ()
    custom: tuple[str, ...] = ()
    amounts: tuple[Amount, ...] = ()
    accepts: tuple[str, ...] = ()
    line: int | None = None

    @property
    def costs_money(self) -> bool:
        return self.type not in _NO_MONEY

    def to_json(self) -> dict:
        return {"type": self.type, "standard": list(self.standard), "custom": list(self.custom),
                "amounts": [a.to_json() for a in self.amounts], "accepts": list(self.accepts)}


@dataclass(frozen=True)
class Legal:
    type: str
    value: str
    line: int | None = None


@dataclass(frozen=True)
class Reporting:
    type: str
    profile: str
    endpoint: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class License:
    """One ``<license>``: one offer of terms for the content it sits in."""

    permits: tuple[TokenList, ...] = ()
    prohibits: tuple[TokenList, ...] = ()
    payment: Payment | None = None
    legal: tuple[Legal, ...] = ()
    reporting: tuple[Reporting, ...] = ()
    line: int | None = None

    def permits_of(self, kind: str) -> TokenList | None:
        return next((t for t in self.permits if t.kind == kind), None)


@dataclass(frozen=True)
class Content:
    """One ``<content>``: the scope (``url``) and its licences."""

    url: str
    licenses: tuple[License, ...]
    server: str | None = None
    encrypted: bool = False
    lastmod: str | None = None
    terms: tuple[str, ...] = ()
    alternates: tuple[str, ...] = ()
    copyright: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class RslDocument:
    """A parsed RSL document. ``problems`` are what makes it non-conformant (then it licenses
    nothing); ``notes`` are remarks that do not. ``contents`` is what could be read either way."""

    contents: tuple[Content, ...]
    conformant: bool
    problems: tuple[Problem, ...] = ()
    notes: tuple[Problem, ...] = ()
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    source: str | None = None


def _text(element: etree._Element) -> str:
    """The element's own text (not its children's), as XPath ``text()`` would give it."""
    return "".join([element.text or ""] + [child.tail or "" for child in element])


def _local(element: etree._Element) -> tuple[str | None, str]:
    tag = element.tag
    if not isinstance(tag, str):          # comments, PIs, unresolved entities
        return None, ""
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


def _is_absolute(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("mailto", "urn", "did"))


def _to_bytes(data: str | bytes) -> bytes:
    if isinstance(data, bytes):
        return data
    # the text is already decoded: drop an encoding declaration that would contradict UTF-8
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", data, count=1).encode("utf-8", "surrogatepass")


def parse_rsl(data: str | bytes | None, source: str | None = None, *, embedded: bool = False,
              inline: bool = False) -> RslDocument:
    """Read an RSL document; never raises.

    ``embedded`` (HTML, RSS, file metadata) allows ``url=""`` and an ``rsl:`` prefix; ``inline``
    (an HTML ``<script type="application/rsl+xml">``) also requires exactly one ``<content>``.
    """
    embedded = embedded or inline
    errors: list[Problem] = []
    notes: list[Problem] = []

    def error(message: str, element: etree._Element | None = None, field: str | None = None,
              line: int | None = None) -> None:
        errors.append(Problem(message, field=field, line=line if line is not None else
                              (element.sourceline if element is not None else None), source=source))

    if not data:
        return RslDocument((), False, (Problem("empty document: no RSL licence", source=source),), source=source)
    raw = _to_bytes(data)
    if len(raw) > _MAX_BYTES:
        return RslDocument((), False, (Problem(f"document larger than {_MAX_BYTES} bytes; not read",
                                               source=source),), source=source)
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        return RslDocument((), False, (Problem(f"not well-formed XML 1.0: {exc.msg}", line=exc.lineno,
                                               source=source),), source=source)
    except (ValueError, etree.LxmlError) as exc:
        return RslDocument((), False, (Problem(f"not readable XML: {exc}", source=source),), source=source)
    if root is None:
        return RslDocument((), False, (Problem("empty document", source=source),), source=source)
    ns, name = _local(root)
    if (ns, name) != (RSL_NS, "rsl"):
        hint = " (add xmlns=\"https://rslstandard.org/rsl\")" if name == "rsl" and ns is None else ""
        return RslDocument((), False, (Problem(
            f"the root element is <{name}>{' in ' + ns if ns else ''}, not <rsl> in {RSL_NS}{hint}",
            line=root.sourceline, source=source),), source=source)
    if root.prefix is not None and not embedded:
        notes.append(Problem("the RSL namespace should be the default namespace, without a prefix",
                             line=root.sourceline, source=source))

    # 1. Every element in the RSL namespace must be a known one, in a place it may appear.
    for element in root.iter():
        ens, local = _local(element)
        if ens != RSL_NS or element is root:
            continue
        parent = element.getparent()
        pns, plocal = _local(parent)
        if local not in _ELEMENTS:
            error(f"unknown element <{local}> in the RSL namespace: the document is non-conformant", element,
                  field=local)
        elif pns != RSL_NS or local not in _CHILDREN.get(plocal, frozenset()):
            error(f"<{local}> is not allowed inside <{plocal}>", element, field=local)

    max_age = DEFAULT_MAX_AGE_DAYS
    if root.get("max-age") is not None:
        value = root.get("max-age", "").strip()
        if ascii_digits(value) and int(value) > 0:
            max_age = int(value)
        else:
            error(f"max-age {value!r} must be a positive whole number of days", root, field="max-age")

    def children(element: etree._Element, local: str) -> list[etree._Element]:
        return [c for c in element if _local(c) == (RSL_NS, local)]

    def url_value(element: etree._Element, name: str) -> str | None:
        value = element.get(name)
        if value is None:
            return None
        value = value.strip()
        if not _is_absolute(value):
            error(f"{name} {value!r} must be an absolute URL", element, field=name)
        return value

    def token_list(element: etree._Element, what: str) -> TokenList | None:
        kind = element.get("type")
        if kind not in ("usage", "user", "geo"):
            error(f"<{what}> needs type=\"usage\", \"user\" or \"geo\", not {kind!r}", element, field="type")
            return None
        text = _text(element)
        tokens = tuple(text.split())
        if not tokens:
            error(f"<{what} type=\"{kind}\"> lists no tokens", element, field=kind)
        vocabulary = {"usage": USAGE_TOKENS, "user": USER_TOKENS}.get(kind)
        for token in tokens:
            if kind == "geo":
                if not _GEO.fullmatch(token):
                    error(f"geo code {token!r} must be an upper-case ISO 3166-1 alpha-2 code or EU", element,
                          field="geo")
                continue
            if token in vocabulary:
                continue
            if "," in token:
                hint = "tokens are separated by spaces in RSL 1.0 (comma lists were RSL 0.9)"
            else:
                hint = _LOOKALIKES.get(token, f"RSL 1.0 {kind} tokens are: {', '.join(vocabulary)}")
            error(f"unknown {kind} token {token!r} in <{what}>: {hint}", element, field=kind)
        return TokenList(kind, tokens, element.sourceline)

    def payment_of(element: etree._Element) -> Payment:
        ptype = (element.get("type") or "").strip()
        if ptype not in PAYMENT_TYPES:
            hint = ("'inference' was RSL 0.9's name; RSL 1.0 says 'use'" if ptype == "inference"
                    else f"RSL 1.0 payment types are: {', '.join(PAYMENT_TYPES)}")
            error(f"payment type {ptype!r} is not RSL 1.0: {hint}", element, field="type")
        amounts: list[Amount] = []
        for a in children(element, "amount"):
            currency = (a.get("currency") or "").strip()
            value = _text(a).strip()
            ok = True
            if not re.fullmatch(r"[A-Z]{3}", currency):
                error(f"<amount> needs currency=\"…\" as an ISO 4217 code, not {currency!r}", a, field="currency")
                ok = False
            elif currency == "XBT":
                error("currency 'XBT' is not an ISO 4217 code (removed from RSL's examples by the erratum of "
                      "2026-05-13)", a, field="currency")
                ok = False
            if not _DECIMAL.fullmatch(value):
                error(f"amount {value!r} must be a non-negative decimal number like 0.015", a, field="amount")
                ok = False
            if ok:
                try:
                    amounts.append(Amount(Decimal(value), currency))
                except InvalidOperation:
                    error(f"amount {value!r} is not a number", a, field="amount")
        std = tuple(_text(s).strip() for s in children(element, "standard"))
        cus = tuple(_text(c).strip() for c in children(element, "custom"))
        for el, value in zip(children(element, "standard") + children(element, "custom"), std + cus):
            if not _is_absolute(value):
                error(f"<{_local(el)[1]}> {value!r} must be an absolute URL", el, field=_local(el)[1])
        accepts = tuple((a.get("type") or "").strip() for a in children(element, "accepts"))
        return Payment(ptype, std, cus, tuple(amounts), accepts, element.sourceline)

    def license_of(element: etree._Element) -> License:
        permits: list[TokenList] = []
        prohibits: list[TokenList] = []
        for what, bucket in (("permits", permits), ("prohibits", prohibits)):
            for el in children(element, what):
                tl = token_list(el, what)
                if tl is None:
                    continue
                if any(t.kind == tl.kind for t in bucket):
                    error(f"more than one <{what} type=\"{tl.kind}\"> in one <license>", el, field=tl.kind)
                bucket.append(tl)
        payments = children(element, "payment")
        if len(payments) > 1:
            error("more than one <payment> in one <license>", payments[1], field="payment")
        payment = payment_of(payments[0]) if payments else None
        legal = []
        for el in children(element, "legal"):
            ltype = (el.get("type") or "").strip()
            if ltype not in LEGAL_TYPES:
                error(f"legal type {ltype!r} is not one of {', '.join(LEGAL_TYPES)}", el, field="type")
            legal.append(Legal(ltype, _text(el).strip(), el.sourceline))
        reporting = []
        for el in children(element, "reporting"):
            rtype, profile = (el.get("type") or "").strip(), (el.get("profile") or "").strip()
            if rtype not in REPORTING_TYPES:
                error(f"reporting type {rtype!r} is not one of {', '.join(REPORTING_TYPES)}", el, field="type")
            if not _is_absolute(profile):
                error("<reporting> needs an absolute profile URI", el, field="profile")
            reporting.append(Reporting(rtype, profile, el.get("endpoint"), el.sourceline))
        return License(tuple(permits), tuple(prohibits), payment, tuple(legal), tuple(reporting), element.sourceline)

    contents: list[Content] = []
    content_elements = children(root, "content")
    if not content_elements:
        error("<rsl> must contain at least one <content>", root, field="content")
    if inline and len(content_elements) > 1:
        error(f"an inline RSL document must contain exactly one <content>, not {len(content_elements)}", root,
              field="content")
    for el in content_elements:
        url = el.get("url")
        if url is None:
            error("<content> needs a url attribute", el, field="url")
            url = ""
        url = url.strip()
        if url == "" and not embedded:
            error('url="" is allowed only where HTML, RSS or file metadata defines the scope', el, field="url")
        elif url and not url.startswith(("/", "*")) and not _is_absolute(url):
            error(f"url {url!r} must be a path (RFC 9309 pattern) or a full URL", el, field="url")
        server = url_value(el, "server")
        encrypted_raw = el.get("encrypted")
        encrypted = encrypted_raw == "true"
        if encrypted_raw not in (None, "true", "false"):
            error(f"encrypted {encrypted_raw!r} must be 'true' or 'false'", el, field="encrypted")
        if encrypted and server is None:
            error('encrypted="true" requires a server attribute', el, field="server")
        lastmod = el.get("lastmod")
        if lastmod is not None:
            try:
                datetime.fromisoformat(lastmod.strip().replace("z", "Z"))
                if "T" not in lastmod.upper():
                    raise ValueError
            except ValueError:
                error(f"lastmod {lastmod!r} must be an RFC 3339 date-time", el, field="lastmod")
        license_elements = children(el, "license")
        if not license_elements:
            error("<content> has no <license>: every <content> must carry at least one", el, field="license")
        licenses = tuple(license_of(le) for le in license_elements)
        terms = tuple(_text(t).strip() for t in children(el, "terms"))
        alternates = tuple(_text(a).strip() for a in children(el, "alternate"))
        copyright_el = children(el, "copyright")
        copyright = _text(copyright_el[0]).strip() if copyright_el else None
        contents.append(Content(url, licenses, server, encrypted, lastmod, terms, alternates, copyright,
                                el.sourceline))
    errors.sort(key=lambda p: (p.line or 0))
    return RslDocument(tuple(contents), not errors, tuple(errors), tuple(notes), max_age, source)


# ---------------------------------------------------------------------------------------------
# Evaluation


class Outcome(str, Enum):
    """What RSL says about one use of one asset for one requester."""

    LICENSED = "licensed"
    """Granted by a free licence (no payment, ``free`` or ``attribution``), no token needed."""
    LICENCE_REQUIRED = "licence-required"
    """Granted under a licence that costs something, or needs a token from the licence server."""
    PROHIBITED = "prohibited"
    """Prohibited, or outside every closed ``<permits>`` list of the scope."""
    UNLICENSED = "unlicensed"
    """No conformant document covers the asset (or the answer depends on what was not given)."""


_SEVERITY = {Outcome.PROHIBITED: 3, Outcome.LICENCE_REQUIRED: 2, Outcome.LICENSED: 1, Outcome.UNLICENSED: 0}


@dataclass(frozen=True)
class Offer:
    """A licence that grants the request: where it is and what it asks."""

    source: str | None
    content_url: str
    line: int | None
    payment: Payment | None
    server: str | None = None
    conditions: tuple[str, ...] = ()

    @property
    def free(self) -> bool:
        return (self.payment is None or not self.payment.costs_money) and self.server is None

    def to_json(self) -> dict:
        return {"source": self.source, "content_url": self.content_url, "line": self.line,
                "payment": self.payment.to_json() if self.payment else None, "server": self.server,
                "token_required": self.server is not None, "conditions": list(self.conditions)}


@dataclass(frozen=True)
class RslEvaluation:
    """The answer for one use, with the rule that decided it and the licences that grant it."""

    outcome: Outcome
    use: Use
    rule: str
    token: str | None = None
    source: str | None = None
    scope: str | None = None
    offers: tuple[Offer, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def token_required(self) -> bool:
        """A licence server is named for the licences that grant the use: a token is needed."""
        return self.outcome is Outcome.LICENCE_REQUIRED and any(o.server is not None for o in self.offers)

    def reading(self) -> Reading:
        """Licensed → allowed; prohibited and licence-required → not allowed (without a licence);
        unlicensed → unknown (RSL says nothing it can be held to, and never "permitted")."""
        return {Outcome.LICENSED: Reading.ALLOWED, Outcome.PROHIBITED: Reading.NOT_ALLOWED,
                Outcome.LICENCE_REQUIRED: Reading.NOT_ALLOWED, Outcome.UNLICENSED: Reading.UNKNOWN}[self.outcome]

    def to_json(self) -> dict:
        return {"outcome": self.outcome.value, "use": self.use.value, "rule": self.rule, "token": self.token,
                "source": self.source, "scope": self.scope, "token_required": self.token_required,
                "offers": [o.to_json() for o in self.offers], "problems": [str(p) for p in self.problems]}

    def signal(self) -> Signal:
        return Signal(standard="rsl", source=self.source or "rsl", use=self.use, reading=self.reading(),
                      token=self.token, raw=None, rule=self.rule, scope=self.scope,
                      extra={"outcome": self.outcome.value, "token_required": self.token_required,
                             "offers": [o.to_json() for o in self.offers]})


def _covering(tokens: Iterable[str], use: Use) -> str | None:
    return next((t for t in tokens if use in uses_of("rsl", t)), None)


def _in_geo(country: str, tokens: Iterable[str]) -> bool:
    country = country.upper()
    return any(t == country or (t == "EU" and country in EU_MEMBERS) for t in tokens)


def _verdict(lic: License, use: Use, user: str | None, country: str | None) -> tuple[str, str, str | None]:
    """``(kind, reason, token)``: kind is ``prohibits``, ``grants``, ``excludes`` (a closed
    list leaves the request out) or ``unknown`` (it depends on a user type or country not given)."""
    unknown: list[str] = []
    for tl in lic.prohibits:
        if tl.kind == "usage":
            token = _covering(tl.tokens, use)
            if token:
                reason = f'{tl.xml("prohibits")} at line {tl.line} covers {use.value}'
                permit = lic.permits_of("usage")
                if permit is not None and _covering(permit.tokens, use):
                    reason += (f'; the same licence\'s {permit.xml("permits")} (line {permit.line}) also lists it: '
                               "permitted and prohibited in the same scope is not licensed")
                return "prohibits", reason, token
        elif tl.kind == "user":
            if user is None:
                unknown.append(f"prohibited for user types {' '.join(tl.tokens)} (line {tl.line}); no user type given")
            elif user in tl.tokens:
                return "prohibits", f"{tl.xml('prohibits')} at line {tl.line} covers user type {user}", None
        elif tl.kind == "geo":
            if country is None:
                unknown.append(f"prohibited in {' '.join(tl.tokens)} (line {tl.line}); no country given")
            elif _in_geo(country, tl.tokens):
                return "prohibits", f"{tl.xml('prohibits')} at line {tl.line} covers {country.upper()}", None
    token = None
    for tl in lic.permits:
        if tl.kind == "usage":
            token = _covering(tl.tokens, use)
            if token is None:
                return "excludes", (f'closed list: {tl.xml("permits")} at line {tl.line} does not list '
                                    f'{use.value}'), None
        elif tl.kind == "user":
            if user is None:
                unknown.append(f"licence limited to user types {' '.join(tl.tokens)} (line {tl.line}); "
                               "no user type given")
            elif user not in tl.tokens:
                return "excludes", f"closed list: {tl.xml('permits')} at line {tl.line} does not list {user}", None
        elif tl.kind == "geo":
            if country is None:
                unknown.append(f"licence limited to {' '.join(tl.tokens)} (line {tl.line}); no country given")
            elif not _in_geo(country, tl.tokens):
                return "excludes", (f"closed list: {tl.xml('permits')} at line {tl.line} does not list "
                                    f"{country.upper()}"), None
    if unknown:
        return "unknown", "; ".join(unknown), token
    how = "" if lic.permits_of("usage") else " (it lists no usage, so it restricts none)"
    return "grants", f"the licence at line {lic.line} grants {use.value}{how}", token


def _matching(document: RslDocument, url: str) -> list[tuple[int, Content]]:
    """Contents of ``document`` whose url covers ``url``, with the length of the match."""
    path = path_of(url)
    request = urlsplit(url) if "://" in url else None
    out = []
    for content in document.contents:
        if content.url == "":
            out.append((0, content))
            continue
        pattern = content.url
        if "://" in pattern:
            parts = urlsplit(pattern)
            if request is not None and (parts.scheme.lower(), parts.netloc.lower()) != \
                    (request.scheme.lower(), request.netloc.lower()):
                continue
            pattern = path_of(pattern)
        length = match_length(pattern, path)
        if length is not None:
            out.append((length, content))
    return out


def _evaluate_document(document: RslDocument, url: str, use: Use, user: str | None,
                       country: str | None) -> RslEvaluation | None:
    matches = _matching(document, url)
    if not matches:
        return None
    best = max(length for length, _ in matches)
    scope = [c for length, c in matches if length == best]
    scope_text = " ".join(sorted({c.url or '""' for c in scope}))
    narrower = f" (the narrowest of {len(matches)} matching <content>)" if len(matches) > len(scope) else ""
    src = document.source
    prohibiting = grants = excluding = unknown = None
    offers: list[Offer] = []
    for content in sorted(scope, key=lambda c: (c.url, c.line or 0)):
        for lic in content.licenses:
            kind, reason, token = _verdict(lic, use, user, country)
            if kind == "prohibits":
                prohibiting = prohibiting or (reason, token)
            elif kind == "grants":
                grants = grants or (reason, token)
                conditions = tuple(["attribution"] if lic.payment and lic.payment.type == "attribution" else []) + \
                    tuple(f"reporting {r.type} ({r.profile})" for r in lic.reporting)
                offers.append(Offer(src, content.url, lic.line, lic.payment, content.server, conditions))
            elif kind == "excludes":
                excluding = excluding or (reason, token)
            else:
                unknown = unknown or (reason, token)
    where = f"<content url={scope_text}>{narrower}"
    if prohibiting:
        reason, token = prohibiting
        extra = ""
        if grants:
            extra = f"; it wins over the permit in the same scope ({grants[0]}): permitted and prohibited → not licensed"
        return RslEvaluation(Outcome.PROHIBITED, use, f"{where}: {reason}{extra}", token, src, scope_text)
    if offers:
        token = grants[1] if grants else None
        free = [o for o in offers if o.free]
        if free:
            conditions = sorted({c for o in free for c in o.conditions})
            cond = f" (conditions: {', '.join(conditions)})" if conditions else ""
            return RslEvaluation(Outcome.LICENSED, use, f"{where}: {grants[0]}, free{cond}", token, src,
                                 scope_text, tuple(free))
        needs_token = [o for o in offers if o.server is not None]
        paid = [o.payment.type for o in offers if o.payment and o.payment.costs_money]
        parts = []
        if paid:
            parts.append(f"payment {', '.join(sorted(set(paid)))}")
        if needs_token:
            parts.append(f"server={needs_token[0].server}: a licence token is required even for a free licence")
        return RslEvaluation(Outcome.LICENCE_REQUIRED, use, f"{where}: {grants[0]} under a licence ({'; '.join(parts)})",
                             token, src, scope_text, tuple(offers))
    if excluding:
        return RslEvaluation(Outcome.PROHIBITED, use, f"{where}: {excluding[0]}", None, src, scope_text)
    if unknown:
        return RslEvaluation(Outcome.UNLICENSED, use, f"{where}: {unknown[0]}", unknown[1], src, scope_text)
    return RslEvaluation(Outcome.UNLICENSED, use, f"{where}: no licence in scope", None, src, scope_text)


def evaluate(documents: RslDocument | Sequence[RslDocument], url: str, use: Use, *, user: str | None = None,
             country: str | None = None) -> RslEvaluation:
    """What the RSL documents found for an asset say about ``use`` by this requester (see the
    module's rules 1–4). ``user`` is an RSL user type, ``country`` an ISO 3166-1 alpha-2 code."""
    docs = [documents] if isinstance(documents, RslDocument) else list(documents)
    valid = [d for d in docs if d.conformant]
    invalid = tuple(p for d in docs if not d.conformant for p in d.problems)
    if not valid:
        why = "no RSL document was found" if not docs else \
            f"no conformant RSL document ({len(docs)} non-conformant: {invalid[0] if invalid else '?'})"
        return RslEvaluation(Outcome.UNLICENSED, use, f"{why}: unlicensed, never permitted", problems=invalid)
    results = [r for r in (_evaluate_document(d, url, use, user, country) for d in valid) if r is not None]
    if not results:
        return RslEvaluation(Outcome.UNLICENSED, use,
                             f"no <content> of {len(valid)} conformant document(s) covers {path_of(url)!r}: unlicensed",
                             problems=invalid)
    worst = max(_SEVERITY[r.outcome] for r in results)
    deciding = [r for r in results if _SEVERITY[r.outcome] == worst]
    first = deciding[0]
    rule = first.rule
    if len(results) > 1:
        others = ", ".join(f"{r.source or 'document'}: {r.outcome.value}" for r in results if r is not first)
        rule += f"; across documents the most restrictive wins (others: {others})"
    offers = tuple(o for r in deciding for o in r.offers) if first.outcome is Outcome.LICENCE_REQUIRED else first.offers
    return RslEvaluation(first.outcome, use, rule, first.token, first.source, first.scope, offers, invalid)


def signals(documents: RslDocument | Sequence[RslDocument], url: str, *, user: str | None = None,
            country: str | None = None) -> list[Signal]:
    """One :class:`Signal` (standard ``rsl``) per use in Obra's vocabulary."""
    return [evaluate(documents, url, use, user=user, country=country).signal() for use in ALL_USES]


# ---------------------------------------------------------------------------------------------
# Discovery


@dataclass(frozen=True)
class LicenseLink:
    """Where a licence document is, and how it was found."""

    url: str
    via: str
    line: int | None = None


_PRODUCT = re.compile(r"[A-Za-z_-]+")
_LOOKALIKE_LINES = ("permits", "prohibits", "compensation", "licence", "licenses")


def _product_token(value: str) -> str:
    m = _PRODUCT.match(value.strip())
    return m.group(0).lower() if m else value.strip().lower()


def robots_licenses(robots_txt: str | bytes | None, user_agent: str = "*") -> tuple[tuple[LicenseLink, ...],
                                                                                   tuple[Problem, ...]]:
    """The ``License:`` lines that apply to ``user_agent`` (its product token, matched
    case-insensitively as RFC 9309 matches groups; the ``*`` group when no group names it).

    Lines before the first ``User-agent`` are global; a ``License`` line inside a group belongs
    to it (until the next group). If the chosen group(s) have ``License`` lines they are used
    and the global ones ignored; otherwise the global ones apply (erratum 2026-01-16). Values
    must be absolute URIs. ``License`` changes no ``Allow``/``Disallow``.
    """
    if robots_txt is None:
        return (), ()
    if isinstance(robots_txt, bytes):
        robots_txt = robots_txt.decode("utf-8", "replace")
    problems: list[Problem] = []
    global_links: list[LicenseLink] = []
    groups: list[tuple[list[str], list[LicenseLink]]] = []
    current: tuple[list[str], list[LicenseLink]] | None = None
    in_rules = False
    for number, raw in enumerate(robots_txt.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if current is None or in_rules:
                current = ([], [])
                groups.append(current)
                in_rules = False
            current[0].append(_product_token(value))
        elif key == "license":
            if current is not None:
                in_rules = True
            if not _is_absolute(value):
                problems.append(Problem(f"License value {value!r} must be an absolute URI; ignored", line=number,
                                        source="robots.txt", field="License"))
                continue
            (current[1] if current is not None else global_links).append(
                LicenseLink(value, "robots.txt License (group)" if current is not None else "robots.txt License (global)",
                            number))
        elif key in _LOOKALIKE_LINES:
            problems.append(Problem(f"'{key}:' is not an RSL 1.0 robots.txt directive (only License:); ignored",
                                    line=number, source="robots.txt", field=key))
            if current is not None:
                in_rules = True
        elif current is not None:
            in_rules = True
    token = _product_token(user_agent)
    chosen = [g for g in groups if token in g[0] and token != "*"] or [g for g in groups if "*" in g[0]]
    group_links = [link for g in chosen for link in g[1]]
    if group_links:
        who = "*" if all("*" in g[0] for g in chosen) else token
        return tuple(LicenseLink(l.url, f"robots.txt License (group {who}; global License lines ignored)"
                                 if global_links else f"robots.txt License (group {who})", l.line)
                     for l in group_links), tuple(problems)
    return tuple(global_links), tuple(problems)


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BARE = re.compile(r"[^;,\s]*")


def _link_values(header: str) -> Iterable[tuple[str, dict[str, str], str | None]]:
    """RFC 8288 link-values: ``(target, params, error)``; params names lower-cased, values unquoted."""
    i, n = 0, len(header)
    while i < n:
        while i < n and header[i] in " \t,":
            i += 1
        if i >= n:
            return
        if header[i] != "<":
            end = header.find(",", i)
            yield "", {}, f"expected '<' at offset {i}"
            i = n if end < 0 else end + 1
            continue
        close = header.find(">", i)
        if close < 0:
            yield "", {}, "unterminated '<'"
            return
        target = header[i + 1:close].strip()
        i = close + 1
        params: dict[str, str] = {}
        error = None
        while True:
            while i < n and header[i] in " \t":
                i += 1
            if i >= n or header[i] == ",":
                break
            if header[i] != ";":
                error = f"unexpected {header[i]!r} at offset {i}"
                while i < n and header[i] != ",":
                    i += 1
                break
            i += 1
            while i < n and header[i] in " \t":
                i += 1
            m = _TOKEN.match(header, i)
            if not m:
                error = f"parameter name expected at offset {i}"
                while i < n and header[i] not in ";,":
                    i += 1
                continue
            name = m.group(0).lower()
            i = m.end()
            while i < n and header[i] in " \t":
                i += 1
            value = ""
            if i < n and header[i] == "=":
                i += 1
                while i < n and header[i] in " \t":
                    i += 1
                if i < n and header[i] == '"':
                    i += 1
                    chars = []
                    while i < n and header[i] != '"':
                        if header[i] == "\\" and i + 1 < n:
                            i += 1
                        chars.append(header[i])
                        i += 1
                    if i >= n:
                        error = "unterminated quoted string"
                    i += 1
                    value = "".join(chars)
                else:
                    m = _BARE.match(header, i)
                    value = m.group(0)
                    i = m.end()
            params.setdefault(name, value)   # RFC 8288: only the first occurrence of a parameter counts
        yield target, params, error


def link_header_licenses(values: str | Sequence[str] | None, base_url: str | None = None
                         ) -> tuple[tuple[LicenseLink, ...], tuple[Problem, ...]]:
    """Licence documents named by ``Link`` header fields: ``rel`` containing ``license`` and
    ``type="application/rsl+xml"`` (a ``rel="license"`` without that type names some other
    licence, e.g. a Creative Commons page, and is not RSL)."""
    if not values:
        return (), ()
    headers = [values] if isinstance(values, str) else list(values)
    links: list[LicenseLink] = []
    problems: list[Problem] = []
    for header in headers:
        for target, params, error in _link_values(header):
            if error:
                problems.append(Problem(f"Link header: {error}", source="Link", field="Link"))
            if not target:
                continue
            rels = params.get("rel", "").lower().split()
            mtype = params.get("type", "").split(";")[0].strip().lower()
            if "license" not in rels or mtype != MEDIA_TYPE:
                continue
            url = target
            if not _is_absolute(url):
                if base_url:
                    url = urljoin(base_url, target)
                    problems.append(Problem(f"Link target {target!r} is relative (RSL asks for an absolute URL); "
                                            f"resolved to {url}", source="Link", field="Link"))
                else:
                    problems.append(Problem(f"Link target {target!r} is relative and no base URL was given; ignored",
                                            source="Link", field="Link"))
                    continue
            links.append(LicenseLink(url, "Link header"))
    return tuple(links), tuple(problems)


@dataclass(frozen=True)
class HtmlLicenses:
    """What an HTML page associates: linked licence documents and inline ones."""

    links: tuple[LicenseLink, ...] = ()
    inline: tuple[RslDocument, ...] = ()
    problems: tuple[Problem, ...] = ()


class _RslHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[dict[str, str], int]] = []
        self.scripts: list[tuple[str, int]] = []
        self._script: list[str] | None = None
        self._script_line = 0
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "link":
            self.links.append((a, self.getpos()[0]))
        elif tag == "base" and self.base is None and a.get("href"):
            self.base = a["href"]
        elif tag == "script" and a.get("type", "").strip().lower() == MEDIA_TYPE:
            self._script, self._script_line = [], self.getpos()[0]

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append(("".join(self._script), self._script_line))
            self._script = None


def html_licenses(html: str | bytes | None, base_url: str | None = None) -> HtmlLicenses:
    """``<link rel="license" type="application/rsl+xml" href>`` (resolved against ``<base>`` and
    ``base_url``) and inline ``<script type="application/rsl+xml">`` documents (each must hold
    exactly one ``<content>``; ``url=""`` means the element the script sits in)."""
    if not html:
        return HtmlLicenses()
    if isinstance(html, bytes):
        try:
            html = html.decode("utf-8-sig")
        except UnicodeDecodeError:
            html = html.decode("latin-1")
    parser = _RslHtml()
    try:
        parser.feed(html)
        parser.close()
    except Exception as exc:  # html.parser is lenient; this keeps junk from reaching the caller
        return HtmlLicenses(problems=(Problem(f"HTML not readable: {exc}", source="html"),))
    base = urljoin(base_url, parser.base) if base_url and parser.base else (parser.base or base_url)
    links: list[LicenseLink] = []
    problems: list[Problem] = []
    for attrs, line in parser.links:
        rels = attrs.get("rel", "").lower().split()
        if "license" not in rels or attrs.get("type", "").split(";")[0].strip().lower() != MEDIA_TYPE:
            continue
        href = attrs.get("href", "").strip()
        if not href:
            problems.append(Problem("<link rel=\"license\"> without href", line=line, source="html"))
            continue
        url = href if _is_absolute(href) else (urljoin(base, href) if base else None)
        if url is None:
            problems.append(Problem(f"relative href {href!r} and no base URL; ignored", line=line, source="html"))
            continue
        links.append(LicenseLink(url, "HTML <link>", line))
    inline = tuple(parse_rsl(text, source=f"inline <script> at line {line}", inline=True)
                   for text, line in parser.scripts)
    return HtmlLicenses(tuple(links), inline, tuple(problems))


# ---------------------------------------------------------------------------------------------
# Writer


@dataclass(frozen=True)
class RslPayment:
    """What a licence costs: an RSL payment ``type``; an amount in integer **minor units** of
    ``currency`` (cents for USD); a shared licence (``standard``) or the publisher's own
    process (``custom``), both absolute URLs."""

    type: str
    amount_minor: int | None = None
    currency: str | None = None
    standard: str | None = None
    custom: str | None = None


@dataclass(frozen=True)
class RslTerms:
    """The part of a rightholder's terms RSL can say, for one scope ``url``.

    ``uses`` gives each use's permission (a use not given is not allowed); uses under
    ``Permission.LICENCE`` share ``payment``; ``users`` and ``territories`` limit who may use
    it and where (empty: anyone, anywhere); ``server`` is a licence server (then even the
    allowed uses need a token from it).
    """

    uses: Mapping[Use, Permission]
    url: str = "/"
    payment: RslPayment | None = None
    users: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()
    server: str | None = None
    terms_url: str | None = None

    def __post_init__(self) -> None:
        # every use explicit, so that terms that mean the same compare equal
        full = {use: self.uses.get(use, Permission.NOT_ALLOWED) for use in ALL_USES}
        object.__setattr__(self, "uses", full)

    def permission(self, use: Use) -> Permission:
        return self.uses[use]


def _cover(uses: frozenset[Use]) -> tuple[str, ...] | None:
    """RSL usage tokens covering exactly ``uses`` (fewest tokens, broadest first), or None."""
    if not uses:
        return ()
    table = TOKENS["rsl"]
    chosen: list[str] = []
    covered: set[Use] = set()
    for token in sorted(table, key=lambda t: -len(table[t])):
        token_uses = set(table[token])
        if token_uses <= uses and not token_uses <= covered:
            chosen.append(token)
            covered |= token_uses
    return tuple(chosen) if covered == uses else None


def _amount_text(amount_minor: int, currency: str) -> str:
    exponent = minor_exponent(currency)
    value = Decimal(amount_minor).scaleb(-exponent)
    return f"{value:.{exponent}f}"


def write_rsl(terms: RslTerms) -> str:
    """An RSL 1.0 document for ``terms``.

    One ``<content>``; a free ``<license>`` permitting the allowed uses and a paid one
    permitting the uses under licence, each with a closed ``<permits type="usage">`` list (so a
    use that is not allowed is not granted), ``<permits type="user">``/``"geo"`` when limited,
    and an explicit ``<prohibits type="usage">`` for the uses not allowed when RSL has tokens
    for exactly those. Refused with a named problem: sets of uses RSL's tokens cannot separate
    (the two kinds of training share ``ai-train``; mining has no token of its own, only ``all``),
    a licence without a payment, amounts without a currency.
    """
    problems: list[Problem] = []
    allowed = frozenset(u for u in ALL_USES if terms.permission(u) is Permission.ALLOWED)
    licensed = frozenset(u for u in ALL_USES if terms.permission(u) is Permission.LICENCE)
    refused = frozenset(ALL_USES) - allowed - licensed
    covers = {}
    for name, uses in (("allowed", allowed), ("licence", licensed)):
        cover = _cover(uses)
        if cover is None:
            problems.append(Problem(
                f"RSL cannot say exactly {sorted(u.value for u in uses)} ({name}): its tokens cover "
                "ai-train-generative and ai-train-other together (ai-train) and tdm only with every other use "
                "(all); give those uses the same permission", field="uses"))
        covers[name] = cover
    if not terms.url.startswith(("/", "*")) and not _is_absolute(terms.url):
        problems.append(Problem(f"url {terms.url!r} must be a path pattern or a full URL", field="url"))
    for user in terms.users:
        if user not in USER_TOKENS:
            problems.append(Problem(f"user type {user!r}: RSL has {', '.join(USER_TOKENS)}", field="users"))
    for code in terms.territories:
        if not _GEO.fullmatch(code):
            problems.append(Problem(f"territory {code!r} must be an upper-case ISO 3166-1 alpha-2 code or EU",
                                    field="territories"))
    for name, value in (("server", terms.server), ("terms_url", terms.terms_url)):
        if value is not None and not _is_absolute(value):
            problems.append(Problem(f"{name} {value!r} must be an absolute URL", field=name))
    payment = terms.payment
    if licensed and payment is None:
        problems.append(Problem("uses under licence need a payment (type and price)", field="payment"))
    if payment is not None:
        if payment.type not in PAYMENT_TYPES or payment.type in _NO_MONEY:
            problems.append(Problem(f"payment type {payment.type!r}: a licence is one of "
                                    f"{', '.join(t for t in PAYMENT_TYPES if t not in _NO_MONEY)}",
                                    field="payment.type"))
        if (payment.amount_minor is None) != (payment.currency is None):
            problems.append(Problem("an amount needs both amount_minor and currency", field="payment.amount_minor"))
        if payment.amount_minor is not None and (isinstance(payment.amount_minor, bool)
                                                 or not isinstance(payment.amount_minor, int)
                                                 or payment.amount_minor < 0):
            problems.append(Problem("amount_minor must be a non-negative integer (minor units)",
                                    field="payment.amount_minor"))
        if payment.currency is not None and (not re.fullmatch(r"[A-Z]{3}", payment.currency)
                                             or payment.currency == "XBT"):
            problems.append(Problem(f"currency {payment.currency!r} must be an ISO 4217 code", field="payment.currency"))
        for name, value in (("standard", payment.standard), ("custom", payment.custom)):
            if value is not None and not _is_absolute(value):
                problems.append(Problem(f"{name} {value!r} must be an absolute URL", field=f"payment.{name}"))
    if problems:
        raise InvalidInput(problems)

    root = etree.Element(f"{{{RSL_NS}}}rsl", nsmap={None: RSL_NS})
    content = etree.SubElement(root, f"{{{RSL_NS}}}content", url=terms.url)
    if terms.server:
        content.set("server", terms.server)

    def add_list(parent: etree._Element, element: str, kind: str, tokens: Sequence[str]) -> None:
        el = etree.SubElement(parent, f"{{{RSL_NS}}}{element}", type=kind)
        el.text = " ".join(tokens)

    prohibit = _cover(refused) if refused else None
    licences: list[tuple[tuple[str, ...], RslPayment | None]] = []
    if allowed:
        licences.append((covers["allowed"], None))
    if licensed:
        licences.append((covers["licence"], payment))
    if not licences:
        lic = etree.SubElement(content, f"{{{RSL_NS}}}license")
        add_list(lic, "prohibits", "usage", ("all",))
    for i, (tokens, pay) in enumerate(licences):
        lic = etree.SubElement(content, f"{{{RSL_NS}}}license")
        add_list(lic, "permits", "usage", tokens)
        if terms.users:
            add_list(lic, "permits", "user", terms.users)
        if terms.territories:
            add_list(lic, "permits", "geo", terms.territories)
        if i == 0 and prohibit:
            add_list(lic, "prohibits", "usage", prohibit)
        if pay is not None:
            pel = etree.SubElement(lic, f"{{{RSL_NS}}}payment", type=pay.type)
            if pay.standard:
                etree.SubElement(pel, f"{{{RSL_NS}}}standard").text = pay.standard
            if pay.custom:
                etree.SubElement(pel, f"{{{RSL_NS}}}custom").text = pay.custom
            if pay.amount_minor is not None:
                amount = etree.SubElement(pel, f"{{{RSL_NS}}}amount", currency=pay.currency)
                amount.text = _amount_text(pay.amount_minor, pay.currency)
    if terms.terms_url:
        etree.SubElement(content, f"{{{RSL_NS}}}terms").text = terms.terms_url
    etree.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="unicode") + "\n"


def read_terms(document: RslDocument | str | bytes, url: str = "/", *, user: str | None = None,
               country: str | None = None) -> RslTerms:
    """Read a document back into :class:`RslTerms` for ``url`` through :func:`evaluate`:
    licensed → allowed, licence-required → licence (or allowed, when only the server's token is
    asked), prohibited or unlicensed → not allowed. Without ``user``/``country`` the first ones
    the granting licences permit are used, so terms limited to some users read back."""
    doc = document if isinstance(document, RslDocument) else parse_rsl(document)
    if not doc.conformant:
        raise InvalidInput(list(doc.problems) or [Problem("not a conformant RSL document")])
    matches = _matching(doc, url)
    scope = [c for length, c in matches if length == max(m[0] for m in matches)] if matches else []
    users: list[str] = []
    territories: list[str] = []
    for content in scope:
        for lic in content.licenses:
            for tl, bucket in ((lic.permits_of("user"), users), (lic.permits_of("geo"), territories)):
                for token in (tl.tokens if tl else ()):
                    if token not in bucket:
                        bucket.append(token)
    probe_user = user or (users[0] if users else None)
    probe_country = country or (next((t for t in territories if t != "EU"), None)
                                or ("FR" if "EU" in territories else None))
    uses: dict[Use, Permission] = {}
    payment = None
    for use in ALL_USES:
        result = evaluate(doc, url, use, user=probe_user, country=probe_country)
        if result.outcome is Outcome.LICENSED:
            uses[use] = Permission.ALLOWED
        elif result.outcome is Outcome.LICENCE_REQUIRED:
            paid = [o for o in result.offers if o.payment is not None and o.payment.costs_money]
            if not paid:
                uses[use] = Permission.ALLOWED
                continue
            uses[use] = Permission.LICENCE
            if payment is None:
                p = paid[0].payment
                amount = p.amounts[0] if p.amounts else None
                payment = RslPayment(p.type, amount.minor_units() if amount else None,
                                     amount.currency if amount else None,
                                     p.standard[0] if p.standard else None, p.custom[0] if p.custom else None)
        else:
            uses[use] = Permission.NOT_ALLOWED
    server = next((c.server for c in scope if c.server), None)
    terms_url = next((t for c in scope for t in c.terms), None)
    return RslTerms(uses=uses, url=scope[0].url if scope else url, payment=payment, users=tuple(users),
                    territories=tuple(territories), server=server, terms_url=terms_url)
