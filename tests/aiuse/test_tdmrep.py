"""W3C TDMRep: the report's own examples, its precedence rules, EPUB and PDF metadata built here,
the ODRL policy, writers that read back, and junk that never raises (issue #14, items 2 and 3)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.aiuse.signals import tdmrep
from obra.aiuse.signals.paths import match_length
from obra.aiuse.signals.tdmrep import (
    Assigner, LocationTerms, PolicyTerms, match_tdmrep, parse_policy, parse_tdmrep_json, read_epub,
    read_headers, read_html, read_pdf, read_resource, read_xmp, resolve,
)
from obra.aiuse.vocabulary import Permission, Reading, Use
from obra.errors import InvalidInput

DATA = Path(__file__).parent / "data" / "tdmrep"
EXAMPLES = 1500 if os.environ.get("OBRA_LONG_TESTS") == "1" else 120
POLICY = "https://provider.com/policies/policy.json"


def _http(name: str) -> list[tuple[str, str]]:
    """The header fields of one of the report's response examples."""
    lines = (DATA / name).read_text().splitlines()[1:]
    return [(k, v.strip()) for k, _, v in (line.partition(":") for line in lines)]


# --- tdmrep.json -----------------------------------------------------------------------------

def test_report_example_opts_out_every_file():
    file = parse_tdmrep_json((DATA / "tdmrep-opt-out-everything.json").read_bytes())
    assert file.implemented and not file.problems
    for url in ("https://provider.com/", "/a/b/c.pdf", "/index.html?x=1"):
        step = match_tdmrep(file, url)
        assert (step.reservation, step.scope) == (1, "/")


@pytest.mark.parametrize("path, reservation, policy", [
    ("/directory-a/report.pdf", 1, None),
    ("/directory-b/html/page.html", 1, POLICY),
    ("/directory-b/images/photo.jpg", 0, None),
    ("/directory-b/images/photo.png", None, None),     # no rule matches: unset
    ("/Directory-A/report.pdf", None, None),           # matching is case-sensitive
    ("/directory-b/images/sub/deep.jpg", 0, None),     # * spans slashes, as in RFC 9309
])
def test_report_example_three_groups_of_files(path, reservation, policy):
    file = parse_tdmrep_json((DATA / "tdmrep-three-groups.json").read_text())
    step = match_tdmrep(file, "https://provider.com" + path)
    assert (step.reservation, step.policy) == (reservation, policy)


def test_first_match_in_array_order_wins_not_the_longest():
    """Pitfall 6: "/" first shadows "/private/"; the report says the first in sequence is used."""
    file = parse_tdmrep_json('[{"location": "/", "tdm-reservation": 0},'
                             ' {"location": "/private/", "tdm-reservation": 1}]')
    step = match_tdmrep(file, "/private/diary.html")
    assert step.reservation == 0 and step.scope == "/" and "first match" in step.rule


@pytest.mark.parametrize("value", ["2", '"1"', "true", "null", "1.5", "-1", '"yes"', "[1]"])
def test_values_other_than_0_and_1_are_protocol_errors_read_as_unset(value):
    file = parse_tdmrep_json(f'[{{"location": "/", "tdm-reservation": {value}}},'
                             ' {"location": "/", "tdm-reservation": 1}]')
    step = match_tdmrep(file, "/x")
    # the first rule still matches and decides: unset, the second rule is never consulted
    assert step.reservation is None and step.scope == "/"
    assert any("protocol error" in p.message and p.field == "[0].tdm-reservation" for p in step.problems)


def test_a_quoted_one_is_named_with_the_fix():
    file = parse_tdmrep_json('[{"location": "/", "tdm-reservation": "1"}]')
    assert "without quotes" in file.problems[0].message


def test_a_file_that_is_not_an_array_means_the_site_does_not_implement_it():
    file = parse_tdmrep_json('{"location": "/", "tdm-reservation": 1}')
    assert not file.implemented and "array" in file.problems[0].message
    assert match_tdmrep(file, "/").reservation is None
    broken = parse_tdmrep_json('[{"location": "/", "tdm-reservation": 1},]')
    assert not broken.implemented and broken.problems[0].line == 1


