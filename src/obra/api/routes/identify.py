"""Content identification routes: ISCC codes of an upload, and registered near-duplicates.

Public, like the registry's search: anyone may check whether a file resembles a registered
work. Uploads are streamed to a temporary file and refused with 413 beyond the size limit.
"""

from __future__ import annotations

from typing import Annotated, List, Optional

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from obra.access import Principal
from obra.api.auth import caller, get_obra
from obra.api.params import EntityName, FormText, ShortText, StrictJSONRoute, parse_strict_json
from obra.api.uploads import saved_upload
from obra.app import Obra
from obra.errors import InvalidInput, Problem
from obra.identify import identify_file
from obra.identify.similar import DEFAULT_RADIUS, MAX_RADIUS

router = APIRouter(tags=["identify"], route_class=StrictJSONRoute)
MAX_RECORD = 1 << 20
"""The longest ``record`` form field (a JSON object), in characters."""


async def _identify_upload(upload: UploadFile, name: str | None):
    async with saved_upload(upload, "obra-identify-") as path:
        return identify_file(path, name=name)  # a missing media tool is a ServiceUnavailable: 503


@router.post("/identify")
async def identify(file: UploadFile = File(...), name: Annotated[Optional[FormText], Form()] = None) -> dict:
    """The ISO 24138 ISCC codes of an uploaded file."""
    return (await _identify_upload(file, name)).to_dict()


@router.get("/similar")
def similar_code(code: Annotated[ShortText, Query(description="an ISCC-CODE or unit")],
                 radius: int = Query(DEFAULT_RADIUS, ge=0, le=MAX_RADIUS),
                 unit: Annotated[Optional[List[ShortText]], Query(description="unit kinds to compare")] = None,
                 obra: Obra = Depends(get_obra)) -> dict:
    """Registered works within ``radius`` bits of a code (exact: none within the radius is missed)."""
    matches = obra.identify.similar(code, radius, units=unit)
    return {"query": code, "radius": radius, "matches": [m.to_dict() for m in matches]}


@router.post("/similar")
async def similar_file(file: UploadFile = File(...), radius: int = Form(DEFAULT_RADIUS, ge=0, le=MAX_RADIUS),
                       unit: Annotated[Optional[List[ShortText]], Form(description="unit kinds to compare")] = None,
                       obra: Obra = Depends(get_obra)) -> dict:
    """Registered works within ``radius`` bits of an uploaded file's codes."""
    codes = await _identify_upload(file, None)
    matches = obra.identify.similar(codes, radius, units=unit)
    return {"query": codes.to_dict(), "radius": radius, "matches": [m.to_dict() for m in matches]}


@router.post("/registrations/with-content", status_code=201, tags=["registry"])
async def register_with_content(record: str = Form(..., description="the work or recording as JSON",
                                                  max_length=MAX_RECORD),
                                file: UploadFile = File(...), entity: EntityName = Form("work"),
                                principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Register with the work's file: its ISCC codes go into the record; registered near-duplicates
    come back in ``warnings`` as possible prior work (never a refusal)."""
    data = _record(record)
    codes = await _identify_upload(file, None)
    return obra.identify.register_with_codes(principal, entity, data, codes).to_dict()


@router.post("/registrations/{number}/corrections/with-content", status_code=201, tags=["registry"])
async def correct_with_content(number: ShortText,
                               record: Annotated[str, Form(description="the corrected record as JSON",
                                                           max_length=MAX_RECORD)],
                               reason: Annotated[FormText, Form(description="why the record changes")],
                               file: Annotated[UploadFile, File(description="the replacement file (new content "
                                                                            "codes)")],
                               principal: Principal = Depends(caller), obra: Obra = Depends(get_obra)) -> dict:
    """Correct a registration and replace its file, as ``obra correct --content`` does: a new version
    with the new file's codes; registered near-duplicates come back in ``warnings``."""
    data = _record(record)
    async with saved_upload(file, "obra-identify-") as path:
        return obra.identify.correct_with_file(principal, number, data, reason, path).to_dict()


def _record(text: str) -> dict:
    """The ``record`` form field: a JSON object read as strictly as a JSON body, refused by name."""
    try:
        data = parse_strict_json(text.encode("utf-8", "surrogatepass"))
    except InvalidInput as exc:
        raise InvalidInput([Problem(p.message.replace("the body", "the record"),
                                    "record" if p.field in (None, "body") else f"record.{p.field}")
                            for p in exc.problems], hint=exc.hint) from None
    if not isinstance(data, dict):
        raise InvalidInput(Problem("the record must be a JSON object", field="record"))
    return data
