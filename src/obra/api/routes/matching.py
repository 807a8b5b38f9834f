"""Matching routes: score candidate pairs, read the claims queue, claim a group."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel

from obra.access import Principal
from obra.api.auth import get_store, require_action
from obra.royalties.matching import claims, metadata
from obra.store import Store

router = APIRouter(tags=["matching"])


class Side(BaseModel):
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    duration: int | None = None
    isrc: str | None = None


class Pair(BaseModel):
    left: Side
    right: Side


@router.post("/match/score")
def score(body: list[Pair] = Body(...)) -> list[dict]:
    """Score candidate pairs with the documented model; each result has a score and a decision."""
    return [metadata.score_pair(*(metadata.Track(s.title, s.artist, s.album, s.duration, s.isrc)
                               for s in (p.left, p.right))).to_dict() for p in body]


@router.get("/claims")
def claims_queue(period: str | None = None, limit: int = Query(100, le=1000),
                 store: Store = Depends(get_store)) -> list[dict]:
    """Unmatched usage grouped by title and artist, most played first."""
    return claims.queue(store, period, limit)


@router.post("/claims/{group}", status_code=201)
def claim(group: str, recording_number: str | None = Body(None, embed=True),
          work_number: str | None = Body(None, embed=True),
          principal: Principal = Depends(require_action("claim")), store: Store = Depends(get_store)) -> dict:
    """Claim an unmatched group as a registered recording or work; the next matching run applies it."""
    return claims.claim(store, principal, group, recording_number=recording_number, work_number=work_number)
