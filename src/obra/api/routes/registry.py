"""Registry routes: registrations, parties, agreements, search."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query

from obra.access import Principal
from obra.api.auth import get_store, require_action
from obra.registry.batch import import_records
from obra.registry.service import Registry
from obra.store import Store

router = APIRouter(tags=["registry"])


@router.post("/registrations", status_code=201)
def register(entity: Literal["work", "recording"] = Query("work"), body: dict[str, Any] = Body(...),
             principal: Principal = Depends(require_action("register")), store: Store = Depends(get_store)) -> dict:
    """Register a work or recording. AI-assisted/AI-generated works must include a disclosure."""
    return Registry(store).register(principal, entity, body).to_dict()


@router.get("/registrations/{number}")
def show(number: str, version: int | None = None, store: Store = Depends(get_store)) -> dict:
    return Registry(store).show(number, version).to_dict()


@router.get("/registrations/{number}/history")
def history(number: str, store: Store = Depends(get_store)) -> list[dict]:
    return [r.to_dict() for r in Registry(store).history(number)]


@router.post("/registrations/{number}/corrections", status_code=201)
def correct(number: str, reason: str = Body(..., embed=True), record: dict[str, Any] = Body(..., embed=True),
            principal: Principal = Depends(require_action("correct")), store: Store = Depends(get_store)) -> dict:
    return Registry(store).correct(principal, number, record, reason).to_dict()


@router.post("/registrations/{number}/withdrawal", status_code=201)
def withdraw(number: str, reason: str = Body(..., embed=True),
             principal: Principal = Depends(require_action("withdraw")), store: Store = Depends(get_store)) -> dict:
    return Registry(store).withdraw(principal, number, reason).to_dict()


@router.get("/search")
def search(q: str | None = None, iswc: str | None = None, isrc: str | None = None, party: str | None = None,
           entity: str | None = None, mode: str | None = None, limit: int = Query(50, le=500),
           store: Store = Depends(get_store)) -> list[dict]:
    """Search by title (accent- and case-insensitive, any script), identifier or party."""
    return Registry(store).search(q, iswc=iswc, isrc=isrc, party=party, entity=entity, creation_mode=mode,
                                  limit=limit)


@router.post("/parties", status_code=201)
def add_party(body: dict[str, Any] = Body(...), principal: Principal = Depends(require_action("add_party")),
              store: Store = Depends(get_store)) -> dict:
    return Registry(store).add_party(principal, body).model_dump(mode="json")


@router.get("/parties/{party_id}")
def party(party_id: int, store: Store = Depends(get_store)) -> dict:
    return Registry(store).party(party_id).model_dump(mode="json")


@router.post("/agreements", status_code=201)
def add_agreement(body: dict[str, Any] = Body(...), principal: Principal = Depends(require_action("add_agreement")),
                  store: Store = Depends(get_store)) -> dict:
    return Registry(store).add_agreement(principal, body).model_dump(mode="json")


@router.post("/batches", status_code=201)
def import_batch(body: dict[str, list[dict[str, Any]]] = Body(...),
                 principal: Principal = Depends(require_action("import")), store: Store = Depends(get_store)) -> dict:
    """Import parties, works, recordings and agreements all or nothing."""
    unknown = set(body) - {"parties", "works", "recordings", "agreements"}
    if unknown:
        from obra.errors import InvalidInput, Problem
        raise InvalidInput([Problem("unknown section", field=u) for u in sorted(unknown)])
    result = import_records(store, principal, source="api", **body)
    return {k: v for k, v in result.items()}
