"""AI-use routes: terms stated, shown and decided — each one call of ``obra.ai_terms``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query

from obra.access import Principal
from obra.aiuse.terms import Purpose, UserType
from obra.aiuse.vocabulary import Use
from obra.api.auth import caller, get_obra
from obra.api.params import RowId, ShortText, StrictJSONRoute
from obra.app import Obra
from obra.errors import NotFound

router = APIRouter(prefix="/ai", tags=["ai use"], route_class=StrictJSONRoute)

SubjectKind = Literal["work", "recording", "party", "location"]
Subject = Annotated[str, Query(min_length=1, max_length=180)]


@router.put("/terms", status_code=201)
def set_terms(body: dict[str, Any] = Body(..., description="{subject_kind, subject, uses: [...]} (docs/ai-terms.md)"),
              party: RowId | None = Query(None, description="for a location: the party declaring it (default: yours)"),
              principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """State AI-use terms for a subject: a new version, recorded as a journal event."""
    return obra.ai_terms.set_terms(principal, body, party=party)


@router.get("/terms")
def show_terms(kind: SubjectKind, subject: Subject, history: bool = False,
               obra: Obra = Depends(get_obra)) -> dict | list[dict]:
    """The terms in force for a subject, or every version with ``history=true``. Public."""
    if history:
        return obra.ai_terms.history(kind, subject)
    current = obra.ai_terms.current(kind, subject)
    if current is None:
        raise NotFound(f"no AI-use terms were stated for {kind} {subject}")
    return current


@router.get("/terms/decide/{number}")
def decide(number: ShortText, use: Use, territory: Annotated[str, Query(pattern="^[A-Za-z]{2}$")] | None = None,
           purpose: Purpose | None = None, user_type: UserType | None = None, on: date | None = None,
           obra: Obra = Depends(get_obra)) -> dict:
    """What a registration's terms (else its parties' catalogue terms) say about one use. Public."""
    return obra.ai_terms.decide(number, use, territory=territory, purpose=purpose, user_type=user_type, on=on)
