"""Numbers, money, dates and shares written the way each locale's readers write them.

Pure functions of (value, locale), built on Babel's CLDR data so that "1.234,56 €",
"1 234,56 €" and "€1,234.56" come from the same call. Templates reach them as filters
bound to the document's locale (see :mod:`obra.render.environment`).

Money arrives as integer minor units and becomes a ``Decimal`` with the currency's
exponent from :mod:`obra.money` (the exponent the amounts were counted in), and is
printed with exactly that many decimals: never a float, never a rounding on display.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.dates import format_skeleton
from babel.numbers import format_currency, format_decimal

from obra.errors import InvalidInput, Problem
from obra.money import from_minor, minor_exponent

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _locale(locale: str) -> Locale:
    return Locale.parse(locale)


def money(amount_minor: int, currency: str, locale: str) -> str:
    """``123456, "EUR"`` → ``"1.234,56 €"`` (es), ``"1 234,56 €"`` (fr), ``"€1,234.56"`` (en).

    The number of decimals is the currency's minor-unit exponent (JPY 0, EUR 2, KWD 3),
    so every minor unit shows and nothing is rounded away.
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"money() takes integer minor units, not {type(amount_minor).__name__} "
                        f"({amount_minor!r}); floats never carry money in Obra")
    exponent = minor_exponent(currency)
    loc = _locale(locale)
    pattern = copy.copy(loc.currency_formats["standard"])
    pattern.frac_prec = (exponent, exponent)
    return format_currency(from_minor(amount_minor, currency), currency.upper(), format=pattern,
                           locale=loc, currency_digits=False)


def _as_decimal(value: Fraction | Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("percent() takes an exact value (Fraction, Decimal, int or 'a/b'), not a float")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = Fraction(text) if "/" in text else Decimal(text)
        except (ValueError, ArithmeticError, ZeroDivisionError):
            raise InvalidInput(Problem(f"'{value}' is not a share: write a fraction such as 171/1000 "
                                       "or a decimal such as 0.171", field="share")) from None
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value)


def percent(value: Fraction | Decimal | int | str, locale: str, digits: int = 2) -> str:
    """A share (``"171/1000"``, ``Decimal("0.171")``) as a percentage: ``"17,1 %"`` (fr).

    Shows at most ``digits`` decimals of the percentage; this is a reading aid, so
    documents print the exact fraction next to it wherever the share decides money.
    """
    loc = _locale(locale)
    pattern = copy.copy(loc.percent_formats[None])
    pattern.frac_prec = (0, digits)
    return pattern.apply(_as_decimal(value), loc)


def _parse_moment(value: dt.datetime | dt.date | str) -> dt.date | dt.datetime:
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    text = str(value).strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(Problem(f"'{value}' is not an ISO 8601 date or time (e.g. 2024-05-31 or "
                                   "2024-05-31T10:00:00Z)", field="date")) from None


def date(value: dt.date | dt.datetime | str, locale: str, format: str = "long") -> str:
    """A day in the locale's words: ``"3 de mayo de 2024"`` (es, ``long``)."""
    moment = _parse_moment(value)
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(dt.timezone.utc).date() if moment.tzinfo else moment.date()
    return _babel_date(moment, format, locale=_locale(locale))


def datetime(value: dt.datetime | str, locale: str, format: str = "long") -> str:
    """A moment, shown in UTC with the zone named: ``"3 mai 2024, 10:00:05 UTC"`` (fr).

    Obra's log and certificate times are UTC; showing them in UTC (never the server's
    zone) keeps the same certificate rendering the same everywhere.
    """
    moment = _parse_moment(value)
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time(), dt.timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return _babel_datetime(moment, format, tzinfo=dt.timezone.utc, locale=_locale(locale))


def period(value: str, locale: str) -> str:
    """A royalty period: ``"2024-05"`` → ``"mayo de 2024"`` (es); other forms are shown as given."""
    found = _MONTH.fullmatch(str(value).strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        return str(value)
    return format_skeleton("yMMMM", dt.date(int(found.group(1)), int(found.group(2)), 1), locale=_locale(locale))


def number(value: int | Decimal, locale: str) -> str:
    """A count (plays, lines) with the locale's grouping: ``12345`` → ``"12.345"`` (es)."""
    if isinstance(value, float):
        raise TypeError("number() takes an int or Decimal, not a float")
    return format_decimal(value, locale=_locale(locale))
