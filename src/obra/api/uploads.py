"""Uploaded files: streamed to a temporary file under a safe name, refused with 413 beyond the size limit.

The application also stops an oversized request body while it arrives (see
:mod:`obra.api.limits`); this guards each file itself, and gives it a safe local name
(:func:`safe_filename`): the client's base name only, without control characters, at most
255 bytes, its extensions kept (``.tsv.gz`` decides how the file is read).
"""

from __future__ import annotations

import mimetypes
import os
import re
import tempfile
import unicodedata
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from fastapi import UploadFile

from obra.errors import InvalidInput, PayloadTooLarge, Problem

MAX_UPLOAD = int(os.environ.get("OBRA_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))
CHUNK = 1 << 20
MAX_NAME_BYTES = 255
"""The longest file name most file systems hold, in UTF-8 bytes."""
_SUFFIXES = re.compile(r"((?:\.[A-Za-z0-9]{1,10}){1,3})$")


def safe_filename(name: str | None, content_type: str | None = None) -> str:
    """The client's file name made safe to create: base name only (``/`` and ``\\`` both end a
    folder), control characters and lone surrogates replaced by ``_``, at most 255 bytes in
    UTF-8 with the extensions kept; ``upload`` plus an extension from the content type when
    nothing usable is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join("_" if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in base).strip()
    if base in ("", ".", ".."):
        base = "upload" + (mimetypes.guess_extension(content_type or "") or "")
    if len(base.encode("utf-8")) > MAX_NAME_BYTES:
        match = _SUFFIXES.search(base)
        suffix = match.group(1) if match else ""
        stem = base[:len(base) - len(suffix)]
        room = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
        stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
        base = stem + suffix
    return base


@asynccontextmanager
async def saved_upload(upload: UploadFile, prefix: str) -> AsyncIterator[Path]:
    """The upload as a file in a temporary directory (removed afterwards), named :func:`safe_filename`.

    Problems raised inside name the upload's (safe) file name, not our temporary copy.
    """
    filename = safe_filename(upload.filename, upload.content_type)
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
            raise InvalidInput([Problem(p.message, p.field, p.line,
                                        filename if p.source is None or p.source.startswith(tmp) else p.source)
                                for p in exc.problems], hint=exc.hint) from None
