"""Opening a report file: plain or gzipped (told by its magic bytes), read as strict UTF-8.

Every reader opens its files here, so a ``.gz`` report is accepted wherever a plain one is,
and a byte that is not UTF-8 surfaces as :class:`UnicodeDecodeError` for the reader to word
with its line number.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"


def open_binary(path: str | Path) -> BinaryIO:
    """The file's bytes, transparently gunzipped when it starts with the gzip magic bytes."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else open(path, "rb")


def open_text(path: str | Path) -> io.TextIOBase:
    """Open a report as UTF-8 text, transparently gunzipping ``.gz`` (detected by magic bytes).

    Line breaks are passed through as written (``newline=""``): the readers count lines and the
    CSV reader handles quoted line breaks itself.
    """
    return io.TextIOWrapper(open_binary(path), encoding="utf-8", errors="strict", newline="")
