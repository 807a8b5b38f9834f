"""Review routes: the office's queue of registrations with near-duplicate warnings (office staff).

Each route is one call of ``Obra.review`` (:class:`obra.registry.review.ReviewQueue`); ``obra review
list`` and ``obra review mark`` take the same requests.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from obra.access import Principal
from obra.api.auth import caller, get_obra
from obra.api.params import ShortText, StrictJSONRoute
from obra.app import Obra

router = APIRouter(route_class=StrictJSONRoute)


class ReviewMark(BaseModel):
    """A review of a registration's warnings: what was found, and optionally which warning."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(max_length=2000, description="what the review found")
    warning: str | None = Field(None, max_length=32, description="only the warning naming this registration")


@router.get("/review", tags=["registry"])
def review_list(entity: ShortText | None = None, mode: ShortText | None = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 20, offset: Annotated[int, Query(ge=0)] = 0,
                principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Recent registrations, newest first, each with its near-duplicate warnings (office staff)."""
    return obra.review.list(principal, entity=entity, mode=mode, limit=limit, offset=offset)


@router.post("/review/{number}", tags=["registry"])
def review_mark(number: str, body: Annotated[ReviewMark, Body()], principal: Principal = Depends(caller),
                obra: Obra = Depends(get_obra)) -> dict:
    """Mark a registration's warnings reviewed: a ``registry.review`` journal event (office staff)."""
    return obra.review.mark(principal, number, body.note, body.warning)
