"""Opening a report file, within bounds: plain or gzipped (told by its magic bytes), strict UTF-8.

Every reader opens its files here, so a ``.gz`` report is accepted wherever a plain one is, and
every reader gets the same limits (:class:`Limits`, each settable by an environment variable):

* **decompression**: at most ``OBRA_MAX_DECOMPRESSED_BYTES`` (default 20 GiB) out of one gzip
  file, and, once past its first MiB, never more than ``OBRA_MAX_COMPRESSION_RATIO`` (default
  200) bytes out per byte in. Real reports compress 5–20:1; a file of one repeated byte
  compresses about 1,000:1, which is what a decompression bomb is. Past either limit the
  reader stops with :class:`PayloadTooLarge`, naming the file, before it has held more than
  one read buffer of the output in memory. A corrupt or truncated gzip stream is
  :class:`InvalidInput` ("re-compress the file or send it uncompressed"), never a traceback.
* **lines**: at most ``OBRA_MAX_LINE_BYTES`` (default 16 MiB) per line, read with
  :func:`read_lines`, which never holds more than that of one line;
* **cells**: at most ``OBRA_MAX_FIELD_BYTES`` (default 4 MiB) per cell (the readers check it).

A file that is not UTF-8 is refused by each reader with the line and the cell where the bad
byte is (:func:`decode_line`), and what to do about it.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from obra.errors import InvalidInput, PayloadTooLarge, Problem

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
#: Output a gzip stream may produce before the ratio limit applies (small files compress oddly).
RATIO_GRACE_BYTES = 1 << 20

_DEFAULTS = {"OBRA_MAX_DECOMPRESSED_BYTES": 20 << 30, "OBRA_MAX_COMPRESSION_RATIO": 200,
             "OBRA_MAX_LINE_BYTES": 16 << 20, "OBRA_MAX_FIELD_BYTES": 4 << 20}


@dataclass(frozen=True)
class Limits:
    """The bounds every reader applies (see the module docstring)."""

    max_decompressed_bytes: int
    max_compression_ratio: int
    max_line_bytes: int
    max_field_bytes: int


def limits() -> Limits:
    """The limits in force, from the environment (read at each call, so a test or a server sets them)."""
    values = {}
    for name, default in _DEFAULTS.items():
        text = os.environ.get(name)
        if text is None or not text.strip():
            values[name] = default
            continue
        try:
            value = int(text.strip().replace("_", ""))
        except ValueError:
            value = 0
        if value < 1:
            raise InvalidInput(Problem(f"{name}={text!r} is not a whole number of at least 1", field=name),
                               hint=f"unset it for the default ({default:,})")
        values[name] = value
    return Limits(values["OBRA_MAX_DECOMPRESSED_BYTES"], values["OBRA_MAX_COMPRESSION_RATIO"],
                  values["OBRA_MAX_LINE_BYTES"], values["OBRA_MAX_FIELD_BYTES"])


class _BoundedGzip(io.RawIOBase):
    """A gzip file's decompressed bytes, stopped at the size and ratio limits."""

    def __init__(self, path: Path, bounds: Limits):
        self.name = path.name
        self.bounds = bounds
        self.raw = open(path, "rb")
        self.gz = gzip.GzipFile(fileobj=self.raw, mode="rb")
        self.out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:   # at most 1 MiB at a time, so the limits are checked every MiB of output
            n = self.gz.readinto(memoryview(buffer)[:RATIO_GRACE_BYTES])
        except (EOFError, zlib.error, OSError) as exc:   # gzip.BadGzipFile is an OSError
            raise InvalidInput(Problem(f"the gzip stream is corrupt or truncated after {self.out:,} "
                                       f"decompressed bytes ({exc})", field="file", source=self.name),
                               hint="re-compress the file with gzip, or send it uncompressed") from None
        self.out += n
        b = self.bounds
        if self.out > b.max_decompressed_bytes:
            raise PayloadTooLarge(f"{self.name}: decompresses to more than {b.max_decompressed_bytes:,} bytes "
                                  "(OBRA_MAX_DECOMPRESSED_BYTES)",
                                  hint="split the report into several files, or raise OBRA_MAX_DECOMPRESSED_BYTES")
        if self.out > RATIO_GRACE_BYTES and self.out > b.max_compression_ratio * max(self.raw.tell(), 1):
            raise PayloadTooLarge(f"{self.name}: decompresses more than {b.max_compression_ratio}:1 "
                                  f"({self.out:,} bytes out of {self.raw.tell():,}); refused as a "
                                  "decompression bomb (OBRA_MAX_COMPRESSION_RATIO)",
                                  hint="send the file uncompressed if it really is this repetitive")
        return n

    def close(self) -> None:
        try:
            self.gz.close()
            self.raw.close()
        finally:
            super().close()


