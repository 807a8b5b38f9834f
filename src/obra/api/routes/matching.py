"""Matching routes: score candidate pairs, read the claims queue, claim a group."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, Field

from obra.access import Principal
from obra.api.auth import caller, get_obra
from obra.api.params import FormText, ShortText, StrictJSONRoute
from obra.app import Obra
from obra.royalties.matching import metadata

router = APIRouter(tags=["matching"], route_class=StrictJSONRoute)
MAX_PAIRS = 1000
"""The most candidate pairs scored in one request."""


class Side(BaseModel):
    title: FormText | None = None
    artist: FormText | None = None
    album: FormText | None = None
    duration: int | None = Field(None, ge=0, le=10**7, description="seconds")
    isrc: ShortText | None = None


class Pair(BaseModel):
    left: Side
    right: Side


@router.post("/match/score")
def score(body: list[Pair] = Body(..., max_length=MAX_PAIRS)) -> list[dict]:
    """Score candidate pairs with the documented model; each result has a score and a decision."""
    return [metadata.score_pair(*(metadata.Track(s.title, s.artist, s.album, s.duration, s.isrc)
                               for s in (p.left, p.right))).to_dict() for p in body]


@router.get("/claims")
def claims_queue(period: ShortText | None = None, limit: int = Query(100, ge=1, le=1000),
                 obra: Obra = Depends(get_obra)) -> list[dict]:
    """Unmatched usage grouped by title and artist, most played first."""
    return obra.royalties.claims_queue(period, limit)


@router.post("/claims/{group}", status_code=201)
def claim(group: ShortText,
          recording: Annotated[ShortText | None, Body(embed=True, description="registration number of the "
                                                                            "recording")] = None,
          work: Annotated[ShortText | None, Body(embed=True, description="registration number of the work")] = None,
          principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Claim an unmatched group as a registered recording or work; the next matching run applies it."""
    return obra.royalties.claim(principal, group, recording=recording, work=work)
