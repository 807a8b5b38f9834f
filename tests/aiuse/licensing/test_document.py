"""The licence as a document for people, in four languages, HTML and PDF."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from .conftest import write_manifest


@pytest.fixture
def licence(world, tmp_path):
    svc = world["svc"]
    quote = svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", [{"number": world["a"]}]),
                      svc.question("ai-train-generative"))
    return svc.accept(world["dev"], quote["quote_id"])


@pytest.mark.parametrize("locale,words", [("en", "Licence for AI use of registered works"),
                                          ("es", "Licencia de uso por IA de obras registradas"),
                                          ("fr", "Licence d’utilisation par l’IA d’œuvres enregistrées"),
                                          ("pt", "Licença de uso por IA de obras registradas")])
def test_the_licence_document_reads_in_each_language(world, licence, locale, words):
    html = world["svc"].document(world["dev"], licence["licence_id"], locale=locale).decode()
    assert words in html and licence["licence"]["items"]["merkle_root"] in html
    assert {"en": "€2.50", "es": "2,50", "fr": "2,50", "pt": "2,50"}[locale] in html


def test_the_pdf_carries_the_hash_and_is_reproducible(world, licence):
    first = world["svc"].document(world["dev"], licence["licence_id"], fmt="pdf", locale="fr")
    again = world["svc"].document(world["dev"], licence["licence_id"], fmt="pdf", locale="fr")
    assert first == again
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(first)).pages)
    assert "en vigueur" in text and licence["licence_sha256"][:20] in text.replace("\n", "")
