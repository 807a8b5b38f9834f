"""The certificate and the statement, read back as their readers in Montevideo, Paris and São Paulo see them.

Each test reads the text of the document (the HTML, and the text extracted from the PDF
with pypdf) and looks for the translated headings, the localised money, territory names
and the people's names.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys

import pypdf
import pytest

from obra.render import certificate_html, certificate_pdf, statement_html, statement_pdf
from tests.render.conftest import ISCC, JAPANESE_TITLE, NAMES


def text_of_html(page: str) -> str:
    page = re.sub(r"<svg.*?</svg>", " ", page, flags=re.S)          # charts are checked on their own
    return _squash(html.unescape(re.sub(r"<[^>]+>", " ", page)))


def text_of_pdf(document: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(document))
    return _squash(" ".join(page.extract_text() for page in reader.pages))


def fonts_of_pdf(document: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(document))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def _squash(text: str) -> str:
    """One space for every run of whitespace, including the no-break spaces CLDR puts in numbers."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


# --- the registration certificate --------------------------------------------------------

CERTIFICATE_TEXT = {
    "es": ["Certificado de registro", "Oficina UYMVD", "Título La Cumparsita", "Registrado como Obra · Obra musical",
           "Gerardo Matos Rodríguez — Compositor", "Pascual Contursi — Letrista", "Comunicación pública",
           "Uruguay", "Mundo", "66,6667 %", "Cómo verificarlo."],
    "pt": ["Certificado de registro", "Escritório UYMVD", "Título La Cumparsita", "Situação Registrado",
           "Gerardo Matos Rodríguez — Compositor", "Execução pública", "Uruguai", "Mundo", "66,6667%",
           "Como verificar."],
    "fr": ["Certificat d'enregistrement", "Bureau UYMVD", "Titre La Cumparsita", "Parolier", "Exécution publique",
           "Uruguay", "Monde", "66,6667 %", "Comment le vérifier."],
}


@pytest.mark.parametrize("locale", sorted(CERTIFICATE_TEXT))
def test_a_certificate_reads_in_the_office_language(certificate, locale):
    page = certificate_html(certificate, locale)
    assert f'<html lang="{locale}">' in page
    text = text_of_html(page)
    for expected in CERTIFICATE_TEXT[locale] + [certificate["number"], ISCC]:
        assert expected in text, f"{expected!r} not in the {locale} certificate"
    assert "Certificate of registration" not in text


@pytest.mark.parametrize("locale", ["es", "pt"])
def test_a_certificate_pdf_carries_the_same_words(certificate, locale):
    text = text_of_pdf(certificate_pdf(certificate, locale))
    for expected in CERTIFICATE_TEXT[locale][:6] + [certificate["number"]]:
        assert expected in text, f"{expected!r} not in the {locale} PDF"


def test_the_english_certificate_keeps_what_the_old_page_showed(certificate):
    page = certificate_html(certificate)
    text = text_of_html(page)
    for expected in ("Certificate of registration", "La Cumparsita", certificate["number"], ISCC,
                     certificate["record_hash"], certificate["key_id"], "How to verify.",
                     f"obra verify {certificate['number']}.json", "Composer", "World"):
        assert expected in text
    assert "http://" not in page and "https://" not in page and "<link" not in page


# --- the royalty statement ---------------------------------------------------------------

STATEMENT_TEXT = {
    "es": ["Liquidación de regalías — María Pérez (titular n.º 10)", "Período mayo de 2024", "Totales",
           "1.234,56 €", "1.233,56 €", "Uruguay", "España", "ley de España", "Participación según contrato",
           "Recuperación del anticipo", "Sello Sur", "12.345", "3 líneas"],
    "pt": ["Extrato de royalties — María Pérez (titular nº 10)", "Período maio de 2024", "Totais", "€ 1.234,56",
           "Uruguai", "Espanha", "Remuneração equitativa", "Recuperação do adiantamento", "3 linhas"],
    "fr": ["Relevé de redevances — María Pérez (ayant droit n° 10)", "Période mai 2024", "Totaux", "1 234,56 €",
           "1 233,56 €", "Uruguay", "Espagne", "Rémunération équitable", "Récupération de l'avance", "12 345",
           "3 lignes"],
}


