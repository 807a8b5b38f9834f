"""Agreements: how rights and money move from one party to another.

An agreement moves a fraction of a party's income for some rights, in some territories,
for some time, to another party. ``retained`` is the fraction of the money flowing
through the agreement that the assignee keeps; the rest goes back to the assignor:

* assignment / exclusive licence to a publisher at 50/50: ``retained = 0.5``
* administration for a 15 % fee: ``retained = 0.15``
* sub-publishing abroad at 20 %: ``retained = 0.2``
* recording contract with an 18 % artist royalty: ``retained = 0.82`` (the label keeps 82 %)

The assignee's part can itself flow through the assignee's own agreements (a publisher
sub-publishes abroad), which is how chains form. Advances, recoupment and minimum
guarantees are carried here and applied by the royalty waterfall.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from obra import ids
from obra.model.text import CodeText, MinorUnits, PartyRef
from obra.model.vocab import AgreementKind, RightType


class Agreement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int | None = None
    kind: AgreementKind
    assignor: PartyRef = Field(description="the party giving the rights (author, artist, publisher)")
    assignee: PartyRef = Field(description="the party receiving them (publisher, label, administrator)")
    rights: tuple[RightType, ...] = Field(min_length=1, max_length=len(RightType))
    territories: tuple[CodeText, ...] = Field(default=("2WL",), max_length=300)
    start: date
    end: date | None = None
    works: tuple[CodeText, ...] = Field(default=(), max_length=10_000, description=(
        "registration numbers covered; empty = the assignor's whole catalogue"))
    retained: Decimal = Field(ge=0, le=1, decimal_places=10, description="fraction the assignee keeps")
    currency: CodeText = "EUR"
    advance: MinorUnits = Field(default=0, description="advance in minor units, recoupable from the assignor's part")
    minimum_guarantee: MinorUnits = Field(default=0, description="per-use floor in minor units for the assignor")
    reversion: date | None = Field(default=None, description="date the rights revert to the assignor")

    @field_validator("territories")
    @classmethod
    def _territories(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(ids.parse_territory(t, field="territories") for t in v)

    @model_validator(mode="after")
    def _dates(self) -> "Agreement":
        if self.end and self.end < self.start:
            raise ValueError(f"the agreement ends ({self.end}) before it starts ({self.start})")
        if self.assignor == self.assignee:
            raise ValueError("an agreement needs two different parties")
        return self

    def active_on(self, day: date) -> bool:
        last = min(d for d in (self.end, self.reversion) if d) if (self.end or self.reversion) else None
        return self.start <= day and (last is None or day < last)

    def covers(self, right_type: RightType | str, country: str, work: str | None = None) -> bool:
        return (right_type in self.rights
                and any(ids.territory_covers(t, country) for t in self.territories)
                and (not self.works or work in self.works))
