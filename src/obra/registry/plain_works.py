"""Works proven valid without pydantic: the bulk load's fast path for the rows that cannot fail.

Parsing a work with pydantic costs about 55 µs (a dozen Python validators per work: every text,
party reference, territory and share), the largest single cost of a bulk load. Most rows of an
office's catalogue are plain: a dict with the usual fields, text, known codes, shares written as
decimal text. :func:`plain_work` checks such a row with the very functions the model's validators
call (:func:`obra.model.text._checked`, :func:`obra.ids.parse_iswc`, :func:`obra.ids.parse_territory`)
and builds a :class:`PlainWork` holding what the bulk path reads and the model's JSON dump; for
anything it does not recognise, or anything that would fail, it returns None and the row is parsed
by pydantic as before. So a row's problems are always pydantic's own messages, word for word: this
path only ever *accepts*, and only what the model accepts with the same result (a Hypothesis test
holds the two to the same dumps, over valid and invalid rows).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from obra import ids
from obra.model.text import CODE_MAX, DB_ID_MAX, TITLE_MAX, _checked
from obra.model.vocab import CreationMode, RightType, Role, WorkKind

_WORK_FIELDS = frozenset({"kind", "title", "alternate_titles", "iswc", "creation_date", "language", "genre",
                          "creation_mode", "disclosure", "contributors", "shares", "identifiers"})
_TITLE_FIELDS = frozenset({"title", "kind", "language"})
_SHARE_FIELDS = frozenset({"party", "role", "right_type", "territory", "share"})
_CONTRIBUTOR_FIELDS = frozenset({"party", "role"})
_IDENTIFIER_FIELDS = frozenset({"scheme", "value"})
_KINDS = {k.value: k for k in WorkKind}
_ROLES = {r.value: r for r in Role}
_RIGHTS = {r.value: r for r in RightType}
_SHARE_TEXT = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,4})?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_IDENTIFIER_MAX = 60


class _Unsure(Exception):
    """The row is not one this path can prove valid: pydantic decides."""


class PlainTitle(NamedTuple):
    title: str
    kind: str
    language: str | None


class PlainShare(NamedTuple):
    party: int | str
    role: Role | None
    right_type: RightType
    territory: str
    share: Decimal


class PlainContributor(NamedTuple):
    party: int | str
    role: Role


class PlainIdentifier(NamedTuple):
    scheme: str
    value: str


class PlainWork:
    """A valid human-made work, as :class:`obra.model.Work` would hold it: the attributes the bulk path reads,
    and ``dump``, what ``Work.model_dump(mode="json")`` gives for it."""

    __slots__ = ("kind", "title", "alternate_titles", "iswc", "creation_mode", "disclosure", "contributors",
                 "shares", "identifiers", "dump")

    def __init__(self, kind: WorkKind, title: str, alternate_titles: tuple, iswc: str | None,
                 contributors: tuple, shares: tuple, identifiers: tuple, dump: dict):
        self.kind, self.title, self.alternate_titles, self.iswc = kind, title, alternate_titles, iswc
        self.creation_mode, self.disclosure = CreationMode.HUMAN, None
        self.contributors, self.shares, self.identifiers, self.dump = contributors, shares, identifiers, dump


def _text(value: Any, max_length: int, required: bool = True, raw_bound: bool = True) -> str:
    """A text field as the model's ``Text`` type checks it (the raw bound, then the rule), or :class:`_Unsure`."""
    if type(value) is not str or (raw_bound and len(value) > max_length * 4 + 64):
        raise _Unsure
    try:
        return _checked(value, max_length, False, required)
    except ValueError:
        raise _Unsure from None


def _optional_code(value: Any) -> str | None:
    return None if value is None else _text(value, CODE_MAX, required=False)


def _party(value: Any) -> int | str:
    """A :data:`obra.model.text.PartyRef` (no raw bound there)."""
    if type(value) is int:
        if 1 <= value <= DB_ID_MAX:
            return value
        raise _Unsure
    return _text(value, CODE_MAX, raw_bound=False)


def _items(value: Any, most: int) -> list | tuple:
    if type(value) not in (list, tuple) or len(value) > most:
        raise _Unsure
    return value


def _fields(value: Any, allowed: frozenset, required: tuple[str, ...]) -> dict:
    if type(value) is not dict or not value.keys() <= allowed:
        raise _Unsure
    for name in required:
        if name not in value:
            raise _Unsure
    return value


@lru_cache(maxsize=1024)
def _territory(value: str) -> str:
    checked = _text(value, CODE_MAX)
    try:
        return ids.parse_territory(checked)
    except ValueError:
        raise _Unsure from None