def test_rules_without_location_are_dropped_with_their_reason():
    file = parse_tdmrep_json('[{"tdm-reservation": 1}, {"location": "https://x.example/", "tdm-reservation": 1},'
                             ' {"location": "/ok", "tdm-reservation": 0, "colour": "red"}]')
    assert [r.location for r in file.rules] == ["/ok"]
    fields = [p.field for p in file.problems]
    assert fields == ["[0].location", "[1].location", "[2].colour"]


def test_percent_encoding_is_normalised_before_comparison():
    file = parse_tdmrep_json('[{"location": "/~user/", "tdm-reservation": 1}, {"location": "/path/foo-%24",'
                             ' "tdm-reservation": 0}]')
    assert match_tdmrep(file, "/%7Euser/page").reservation == 1
    assert match_tdmrep(file, "https://provider.com/path/foo-$").reservation == 0   # the report's %24 example


# --- headers and HTML ------------------------------------------------------------------------

def test_report_header_examples():
    assert read_headers(_http("headers-reserved.http")).reservation == 1
    step = read_headers(_http("headers-reserved-with-policy.http"))
    assert (step.reservation, step.policy) == (1, POLICY)


def test_header_names_are_case_insensitive_and_repeats_that_disagree_are_unset():
    assert read_headers({"TDM-Reservation": " 1 "}).reservation == 1
    step = read_headers([("tdm-reservation", "1"), ("tdm-reservation", "0")])
    assert step.reservation is None and "different values" in step.problems[0].message
    assert read_headers([("tdm-reservation", "1"), ("Tdm-Reservation", "1")]).reservation == 1
    assert read_headers({"tdm-reservation": "yes"}).reservation is None


def test_report_html_example():
    step = read_html((DATA / "html-meta.html").read_bytes())
    assert (step.reservation, step.policy) == (1, POLICY)
    assert "line 5" in step.rule


# --- precedence ------------------------------------------------------------------------------

def test_headers_supersede_the_file_and_html_supersedes_headers():
    file = parse_tdmrep_json('[{"location": "/", "tdm-reservation": 0}]')
    result = read_resource("/a.html", tdmrep_json=file, headers={"tdm-reservation": "1"})
    assert result.reservation == 1 and result.reservation_from.source == "http-headers"
    assert result.overridden[0][0].source == "tdmrep.json"
    result = read_resource("/a.html", tdmrep_json=file, headers={"tdm-reservation": "1"},
                           html='<meta name="tdm-reservation" content="0">')
    assert result.reservation == 0 and result.reservation_from.source == "html-meta"
    signal = result.signals()[0]
    assert signal.extra["conflicts"][-1] == {"source": "http-headers", "reservation": 1, "superseded_by": "html-meta"}
    assert "more embedded source wins" in signal.rule


def test_absence_at_a_later_step_never_resets_an_earlier_value():
    file = parse_tdmrep_json(f'[{{"location": "/", "tdm-reservation": 1, "tdm-policy": "{POLICY}"}}]')
    result = read_resource("/a.html", tdmrep_json=file, headers={"content-type": "text/html"},
                           html="<html><head><title>t</title></head></html>")
    assert (result.reservation, result.policy) == (1, POLICY)
    assert result.reservation_from.source == "tdmrep.json"
    assert "does not reset" in result.rule()


def test_a_protocol_error_later_does_not_reset_either():
    result = read_resource("/a", headers={"tdm-reservation": "1"},
                           html='<meta name="tdm-reservation" content="2">')
    assert result.reservation == 1 and any("protocol error" in p.message for p in result.problems)


def test_policy_and_reservation_are_carried_separately():
    """A header with a reservation and no policy keeps the file's policy."""
    file = parse_tdmrep_json(f'[{{"location": "/", "tdm-reservation": 1, "tdm-policy": "{POLICY}"}}]')
    result = read_resource("/a", tdmrep_json=file, headers={"tdm-reservation": "1"})
    assert result.policy == POLICY and result.policy_from.source == "tdmrep.json"
    assert result.policy_processed


def test_policy_is_not_processed_when_the_reservation_is_zero():
    result = read_resource("/a", headers={"tdm-reservation": "0", "tdm-policy": POLICY})
    assert result.policy == POLICY and not result.policy_processed
    assert {s.reading for s in result.signals()} == {Reading.ALLOWED}


