"""The one rule for text people type into the registry: what a title, a name or a disclosure may hold.

Every text field of the model is one of the types below (a pydantic ``Annotated`` string),
and the services check free text they take outside a model (a correction's reason, a
search query) with :func:`clean_text`, so the CLI, the API and a Python caller meet the
same rule:

* **no control characters**: C0 (U+0000–U+001F), DEL and C1 (U+007F–U+009F) are refused,
  except tab, line feed and carriage return in multi-line text (disclosures, reasons);
  a NUL is stored by SQLite and refused by PostgreSQL, and an escape code reaches the
  terminal of whoever reads the record;
* **no lone surrogates** (U+D800–U+DFFF alone is not Unicode text; no store or file keeps it);
* **not blank**: a required text that is empty once whitespace, format characters
  (zero-width space, joiners, BOM, direction marks), combining marks and invisible fillers
  are removed is refused (a title of one zero-width space was registered with nothing to
  find it by; a query of one matched every title);
* **bounded**, in characters, after leading and trailing whitespace is removed:

  ==========================================  ==========
  what                                        at most
  ==========================================  ==========
  titles (work, recording, alternate)          500
  artist, album                                500
  party names                                  300
  codes, keys, AI system names                 100
  submitters' identifiers (scheme, value)       60
  disclosures (AI and human contribution)    10,000
  reasons (corrections, withdrawals)          2,000
  a search query                               500
  ==========================================  ==========

Numbers that end up in a database column are bounded the same way: :data:`DB_ID_MAX` for party
ids (PostgreSQL ``integer``), :data:`INT64_MAX` for amounts in minor units (:func:`bounded_int`
for numbers a service takes outside a model).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from obra.errors import InvalidInput, Problem

TITLE_MAX = 500
NAME_MAX = 300
CODE_MAX = 100
PROSE_MAX = 10_000
REASON_MAX = 2_000
QUERY_MAX = 500

DB_ID_MAX = 2**31 - 1  # ids, versions, sequences: PostgreSQL ``integer``
INT64_MAX = 2**63 - 1  # amounts in minor units

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that show nothing but are letters or symbols to Unicode: Hangul fillers, braille blank.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_EDGE_INVISIBLE = "\u200b\u2060\ufeff"  # zero-width space, word joiner, BOM: trimmed from the ends


def _visible(ch: str) -> bool:
    return not (ch.isspace() or ch in _FILLERS or unicodedata.category(ch) in ("Cf", "Mn", "Me", "Cc"))


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: only whitespace, format characters, marks or fillers."""
    for ch in text:
        if _visible(ch):
            return False
    return True


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be stored (lone surrogate, control character), or None."""
    m = _SURROGATE.search(text)
    if m:
        return (f"holds a lone surrogate (U+{ord(m.group()):04X} at character {m.start() + 1}), which is not "
                "Unicode text: re-save the source as UTF-8")
    m = (_CONTROL_MULTI_LINE if multiline else _CONTROL_ONE_LINE).search(text)
    if m:
        what = "NUL" if m.group() == "\x00" else f"U+{ord(m.group()):04X}"
        allowed = " (tab and line breaks are allowed here)" if multiline else " (this field is one line)"
        return f"holds a control character ({what} at character {m.start() + 1}): remove it{allowed}"
    return None


def _trim(text: str) -> str:
    while True:
        trimmed = text.strip().strip(_EDGE_INVISIBLE)
        if trimmed == text:
            return text
        text = trimmed


def _checked(text: str, max_length: int, multiline: bool, required: bool) -> str:
    """The text with its edges trimmed, or ValueError saying what is wrong."""
    if text.isascii() and text.isprintable():
        # the common case, decided without the character walk (a bulk load checks millions of these):
        # printable ASCII holds no control character or surrogate, trims to its ``strip()`` (the edge
        # invisibles are not ASCII) and is blank only when that is empty (every other printable ASCII
        # character is visible)
        trimmed = text.strip()
        if not trimmed and required:
            raise ValueError("is empty: it needs visible characters (spaces and invisible characters do not count)")
        if len(trimmed) > max_length:
            raise ValueError(f"is {len(trimmed):,} characters long; the most allowed is {max_length:,}")
        return trimmed
    problem = text_problem(text, multiline=multiline)
    if problem:
        raise ValueError(problem)
    text = _trim(text)
    if required and is_blank(text):
        raise ValueError("is empty: it needs visible characters (spaces and invisible characters do not count)")
    if len(text) > max_length:
        raise ValueError(f"is {len(text):,} characters long; the most allowed is {max_length:,}")
    return text


def Text(max_length: int, *, multiline: bool = False, required: bool = True) -> Any:  # noqa: N802 - a type
    """A text field: checked by the rule above, trimmed, at most ``max_length`` characters.

    ``required=False`` lets a blank value through (trimmed to ``""``) for fields that may be
    left empty; a field that may be absent is ``Text(...) | None``.
    """
    def raw_bound(v: Any) -> Any:
        # the raw value is bounded first (generously: trimming may remove some), so no check
        # ever walks a string of megabytes
        if isinstance(v, str) and len(v) > max_length * 4 + 64:
            raise ValueError(f"is {len(v):,} characters long; the most allowed is {max_length:,}")
        return v

    return Annotated[str, BeforeValidator(raw_bound),
                     AfterValidator(lambda v: _checked(v, max_length, multiline, required)),
                     Field(json_schema_extra={"maxLength": max_length})]


TitleText = Text(TITLE_MAX)
NameText = Text(NAME_MAX)
CodeText = Text(CODE_MAX)
ProseText = Text(PROSE_MAX, multiline=True)
OptionalProseText = Text(PROSE_MAX, multiline=True, required=False)
IdentifierText = Text(60)  # a submitter's scheme and number (the identifier tables' columns)
# For fields that may be left out: blank text is let through (trimmed to "").
OptionalTitleText = Text(TITLE_MAX, required=False)
OptionalCodeText = Text(CODE_MAX, required=False)


def _party_ref(value: int | str) -> int | str:
    if isinstance(value, bool):
        raise ValueError("a party reference is a party id, an IPI name number or a batch key, not true/false")
    if isinstance(value, int):
        if not 1 <= value <= DB_ID_MAX:
            raise ValueError(f"party id {value} is out of range: party ids go from 1 to {DB_ID_MAX:,}")
        return value
    return _checked(value, CODE_MAX, False, True)


PartyRef = Annotated[int | str, AfterValidator(_party_ref)]
"""A party id (1..:data:`DB_ID_MAX`), an IPI name number or a batch key (text, at most 100 characters)."""

MinorUnits = Annotated[int, Field(ge=0, le=INT64_MAX)]
"""An amount in minor units (cents), never negative, within a 64-bit integer."""


def clean_text(value: Any, *, field: str, max_length: int, multiline: bool = False,
               required: bool = True) -> str:
    """The service-side check of one free text (a reason): the trimmed text, or :class:`InvalidInput`."""
    if not isinstance(value, str):
        raise InvalidInput(Problem("must be text", field=field))
    try:
        return _checked(value, max_length, multiline, required)
    except ValueError as exc:
        raise InvalidInput(Problem(str(exc), field=field)) from None


def bounded_int(value: Any, *, field: str, low: int = 1, high: int | None = DB_ID_MAX,
                what: str = "a number") -> int:
    """An integer within ``low..high`` (ids, versions, limits; ``high=None``: no upper bound), or
    :class:`InvalidInput` naming the range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(Problem(f"must be {what} (a whole number)", field=field))
    if value < low or (high is not None and value > high):
        shown = f"{value}" if len(str(value)) <= 30 else f"{str(value)[:20]}… ({len(str(value))} digits)"
        upper = f" to {high:,}" if high is not None else " up"
        raise InvalidInput(Problem(f"{shown} is out of range: {what} goes from {low:,}{upper}", field=field))
    return value