@pytest.mark.parametrize("locale", sorted(STATEMENT_TEXT))
def test_a_statement_reads_in_the_payee_language_and_names_the_payee(statement, locale):
    page = statement_html(statement, locale, names=NAMES)
    assert f'<html lang="{locale}">' in page
    text = text_of_html(page)
    for expected in STATEMENT_TEXT[locale] + [JAPANESE_TITLE, statement["content_hash"]]:
        assert expected in text, f"{expected!r} not in the {locale} statement"
    assert "Royalty statement" not in text and "payee 10" not in text


def test_without_names_a_statement_still_says_whose_it_is(statement):
    text = text_of_html(statement_html(statement, "es"))
    assert "Liquidación de regalías — titular n.º 10" in text


def test_the_rounding_rule_is_translated_but_notes_are_shown_as_written(statement):
    text = text_of_html(statement_html(statement, "pt"))
    assert "Arredondamento: o dinheiro de cada item é dividido uma única vez" in text
    assert "ES: equitable remuneration 5%" in text
    statement["rounding"] = "a rule worded differently"      # unknown wording: shown, not dropped
    assert "Arredondamento: a rule worded differently." in text_of_html(statement_html(statement, "pt"))


@pytest.mark.parametrize("locale", ["es", "pt", "fr"])
def test_a_statement_pdf_prints_the_japanese_title_in_a_cjk_font(statement, locale):
    document = statement_pdf(statement, locale, names=NAMES)
    fonts = fonts_of_pdf(document)
    assert any(f.startswith("Noto-Sans-CJK") for f in fonts), fonts
    text = text_of_pdf(document)
    assert JAPANESE_TITLE in text
    for expected in STATEMENT_TEXT[locale][:5]:
        assert expected in text, f"{expected!r} not in the {locale} PDF"


def test_a_statement_with_two_territories_embeds_a_chart_in_the_payee_language(statement):
    page = statement_html(statement, "es", names=NAMES)
    chart = re.search(r"<svg.*?</svg>", page, flags=re.S).group(0)
    assert "Ingresos por territorio (EUR)" in chart and "Uruguay" in chart and "España" in chart
    assert "1.234,56" in chart
    statement["lines"] = statement["lines"][:1]
    assert "<svg" not in statement_html(statement, "es", names=NAMES)    # one territory: nothing to compare


# --- reproducible bytes ------------------------------------------------------------------

def test_the_same_statement_gives_the_same_pdf_bytes(statement):
    first = statement_pdf(statement, "fr", names=NAMES)
    assert statement_pdf(statement, "fr", names=NAMES) == first
    assert b"/CreationDate" not in first and b"/ModDate" not in first
    assert statement_pdf(statement, "es", names=NAMES) != first


def test_the_same_certificate_gives_the_same_pdf_bytes(certificate):
    assert certificate_pdf(certificate, "pt") == certificate_pdf(certificate, "pt")


def test_pdf_bytes_do_not_depend_on_the_process(statement, tmp_path):
    """Another interpreter, another hash seed: the same bytes (nothing depends on set order or time)."""
    source = tmp_path / "statement.json"
    source.write_text(json.dumps(statement), encoding="utf-8")
    script = ("import json, sys; from obra.render import statement_pdf; "
              "sys.stdout.buffer.write(statement_pdf(json.load(open(sys.argv[1])), 'fr', "
              "names={10: 'María Pérez', '99': 'Sello Sur'}))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", script, str(source)], capture_output=True, env=env, check=True)
    assert other.stdout == statement_pdf(statement, "fr", names=NAMES)


# --- the statement the royalty pipeline builds -------------------------------------------

def test_a_statement_built_by_the_royalty_pipeline_renders_in_every_language():
    """The renderer accepts exactly what build_statements produces (here: user-centric, a recouped advance)."""
    from obra.royalties import engine
    from tests.royalties.test_statements import statements_on

    built = statements_on(engine.connect("duckdb"))
    artist = built["10"]
    for locale in ("en", "es", "fr", "pt"):
        text = text_of_html(statement_html(artist, locale, names={"10": "Ana Uno", "99": "Sello"}))
        assert "Ana Uno" in text and "Uno" in text
    text = text_of_html(statement_html(artist, "es", names={"10": "Ana Uno"}))
    assert "Recuperación del anticipo" in text and "España" in text and "centrado en el usuario" in text
