"""W3C TDMRep (TDM Reservation Protocol, Community Group Final Report of 10 May 2024): reader,
precedence, ODRL policy, and writers.

A rightholder reserves text and data mining (the DSM Directive Art. 4(3) opt-out) with two
properties: ``tdm-reservation`` (``1`` reserved, ``0`` not reserved; any other value is a
protocol error and reads as *unset*) and ``tdm-policy`` (the URL of a policy saying how to obtain
a licence; not processed when the reservation is ``0``). They come from five places, read here
as the report says:

1. ``/.well-known/tdmrep.json``: an array of ``{"location", "tdm-reservation", "tdm-policy"?}``;
   ``location`` is an RFC 9309 path pattern (``*``, a final ``$``), matched case-sensitively;
   the **first** rule in array order that matches wins ("the most specific match is the first
   in sequence"), and no match leaves the reservation unset (:func:`parse_tdmrep_json`,
   :func:`match_tdmrep`). A file that is not a JSON array means the site does not implement
   the protocol.
2. The ``tdm-reservation`` and ``tdm-policy`` HTTP response header fields (:func:`read_headers`).
3. HTML ``<meta name="tdm-reservation" content="1">`` and ``<meta name="tdm-policy">``
   (:func:`read_html`).
4. EPUB package metadata: EPUB 2 ``<meta name="tdm:reservation" content="1"/>``; EPUB 3
   ``<meta property="tdm:reservation">1</meta>`` with the package prefix
   ``tdm: http://www.w3.org/ns/tdmrep#`` (:func:`read_epub`). It covers the whole package.
5. PDF XMP: ``tdm:reservation`` / ``tdm:policy`` in the namespace
   ``http://www.w3.org/ns/tdmrep/`` (**slash**, not the EPUB ``#``) (:func:`read_pdf`).

**Precedence** (section "Processing priority"): the file first; the headers supersede it; HTML
meta supersedes those; EPUB/PDF metadata supersedes everything before; and *the absence of a
value at a step never resets a value already found* (:func:`resolve`). A step whose value is a
protocol error has no value, so it does not reset either; the error is kept with the step.

A reservation covers text and data mining, and so every use ``TOKENS["tdmrep"]`` maps
``tdm-reservation`` to (mining and both kinds of training): ``1`` reads *not allowed* (without
the rightholder's authorisation), ``0`` *allowed*, unset *unknown* (:meth:`TdmResult.signals`).

The policy is an ODRL 2.2 ``Offer`` in the TDMRep profile (:func:`parse_policy`,
:func:`write_policy`). Writers produce tdmrep.json for a site's locations, header lines, HTML
meta, EPUB metadata and an XMP packet, and read back to what was written.

Everything here is a pure function of the bytes given: no network, and junk input gives a
named protocol error and *unset*, never an exception. XML is parsed without entities, DTDs or
network access.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from html import escape as _html_escape
from html.parser import HTMLParser
from typing import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from lxml import etree

from obra.aiuse.signals.paths import normalize_pattern, path_of, pattern_matches
from obra.aiuse.vocabulary import Permission, Reading, Signal, uses_of
from obra.errors import InvalidInput, Problem

__all__ = [
    "EPUB_NS", "PDF_NS", "ODRL_CONTEXT", "TDMREP_CONTEXT", "PROFILE",
    "TdmRule", "TdmFile", "TdmStep", "TdmResult",
    "parse_tdmrep_json", "match_tdmrep", "read_headers", "read_html", "read_epub", "read_pdf", "read_xmp",
    "resolve", "read_resource",
    "Assigner", "PolicyTerms", "TdmPolicy", "parse_policy", "write_policy", "policy_json",
    "LocationTerms", "reservation_for", "write_tdmrep_json", "header_lines", "html_meta",
    "epub_meta", "xmp_packet",
]

EPUB_NS = "http://www.w3.org/ns/tdmrep#"
"""The ``tdm`` prefix of EPUB 3 package metadata and of the ODRL policy (with ``#``)."""
PDF_NS = "http://www.w3.org/ns/tdmrep/"
"""The XMP namespace of the PDF technique (with ``/``: PDF/A validators flag it; it is still the one)."""
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
TDMREP_CONTEXT = "http://www.w3.org/ns/tdmrep.jsonld"
PROFILE = "http://www.w3.org/ns/tdmrep"
WELL_KNOWN = "/.well-known/tdmrep.json"

SOURCE_FILE = "tdmrep.json"
SOURCE_HEADERS = "http-headers"
SOURCE_HTML = "html-meta"
SOURCE_EPUB = "epub"
SOURCE_PDF = "pdf-xmp"

_MAX_JSON = 1 << 20          # 1 MiB: far above any real tdmrep.json
_MAX_XML = 8 << 20           # an OPF or XMP packet
_MAX_PDF = 256 << 20
_OPF_NS = "http://www.idpf.org/2007/opf"
_CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def _xml_parser() -> etree.XMLParser:
    """A parser that never fetches, never expands entities and never loads a DTD."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_pis=True)


# ---------------------------------------------------------------------------------------------
# Values


def _reservation_of(value: object, *, text: bool) -> tuple[int | None, str | None]:
    """``(reservation, error)``: 0 or 1, or None with the protocol error that made it unset.

    ``text`` is for header, meta and XMP values (a string ``"1"``); in tdmrep.json the value
    is a JSON integer, so a quoted ``"1"`` is a protocol error there (the report defines an
    integer), read as unset with a hint.
    """
    if text:
        if not isinstance(value, str):
            return None, "has no value"
        stripped = value.strip(" \t\r\n")
        if stripped in ("0", "1"):
            return int(stripped), None
        return None, f"value {value!r} is neither 0 nor 1: a protocol error, read as unset"
    if isinstance(value, bool) or value is None:
        return None, f"value {json.dumps(value)} is neither 0 nor 1: a protocol error, read as unset"
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value), None
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return None, (f"value {json.dumps(value)} is a string; tdm-reservation is the integer "
                      f"{value.strip()} (write it without quotes): a protocol error, read as unset")
    return None, f"value {json.dumps(value)[:60]} is neither 0 nor 1: a protocol error, read as unset"


def _policy_of(value: object) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, str) or not value.strip():
        return None, f"tdm-policy {json.dumps(value)[:60]} is not a URL; ignored"
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return url, f"tdm-policy {url!r} is not an absolute http(s) URL"
    return url, None


# ---------------------------------------------------------------------------------------------
# Source 1: /.well-known/tdmrep.json


@dataclass(frozen=True)
class TdmRule:
    """One rule of a tdmrep.json, in array order (``index`` from 0)."""

    index: int
    location: str
    reservation: int | None
    policy: str | None
    raw_reservation: str | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class TdmFile:
    """A parsed tdmrep.json. ``implemented`` is False when the file is not a JSON array (the
    report: failure to provide the representation means the site does not implement TDMRep)."""

    rules: tuple[TdmRule, ...]
    implemented: bool
    problems: tuple[Problem, ...] = ()
    source: str = WELL_KNOWN


def parse_tdmrep_json(data: str | bytes | None, source: str = WELL_KNOWN) -> TdmFile:
    """Parse ``/.well-known/tdmrep.json``; never raises.

    A rule without a usable ``location`` cannot match and is dropped (with its problem); a rule
    whose ``tdm-reservation`` is not 0 or 1 is *kept* with reservation unset, because it still
    matches and, being first, still decides: the report says the first match is used and an
    invalid value is unset.
    """
    if data is None:
        return TdmFile((), False, (Problem("no tdmrep.json", source=source),), source)
    if isinstance(data, bytes):
        if len(data) > _MAX_JSON:
            return TdmFile((), False, (Problem(f"tdmrep.json larger than {_MAX_JSON} bytes; not read",
                                               source=source),), source)
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return TdmFile((), False, (Problem(f"not UTF-8 ({exc.reason} at byte {exc.start})",
                                               source=source),), source)
    if len(data) > _MAX_JSON:
        return TdmFile((), False, (Problem(f"tdmrep.json larger than {_MAX_JSON} characters; not read",
                                           source=source),), source)
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        return TdmFile((), False, (Problem(f"not JSON: {exc.msg} (column {exc.colno})", line=exc.lineno,
                                           source=source),), source)
    except (ValueError, RecursionError) as exc:
        return TdmFile((), False, (Problem(f"not readable JSON: {exc}", source=source),), source)
    if not isinstance(doc, list):
        return TdmFile((), False, (Problem(
            "tdmrep.json must be a JSON array of rules, even for one rule: [ {\"location\": \"/\", "
            "\"tdm-reservation\": 1} ]", source=source),), source)
    rules: list[TdmRule] = []
    problems: list[Problem] = []
    for index, item in enumerate(doc):
        where = f"[{index}]"
        if not isinstance(item, dict):
            problems.append(Problem("a rule must be a JSON object; ignored", field=where, source=source))
            continue
        location = item.get("location")
        if not isinstance(location, str) or not location:
            problems.append(Problem("rule without a 'location' string; it matches nothing and is ignored",
                                    field=f"{where}.location", source=source))
            continue
        if not location.startswith(("/", "*")):
            problems.append(Problem(f"location {location!r} is not a path pattern (it must start with '/'); "
                                    "ignored", field=f"{where}.location", source=source))
            continue
        rule_problems: list[Problem] = []
        if "tdm-reservation" not in item:
            reservation, raw = None, None
            rule_problems.append(Problem("rule without 'tdm-reservation' (mandatory): read as unset",
                                         field=f"{where}.tdm-reservation", source=source))
        else:
            raw_value = item["tdm-reservation"]
            raw = raw_value if isinstance(raw_value, str) else json.dumps(raw_value)
            reservation, error = _reservation_of(raw_value, text=False)
            if error:
                rule_problems.append(Problem(error, field=f"{where}.tdm-reservation", source=source))
        policy, policy_error = _policy_of(item.get("tdm-policy"))
        if policy_error:
            rule_problems.append(Problem(policy_error, field=f"{where}.tdm-policy", source=source))
        for key in item:
            if key not in ("location", "tdm-reservation", "tdm-policy"):
                rule_problems.append(Problem(f"unknown property {key!r} ignored (TDMRep defines location, "
                                             "tdm-reservation, tdm-policy)", field=f"{where}.{key}",
                                             source=source))
        rules.append(TdmRule(index, location, reservation, policy, raw, tuple(rule_problems)))
        problems.extend(rule_problems)
    return TdmFile(tuple(rules), True, tuple(problems), source)


def match_tdmrep(file: TdmFile, url: str) -> TdmStep:
    """The declaration tdmrep.json makes for ``url`` (a full URL or a path): the first rule in
    array order whose location matches, case-sensitively (RFC 9309 patterns); none → unset."""
    if not file.implemented:
        return TdmStep(SOURCE_FILE, None, None, None, None,
                       "no usable tdmrep.json: the site does not implement the file technique", file.problems)
    path = path_of(url)
    for rule in file.rules:
        if pattern_matches(rule.location, path):
            if rule.reservation is None:
                how = (f"first matching rule [{rule.index}] location {rule.location!r} has no valid "
                       "tdm-reservation: unset (the first match decides, later rules are not consulted)")
            else:
                how = f"first matching rule [{rule.index}] location {rule.location!r} (first match in array order)"
            return TdmStep(SOURCE_FILE, rule.reservation, rule.policy, rule.raw_reservation, rule.location,
                           how, rule.problems)
    return TdmStep(SOURCE_FILE, None, None, None, None, f"no rule of {len(file.rules)} matches {path!r}: unset")


# ---------------------------------------------------------------------------------------------
# Sources 2-5: headers, HTML, EPUB, PDF


@dataclass(frozen=True)
class TdmStep:
    """What one source declares: reservation and policy (either may be absent), how it was read."""

    source: str
    reservation: int | None
    policy: str | None
    raw_reservation: str | None
    scope: str | None
    rule: str
    problems: tuple[Problem, ...] = ()

    @property
    def declared(self) -> bool:
        return self.reservation is not None or self.policy is not None


def _headers_items(headers: Mapping[str, object] | Iterable[tuple[str, object]]) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: list[tuple[str, str]] = []
    for name, value in items:
        if not isinstance(name, str):
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, bytes):
                v = v.decode("latin-1")
            if isinstance(v, str):
                out.append((name.strip().lower(), v))
    return out


def _single(values: list[str], name: str, source: str) -> tuple[str | None, Problem | None]:
    """One field value, or None with a protocol error when the field is repeated with different
    values (or is a comma-joined list of them)."""
    if not values:
        return None, None
    parts = [p.strip() for v in values for p in v.split(",")] if name == "tdm-reservation" else \
        [v.strip() for v in values]
    distinct = list(dict.fromkeys(parts))
    if len(distinct) == 1:
        return distinct[0], None
    return None, Problem(f"{name} given {len(parts)} times with different values {distinct!r}: "
                         "a protocol error, read as unset", field=name, source=source)


def read_headers(headers: Mapping[str, object] | Iterable[tuple[str, object]] | None) -> TdmStep:
    """The ``tdm-reservation`` / ``tdm-policy`` response header fields (names case-insensitive)."""
    if not headers:
        return TdmStep(SOURCE_HEADERS, None, None, None, None, "no tdm-* header fields")
    items = _headers_items(headers)
    problems: list[Problem] = []
    raw, dup = _single([v for n, v in items if n == "tdm-reservation"], "tdm-reservation", SOURCE_HEADERS)
    if dup:
        problems.append(dup)
    reservation = None
    if raw is not None:
        reservation, error = _reservation_of(raw, text=True)
        if error:
            problems.append(Problem(f"tdm-reservation header {error}", field="tdm-reservation",
                                    source=SOURCE_HEADERS))
    policy_raw, dup = _single([v for n, v in items if n == "tdm-policy"], "tdm-policy", SOURCE_HEADERS)
    if dup:
        problems.append(dup)
    policy, error = _policy_of(policy_raw)
    if error:
        problems.append(Problem(error, field="tdm-policy", source=SOURCE_HEADERS))
    rule = "tdm-reservation response header" if raw is not None else "no tdm-reservation header"
    return TdmStep(SOURCE_HEADERS, reservation, policy, raw, None, rule, tuple(problems))


class _MetaCollector(HTMLParser):
    """Every ``<meta>`` of an HTML document, in order, with its line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metas: list[tuple[dict[str, str], int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self.metas.append(({k.lower(): (v or "") for k, v in attrs}, self.getpos()[0]))

    handle_startendtag = handle_starttag


def _decode_text(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _from_metas(values: list[tuple[str, int]], name: str, source: str) -> tuple[str | None, int | None,
                                                                                Problem | None]:
    if not values:
        return None, None, None
    distinct = list(dict.fromkeys(v.strip() for v, _ in values))
    if len(distinct) == 1:
        return values[0][0], values[0][1], None
    return None, values[0][1], Problem(
        f"{len(values)} {name} declarations with different values {distinct!r}: a protocol error, read as unset",
        field=name, line=values[0][1], source=source)


def _declared(reservations: list[tuple[str, int]], policies: list[tuple[str, int]], names: tuple[str, str],
              label: str, source: str, problems: list[Problem]
              ) -> tuple[int | None, str | None, str | None, int | None]:
    """The reservation and policy one metadata source declares (HTML meta, EPUB meta, XMP), each
    value checked, every problem added to ``problems``: (reservation, policy, raw reservation, line)."""
    res_name, pol_name = names
    raw, line, dup = _from_metas(reservations, res_name, source)
    if dup:
        problems.append(dup)
    reservation = None
    if raw is not None:
        reservation, error = _reservation_of(raw, text=True)
        if error:
            problems.append(Problem(f"{label}{res_name} {error}", field=res_name, line=line, source=source))
    policy_raw, pline, dup = _from_metas(policies, pol_name, source)
    if dup:
        problems.append(dup)
    policy, error = _policy_of(policy_raw)
    if error:
        problems.append(Problem(error, field=pol_name, line=pline, source=source))
    return reservation, policy, raw, line


def read_html(html: str | bytes | None, source: str = SOURCE_HTML) -> TdmStep:
    """``<meta name="tdm-reservation" content="…">`` and ``<meta name="tdm-policy">`` (names
    compared ASCII case-insensitively, as HTML compares meta names)."""
    if not html:
        return TdmStep(SOURCE_HTML, None, None, None, None, "no HTML")
    collector = _MetaCollector()
    try:
        collector.feed(_decode_text(html))
        collector.close()
    except Exception as exc:  # html.parser is lenient; this guards the rest of the pipeline
        return TdmStep(SOURCE_HTML, None, None, None, None, "HTML not readable",
                       (Problem(f"HTML not readable: {exc}", source=source),))
    by_name: dict[str, list[tuple[str, int]]] = {"tdm-reservation": [], "tdm-policy": []}
    for attrs, line in collector.metas:
        name = attrs.get("name", "").strip().lower()
        if name in by_name and "content" in attrs:
            by_name[name].append((attrs["content"], line))
    problems: list[Problem] = []
    reservation, policy, raw, line = _declared(by_name["tdm-reservation"], by_name["tdm-policy"],
                                               ("tdm-reservation", "tdm-policy"), "meta ", source, problems)
    rule = f'<meta name="tdm-reservation"> at line {line}' if raw is not None else "no tdm-reservation meta"
    return TdmStep(SOURCE_HTML, reservation, policy, raw, None, rule, tuple(problems))


def _parse_xml(data: bytes, source: str) -> tuple[etree._Element | None, Problem | None]:
    if len(data) > _MAX_XML:
        return None, Problem(f"XML larger than {_MAX_XML} bytes; not read", source=source)
    try:
        root = etree.fromstring(data, _xml_parser())
    except etree.XMLSyntaxError as exc:
        return None, Problem(f"not well-formed XML: {exc.msg}", line=exc.lineno, source=source)
    except (ValueError, etree.LxmlError) as exc:
        return None, Problem(f"not readable XML: {exc}", source=source)
    if root is None:
        return None, Problem("empty XML document", source=source)
    return root, None


def _epub_prefixes(package: etree._Element) -> dict[str, str]:
    """The EPUB 3 ``prefix`` attribute: ``"tdm: http://… other: http://…"``."""
    text = package.get("prefix") or ""
    return {m.group(1): m.group(2) for m in re.finditer(r"([A-Za-z_][\w.-]*):\s+(\S+)", text)}


def read_epub(data: bytes | None, source: str = SOURCE_EPUB) -> TdmStep:
    """TDM metadata of an EPUB package (its OPF, found through ``META-INF/container.xml``).

    EPUB 3 ``<meta property="tdm:reservation">1</meta>``: the property's ``tdm`` prefix must
    resolve to ``http://www.w3.org/ns/tdmrep#`` through the package's ``prefix`` attribute; a
    ``tdm`` prefix bound to another IRI is not TDMRep and is not read; an undeclared ``tdm``
    prefix is read (it can only mean TDMRep) with the omission noted. EPUB 2
    ``<meta name="tdm:reservation" content="1"/>``. When both forms are present the one of the
    package's own version is read first.
    """
    if not data:
        return TdmStep(SOURCE_EPUB, None, None, None, None, "no EPUB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return TdmStep(SOURCE_EPUB, None, None, None, None, "not an EPUB (not a ZIP container)",
                       (Problem(f"not a ZIP container: {exc}", source=source),))
    with archive:
        def member(name: str) -> tuple[bytes | None, Problem | None]:
            try:
                info = archive.getinfo(name)
            except KeyError:
                return None, Problem(f"{name} missing from the container", source=source)
            if info.file_size > _MAX_XML:
                return None, Problem(f"{name} larger than {_MAX_XML} bytes; not read", source=source)
            try:
                return archive.read(info), None
            except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError,
                    RuntimeError) as exc:
                return None, Problem(f"{name} not readable: {exc}", source=source)

        container_bytes, problem = member("META-INF/container.xml")
        if problem:
            return TdmStep(SOURCE_EPUB, None, None, None, None, "no package document", (problem,))
        container, problem = _parse_xml(container_bytes, f"{source}:META-INF/container.xml")
        if problem:
            return TdmStep(SOURCE_EPUB, None, None, None, None, "no package document", (problem,))
        rootfile = container.find(f".//{{{_CONTAINER_NS}}}rootfile")
        opf_path = rootfile.get("full-path") if rootfile is not None else None
        if not opf_path:
            return TdmStep(SOURCE_EPUB, None, None, None, None, "no package document", (
                Problem("container.xml names no rootfile full-path", source=source),))
        opf_bytes, problem = member(opf_path)
        if problem:
            return TdmStep(SOURCE_EPUB, None, None, None, None, "no package document", (problem,))
    opf_source = f"{source}:{opf_path}"
    package, problem = _parse_xml(opf_bytes, opf_source)
    if problem:
        return TdmStep(SOURCE_EPUB, None, None, None, None, "package document not readable", (problem,))
    return _read_opf(package, opf_source)


def _read_opf(package: etree._Element, source: str) -> TdmStep:
    problems: list[Problem] = []
    version = (package.get("version") or "").strip()
    prefixes = _epub_prefixes(package)
    bound = prefixes.get("tdm")
    epub3: dict[str, list[tuple[str, int]]] = {"reservation": [], "policy": []}
    epub2: dict[str, list[tuple[str, int]]] = {"reservation": [], "policy": []}
    noted_prefix = False
    for meta in package.iter(f"{{{_OPF_NS}}}meta", "meta"):
        prop = (meta.get("property") or "").strip()
        name = (meta.get("name") or "").strip()
        if prop.startswith("tdm:") and prop[4:] in epub3:
            if bound is not None and bound != EPUB_NS:
                if not noted_prefix:
                    problems.append(Problem(f"prefix tdm is bound to {bound!r}, not {EPUB_NS!r}: not TDMRep, "
                                            "not read", field="prefix", line=package.sourceline, source=source))
                    noted_prefix = True
                continue
            if bound is None and not noted_prefix:
                problems.append(Problem(f"prefix tdm is not declared on <package> (add prefix=\"tdm: {EPUB_NS}\"); "
                                        "read as TDMRep", field="prefix", line=package.sourceline, source=source))
                noted_prefix = True
            epub3[prop[4:]].append(("".join(meta.itertext()), meta.sourceline))
        elif name.startswith("tdm:") and name[4:] in epub2 and meta.get("content") is not None:
            epub2[name[4:]].append((meta.get("content") or "", meta.sourceline))
    order = [("EPUB 3 <meta property=\"tdm:reservation\">", epub3), ("EPUB 2 <meta name=\"tdm:reservation\">", epub2)]
    if not version.startswith("3"):
        order.reverse()
    reservation = raw = policy = None
    rule = "no TDM metadata in the package"
    for label, found in order:
        raw_value, line, dup = _from_metas(found["reservation"], "tdm:reservation", source)
        if dup:
            problems.append(dup)
        if raw_value is not None and raw is None:
            raw = raw_value
            reservation, error = _reservation_of(raw_value, text=True)
            if error:
                problems.append(Problem(f"tdm:reservation {error}", field="tdm:reservation", line=line,
                                        source=source))
            rule = f"{label} at line {line} (covers the whole package)"
        policy_value, pline, dup = _from_metas(found["policy"], "tdm:policy", source)
        if dup:
            problems.append(dup)
        if policy_value is not None and policy is None:
            policy, error = _policy_of(policy_value)
            if error:
                problems.append(Problem(error, field="tdm:policy", line=pline, source=source))
    return TdmStep(SOURCE_EPUB, reservation, policy, raw, None, rule, tuple(problems))


def _xmp_values(root: etree._Element, namespace: str) -> dict[str, list[tuple[str, int]]]:
    """``reservation`` / ``policy`` in ``namespace``, as XMP elements or as short-form attributes
    of ``rdf:Description``."""
    found: dict[str, list[tuple[str, int]]] = {"reservation": [], "policy": []}
    for local in found:
        for element in root.iter(f"{{{namespace}}}{local}"):
            found[local].append(("".join(element.itertext()), element.sourceline))
        for description in root.iter(f"{{{_RDF_NS}}}Description"):
            value = description.get(f"{{{namespace}}}{local}")
            if value is not None:
                found[local].append((value, description.sourceline))
    return found


def read_xmp(packet: bytes, source: str = SOURCE_PDF) -> TdmStep:
    """``tdm:reservation`` / ``tdm:policy`` from an XMP packet, namespace ``…/ns/tdmrep/``.

    The same names in the EPUB namespace (``…/ns/tdmrep#``) are not the PDF technique's: they
    are not read, and the problem says which namespace to use.
    """
    root, problem = _parse_xml(packet, source)
    if problem:
        return TdmStep(SOURCE_PDF, None, None, None, None, "XMP not readable", (problem,))
    problems: list[Problem] = []
    found = _xmp_values(root, PDF_NS)
    wrong = _xmp_values(root, EPUB_NS)
    if (wrong["reservation"] or wrong["policy"]) and not (found["reservation"] or found["policy"]):
        line = (wrong["reservation"] or wrong["policy"])[0][1]
        problems.append(Problem(f"tdm:reservation is in the namespace {EPUB_NS!r} (EPUB's); the PDF technique "
                                f"uses {PDF_NS!r}: not read", line=line, source=source))
    reservation, policy, raw, line = _declared(found["reservation"], found["policy"],
                                               ("tdm:reservation", "tdm:policy"), "", source, problems)
    rule = (f"XMP tdm:reservation ({PDF_NS}) at line {line} (covers the whole document)" if raw is not None
            else "no TDM metadata in the XMP packet")
    return TdmStep(SOURCE_PDF, reservation, policy, raw, None, rule, tuple(problems))


def read_pdf(data: bytes | None, source: str = SOURCE_PDF) -> TdmStep:
    """TDM metadata of a PDF: the document's XMP metadata stream (read with pypdf, parsed here
    without entities), see :func:`read_xmp`."""
    if not data:
        return TdmStep(SOURCE_PDF, None, None, None, None, "no PDF")
    if len(data) > _MAX_PDF:
        return TdmStep(SOURCE_PDF, None, None, None, None, "PDF not read",
                       (Problem(f"PDF larger than {_MAX_PDF} bytes; not read", source=source),))
    from pypdf import PdfReader   # imported here: reading PDFs is the rare case

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        root = reader.trailer.get("/Root")
        root = root.get_object() if root is not None else None
        metadata = root.get("/Metadata") if root is not None and hasattr(root, "get") else None
        packet = metadata.get_object().get_data() if metadata is not None else None
    except Exception as exc:  # pypdf raises many kinds of error on damaged files; every one means "not read"
        return TdmStep(SOURCE_PDF, None, None, None, None, "PDF not readable",
                       (Problem(f"PDF not readable: {type(exc).__name__}: {exc}"[:300], source=source),))
    if not packet:
        return TdmStep(SOURCE_PDF, None, None, None, None, "the PDF has no XMP metadata stream")
    return read_xmp(packet, source)


# ---------------------------------------------------------------------------------------------
# Precedence


@dataclass(frozen=True)
class TdmResult:
    """The reservation and policy that hold for one resource after the report's precedence."""

    url: str | None
    reservation: int | None
    policy: str | None
    reservation_from: TdmStep | None
    policy_from: TdmStep | None
    steps: tuple[TdmStep, ...]
    overridden: tuple[tuple[TdmStep, TdmStep], ...] = ()
    """(earlier step, the later step that superseded its reservation with a different value)."""

    @property
    def policy_processed(self) -> bool:
        """The report: ``tdm-policy`` SHOULD NOT be processed when the reservation is 0."""
        return self.policy is not None and self.reservation == 1

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(p for step in self.steps for p in step.problems)

    def reading(self) -> Reading:
        if self.reservation == 1:
            return Reading.NOT_ALLOWED
        if self.reservation == 0:
            return Reading.ALLOWED
        return Reading.UNKNOWN

    def rule(self) -> str:
        if self.reservation_from is None:
            if self.problems:
                return "unset: no valid tdm-reservation in any source (protocol errors read as unset)"
            return "unset: no source declares tdm-reservation"
        step = self.reservation_from
        later = [s.source for s in self.steps[self.steps.index(step) + 1:] if s.reservation is None]
        text = f"{step.source}: {step.rule}"
        if self.overridden:
            pairs = "; ".join(f"{new.source} ({new.reservation}) supersedes {old.source} ({old.reservation})"
                              for old, new in self.overridden)
            text += f"; {pairs} (TDMRep processing priority: the more embedded source wins)"
        if later:
            text += f"; no value in {', '.join(later)}, which does not reset it"
        return text

    def signals(self) -> list[Signal]:
        """One :class:`Signal` per use ``tdm-reservation`` covers (mining and training)."""
        step = self.reservation_from
        extra: dict = {"policy": self.policy, "policy_processed": self.policy_processed}
        if self.overridden:
            extra["conflicts"] = [{"source": old.source, "reservation": old.reservation,
                                   "superseded_by": new.source} for old, new in self.overridden]
        problems = self.problems
        if problems:
            extra["problems"] = [str(p) for p in problems]
        return [Signal(standard="tdmrep", source=step.source if step else "tdmrep", use=use,
                       reading=self.reading(), token="tdm-reservation",
                       raw=step.raw_reservation if step else None, rule=self.rule(),
                       scope=step.scope if step else None, extra=dict(extra))
                for use in uses_of("tdmrep", "tdm-reservation")]


def resolve(*steps: TdmStep | None, url: str | None = None) -> TdmResult:
    """Combine sources **in precedence order** (file, headers, HTML, EPUB/PDF): each value
    found supersedes the one before; a step without a value (absent, or a protocol error)
    resets nothing. Reservation and policy are carried separately, as the report says."""
    present = tuple(s for s in steps if s is not None)
    reservation = policy = None
    reservation_from = policy_from = None
    overridden: list[tuple[TdmStep, TdmStep]] = []
    for step in present:
        if step.reservation is not None:
            if reservation_from is not None and step.reservation != reservation:
                overridden.append((reservation_from, step))
            reservation, reservation_from = step.reservation, step
        if step.policy is not None:
            policy, policy_from = step.policy, step
    return TdmResult(url, reservation, policy, reservation_from, policy_from, present, tuple(overridden))


def read_resource(url: str, *, tdmrep_json: str | bytes | TdmFile | None = None,
                  headers: Mapping[str, object] | Iterable[tuple[str, object]] | None = None,
                  html: str | bytes | None = None, epub: bytes | None = None,
                  pdf: bytes | None = None) -> TdmResult:
    """Every source given for one resource, read and combined (:func:`resolve`)."""
    steps: list[TdmStep] = []
    if tdmrep_json is not None:
        file = tdmrep_json if isinstance(tdmrep_json, TdmFile) else parse_tdmrep_json(tdmrep_json)
        steps.append(match_tdmrep(file, url))
    if headers is not None:
        steps.append(read_headers(headers))
    if html is not None:
        steps.append(read_html(html))
    if epub is not None:
        steps.append(read_epub(epub))
    if pdf is not None:
        steps.append(read_pdf(pdf))
    return resolve(*steps, url=url)


# ---------------------------------------------------------------------------------------------
# The ODRL policy (TDMRep profile)

_DUTIES = ("obtainConsent", "compensate")
_PURPOSES = {"tdm:research": "research", "tdm:non-research": "non-research",
             EPUB_NS + "research": "research", EPUB_NS + "non-research": "non-research"}
_MINE = ("tdm:mine", EPUB_NS + "mine")


@dataclass(frozen=True)
class Assigner:
    """The rightholder as the profile describes it (vCard ``fn``, ``nickname``, ``hasEmail``,
    ``hasAddress``, ``hasTelephone``, ``hasURL``). ``email`` and ``telephone`` without their
    ``mailto:``/``tel:`` scheme; ``address`` as (street, postal code, locality, country)."""

    uid: str
    name: str | None = None
    nickname: str | None = None
    email: str | None = None
    telephone: str | None = None
    url: str | None = None
    address: tuple[str, str, str, str] | None = None


@dataclass(frozen=True)
class PolicyTerms:
    """What a TDMRep policy can say: mining is permitted (``tdm:mine``), optionally only after
    consent (``obtainConsent``) and/or against payment (``compensate``), optionally only for
    research or only for non-research purposes, over an optional collection ``target``."""

    uid: str
    assigner: Assigner
    consent: bool = False
    compensate: bool = False
    purpose: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class TdmPolicy:
    """A parsed policy: its terms (when conformant enough to have them) and every problem."""

    terms: PolicyTerms | None
    conformant: bool
    problems: tuple[Problem, ...] = ()


def _is_uri(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("urn", "mailto", "tel"))


def write_policy(terms: PolicyTerms) -> dict:
    """The policy as a JSON-LD object in the TDMRep profile (final report, "Expressing a TDM
    Policy"): ``@context`` the ODRL context plus the ``tdm`` alias, a URI ``uid``, ``@type``
    ``Offer``, the profile, one ``assigner``, one ``permission`` array with ``tdm:mine``."""
    problems: list[Problem] = []
    if not _is_uri(terms.uid):
        problems.append(Problem(f"policy uid {terms.uid!r} must be a URI, e.g. https://example.com/policies/1",
                                field="uid"))
    if not _is_uri(terms.assigner.uid):
        problems.append(Problem(f"assigner uid {terms.assigner.uid!r} must be a URI", field="assigner.uid"))
    if terms.purpose not in (None, "research", "non-research"):
        problems.append(Problem(f"purpose {terms.purpose!r}: TDMRep has 'research' and 'non-research'",
                                field="purpose"))
    if terms.target is not None and not _is_uri(terms.target):
        problems.append(Problem(f"target {terms.target!r} must be a URI", field="target"))
    if problems:
        raise InvalidInput(problems)
    a = terms.assigner
    assigner: dict = {"uid": a.uid}
    for key, value in (("vcard:fn", a.name), ("vcard:nickname", a.nickname),
                       ("vcard:hasEmail", a.email and f"mailto:{a.email}")):
        if value:
            assigner[key] = value
    if a.address:
        street, postal, locality, country = a.address
        assigner["vcard:hasAddress"] = {"vcard:street-address": street, "vcard:postal-code": postal,
                                        "vcard:locality": locality, "vcard:country-name": country}
    if a.telephone:
        assigner["vcard:hasTelephone"] = f"tel:{a.telephone}"
    if a.url:
        assigner["vcard:hasURL"] = a.url
    permission: dict = {}
    if terms.target:
        permission["target"] = terms.target
    permission["action"] = "tdm:mine"
    duties = [{"action": d} for d, on in (("obtainConsent", terms.consent), ("compensate", terms.compensate)) if on]
    if duties:
        permission["duty"] = duties
    if terms.purpose:
        permission["constraint"] = [{"leftOperand": "purpose", "operator": "eq",
                                     "rightOperand": f"tdm:{terms.purpose}"}]
    return {"@context": [ODRL_CONTEXT, {"tdm": EPUB_NS}], "@type": "Offer", "profile": PROFILE,
            "uid": terms.uid, "assigner": assigner, "permission": [permission]}


def policy_json(terms: PolicyTerms) -> str:
    """:func:`write_policy` as the text of a ``application/ld+json`` file."""
    return json.dumps(write_policy(terms), ensure_ascii=False, indent=2) + "\n"


def _strip(value: object, scheme: str) -> str | None:
    if isinstance(value, str) and value.startswith(scheme):
        return value[len(scheme):]
    return value if isinstance(value, str) else None


def parse_policy(data: str | bytes, source: str | None = None) -> TdmPolicy:
    """Read a TDM policy (JSON-LD) and check it against the profile; never raises.

    Non-conformant (``conformant`` False, terms None when unusable): not JSON, no ODRL context,
    ``@type`` not ``Offer``, wrong ``profile``, no URI ``uid``, not exactly one ``assigner``,
    no ``permission``, an action other than ``tdm:mine``, a duty other than ``obtainConsent``
    or ``compensate``, a purpose other than ``tdm:research``/``tdm:non-research``. An
    ``obligation`` or ``prohibition`` (SHOULD NOT) is noted and ignored.
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig", "replace")
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        return TdmPolicy(None, False, (Problem(f"not JSON: {exc.msg} (column {exc.colno})", line=exc.lineno,
                                               source=source),))
    except (ValueError, RecursionError) as exc:
        return TdmPolicy(None, False, (Problem(f"not readable JSON: {exc}", source=source),))
    if not isinstance(doc, dict):
        return TdmPolicy(None, False, (Problem("a policy is a JSON object", source=source),))
    errors: list[Problem] = []
    notes: list[Problem] = []

    def err(message: str, field: str) -> None:
        errors.append(Problem(message, field=field, source=source))

    context = doc.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if ODRL_CONTEXT not in contexts:
        err(f"@context must include {ODRL_CONTEXT}", "@context")
    aliased = TDMREP_CONTEXT in contexts or any(isinstance(c, dict) and c.get("tdm") == EPUB_NS for c in contexts)
    if "tdm:" in json.dumps(doc) and not aliased:
        err(f"'tdm:' terms are used but @context has no tdm alias to {EPUB_NS}", "@context")
    if doc.get("@type") != "Offer":
        err(f"@type must be 'Offer', not {doc.get('@type')!r}", "@type")
    if doc.get("profile") != PROFILE:
        err(f"profile must be {PROFILE!r}, not {doc.get('profile')!r}", "profile")
    uid = doc.get("uid")
    if not _is_uri(uid):
        err("the policy needs a URI uid", "uid")
    for key in ("obligation", "prohibition"):
        if key in doc:
            notes.append(Problem(f"the profile says a policy SHOULD NOT contain {key!r}; ignored", field=key,
                                 source=source))
    raw_assigner = doc.get("assigner")
    if isinstance(raw_assigner, list):
        err(f"a policy has one assigner, not {len(raw_assigner)}", "assigner")
        raw_assigner = None
    assigner = None
    if not isinstance(raw_assigner, dict):
        if "assigner" not in doc:
            err("the policy has no assigner", "assigner")
    else:
        address = raw_assigner.get("vcard:hasAddress")
        addr = None
        if isinstance(address, dict):
            addr = tuple(str(address.get(k, "")) for k in ("vcard:street-address", "vcard:postal-code",
                                                            "vcard:locality", "vcard:country-name"))
        assigner = Assigner(uid=str(raw_assigner.get("uid", "")), name=raw_assigner.get("vcard:fn"),
                            nickname=raw_assigner.get("vcard:nickname"),
                            email=_strip(raw_assigner.get("vcard:hasEmail"), "mailto:"),
                            telephone=_strip(raw_assigner.get("vcard:hasTelephone"), "tel:"),
                            url=raw_assigner.get("vcard:hasURL"), address=addr)  # type: ignore[arg-type]
    permissions = doc.get("permission")
    if isinstance(permissions, dict):
        permissions = [permissions]
    if not isinstance(permissions, list) or not permissions:
        err("the policy needs one permission property (an array of permissions)", "permission")
        permissions = []
    consent = compensate = False
    purpose = target = None
    for i, perm in enumerate(permissions):
        where = f"permission[{i}]"
        if not isinstance(perm, dict):
            err("a permission is an object", where)
            continue
        if perm.get("action") not in _MINE:
            err(f"action must be 'tdm:mine', not {perm.get('action')!r}", f"{where}.action")
        if "target" in perm:
            target = perm["target"] if _is_uri(perm["target"]) else None
            if target is None:
                err("target must be a URI", f"{where}.target")
        duties = perm.get("duty", [])
        for j, duty in enumerate(duties if isinstance(duties, list) else [duties]):
            action = duty.get("action") if isinstance(duty, dict) else None
            if action == "obtainConsent":
                consent = True
            elif action == "compensate":
                compensate = True
            else:
                err(f"duty {action!r} is not in the profile (obtainConsent, compensate)", f"{where}.duty[{j}]")
        constraints = perm.get("constraint", [])
        for j, c in enumerate(constraints if isinstance(constraints, list) else [constraints]):
            ok = (isinstance(c, dict) and c.get("leftOperand") == "purpose" and c.get("operator") == "eq"
                  and c.get("rightOperand") in _PURPOSES)
            if not ok:
                err("constraint must be {leftOperand: purpose, operator: eq, rightOperand: tdm:research | "
                    "tdm:non-research}", f"{where}.constraint[{j}]")
            else:
                purpose = _PURPOSES[c["rightOperand"]]
    terms = None
    if assigner is not None and isinstance(uid, str):
        terms = PolicyTerms(uid=uid, assigner=assigner, consent=consent, compensate=compensate,
                            purpose=purpose, target=target)
    return TdmPolicy(terms, not errors, tuple(errors + notes))


# ---------------------------------------------------------------------------------------------
# Writers


def reservation_for(permission: Permission) -> int:
    """A rightholder's permission for mining as a ``tdm-reservation``: allowed → 0; not allowed
    or allowed only under a licence → 1 (reserved; the policy says how to get the licence)."""
    return 0 if permission is Permission.ALLOWED else 1


def _check_value(reservation: int, policy: str | None, field: str = "") -> None:
    problems: list[Problem] = []
    if isinstance(reservation, bool) or reservation not in (0, 1):
        problems.append(Problem(f"tdm-reservation must be 0 or 1, not {reservation!r}",
                                field=f"{field}tdm-reservation"))
    if policy is not None:
        _value, error = _policy_of(policy)
        if error:
            problems.append(Problem(error, field=f"{field}tdm-policy"))
    if problems:
        raise InvalidInput(problems)


@dataclass(frozen=True)
class LocationTerms:
    """One location of a site (an RFC 9309 path pattern) and what holds there."""

    location: str
    reservation: int
    policy: str | None = None


def write_tdmrep_json(locations: Sequence[LocationTerms]) -> str:
    """``/.well-known/tdmrep.json`` for a site.

    The report uses the first rule that matches, so the rules are written most specific first:
    by the octet length of the normalised pattern, longest first (RFC 9309's measure of
    specificity); between patterns of equal length a reservation (1) comes before a
    non-reservation (0), so where two rules could both match, the reader meets the more
    restrictive one. A policy is written only with a reservation of 1 (with 0 it is not
    processed). Duplicate locations are refused.
    """
    seen: set[str] = set()
    for i, loc in enumerate(locations):
        if not isinstance(loc.location, str) or not loc.location.startswith(("/", "*")):
            raise InvalidInput(Problem(f"location {loc.location!r} must be a path pattern starting with '/'",
                                       field=f"[{i}].location"))
        _check_value(loc.reservation, loc.policy, f"[{i}].")
        key = normalize_pattern(loc.location)
        if key in seen:
            raise InvalidInput(Problem(f"location {loc.location!r} given twice", field=f"[{i}].location"))
        seen.add(key)
    ordered = sorted(locations, key=lambda loc: (-len(normalize_pattern(loc.location)), -loc.reservation))
    rules = []
    for loc in ordered:
        rule: dict = {"location": loc.location, "tdm-reservation": loc.reservation}
        if loc.policy and loc.reservation == 1:
            rule["tdm-policy"] = loc.policy
        rules.append(rule)
    return json.dumps(rules, indent=2, ensure_ascii=False) + "\n"


def header_lines(reservation: int, policy: str | None = None) -> list[str]:
    """The response header fields, e.g. ``["tdm-reservation: 1", "tdm-policy: https://…"]``."""
    _check_value(reservation, policy)
    lines = [f"tdm-reservation: {reservation}"]
    if policy and reservation == 1:
        lines.append(f"tdm-policy: {policy}")
    return lines


def html_meta(reservation: int, policy: str | None = None) -> str:
    """The ``<meta>`` elements for an HTML ``<head>``."""
    _check_value(reservation, policy)
    out = f'<meta name="tdm-reservation" content="{reservation}">'
    if policy and reservation == 1:
        out += f'\n<meta name="tdm-policy" content="{_html_escape(policy, quote=True)}">'
    return out + "\n"


def epub_meta(reservation: int, policy: str | None = None, *, version: int = 3) -> str:
    """The package ``<metadata>`` entries; for EPUB 3 the ``<package>`` also needs
    ``prefix="tdm: http://www.w3.org/ns/tdmrep#"``."""
    _check_value(reservation, policy)
    if version not in (2, 3):
        raise InvalidInput(Problem(f"EPUB version {version!r}: 2 or 3", field="version"))
    p = _html_escape(policy, quote=True) if policy and reservation == 1 else None
    if version == 3:
        out = f'<meta property="tdm:reservation">{reservation}</meta>'
        return out + (f'\n<meta property="tdm:policy">{p}</meta>' if p else "") + "\n"
    out = f'<meta name="tdm:reservation" content="{reservation}"/>'
    return out + (f'\n<meta name="tdm:policy" content="{p}"/>' if p else "") + "\n"


def xmp_packet(reservation: int, policy: str | None = None) -> bytes:
    """An XMP packet carrying ``tdm:reservation`` (and ``tdm:policy``) for a PDF's metadata stream."""
    _check_value(reservation, policy)
    policy_xml = ""
    if policy and reservation == 1:
        policy_xml = f"\n      <tdm:policy>{_html_escape(policy, quote=False)}</tdm:policy>"
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        f'  <rdf:RDF xmlns:rdf="{_RDF_NS}">\n'
        f'    <rdf:Description rdf:about="" xmlns:tdm="{PDF_NS}">\n'
        f"      <tdm:reservation>{reservation}</tdm:reservation>{policy_xml}\n"
        "    </rdf:Description>\n"
        "  </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode("utf-8")
