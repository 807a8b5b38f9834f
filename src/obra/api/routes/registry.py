"""Registry routes: registrations, parties, agreements, batches, search — each one call of ``obra.registry``."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Query, UploadFile

from obra.access import Principal
from obra.api.auth import caller, get_obra
from obra.api.uploads import saved_upload
from obra.app import Obra

router = APIRouter(tags=["registry"])


@router.post("/registrations", status_code=201)
def register(entity: Literal["work", "recording"] = Query("work"), body: dict[str, Any] = Body(...),
             principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Register a work or recording. AI-assisted/AI-generated works must include a disclosure."""
    return obra.registry.register(principal, entity, body).to_dict()


@router.get("/registrations/{number}")
def show(number: str, version: int | None = None, obra: Obra = Depends(get_obra)) -> dict:
    return obra.registry.show(number, version).to_dict()


@router.get("/registrations/{number}/history")
def history(number: str, obra: Obra = Depends(get_obra)) -> list[dict]:
    return [r.to_dict() for r in obra.registry.history(number)]


@router.post("/registrations/{number}/corrections", status_code=201)
def correct(number: str, reason: str = Body(..., embed=True), record: dict[str, Any] = Body(..., embed=True),
            principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    return obra.registry.correct(principal, number, record, reason).to_dict()


@router.post("/registrations/{number}/withdrawal", status_code=201)
def withdraw(number: str, reason: str = Body(..., embed=True),
             principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    return obra.registry.withdraw(principal, number, reason).to_dict()


@router.get("/search")
def search(q: str | None = None, iswc: str | None = None, isrc: str | None = None, party: str | None = None,
           entity: str | None = None, mode: str | None = None, limit: int = Query(50, le=500),
           obra: Obra = Depends(get_obra)) -> list[dict]:
    """Search by title (accent- and case-insensitive, any script), identifier or party."""
    return obra.registry.search(q, iswc=iswc, isrc=isrc, party=party, entity=entity, creation_mode=mode,
                                limit=limit)


@router.post("/parties", status_code=201)
def add_party(body: dict[str, Any] = Body(...), principal: Principal = Depends(caller),
              obra: Obra = Depends(get_obra)) -> dict:
    return obra.registry.add_party(principal, body).model_dump(mode="json")


@router.get("/parties/{party_id}")
def party(party_id: int, obra: Obra = Depends(get_obra)) -> dict:
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
async def import_batch_file(file: UploadFile = File(..., description="a .json batch or a .csv file of one entity"),
                            entity: str | None = Form(None, description="for CSV: parties, works or recordings"),
                            principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Import a batch file as ``obra import FILE`` does (JSON sections, or CSV rows of ``entity``), all or
    nothing; problems name the uploaded file and its lines."""
    async with saved_upload(file, "obra-batch-") as path:  # keeps the name: .csv or .json decides the reader
        result = obra.import_file(principal, path, entity)
    return {**result, "source": file.filename or path.name}  # not the temporary copy's path


@router.post("/principals", status_code=201, tags=["access"])
def add_principal(name: str = Body(..., embed=True), role: str = Body(..., embed=True),
                  party: int | None = Body(None, embed=True), principal: Principal = Depends(caller),
                  obra: Obra = Depends(get_obra)) -> dict:
    """Create a principal (admins only); its token is in the answer, shown once."""
    return obra.principals.create(principal, name, role, party)


@router.get("/journal", tags=["journal"])
def journal(kind: str | None = None, subject: str | None = None, after: int = Query(0, ge=0),
            limit: int = Query(100, ge=1, le=1000), principal: Principal = Depends(caller),
            obra: Obra = Depends(get_obra)) -> list[dict]:
    """Every state change, oldest first (CMO and office staff)."""
    return obra.read_journal(principal, kind, subject, limit, after)


@router.get("/journal/{event_id}/proof", tags=["journal"])
def journal_proof(event_id: int, obra: Obra = Depends(get_obra)) -> dict:
    """A journal event with its inclusion proof and the signed tree head it verifies against."""
    return obra.journal_proof(event_id)
