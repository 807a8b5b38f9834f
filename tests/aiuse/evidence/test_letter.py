"""The evidence letter, read as its recipient reads it: in four languages, every figure from the bundle."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

import pypdf
import pytest

from obra.aiuse.evidence.bundle import bundle_hash
from obra.aiuse.evidence.letter import letter_html, letter_pdf
from obra.aiuse.evidence.service import EvidenceService
from obra.errors import InvalidInput

# language → (heading, Germany, "near duplicate", "reserved", the caution about a low-confidence fact)
WORDS = {
    "en": ("Reservation of rights and request for information", "Germany", "near duplicate (ISCC Content-Code)",
           "reserved", "relies on a fact recorded with low confidence"),
    "es": ("Reserva de derechos y solicitud de información", "Alemania", "casi duplicado (ISCC Content-Code)",
           "reservado", "se apoya en un dato registrado con confianza baja"),
    "fr": ("Réserve de droits et demande d’information", "Allemagne", "quasi-doublon (ISCC Content-Code)",
           "réservé", "repose sur une donnée enregistrée avec une confiance faible"),
    "pt": ("Reserva de direitos e pedido de informação", "Alemanha", "quase duplicata (ISCC Content-Code)",
           "reservado", "se apoia em um dado registrado com baixa confiança"),
}


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", html, flags=re.S))))


@pytest.fixture(scope="module")
def bundle(sqlite_evidence_world):
    world = sqlite_evidence_world
    return EvidenceService(world["store"]).evidence(
        world["cmo"], Path(world["checks"]["after"]["directory"]), work=world["numbers"]["D"], against="Example AI Ltd",
        jurisdictions={"rightholder": "ES", "developer": "JP"}, locales=["en"])["bundle"]


@pytest.mark.parametrize("locale", sorted(WORDS))
def test_the_letter_says_what_was_found_where_and_under_which_law_in_each_language(bundle, locale):
    heading, germany, near, reserved, caution = WORDS[locale]
    text = text_of(letter_html(bundle, locale))
    item = bundle["items"][0]
    assert heading in text and germany in text and near in text and reserved in text
    assert item["url"] in text and bundle["work"]["number"] in text and "Example AI Ltd" in text
    assert bundle_hash(bundle) in text and bundle["check"]["receipt_sha256"] in text
    reservation = bundle["reservations"][0]
    assert str(reservation["journal_event"]) in text
    assert str(reservation["journal_proof"]["event"]["log_index"]) in text
    for basis in bundle["legal_basis"]:
        assert basis["rule"]["exception_fact"]["citation"] in text   # citations are data: never translated
    assert caution in text                                           # Spain's opt-out fact is of low confidence


def test_without_a_low_confidence_fact_there_is_no_caution(sqlite_evidence_world):
    world = sqlite_evidence_world
    done = EvidenceService(world["store"]).evidence(world["cmo"], Path(world["checks"]["after"]["directory"]),
                                                    work=world["numbers"]["A"], against="X", locales=["en"])
    assert not done["bundle"]["reliance"]
    assert "low confidence" not in text_of(done["letters"]["en"]["html"])


def test_the_pdf_reads_the_same_and_reproduces(bundle):
    first = letter_pdf(bundle, "pt")
    assert first == letter_pdf(bundle, "pt")
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(first)).pages)
    assert "Reserva de direitos" in text and "Alemanha" in text and bundle["work"]["number"] in text


def test_a_letter_is_refused_in_a_language_obra_has_no_catalogue_for(bundle):
    with pytest.raises(InvalidInput, match="does not write documents in 'de'; use one of en, es, fr, pt"):
        letter_html(bundle, "de")
