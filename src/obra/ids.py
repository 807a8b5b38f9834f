"""Identifiers of the field, validated with their real check-digit rules.

Each ``parse_*`` function accepts the forms people actually type (with or without
separators, any case), checks the structure and the check digit, and returns the
canonical form Obra stores. A wrong value raises :class:`~obra.errors.InvalidInput`
naming the field and saying what the right check digit would have been, because a
typo in one digit is by far the most common mistake.

* ISWC (ISO 15707): ``T`` + 9 digits + check digit; stored as ``T1234567890``.
* ISRC (ISO 3901): country (2 letters) + registrant (3 alnum) + year (2) + designation (5).
  ISRC has no check digit; the country prefix must be an ISO 3166 code or one of the
  prefixes the ISRC agency allocates outside ISO 3166 (``QM``, ``QZ``, ``ZZ`` ...).
* IPI name number (CISAC): 11 digits, the last two a mod-101 check.
* IPI base number (CISAC): ``I-NNNNNNNNN-C``.
* ISNI (ISO 27729): 16 characters, ISO 7064 MOD 11-2 check character.
* Territories: CISAC TIS codes (ISO 3166 alpha-2 plus groups such as ``2WL`` world,
  ``2EU`` Europe, ``2SA`` South America), from ``music_metadata.territories``.
* Obra registration numbers: ``OFFICE-YEAR-SEQUENCE-C`` with an ISO 7064 MOD 37-36 check
  character, so that a number read over the phone or copied by hand is self-checking.
"""

from __future__ import annotations

import re
from functools import lru_cache

from obra.errors import InvalidInput, Problem

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ascii_digits(value: object) -> bool:
    """True when ``value`` is a non-empty string of the digits 0-9 only.

    Every number Obra reads from a file, a form or a URL is checked with this before ``int()``:
    ``str.isdigit()`` alone also accepts '²' or '٣', which ``int()`` then refuses (a crash where a
    located problem was due) or reads as a number nobody wrote in ASCII."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _fail(field: str, message: str) -> InvalidInput:
    return InvalidInput(Problem(message, field=field))


# --- ISWC -----------------------------------------------------------------------------

def iswc_check_digit(nine_digits: str) -> int:
    """Check digit of an ISWC: (10 - (1 + sum(i * d_i)) mod 10) mod 10."""
    total = 1 + sum((i + 1) * int(d) for i, d in enumerate(nine_digits))
    return (10 - total % 10) % 10


def parse_iswc(value: str, field: str = "iswc") -> str:
    """Validate an ISWC and return it as ``T1234567890``."""
    raw = re.sub(r"[\s.\-]", "", str(value or "")).upper()
    if not re.fullmatch(r"T[0-9]{10}", raw):
        raise _fail(field, f"'{value}' is not an ISWC: expected T-123.456.789-C (T, 9 digits, check digit)")
    expected = iswc_check_digit(raw[1:10])
    if int(raw[10]) != expected:
        raise _fail(field, f"ISWC '{value}' has check digit {raw[10]}, the digits give {expected}")
    return raw


def format_iswc(iswc: str) -> str:
    """``T1234567890`` → ``T-123.456.789-0`` (the form printed on documents)."""
    return f"T-{iswc[1:4]}.{iswc[4:7]}.{iswc[7:10]}-{iswc[10]}"


# --- ISRC -----------------------------------------------------------------------------

# Prefixes allocated by the ISRC agency that are not ISO 3166-1 alpha-2 country codes.
_ISRC_SPECIAL_PREFIXES = {"QM", "QN", "QO", "QP", "QT", "QZ", "ZZ", "CP", "DG", "UK"}


def parse_isrc(value: str, field: str = "isrc") -> str:
    """Validate an ISRC and return it as ``CCXXXYYNNNNN`` (12 characters, upper case)."""
    raw = re.sub(r"[\s\-]", "", str(value or "")).upper()
    if not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}", raw):
        raise _fail(field, f"'{value}' is not an ISRC: expected CC-XXX-YY-NNNNN (12 characters)")
    prefix = raw[:2]
    if prefix not in _ISRC_SPECIAL_PREFIXES and prefix not in iso_countries():
        raise _fail(field, f"ISRC '{value}' starts with '{prefix}', which is not a country or agency prefix")
    return raw


def format_isrc(isrc: str) -> str:
    return f"{isrc[:2]}-{isrc[2:5]}-{isrc[5:7]}-{isrc[7:]}"


# --- IPI ------------------------------------------------------------------------------

def ipi_name_check(nine_digits: str) -> str:
    """The two check digits of an IPI name number (weights 10..2, modulo 101)."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(nine_digits)) % 101
    if total:
        total = (101 - total) % 100
    return f"{total:02d}"