def open_binary(path: str | Path) -> BinaryIO:
    """The file's bytes, transparently gunzipped (within :func:`limits`) when it starts with the
    gzip magic bytes."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
    except OSError as exc:
        raise InvalidInput(Problem(f"cannot read the file: {exc.strerror or exc}", field="file",
                                   source=path.name)) from None
    if magic == GZIP_MAGIC:
        return io.BufferedReader(_BoundedGzip(path, limits()), buffer_size=1 << 20)
    return open(path, "rb")


def line_too_long(name: str, line: int, bound: int) -> InvalidInput:
    return InvalidInput(Problem(f"the line is longer than {bound:,} bytes (OBRA_MAX_LINE_BYTES): not a "
                                "report line; is this the right file?", field="line", line=line, source=name))


def read_lines(binary: BinaryIO, name: str, bound: int | None = None) -> Iterator[bytes]:
    """The lines of a binary stream (each with its ``\\n``), none longer than ``bound`` bytes
    (default ``OBRA_MAX_LINE_BYTES``): a longer one raises :class:`InvalidInput` at its line."""
    bound = bound or limits().max_line_bytes
    line_no = 0
    while True:
        line = binary.readline(bound + 1)
        if not line:
            return
        line_no += 1
        if len(line) > bound and not line.endswith(b"\n"):
            raise line_too_long(name, line_no, bound)
        yield line


_BLANK_RUN = re.compile(rb"(?:\r?\n)+")


class Lines:
    """The bounded lines of a binary stream (as :func:`read_lines`), with runs of empty lines read in
    one step: an empty line comes once for its whole run, ``blanks`` then saying how many lines the run
    has (else 0). ``line`` is the number of the last line returned (a run's last line)."""

    def __init__(self, binary: BinaryIO, name: str, bound: int | None = None):
        self.binary, self.name = binary, name
        self.bound = bound or limits().max_line_bytes
        self.line = 0
        self.blanks = 0

    def __iter__(self) -> "Lines":
        return self

    def __next__(self) -> bytes:
        raw = self.binary.readline(self.bound + 1)
        if not raw:
            raise StopIteration
        self.line += 1
        self.blanks = 0
        if len(raw) > self.bound and not raw.endswith(b"\n"):
            raise line_too_long(self.name, self.line, self.bound)
        if raw in (b"\n", b"\r\n"):
            more = self._rest_of_run()
            self.blanks, self.line = 1 + more, self.line + more
        return raw

    def _rest_of_run(self) -> int:
        n = 0
        while True:
            ahead = self.binary.peek(1 << 16) if hasattr(self.binary, "peek") else b""
            run = _BLANK_RUN.match(ahead)
            if run is None:
                return n
            n += ahead.count(b"\n", 0, run.end())
            self.binary.read(run.end())
            if run.end() < len(ahead):
                return n


# C0 control characters other than TAB, LF and CR, and DEL: no text report format allows them in a value.
CONTROL_CHARACTERS = frozenset(range(0, 9)) | {11, 12} | frozenset(range(14, 32)) | {127}
_KEEP = bytes(b for b in range(256) if b not in CONTROL_CHARACTERS)


def first_long_line(data: bytes, bound: int) -> int | None:
    """The index (0-based) of the first line of ``data`` longer than ``bound`` bytes, its line break
    not counted; the last line counts even without one. None when every line fits."""
    if len(data) <= bound:
        return None
    # Every aligned window of bound/2 bytes holding a line break means no line is longer than bound:
    # a few memchr calls, where counting the lines would read every byte.
    w = max(bound // 2, 1)
    if all(data.find(b"\n", k, k + w) >= 0 for k in range(0, len(data) - w + 1, w)):
        return None
    import numpy as np

    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(data)]))
    long = np.flatnonzero(stops - starts > bound)
    return int(long[0]) if len(long) else None


def has_control_bytes(data: bytes) -> bool:
    """Does ``data`` hold a control byte (NUL, ESC, DEL …) no report format allows?"""
    return bool(data.translate(None, _KEEP))


def first_control(text: str) -> int | None:
    """Index of the first forbidden control character in ``text``, or None."""
    for i, ch in enumerate(text):
        if ord(ch) in CONTROL_CHARACTERS:
            return i
    return None


def describe_control(ch: str) -> str:
    names = {0: "NUL", 27: "ESC", 127: "DEL", 8: "backspace", 12: "form feed", 11: "vertical tab"}
    return f"control character U+{ord(ch):04X}{' (' + names[ord(ch)] + ')' if ord(ch) in names else ''}"


def decode_line(raw: bytes) -> tuple[str | None, int]:
    """``raw`` as UTF-8: (text, -1), or (None, byte offset of the first byte that is not UTF-8)."""
    try:
        return raw.decode("utf-8"), -1
    except UnicodeDecodeError as exc:
        return None, exc.start


def not_utf8(where: str, what: str) -> str:
    """The message for a byte that is not UTF-8 (``where``: "byte 7 of the line")."""
    return (f"{where} is not UTF-8 text; {what} are UTF-8: open the file in a text editor or spreadsheet "
            "and save it again as 'UTF-8' (not 'ANSI', 'Latin-1' or 'Windows-1252')")
