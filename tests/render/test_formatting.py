"""Money, shares, dates and territories written the way each office's readers write them."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from obra.render.formatting import date, datetime, money, number, percent, period
from obra.render.territories import TIS_GROUPS, territory_name

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", "€1,234.56"),
    ("es", f"1.234,56{NBSP}€"),
    ("fr", f"1{NNBSP}234,56{NBSP}€"),
    ("pt", f"€{NBSP}1.234,56"),
])
def test_euros_in_each_office_language(locale, expected):
    assert money(123456, "EUR", locale) == expected


def test_each_currency_keeps_its_own_minor_unit():
    assert money(1234, "JPY", "en") == "¥1,234"              # yen have no minor unit
    assert money(1234, "KWD", "en") == "KWD1.234"            # fils are thousandths
    assert money(5, "EUR", "es") == f"0,05{NBSP}€"
    assert money(-150, "EUR", "fr") == f"-1,50{NBSP}€"
    assert money(123456789, "UYU", "es") == f"1.234.567,89{NBSP}UYU"


def test_money_refuses_floats_and_other_non_integers():
    with pytest.raises(TypeError, match="integer minor units"):
        money(12.5, "EUR", "en")
    with pytest.raises(TypeError):
        money(Decimal("12.50"), "EUR", "en")


@given(amount=st.integers(min_value=-10**15, max_value=10**15), currency=st.sampled_from(["EUR", "JPY", "KWD", "UYU"]),
       locale=st.sampled_from(["en", "es", "fr", "pt"]))
def test_formatting_never_drops_or_invents_a_minor_unit(amount, currency, locale):
    shown = money(amount, currency, locale)
    assert int(re.sub(r"\D", "", shown)) == abs(amount)
    assert ("-" in shown) == (amount < 0)


def test_shares_as_percentages():
    assert percent("171/1000", "en") == "17.1%"
    assert percent(Fraction(1, 3), "fr", 4) == f"33,3333{NBSP}%"
    assert percent(Decimal("0.05"), "es") == f"5{NBSP}%"
    assert percent("1", "pt") == "100%"


def test_dates_times_and_periods():
    assert date("2024-05-03", "es") == "3 de mayo de 2024"
    assert datetime("2024-05-03T10:00:05Z", "fr") == "3 mai 2024, 10:00:05 TU"  # CLDR: temps universel
    assert datetime("2024-05-03T12:00:05+02:00", "en") == f"May 3, 2024, 10:00:05{NNBSP}AM UTC"  # always shown in UTC
    assert period("2024-05", "pt") == "maio de 2024"
    assert period("2024-Q2", "es") == "2024-Q2"                                          # other forms as given
    assert number(12345, "es") == "12.345"


@pytest.mark.parametrize(("code", "locale", "expected"), [
    ("UY", "es", "Uruguay"),
    ("ES", "pt", "Espanha"),
    ("ES", "fr", "Espagne"),
    ("858", "pt", "Uruguai"),                  # a TIS numeric code
    ("2WL", "es", "Mundo"),                    # TIS group with a CLDR name
    ("2WL", "en", "World"),
    ("2136", "fr", "Monde"),
    ("2EN", "pt", "União Europeia"),
    ("2GC", "es", "Países germanohablantes (Alemania, Austria, Suiza)"),  # translated in our catalogue
    ("2BI", "fr", "Îles Britanniques"),
    ("ZZ", "es", "ZZ"),                        # unknown: the code itself
])
def test_territory_names(code, locale, expected):
    assert territory_name(code, locale) == expected


@pytest.mark.parametrize("locale", ["es", "fr", "pt"])
def test_every_tis_group_has_a_name_in_every_language(locale):
    for code, english in TIS_GROUPS.items():
        name = territory_name(code, locale)
        assert name and name != code
    assert territory_name("2EM", locale) != "European Economic Area"
