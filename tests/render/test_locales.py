"""Choosing the document's language: Accept-Language and --locale always end in a supported locale."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from obra.errors import InvalidInput
from obra.render import SUPPORTED, negotiate
from obra.render.locales import require_supported


@pytest.mark.parametrize(("asked", "chosen"), [
    ("es-UY,es;q=0.9,en;q=0.5", "es"),          # Montevideo's browsers
    ("pt-BR", "pt"),                             # São Paulo's
    ("pt_BR", "pt"),                             # a CLI --locale written the POSIX way
    ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
    ("de-DE,de;q=0.9,es;q=0.4", "es"),           # German first, but we write Spanish before English
    ("de;q=1.0, fr;q=0.2, pt;q=0.8", "pt"),      # weights, not order, decide
    ("es;q=0, fr", "fr"),                        # q=0 means "not Spanish"
    ("EN-gb", "en"),
])
def test_negotiate_picks_the_best_supported_language(asked, chosen):
    assert negotiate(asked) == chosen


@pytest.mark.parametrize("asked", ["de", "ja-JP,zh;q=0.5", "", None, "*", "es;q=abc", ";;,,", "x" * 500])
def test_an_unsupported_or_garbled_request_falls_back_to_english(asked):
    assert negotiate(asked) == "en"


@given(st.text(max_size=80))
def test_negotiate_always_answers_a_supported_locale(header):
    assert negotiate(header) in SUPPORTED


def test_naming_an_unsupported_locale_explicitly_is_refused_with_the_choices():
    assert require_supported("pt_BR") == "pt" and require_supported("es-UY") == "es"
    with pytest.raises(InvalidInput, match="does not write documents in 'de'.*en, es, fr, pt") as caught:
        require_supported("de")
    assert caught.value.problems[0].field == "locale"
