"""Content identification routes: ISCC codes of an upload, and registered near-duplicates.

Public, like the registry's search: anyone may check whether a file resembles a registered
work. Uploads are streamed to a temporary file and refused with 413 beyond the size limit.
"""

from __future__ import annotations

import json
import mimetypes
import os
import tempfile
from pathlib import Path, PurePath
from typing import List, Optional

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile

from obra.access import Principal
from obra.api.auth import get_store, require_action
from obra.identify.registration import register_with_codes
from obra.registry.service import Registry
from obra.errors import InvalidInput, Problem
from obra.identify import identify_file
from obra.identify.similar import DEFAULT_RADIUS, MAX_RADIUS, ContentIndex
from obra.identify.tools import MediaToolMissing
from obra.store import Store

router = APIRouter(tags=["identify"])

MAX_UPLOAD = int(os.environ.get("OBRA_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))
CHUNK = 1 << 20


async def _identify_upload(upload: UploadFile, name: str | None):
    filename = PurePath(upload.filename or "").name  # never a path from the client
    if filename in ("", ".", ".."):
        filename = "upload" + (mimetypes.guess_extension(upload.content_type or "") or "")
    with tempfile.TemporaryDirectory(prefix="obra-identify-") as tmp:
        path = Path(tmp) / filename
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise HTTPException(413, detail=f"{filename} is larger than the upload limit of "
                                                    f"{MAX_UPLOAD} bytes (OBRA_MAX_UPLOAD_BYTES)")
                out.write(chunk)
        try:
            return identify_file(path, name=name)
        except MediaToolMissing as exc:
            raise HTTPException(503, detail=str(exc)) from None
        except InvalidInput as exc:  # name the upload, not our temporary copy of it
            raise InvalidInput([Problem(p.message, p.field, p.line, filename) for p in exc.problems]) from None


@router.post("/identify")
async def identify(file: UploadFile = File(...), name: Optional[str] = Form(None)) -> dict:
    """The ISO 24138 ISCC codes of an uploaded file."""
    return (await _identify_upload(file, name)).to_dict()


@router.get("/similar")
def similar_code(code: str = Query(..., description="an ISCC-CODE or unit"),
                 radius: int = Query(DEFAULT_RADIUS, ge=0, le=MAX_RADIUS),
                 unit: Optional[List[str]] = Query(None, description="unit kinds to compare"),
                 store: Store = Depends(get_store)) -> dict:
    """Registered works within ``radius`` bits of a code (exact: none within the radius is missed)."""
    matches = ContentIndex(store).near(code, radius, units=unit)
    return {"query": code, "radius": radius, "matches": [m.to_dict() for m in matches]}


@router.post("/similar")
async def similar_file(file: UploadFile = File(...), radius: int = Form(DEFAULT_RADIUS, ge=0, le=MAX_RADIUS),
                       store: Store = Depends(get_store)) -> dict:
    """Registered works within ``radius`` bits of an uploaded file's codes."""
    codes = await _identify_upload(file, None)
    matches = ContentIndex(store).near(codes, radius)
    return {"query": codes.to_dict(), "radius": radius, "matches": [m.to_dict() for m in matches]}


@router.post("/registrations/with-content", status_code=201, tags=["registry"])
async def register_with_content(record: str = Form(..., description="the work or recording as JSON"),
                                file: UploadFile = File(...), entity: str = Form("work"),
                                principal: Principal = Depends(require_action("register")),
                                store: Store = Depends(get_store)) -> dict:
    """Register with the work's file: its ISCC codes go into the record; registered near-duplicates
    come back in ``warnings`` as possible prior work (never a refusal)."""
    try:
        data = json.loads(record)
    except json.JSONDecodeError as exc:
        raise InvalidInput(Problem(f"not valid JSON: {exc.msg}", field="record")) from None
    codes = await _identify_upload(file, None)
    return register_with_codes(Registry(store), principal, entity, data, codes).to_dict()
