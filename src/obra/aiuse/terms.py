"""A rightholder's AI-use terms: for each use, allowed, not allowed or allowed under licence.

Terms are stated for a *subject*: a registered work or recording (by registration number), a
party's whole catalogue (by party id), or a web location (an origin and an RFC 9309 path
pattern, e.g. ``https://example.org/music/*``). Each :class:`UseTerm` says what is permitted
for one :class:`~obra.aiuse.vocabulary.Use`, optionally only in some territories, for some
purposes, for some kinds of user and for a period; a licence term carries its price model
(flat, per item, per crawl, per use, share of revenue; integer minor units, never floats) and
whether prior consent is needed.

**Which term applies** (:meth:`AITerms.permission`): of the terms whose scope covers the
question (use, territory, purpose, user type, date), the narrowest scope wins (the one that
restricts more dimensions: "allowed for research" beats an unscoped "licence"), as in RSL; among
equally narrow terms the most restrictive wins — not allowed, then licence, then allowed — the
direction every signal standard takes when two statements disagree. A use no term covers has no
answer (``None``): Obra never turns silence into permission.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from obra import money
from obra.aiuse.vocabulary import Permission, Use
from obra.ids import ascii_digits

SubjectKind = Literal["work", "recording", "party", "location"]

RESTRICTIVENESS = {Permission.NOT_ALLOWED: 0, Permission.LICENCE: 1, Permission.ALLOWED: 2}


class PriceModel(StrEnum):
    """How a licence is priced (RSL ``<payment type>`` and the CoMP price models read into these)."""

    FLAT = "flat"
    PER_ITEM = "per-item"
    PER_CRAWL = "per-crawl"
    PER_USE = "per-use"
    REVENUE_SHARE = "revenue-share"


class Purpose(StrEnum):
    RESEARCH = "research"
    NON_COMMERCIAL = "non-commercial"
    COMMERCIAL = "commercial"


class UserType(StrEnum):
    """Who uses the work (RSL's ``user`` vocabulary)."""

    COMMERCIAL = "commercial"
    NON_COMMERCIAL = "non-commercial"
    EDUCATION = "education"
    GOVERNMENT = "government"
    PERSONAL = "personal"


_TERRITORY = re.compile(r"[A-Z]{2}")


class Price(BaseModel):
    """A licence's price: an amount in minor units per unit of the model, or a revenue share."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: PriceModel
    currency: str | None = None
    amount_minor: Annotated[int, Field(ge=0, le=10**15)] | None = None
    share_percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=9, decimal_places=6)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Price":
        if self.model is PriceModel.REVENUE_SHARE:
            if self.share_percent is None or self.amount_minor is not None:
                raise ValueError("a revenue-share price has share_percent (e.g. 12.5) and no amount_minor")
        else:
            if self.amount_minor is None or self.currency is None or self.share_percent is not None:
                raise ValueError(f"a {self.model.value} price has amount_minor and currency, and no share_percent")
        if self.currency is not None:
            money.minor_exponent(self.currency)  # ISO 4217 shape, named error otherwise
            object.__setattr__(self, "currency", self.currency.upper())
        return self


class UseTerm(BaseModel):
    """What the rightholder permits for one use, within an optional scope."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    use: Use
    permission: Permission
    price: Price | None = None
    prior_consent: bool = False
    territories: tuple[str, ...] = ()
    """ISO 3166-1 alpha-2 codes, or ``EU``; empty means everywhere."""
    purposes: tuple[Purpose, ...] = ()
    user_types: tuple[UserType, ...] = ()
    valid_from: date | None = None
    valid_until: date | None = None

    @field_validator("territories")
    @classmethod
    def _territories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(sorted({t.upper() for t in value}))
        bad = [t for t in out if not _TERRITORY.fullmatch(t)]
        if bad:
            raise ValueError(f"territories are ISO 3166-1 alpha-2 codes or EU, not {', '.join(bad)}")
        return out

    @field_validator("purposes", "user_types")
    @classmethod
    def _sorted(cls, value: tuple) -> tuple:
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _consistent(self) -> "UseTerm":
        if self.price is not None and self.permission is not Permission.LICENCE:
            raise ValueError("only a 'licence' term has a price")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self

    def covers(self, use: Use, *, territory: str | None = None, purpose: Purpose | None = None,
               user_type: UserType | None = None, on: date | None = None) -> bool:
        """Whether this term speaks to the question. An unstated dimension of the question
        is covered only by a term that does not restrict that dimension."""
        if use is not self.use:
            return False
        if self.territories and not _in_territory(territory, self.territories):
            return False
        if self.purposes and purpose not in self.purposes:
            return False
        if self.user_types and user_type not in self.user_types:
            return False
        if on is not None:
            if self.valid_from and on < self.valid_from:
                return False
            if self.valid_until and on > self.valid_until:
                return False
        elif self.valid_from or self.valid_until:
            return False
        return True

    @property
    def narrowness(self) -> int:
        """How many dimensions the term restricts (territory, purpose, user type, period)."""
        return sum(bool(x) for x in (self.territories, self.purposes, self.user_types,
                                     self.valid_from or self.valid_until))


# EU member states, for a term scoped to "EU" (ISO 3166-1 alpha-2).
EU_MEMBERS = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())


def _in_territory(territory: str | None, territories: tuple[str, ...]) -> bool:
    if territory is None:
        return False
    territory = territory.upper()
    return territory in territories or ("EU" in territories and territory in EU_MEMBERS)


class AITerms(BaseModel):
    """Everything a rightholder states about AI uses of one subject."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_kind: SubjectKind
    subject: Annotated[str, Field(min_length=1, max_length=180)]
    uses: tuple[UseTerm, ...] = ()
    contact: Annotated[str, Field(max_length=320)] | None = None
    policy_url: Annotated[str, Field(max_length=2048)] | None = None

    @model_validator(mode="after")
    def _subject(self) -> "AITerms":
        if self.subject_kind == "location" and not re.fullmatch(r"https?://[^/\s]+(/\S*)?", self.subject):
            raise ValueError("a location is an origin and a path pattern, e.g. https://example.org/music/*")
        if self.subject_kind == "party" and not ascii_digits(self.subject):
            raise ValueError("a party subject is the party's id")
        return self

    def permission(self, use: Use, *, territory: str | None = None, purpose: Purpose | None = None,
                   user_type: UserType | None = None, on: date | None = None) -> UseTerm | None:
        """The term that decides ``use`` for this question (narrowest scope, then most restrictive), or None."""
        covering = [t for t in self.uses if t.covers(use, territory=territory, purpose=purpose,
                                                     user_type=user_type, on=on)]
        if not covering:
            return None
        return min(covering, key=lambda t: (-t.narrowness, RESTRICTIVENESS[t.permission]))

    def to_json(self) -> dict:
        """The terms as plain JSON (the journal event's payload; canonicalised by RFC 8785 there)."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {
            "subject_kind": self.subject_kind, "subject": self.subject}