def parse_ipi_name(value: str | int, field: str = "ipi") -> str:
    """Validate an IPI name number and return it zero-padded to 11 digits."""
    raw = re.sub(r"\s", "", str(value if value is not None else ""))
    if not ascii_digits(raw) or not 1 <= len(raw) <= 11:
        raise _fail(field, f"'{value}' is not an IPI name number: expected 11 digits")
    raw = raw.zfill(11)
    expected = ipi_name_check(raw[:9])
    if raw[9:] != expected:
        raise _fail(field, f"IPI name number '{value}' ends in {raw[9:]}, the digits give {expected}")
    return raw


def parse_ipi_base(value: str, field: str = "ipi_base") -> str:
    """Validate an IPI base number ``I-NNNNNNNNN-C``."""
    raw = re.sub(r"[\s\-]", "", str(value or "")).upper()
    if not re.fullmatch(r"I[0-9]{10}", raw):
        raise _fail(field, f"'{value}' is not an IPI base number: expected I-NNNNNNNNN-C")
    total = 2 + sum((i + 1) * int(d) for i, d in enumerate(raw[1:10]))
    expected = (10 - total % 10) % 10
    if int(raw[10]) != expected:
        raise _fail(field, f"IPI base number '{value}' has check digit {raw[10]}, the digits give {expected}")
    return f"I-{raw[1:10]}-{raw[10]}"


# --- ISNI -----------------------------------------------------------------------------

