"""Shares of a work or recording, per right type and territory.

A share is a percentage (``Decimal``, up to 4 decimal places) of one right type in one
territory (an ISO 3166 country or a CISAC TIS group such as ``2WL``). For every
(right type, territory) pair that appears, the shares must add up to exactly 100 %.
A more specific territory overrides a wider one for the countries it covers: shares
for ``2WL`` and a separate set for ``US`` mean "the US set in the US, the world set
elsewhere".
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from obra import ids
from obra.errors import InvalidInput, Problem
from obra.model.text import CodeText, PartyRef
from obra.model.vocab import RightType, Role

HUNDRED = Decimal("100")
SHARE_DECIMAL_PLACES = 4  # the ``shares.share`` column is NUMERIC(7, 4)


class Share(BaseModel):
    """``party`` holds ``share`` % of ``right_type`` in ``territory``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    party: PartyRef = Field(description="party id, or a batch key / IPI name number to resolve")
    role: Role | None = None
    right_type: RightType
    territory: CodeText = "2WL"
    share: Decimal = Field(ge=0, le=100, decimal_places=SHARE_DECIMAL_PLACES)

    @field_validator("territory")
    @classmethod
    def _territory(cls, v: str) -> str:
        return ids.parse_territory(v)


SHARE_NOTATION = "party:right_type:territory:percent"


def parse_share_notation(text: str, field: str = "shares") -> dict:
    """``"10:performance:UY:50"`` → the share's fields, the one short notation the CLI and CSV batches use."""
    parts = text.split(":")
    if len(parts) != 4:
        raise InvalidInput(Problem(f"share '{text}' must be {SHARE_NOTATION}, e.g. 10:performance:2WL:50",
                                   field=field))
    party, right, territory, pct = (p.strip() for p in parts)
    return {"party": party, "right_type": right, "territory": territory, "share": pct}


def share_problems(shares: list[Share], field: str = "shares") -> list[Problem]:
    """Every (right type, territory) group whose shares do not sum to 100 %."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for s in shares:
        sums[(s.right_type.value, s.territory)] += s.share
    problems = []
    for (right, territory), total in sorted(sums.items()):
        if total != HUNDRED:
            problems.append(Problem(
                f"{right} shares in {territory} add up to {total.normalize():f}%, not 100%"
                f" ({'missing' if total < HUNDRED else 'over by'} {abs(HUNDRED - total).normalize():f}%)",
                field=field))
    return problems


def applicable_shares(shares: list[Share], right_type: RightType | str, country: str) -> list[Share]:
    """The shares that govern ``right_type`` in ``country``: the most specific territory wins.

    Specificity is the number of countries a territory covers (a country beats a region
    beats the world).
    """
    candidates = [s for s in shares if s.right_type == right_type
                  and ids.territory_covers(s.territory, country)]
    if not candidates:
        return []
    best = min(len(ids.territory_countries(s.territory)) for s in candidates)
    return [s for s in candidates if len(ids.territory_countries(s.territory)) == best]
