"""ISO 24138 ISCC content codes for a registered file, and parsing of codes people give us.

An ISCC-CODE is a composite of units, each a 64-bit fingerprint of one aspect of a file:

* **Meta-Code**: the title and description (from embedded metadata, else the file name);
* **Content-Code**: what a person perceives: the text, image, audio or video (similar
  content gives codes a small Hamming distance apart, even across formats);
* **Data-Code**: the raw bytes, similarity-preserving (small edits, small distance);
* **Instance-Code**: a cryptographic hash of the exact bytes (with the full ``datahash``).

The codes are computed by iscc-sdk, whose code generators are iscc-lib, the reference
implementation checked against the ISO conformance vectors (:mod:`obra.identify.conformance`
runs the vectors through the same generator functions). Audio and video need Debian's
``fpcalc`` and ``ffmpeg``; :mod:`obra.identify.tools` wires them in and forbids downloads.

A file the SDK cannot read (corrupt, truncated, empty, or a type it does not identify)
raises :class:`obra.errors.InvalidInput` naming the file and the reason; it never
crashes and never yields a code for a file it did not actually read.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from dataclasses import asdict, dataclass
from pathlib import Path

from obra.errors import InvalidInput, Problem
from obra.identify import tools

__all__ = ["ContentCodes", "Unit", "identify_file", "parse_code", "unit_of", "MODES"]

#: Content kinds that get a Content-Code, in the words of ISO 24138.
MODES = ("text", "image", "audio", "video")

_MAINTYPES = {0: "meta", 1: "semantic", 2: "content", 3: "data", 4: "instance", 5: "iscc"}
_CONTENT_SUBTYPES = {0: "text", 1: "image", 2: "audio", 3: "video", 4: "mixed"}


@dataclass(frozen=True)
class Unit:
    """One ISCC unit: its kind (``meta``, ``content-image``, ``data``...), canonical code and body.

    ``body`` is the first 64 bits of the unit's body as an unsigned integer: the part that
    near-duplicate search compares by Hamming distance. Units of the same kind only are
    comparable (an image code and an audio code are not near each other in any sense).
    """

    kind: str
    code: str
    body: int
    bits: int


@dataclass(frozen=True)
class ContentCodes:
    """The ISCC codes of one file, as registered and shown on certificates."""

    filename: str
    mediatype: str
    mode: str | None
    iscc: str
    meta: str | None
    content: str | None
    data: str
    instance: str
    datahash: str
    filesize: int
    name: str | None = None
    sha256: str | None = None
    """The file's SHA-256 (hex): what crawl manifests and datasets name files by."""

    def units(self) -> list[Unit]:
        """The units that make up the ISCC-CODE, each decoded (meta, content, data, instance)."""
        return [unit_of(c) for c in (self.meta, self.content, self.data, self.instance) if c]

    def to_dict(self) -> dict:
        return asdict(self)


def _canonical(code: str) -> str:
    code = code.strip()
    return code if code.upper().startswith("ISCC:") else f"ISCC:{code}"


def unit_of(code: str) -> Unit:
    """Decode one ISCC unit (not a composite ISCC-CODE) into its kind and 64-bit body."""
    import iscc_core as ic

    canonical = _canonical(code.upper())
    try:
        maintype, subtype, _version, _length, body = ic.iscc_decode(canonical)
    except Exception as e:  # iscc-core raises ValueError/KeyError/binascii errors on bad input
        raise InvalidInput(Problem(f"not a valid ISCC code ({e})", field="code", source=code)) from e
    kind = _MAINTYPES.get(int(maintype))
    if kind is None or kind == "iscc":
        raise InvalidInput(
            Problem("expected a single ISCC unit here, not a composite ISCC-CODE", "code", source=code)
        )
    if kind == "content":
        kind = f"content-{_CONTENT_SUBTYPES.get(int(subtype), str(int(subtype)))}"
    if len(body) < 8:
        raise InvalidInput(
            Problem(f"the code's body has {len(body) * 8} bits; Obra compares 64-bit bodies",
                    "code", source=code)
        )
    return Unit(kind=kind, code=ic.iscc_normalize(canonical), body=int.from_bytes(body[:8], "big"),
                bits=len(body) * 8)