def test_a_reservation_covers_mining_and_both_kinds_of_training():
    result = read_resource("/a", headers={"tdm-reservation": "1"})
    signals = {s.use: s for s in result.signals()}
    assert set(signals) == {Use.TDM, Use.AI_TRAIN_GENERATIVE, Use.AI_TRAIN_OTHER}
    assert all(s.reading is Reading.NOT_ALLOWED and s.token == "tdm-reservation" and s.raw == "1"
               for s in signals.values())
    unset = read_resource("/a", headers={})
    assert {s.reading for s in unset.signals()} == {Reading.UNKNOWN}


# --- EPUB and PDF, built here ----------------------------------------------------------------

_CONTAINER = ('<?xml version="1.0"?><container version="1.0" '
              'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
              '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
              '</rootfiles></container>')


def _epub(opf: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr("META-INF/container.xml", _CONTAINER)
        z.writestr("OEBPS/content.opf", opf)
    return buf.getvalue()


def _opf(version: str, metas: str, prefix: str | None = None) -> str:
    attr = f' prefix="{prefix}"' if prefix else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<package xmlns="http://www.idpf.org/2007/opf" '
            f'version="{version}" unique-identifier="id"{attr}>\n'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n<dc:title>Document title</dc:title>\n'
            f'{metas}</metadata>\n<manifest/><spine/></package>\n')


def test_epub3_property_with_the_tdm_prefix():
    opf = _opf("3.0", tdmrep.epub_meta(1, POLICY), prefix="tdm: http://www.w3.org/ns/tdmrep#")
    step = read_epub(_epub(opf))
    assert (step.reservation, step.policy, step.problems) == (1, POLICY, ())
    assert "whole package" in step.rule


def test_epub2_meta_name_form():
    step = read_epub(_epub(_opf("2.0", tdmrep.epub_meta(0, version=2))))
    assert step.reservation == 0 and "EPUB 2" in step.rule


def test_epub3_prefix_bound_elsewhere_is_not_tdmrep_and_undeclared_is_read_with_a_note():
    other = read_epub(_epub(_opf("3.0", tdmrep.epub_meta(1), prefix="tdm: http://example.com/other#")))
    assert other.reservation is None and "not TDMRep" in other.problems[0].message
    undeclared = read_epub(_epub(_opf("3.0", tdmrep.epub_meta(1))))
    assert undeclared.reservation == 1 and "not declared" in undeclared.problems[0].message


def test_epub_metadata_supersedes_html():
    epub = _epub(_opf("3.0", tdmrep.epub_meta(1), prefix="tdm: http://www.w3.org/ns/tdmrep#"))
    result = read_resource("/book.epub", headers={"tdm-reservation": "0"}, epub=epub)
    assert result.reservation == 1 and result.reservation_from.source == "epub"


def _pdf(xmp: bytes | None) -> bytes:
    from pypdf import PdfWriter
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    if xmp is not None:
        writer.xmp_metadata = xmp
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_xmp_in_the_slash_namespace():
    step = read_pdf(_pdf(tdmrep.xmp_packet(1, POLICY)))
    assert (step.reservation, step.policy, step.problems) == (1, POLICY, ())
    result = read_resource("/paper.pdf", headers={"tdm-reservation": "0"}, pdf=_pdf(tdmrep.xmp_packet(1)))
    assert result.reservation == 1 and result.reservation_from.source == "pdf-xmp"


def test_pdf_xmp_in_the_epub_namespace_is_not_read_and_says_why():
    """Pitfall 7: one namespace for PDF (…/ns/tdmrep/), another for EPUB (…/ns/tdmrep#)."""
    packet = tdmrep.xmp_packet(1).replace(b"http://www.w3.org/ns/tdmrep/", b"http://www.w3.org/ns/tdmrep#")
    step = read_pdf(_pdf(packet))
    assert step.reservation is None and "http://www.w3.org/ns/tdmrep/" in step.problems[0].message


def test_xmp_short_form_attribute_is_read():
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description rdf:about="" xmlns:tdm="http://www.w3.org/ns/tdmrep/" tdm:reservation="1"/>'
              b'</rdf:RDF></x:xmpmeta>')
    assert read_xmp(packet).reservation == 1


def test_a_pdf_without_xmp_and_a_damaged_pdf_read_as_unset():
    assert read_pdf(_pdf(None)).reservation is None
    damaged = read_pdf(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 9 0 R >>\n%%EOF")
    assert damaged.reservation is None


def test_xml_entities_are_not_expanded():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "1"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            b'<rdf:Description xmlns:tdm="http://www.w3.org/ns/tdmrep/"><tdm:reservation>&a;</tdm:reservation>'
            b'</rdf:Description></rdf:RDF></x:xmpmeta>')
    step = read_xmp(bomb)
    assert step.reservation is None   # the entity is not resolved into "1"