def _share_value(value: Any) -> tuple[Decimal, str]:
    """(the share, its JSON text): decimal text of at most four places, or a whole number, within 0–100."""
    if type(value) is str:
        if not _SHARE_TEXT.fullmatch(value):
            raise _Unsure
        share = Decimal(value)
    elif type(value) is int:
        share = Decimal(value)
    else:
        raise _Unsure
    if not 0 <= share <= 100:
        raise _Unsure
    return share, str(share)


def _role(value: Any) -> Role:
    if type(value) is not str and type(value) is not Role:
        raise _Unsure
    role = _ROLES.get(value)
    if role is None:
        raise _Unsure
    return role


def plain_work(item: Any) -> PlainWork | None:
    """``item`` as a :class:`PlainWork` when it is a plain row that the model accepts; None when pydantic has to
    decide (an unusual shape, an AI disclosure, anything invalid)."""
    try:
        return _plain_work(item)
    except _Unsure:
        return None


def _plain_work(item: Any) -> PlainWork:
    _fields(item, _WORK_FIELDS, ("title",))
    get = item.get
    kind_in = get("kind", "musical")
    if type(kind_in) is not str and type(kind_in) is not WorkKind:
        raise _Unsure
    kind = _KINDS.get(kind_in)
    mode = get("creation_mode", "human")
    if kind is None or (type(mode) is not str and type(mode) is not CreationMode) or mode != "human" \
            or get("disclosure") is not None:
        raise _Unsure  # AI-made works carry a disclosure: pydantic checks it
    title = _text(item["title"], TITLE_MAX)
    iswc = _optional_code(get("iswc"))
    if iswc:
        try:
            iswc = ids.parse_iswc(iswc)
        except ValueError:
            raise _Unsure from None
    else:
        iswc = None
    created = get("creation_date")
    if created is not None:
        if type(created) is date:
            pass
        elif type(created) is str and _DATE_TEXT.fullmatch(created):
            try:
                created = date.fromisoformat(created)
            except ValueError:
                raise _Unsure from None
        else:
            raise _Unsure
    language, genre = _optional_code(get("language")), _optional_code(get("genre"))

    alternates, alternates_json = [], []
    for t in _items(get("alternate_titles", ()), 100):
        _fields(t, _TITLE_FIELDS, ("title",))
        alt = PlainTitle(_text(t["title"], TITLE_MAX), _text(t.get("kind", "alternate"), CODE_MAX),
                         _optional_code(t.get("language")))
        alternates.append(alt)
        alternates_json.append({"title": alt.title, "kind": alt.kind, "language": alt.language})
    people, people_json = [], []
    for c in _items(get("contributors", ()), 1000):
        _fields(c, _CONTRIBUTOR_FIELDS, ("party", "role"))
        person = PlainContributor(_party(c["party"]), _role(c["role"]))
        people.append(person)
        people_json.append({"party": person.party, "role": person.role.value})
    shares, shares_json = [], []
    for s in _items(get("shares", ()), 1000):
        _fields(s, _SHARE_FIELDS, ("party", "right_type", "share"))
        right = s["right_type"]
        if type(right) is not str and type(right) is not RightType:
            raise _Unsure
        right = _RIGHTS.get(right)
        if right is None:
            raise _Unsure
        role = s.get("role")
        role = None if role is None else _role(role)
        territory = s.get("territory", "2WL")
        if type(territory) is not str:
            raise _Unsure
        value, value_json = _share_value(s["share"])
        share = PlainShare(_party(s["party"]), role, right, _territory(territory), value)
        shares.append(share)
        shares_json.append({"party": share.party, "role": role.value if role is not None else None,
                            "right_type": right.value, "territory": share.territory, "share": value_json})
    identifiers, identifiers_json = [], []
    for i in _items(get("identifiers", ()), 100):
        _fields(i, _IDENTIFIER_FIELDS, ("scheme", "value"))
        ident = PlainIdentifier(_text(i["scheme"], _IDENTIFIER_MAX), _text(i["value"], _IDENTIFIER_MAX))
        identifiers.append(ident)
        identifiers_json.append({"scheme": ident.scheme, "value": ident.value})
    dump = {"kind": kind.value, "title": title, "alternate_titles": alternates_json, "iswc": iswc,
            "creation_date": created.isoformat() if created is not None else None, "language": language,
            "genre": genre, "creation_mode": "human", "disclosure": None, "contributors": people_json,
            "shares": shares_json, "identifiers": identifiers_json}
    return PlainWork(kind, title, tuple(alternates), iswc, tuple(people), tuple(shares), tuple(identifiers), dump)
