"""TDMRep written into EPUB and PDF files, read back with the readers of the specification's forms."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.aiuse.signals import tdmrep
from obra.aiuse.signals.tdmrep_embed import embed, embed_epub, embed_pdf, kind_of
from obra.errors import InvalidInput

from .test_tdmrep import _epub, _opf, _pdf

POLICY = "https://example.com/policies/policy.json"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def _members(data: bytes) -> list[tuple[str, int, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, i.compress_type, z.read(i)) for i in z.infolist()]


def test_an_epub3_gets_the_property_and_the_prefix_and_keeps_everything_else():
    book = _epub(_opf("3.0", "", prefix="rendition: http://www.idpf.org/vocab/rendition/#"))
    out = embed("novel.epub", book, 1, POLICY)
    step = tdmrep.read_epub(out)
    assert (step.reservation, step.policy, step.problems) == (1, POLICY, ())
    before, after = _members(book), _members(out)
    assert [m[0] for m in after] == [m[0] for m in before] and after[0][:2] == ("mimetype", zipfile.ZIP_STORED)
    assert [m for m in after if m[0] != "OEBPS/content.opf"] == [m for m in before if m[0] != "OEBPS/content.opf"]
    opf = dict((m[0], m[2]) for m in after)["OEBPS/content.opf"].decode()
    assert "rendition: http://www.idpf.org/vocab/rendition/#" in opf and "tdm: http://www.w3.org/ns/tdmrep#" in opf
    assert "<dc:title>Document title</dc:title>" in opf


def test_an_epub2_gets_the_meta_name_form():
    out = embed_epub(_epub(_opf("2.0", "")), 0)
    step = tdmrep.read_epub(out)
    assert step.reservation == 0 and "EPUB 2" in step.rule and step.policy is None


def test_embedding_again_replaces_the_earlier_statement():
    once = embed("b.epub", _epub(_opf("3.0", "")), 1, POLICY)
    twice = embed("b.epub", once, 0)
    opf = dict((m[0], m[2]) for m in _members(twice))["OEBPS/content.opf"].decode()
    assert opf.count("tdm:reservation") == 1 and "tdm:policy" not in opf
    assert tdmrep.read_epub(twice).reservation == 0
    pdf = embed("p.pdf", embed("p.pdf", _pdf(None), 1, POLICY), 0)
    assert tdmrep.read_pdf(pdf).reservation == 0 and tdmrep.read_pdf(pdf).policy is None


def test_a_pdf_keeps_its_pages_and_its_own_xmp():
    from pypdf import PdfReader

    own = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="' + RDF.encode() + b'">'
           b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
           b'<dc:creator>Ana Autora</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>')
    out = embed("paper.pdf", _pdf(own), 1, POLICY)
    step = tdmrep.read_pdf(out)
    assert (step.reservation, step.policy) == (1, POLICY)
    reader = PdfReader(io.BytesIO(out))
    assert len(reader.pages) == 1
    packet = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"Ana Autora" in packet and b"http://www.w3.org/ns/tdmrep/" in packet


def test_other_files_and_damaged_ones_are_refused_by_name():
    with pytest.raises(InvalidInput, match="not an EPUB or PDF"):
        embed("photo.jpg", b"\xff\xd8\xff\xe0 not a book", 1)
    assert kind_of("x.pdf", b"%PDF-1.7") == "pdf" and kind_of("x.epub", _epub(_opf("3.0", ""))) == "epub"
    with pytest.raises(InvalidInput, match="readable PDF"):
        embed_pdf(b"%PDF-1.7 and then nothing", 1)


@settings(max_examples=25, deadline=None)
@given(reservation=st.sampled_from([0, 1]), policy=st.none() | st.from_regex(r"https://[a-z]{1,12}\.example/[a-z0-9/]{0,20}",
                                                                           fullmatch=True),
       epub3=st.booleans())
def test_round_trip_through_both_formats(reservation, policy, epub3):
    book = embed("b.epub", _epub(_opf("3.0" if epub3 else "2.0", "")), reservation, policy)
    paper = embed("p.pdf", _pdf(None), reservation, policy)
    expected = (reservation, policy if reservation == 1 else None)
    for step in (tdmrep.read_epub(book), tdmrep.read_pdf(paper)):
        assert (step.reservation, step.policy or None) == expected