def parse_code(code: str) -> list[Unit]:
    """Parse a code someone typed or sent: a composite ISCC-CODE or one unit, into its units.

    Accepts the ``ISCC:`` prefix or not, in any letter case. Raises :class:`InvalidInput`
    saying what is wrong with the code (bad characters, bad header, wrong length).
    """
    import iscc_core as ic

    if not isinstance(code, str) or not code.strip():
        raise InvalidInput(Problem("an ISCC code is required (e.g. ISCC:KAC...)", "code"))
    canonical = _canonical(code.upper())
    try:
        maintype = int(ic.iscc_decode(canonical)[0])
        parts = ic.iscc_decompose(canonical) if maintype == 5 else [canonical]
    except InvalidInput:
        raise
    except Exception as e:
        raise InvalidInput(Problem(f"not a valid ISCC code ({e})", "code", source=code.strip())) from e
    return [unit_of(p) for p in parts]


@contextlib.contextmanager
def _quiet():
    """iscc-sdk logs through loguru and prints; keep the CLI's output clean."""
    from loguru import logger

    logger.disable("iscc_sdk")
    logger.disable("iscc_lib")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.enable("iscc_sdk")
        logger.enable("iscc_lib")


def identify_file(path: str | Path, *, name: str | None = None) -> ContentCodes:
    """Compute the ISCC codes of a file: Meta, Content, Data and Instance units and the ISCC-CODE.

    ``name`` overrides the title used for the Meta-Code (otherwise embedded metadata, then
    the file name). Raises :class:`InvalidInput` for a missing, empty, corrupt, truncated
    or unsupported file, and :class:`obra.identify.tools.MediaToolMissing` when audio or
    video needs a program that is not installed.
    """
    import iscc_sdk as idk

    tools.configure()
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InvalidInput(Problem("no such file", source=source))
    if path.stat().st_size == 0:
        raise InvalidInput(Problem("the file is empty; there is no content to identify", source=source))
    try:
        with _quiet():
            result = idk.code_iscc(path, name=name, add_units=True, create_thumb=False)
    except tools.MediaToolMissing:
        raise
    except idk.IsccUnsupportedMediatype as e:
        raise InvalidInput(Problem(
            f"unsupported media type ({e}); Obra computes content codes for text, image, "
            "audio and video files", source=source)) from e
    except tools.MediaToolFailed as e:
        raise InvalidInput(Problem(f"corrupt, truncated or unreadable media: {e}", source=source)) from e
    except Exception as e:  # decoders (Pillow, tika, taglib...) raise many types on bad files
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InvalidInput(Problem(
            f"could not read the file as {_guess(path)}: {reason} (corrupt or truncated?)",
            source=source)) from e
    return _content_codes(path, result)


def _guess(path: Path) -> str:
    import iscc_sdk as idk

    try:
        mediatype, _mode = idk.mediatype_and_mode(path)
        return mediatype
    except Exception:
        return "a media file"


def _content_codes(path: Path, result) -> ContentCodes:
    units = [unit_of(u) for u in (result.units or [])]
    by_kind: dict[str, str] = {}
    for u in units:
        key = "content" if u.kind.startswith("content-") else u.kind
        by_kind[key] = u.code
    mode = getattr(result, "mode", None)
    if mode in MODES and "content" not in by_kind:
        raise InvalidInput(Problem(f"no Content-Code could be computed for this {mode} file",
                                   source=str(path)))
    if "data" not in by_kind or "instance" not in by_kind:
        raise InvalidInput(Problem("no Data/Instance-Code could be computed", source=str(path)))
    return ContentCodes(
        filename=path.name,
        mediatype=str(result.mediatype),
        mode=str(mode) if mode else None,
        iscc=str(result.iscc),
        meta=by_kind.get("meta"),
        content=by_kind.get("content"),
        data=by_kind["data"],
        instance=by_kind["instance"],
        datahash=str(result.datahash),
        filesize=int(result.filesize),
        name=getattr(result, "name", None),
        sha256=_sha256_of(path),
    )


def _sha256_of(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()