# --- the ODRL policy -------------------------------------------------------------------------

def test_report_full_policy_example_1():
    policy = parse_policy((DATA / "policy-full-example-1.json").read_bytes(), source="example-1")
    assert policy.conformant and policy.problems == ()
    terms = policy.terms
    assert terms.uid == "https://provider.com/policies/1" and terms.consent and not terms.compensate
    assert terms.assigner.email == "contact@provider.com" and terms.assigner.telephone == "+61755555555"
    assert terms.assigner.address == ("111 Street Address", "5555", "Espérance", "France")


def test_report_full_policy_example_2_as_printed_is_not_json_and_says_where():
    policy = parse_policy((DATA / "policy-full-example-2.json").read_text(), source="example-2")
    assert not policy.conformant and policy.terms is None
    assert policy.problems[0].line == 14 and policy.problems[0].source == "example-2"
    fixed = (DATA / "policy-full-example-2.json").read_text().replace(
        '"mailto:contact@provider.com",\n  },', '"mailto:contact@provider.com"\n  },')
    terms = parse_policy(fixed).terms
    assert terms.compensate and terms.purpose == "non-research" and not terms.consent


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update({"@type": "Agreement"}), "@type"),
    (lambda d: d.update({"profile": "http://example.com"}), "profile"),
    (lambda d: d["permission"][0].update({"action": "use"}), "permission[0].action"),
    (lambda d: d["permission"][0]["duty"].append({"action": "attribute"}), "permission[0].duty[1]"),
    (lambda d: d.pop("uid"), "uid"),
    (lambda d: d.update({"@context": "http://www.w3.org/ns/odrl.jsonld"}), "@context"),
])
def test_non_conformant_policies_name_the_field(change, field):
    doc = json.loads((DATA / "policy-full-example-1.json").read_text())
    change(doc)
    policy = parse_policy(json.dumps(doc))
    assert not policy.conformant and field in [p.field for p in policy.problems]


def test_policy_with_the_context_file_instead_of_the_inline_alias_is_conformant():
    doc = json.loads((DATA / "policy-full-example-1.json").read_text())
    doc["@context"] = [tdmrep.ODRL_CONTEXT, tdmrep.TDMREP_CONTEXT]
    assert parse_policy(json.dumps(doc)).conformant


_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
_assigners = st.builds(Assigner, uid=st.just("https://provider.example"), name=st.none() | _text,
                       nickname=st.none() | _text, email=st.none() | st.just("a@b.example"),
                       telephone=st.none() | st.just("+33123456789"),
                       url=st.none() | st.just("https://provider.example/tdm.html"),
                       address=st.none() | st.tuples(_text, _text, _text, _text))
_policies = st.builds(PolicyTerms, uid=st.sampled_from(["https://provider.example/policies/1", "urn:x:1"]),
                      assigner=_assigners, consent=st.booleans(), compensate=st.booleans(),
                      purpose=st.sampled_from([None, "research", "non-research"]),
                      target=st.none() | st.just("https://provider.example/papers"))


@settings(max_examples=EXAMPLES, deadline=None)
@given(_policies)
def test_policy_writer_reads_back_to_the_same_terms(terms):
    text = tdmrep.policy_json(terms)
    parsed = parse_policy(text)
    assert parsed.conformant, parsed.problems
    assert parsed.terms == terms
    doc = json.loads(text)
    assert doc["@type"] == "Offer" and doc["profile"] == tdmrep.PROFILE and doc["@context"][0] == tdmrep.ODRL_CONTEXT
    assert "obligation" not in doc and "prohibition" not in doc


def test_policy_writer_refuses_what_the_profile_cannot_say():
    with pytest.raises(InvalidInput) as exc:
        tdmrep.write_policy(PolicyTerms(uid="policy-1", assigner=Assigner(uid="provider"), purpose="commercial"))
    assert {p.field for p in exc.value.problems} == {"uid", "assigner.uid", "purpose"}


# --- writers read back -----------------------------------------------------------------------

@pytest.mark.parametrize("permission, reservation", [
    (Permission.ALLOWED, 0), (Permission.NOT_ALLOWED, 1), (Permission.LICENCE, 1)])
