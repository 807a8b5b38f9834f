"""Uploaded files: streamed to a temporary file, refused with 413 beyond the size limit.

The application also refuses an oversized request body before reading it (see
:mod:`obra.api.app`); this guards the file itself, and gives it a safe local name.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path, PurePath
from typing import AsyncIterator

from fastapi import UploadFile

from obra.errors import InvalidInput, Problem, PayloadTooLarge

MAX_UPLOAD = int(os.environ.get("OBRA_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))
CHUNK = 1 << 20


@asynccontextmanager
async def saved_upload(upload: UploadFile, prefix: str) -> AsyncIterator[Path]:
    """The upload as a file in a temporary directory (removed afterwards).

    Problems raised inside name the upload's own file name, not our temporary copy.
    """
    filename = PurePath(upload.filename or "").name  # never a path from the client
    if filename in ("", ".", ".."):
        filename = "upload" + (mimetypes.guess_extension(upload.content_type or "") or "")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        path = Path(tmp) / filename
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise PayloadTooLarge(f"{filename} is larger than the upload limit of {MAX_UPLOAD} bytes",
                                          hint="split the file, or raise OBRA_MAX_UPLOAD_BYTES on the server")
                out.write(chunk)
        try:
            yield path
        except InvalidInput as exc:
            raise InvalidInput([Problem(p.message, p.field, p.line, filename if p.source in (None, str(path))
                                        else p.source) for p in exc.problems]) from None