def isni_check_char(fifteen_digits: str) -> str:
    """ISO 7064 MOD 11-2 check character (0-9 or X)."""
    total = 0
    for d in fifteen_digits:
        total = (total + int(d)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def parse_isni(value: str, field: str = "isni") -> str:
    """Validate an ISNI and return its 16 characters without spaces."""
    raw = re.sub(r"[\s\-]", "", str(value or "")).upper()
    if not re.fullmatch(r"[0-9]{15}[0-9X]", raw):
        raise _fail(field, f"'{value}' is not an ISNI: expected 16 characters, e.g. 0000 0001 2103 2683")
    expected = isni_check_char(raw[:15])
    if raw[15] != expected:
        raise _fail(field, f"ISNI '{value}' ends in {raw[15]}, the digits give {expected}")
    return raw


# --- Territories ----------------------------------------------------------------------

_ALIASES = {"WORLD": "2WL", "WW": "2WL", "EU": "2EN", "EEA": "2EM", "EUROPE": "2EU",
            "LATAM": "2LA", "SOUTH-AMERICA": "2SA", "UK": "GB"}


@lru_cache(maxsize=1)
def _territory_class():
    from music_metadata.territories.territory import Territory

    return Territory


@lru_cache(maxsize=1)
def iso_countries() -> frozenset[str]:
    """Every current two-letter country code CISAC TIS knows (ISO 3166-1 alpha-2)."""
    territory = _territory_class()
    world = territory.get("2WL")
    return frozenset(t.tis_a for t in world.countries) | {"XK"}


def parse_territory(value: str, field: str = "territory") -> str:
    """Validate a territory: an ISO 3166 country or a CISAC TIS group (``2WL`` = world)."""
    raw = str(value or "").strip().upper()
    raw = _ALIASES.get(raw, raw)
    territory = _territory_class()
    try:
        found = territory.get(raw)
    except (KeyError, ValueError):
        found = None
    if found is None:
        raise _fail(field, f"unknown territory '{value}': use an ISO 3166 country code (UY, ES) "
                           "or a CISAC TIS group (2WL world, 2EU Europe, 2SA South America)")
    return found.tis_a


@lru_cache(maxsize=4096)
def territory_countries(code: str) -> frozenset[str]:
    """The countries a territory code covers (itself for a country)."""
    territory = _territory_class().get(parse_territory(code))
    if territory.is_group:
        return frozenset(t.tis_a for t in territory.countries)
    return frozenset({territory.tis_a})


def territory_covers(group: str, country: str) -> bool:
    """Does ``group`` (a country or a TIS group) include ``country``?"""
    return parse_territory(country) in territory_countries(group) or group == country


def territory_name(code: str) -> str:
    return _territory_class().get(parse_territory(code)).name.title()


# --- Obra registration numbers --------------------------------------------------------

def _mod37_36_state(payload: str, check: int = 36) -> int:
    """The running value of ISO 7064 MOD 37-36 after ``payload`` (a pure function of the value before it, so the
    value after a prefix many numbers share is computed once)."""
    for ch in payload:
        check = (check + _ALNUM.index(ch)) % 36 or 36
        check = (check * 2) % 37
    return check


def mod37_36_check(payload: str) -> str:
    """ISO 7064 MOD 37-36 check character over digits and letters."""
    return _ALNUM[(37 - _mod37_36_state(payload)) % 36]


def format_registration_number(office: str, year: int, sequence: int) -> str:
    """``UYMVD``, 2026, 123 → ``UYMVD-2026-0000123-X``."""
    body = f"{office.upper()}-{year:04d}-{sequence:07d}"
    return f"{body}-{mod37_36_check(body.replace('-', ''))}"


def registration_numbers(office: str, year: int, first: int, n: int) -> list[str]:
    """``format_registration_number`` of ``first`` … ``first + n - 1``: a bulk import numbers millions at once.

    The check character's running value after the office, the year and the first four digits of the sequence
    is shared by a thousand numbers; what the last three digits and that value give is computed once."""
    prefix = f"{office.upper()}-{year:04d}-"
    folded = prefix.replace("-", "")
    out: list[str] = []
    sequence, end = first, first + n
    while sequence < end:
        thousand, at = divmod(sequence, 1000)
        head = f"{prefix}{thousand:04d}"
        stop = min(end, (thousand + 1) * 1000)
        tails = _last_digits(_mod37_36_state(f"{folded}{thousand:04d}"))
        out += [head + tail for tail in tails[at:at + stop - sequence]]
        sequence = stop
    return out


@lru_cache(maxsize=37)
def _last_digits(state: int) -> tuple[str, ...]:
    """``"DDD-C"`` for the thousand last three digits DDD of numbers whose running check value before them is
    ``state``."""
    return tuple(f"{k:03d}-{_ALNUM[(37 - _mod37_36_state(f'{k:03d}', state)) % 36]}" for k in range(1000))


def parse_registration_number(value: str, field: str = "number") -> str:
    """Validate an Obra registration number and its check character."""
    raw = str(value or "").strip().upper()
    m = re.fullmatch(r"([A-Z0-9]{2,8})-([0-9]{4})-([0-9]{7})-([0-9A-Z])", raw)
    if not m:
        raise _fail(field, f"'{value}' is not a registration number: expected OFFICE-YEAR-SEQUENCE-C, "
                           "e.g. OBRA-2026-0000001-7")
    body = raw[:-2]
    expected = mod37_36_check(body.replace("-", ""))
    if m.group(4) != expected:
        raise _fail(field, f"registration number '{value}' has check character {m.group(4)}, "
                           f"expected {expected}: a character was probably mistyped")
    return raw


def office_of(number: str) -> str:
    """The issuing office of a registration number (federation: numbers carry their office)."""
    return parse_registration_number(number).split("-", 1)[0]