def test_reservation_for_a_permission(permission, reservation):
    assert tdmrep.reservation_for(permission) == reservation


_segments = st.sampled_from(["a", "b", "img", "x.jpg", "*", "*.pdf", "ü"])
_patterns = st.lists(_segments, min_size=0, max_size=3).map(lambda s: "/" + "/".join(s)) | \
    st.lists(_segments, min_size=1, max_size=3).map(lambda s: "/" + "/".join(s) + "$")
_paths = st.tuples(st.lists(st.sampled_from(["a", "b", "img", "x.jpg", "y.pdf", "ü"]), max_size=4),
                   st.booleans()).map(lambda t: "/" + "/".join(t[0]) + ("/" if t[1] and t[0] else ""))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_patterns, st.tuples(st.sampled_from([0, 1]), st.booleans()), min_size=1, max_size=6),
       st.lists(_paths, min_size=1, max_size=8))
def test_tdmrep_json_writer_puts_the_most_specific_location_first(terms, paths):
    """Terms mean "the most specific location holds" (RFC 9309 length; a tie goes to the
    reservation); the written file read with the report's first-match rule says the same."""
    from obra.aiuse.signals.paths import normalize_pattern
    by_norm: dict[str, tuple[str, tuple[int, bool]]] = {}
    for pattern, value in terms.items():
        by_norm.setdefault(normalize_pattern(pattern), (pattern, value))
    locations = [LocationTerms(p, r, POLICY if with_policy else None) for p, (r, with_policy) in by_norm.values()]
    file = parse_tdmrep_json(tdmrep.write_tdmrep_json(locations))
    assert file.implemented and not file.problems
    for path in paths:
        matched = [(match_length(loc.location, path), loc.reservation) for loc in locations
                   if match_length(loc.location, path) is not None]
        expected = max(matched)[1] if matched else None
        assert match_tdmrep(file, path).reservation == expected


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.sampled_from([0, 1]), st.none() | st.sampled_from([POLICY, "https://x.example/p?a=1&b=<2>"]))
def test_header_html_epub_and_xmp_writers_read_back(reservation, policy):
    expected_policy = policy if reservation == 1 else None
    headers = [tuple(line.split(": ", 1)) for line in tdmrep.header_lines(reservation, policy)]
    for step in (read_headers(headers), read_html(tdmrep.html_meta(reservation, policy)),
                 read_epub(_epub(_opf("3.0", tdmrep.epub_meta(reservation, policy),
                                      prefix="tdm: http://www.w3.org/ns/tdmrep#"))),
                 read_epub(_epub(_opf("2.0", tdmrep.epub_meta(reservation, policy, version=2)))),
                 read_xmp(tdmrep.xmp_packet(reservation, policy))):
        assert (step.reservation, step.policy, step.problems) == (reservation, expected_policy, ()), step


def test_writers_refuse_bad_values():
    with pytest.raises(InvalidInput):
        tdmrep.header_lines(2)
    with pytest.raises(InvalidInput):
        tdmrep.html_meta(1, "policy.json")
    with pytest.raises(InvalidInput) as exc:
        tdmrep.write_tdmrep_json([LocationTerms("/a", 1), LocationTerms("/a", 0)])
    assert exc.value.problems[0].field == "[1].location"


# --- junk never raises -----------------------------------------------------------------------

@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                              lambda c: st.lists(c, max_size=4) | st.dictionaries(
                                  st.sampled_from(["location", "tdm-reservation", "tdm-policy", "x"]), c,
                                  max_size=4), max_leaves=12).map(json.dumps)))
def test_junk_tdmrep_json_and_policies_never_raise(data):
    file = parse_tdmrep_json(data)
    assert match_tdmrep(file, "/a/b").reservation in (0, 1, None)
    assert isinstance(parse_policy(data).conformant, bool)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.text(max_size=200))
def test_junk_documents_never_raise(blob, text):
    for step in (read_epub(blob), read_pdf(blob), read_xmp(blob), read_html(blob), read_html(text),
                 read_headers({"tdm-reservation": text, "tdm-policy": text})):
        assert step.reservation in (0, 1, None)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("META-INF/container.xml", blob)
    assert read_epub(zipped.getvalue()).reservation is None
    assert read_pdf(b"%PDF-1.4\n" + blob).reservation in (0, 1, None)
    assert resolve(read_html(text), None).reservation in (0, 1, None)
