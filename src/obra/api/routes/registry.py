"""Registry routes: registrations, parties, agreements, batches, search — each one call of ``obra.registry``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Query, UploadFile

from obra.access import Principal
from obra.api.auth import caller, get_obra
from obra.api.params import Count, CreationModeName, EntityName, FormText, RowId, ShortText, StrictJSONRoute
from obra.api.uploads import saved_upload
from obra.app import Obra

router = APIRouter(tags=["registry"], route_class=StrictJSONRoute)


@router.post("/registrations", status_code=201)
def register(entity: EntityName = Query("work"), body: dict[str, Any] = Body(...),
             principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Register a work or recording. AI-assisted/AI-generated works must include a disclosure."""
    return obra.registry.register(principal, entity, body).to_dict()


@router.get("/registrations/{number}")
def show(number: ShortText, version: RowId | None = None, obra: Obra = Depends(get_obra)) -> dict:
    return obra.registry.show(number, version).to_dict()


@router.get("/registrations/{number}/history")
def history(number: ShortText, obra: Obra = Depends(get_obra)) -> list[dict]:
    return [r.to_dict() for r in obra.registry.history(number)]


@router.post("/registrations/{number}/corrections", status_code=201)
def correct(number: ShortText, reason: str = Body(..., embed=True), record: dict[str, Any] = Body(..., embed=True),
            principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    return obra.registry.correct(principal, number, record, reason).to_dict()


@router.post("/registrations/{number}/withdrawal", status_code=201)
def withdraw(number: ShortText, reason: str = Body(..., embed=True),
             principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    return obra.registry.withdraw(principal, number, reason).to_dict()


@router.get("/search")
def search(q: FormText | None = None, iswc: ShortText | None = None, isrc: ShortText | None = None,
           party: ShortText | None = None, entity: EntityName | None = None, mode: CreationModeName | None = None,
           limit: int = Query(50, ge=1, le=500),
           obra: Obra = Depends(get_obra)) -> list[dict]:
    """Search by title (accent- and case-insensitive, any script), identifier or party."""
    return obra.registry.search(q, iswc=iswc, isrc=isrc, party=party, entity=entity, creation_mode=mode,
                                limit=limit)


@router.post("/parties", status_code=201)
def add_party(body: dict[str, Any] = Body(...), principal: Principal = Depends(caller),
              obra: Obra = Depends(get_obra)) -> dict:
    return obra.registry.add_party(principal, body).model_dump(mode="json")


@router.get("/parties/{party_id}")
def party(party_id: RowId, obra: Obra = Depends(get_obra)) -> dict:
    return obra.registry.party(party_id).model_dump(mode="json")


@router.post("/agreements", status_code=201)
def add_agreement(body: dict[str, Any] = Body(...), principal: Principal = Depends(caller),
                  obra: Obra = Depends(get_obra)) -> dict:
    return obra.registry.add_agreement(principal, body).model_dump(mode="json")


@router.post("/batches", status_code=201)
def import_batch(body: dict[str, list[dict[str, Any]]] = Body(...), principal: Principal = Depends(caller),
                 obra: Obra = Depends(get_obra)) -> dict:
    """Import parties, works, recordings and agreements all or nothing."""
    return obra.import_records(principal, body, source="api")


@router.post("/batches/upload", status_code=201)
async def import_batch_file(file: UploadFile = File(..., description="a .json batch, or a .csv or .jsonl file "
                                                                     "of one entity"),
                            entity: Annotated[ShortText | None, Form(description="for CSV and JSON Lines: parties, "
                                                                                 "works or recordings")] = None,
                            principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Import a batch file as ``obra import FILE`` does (JSON sections, or CSV rows of ``entity``), all or
    nothing; problems name the uploaded file and its lines."""
    async with saved_upload(file, "obra-batch-") as path:  # keeps the name: .csv or .json decides the reader
        result = obra.import_file(principal, path, entity)
    return {**result, "source": path.name}  # the upload's safe name, not the temporary copy's path


@router.post("/principals", status_code=201, tags=["access"])
def add_principal(name: Annotated[ShortText, Body(embed=True)], role: Annotated[ShortText, Body(embed=True)],
                  party: Annotated[RowId | None, Body(embed=True)] = None, principal: Principal = Depends(caller),
                  obra: Obra = Depends(get_obra)) -> dict:
    """Create a principal (admins only); its token is in the answer, shown once."""
    return obra.principals.create(principal, name, role, party)


@router.get("/journal", tags=["journal"])
def journal(kind: ShortText | None = None, subject: FormText | None = None, after: Count = 0,
            limit: int = Query(100, ge=1, le=1000), principal: Principal = Depends(caller),
            obra: Obra = Depends(get_obra)) -> list[dict]:
    """Every state change, oldest first (CMO and office staff)."""
    return obra.read_journal(principal, kind, subject, limit, after)


@router.get("/journal/{event_id}/proof", tags=["journal"])
def journal_proof(event_id: RowId, obra: Obra = Depends(get_obra)) -> dict:
    """A journal event with its inclusion proof and the signed tree head it verifies against."""
    return obra.journal_proof(event_id)
