"""The media tools behind audio and video content codes: Debian's ffmpeg, ffprobe and fpcalc.

iscc-sdk extracts audio fingerprints with Chromaprint's ``fpcalc`` and video signatures
with ``ffmpeg``. Left alone, it downloads its own builds of those programs the first time
it needs them, from a host an office's server may not reach and without the operator
knowing. Obra never downloads at run time, so :func:`configure` points the SDK at the
programs the system package manager installed (``apt-get install ffmpeg
libchromaprint-tools``, done by ``make system-deps``) and replaces the SDK's downloader
with one that refuses, naming the package to install instead.

Debian 12 ships fpcalc 1.5.1, which exits with status 3 ("Error decoding audio frame (End
of file)") after printing a complete fingerprint. :func:`run_fpcalc` accepts that exit
status when, and only when, the output is a complete fingerprint; an empty or unreadable
fingerprint is still an error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Callable

from obra.errors import ObraError, ServiceUnavailable

__all__ = [
    "MediaToolMissing",
    "MediaToolFailed",
    "configure",
    "tool_path",
    "run_ffmpeg",
    "run_ffprobe",
    "run_fpcalc",
]

#: Debian package that provides each program (what to tell the operator to install).
PACKAGES = {"ffmpeg": "ffmpeg", "ffprobe": "ffmpeg", "fpcalc": "libchromaprint-tools"}

#: Longest a single media tool may run on one file before we give up on it.
TIMEOUT_SECONDS = 600

#: fpcalc 1.5.1 exits with this status after a complete fingerprint at end of file.
FPCALC_EOF_STATUS = 3


class MediaToolMissing(ServiceUnavailable, RuntimeError):
    """A program needed for audio or video codes is not installed on this machine."""


class MediaToolFailed(ObraError, RuntimeError):
    """A media program ran but could not read the file (corrupt, truncated or unsupported)."""

    def __init__(self, tool: str, returncode: int, stderr: str):
        self.tool = tool
        self.returncode = returncode
        self.stderr = stderr
        reason = _last_error_line(stderr) or f"exit status {returncode}"
        super().__init__(f"{tool} could not read the media: {reason}")


def _last_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "invalid" in ln.lower()]
    chosen = (errors or lines)[-1:] if lines else []
    return chosen[0].removeprefix("ERROR: ") if chosen else ""


def tool_path(name: str) -> str:
    """Absolute path of the system's ``ffmpeg``, ``ffprobe`` or ``fpcalc``, or a clear error."""
    found = shutil.which(name)
    if found is None:
        raise MediaToolMissing(
            f"'{name}' is not installed, and audio and video content codes need it. Install "
            f"the Debian package '{PACKAGES[name]}' (`make system-deps`, or `apt-get install "
            f"--no-install-recommends ffmpeg libchromaprint-tools`). Obra never downloads "
            f"programs at run time."
        )
    return found


def _run(name: str, args: list[str | Path], accept: Callable[[subprocess.CompletedProcess], bool]):
    cmd = [tool_path(name)] + [str(a) for a in args]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as e:
        raise MediaToolFailed(name, -1, f"gave up after {TIMEOUT_SECONDS} s") from e
    if proc.returncode != 0 and not accept(proc):
        raise MediaToolFailed(name, proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return proc


def run_ffmpeg(args: list[str | Path]) -> subprocess.CompletedProcess:
    """Run the system ffmpeg; a non-zero exit is an error (as in iscc-sdk, with ``check=True``)."""
    return _run("ffmpeg", args, lambda proc: False)


def run_ffprobe(args: list[str | Path]) -> subprocess.CompletedProcess:
    """Run the system ffprobe; a non-zero exit is an error."""
    return _run("ffprobe", args, lambda proc: False)


def fpcalc_output_complete(stdout: bytes) -> bool:
    """True when fpcalc's ``-json`` output holds a duration and a non-empty fingerprint."""
    try:
        data = json.loads(stdout)
    except (ValueError, UnicodeDecodeError):
        return False
    fingerprint = data.get("fingerprint") if isinstance(data, dict) else None
    return (
        isinstance(fingerprint, list)
        and len(fingerprint) > 0
        and all(isinstance(v, int) for v in fingerprint)
        and isinstance(data.get("duration"), (int, float))
    )


def run_fpcalc(args: list[str | Path]) -> subprocess.CompletedProcess:
    """Run the system fpcalc, counting 1.5.1's end-of-file exit 3 as success when output is complete."""
    return _run(
        "fpcalc",
        args,
        lambda proc: proc.returncode == FPCALC_EOF_STATUS and fpcalc_output_complete(proc.stdout),
    )


def _refuse_download(url: str, checksum: str | None = None) -> str:
    raise MediaToolMissing(
        f"iscc-sdk tried to download {url}; Obra never downloads programs at run time. "
        "Install the Debian packages 'ffmpeg' and 'libchromaprint-tools' instead."
    )


def _refuse_install(*args: object, **kwargs: object) -> str:
    raise MediaToolMissing(
        "iscc-sdk tried to install its own media tools; Obra uses the system's ffmpeg, ffprobe "
        "and fpcalc. Install the Debian packages 'ffmpeg' and 'libchromaprint-tools'."
    )


_configured = False


def configure() -> None:
    """Point iscc-sdk at the system's media tools and forbid its downloader (idempotent).

    The SDK looks its runners up as attributes of both ``iscc_sdk.tools`` and the
    ``iscc_sdk`` package (it star-imports them), so both are replaced. Importing iscc-sdk
    is slow (about a second), which is why this runs on first use, not at import.
    """
    global _configured
    if _configured:
        return
    import iscc_sdk
    import iscc_sdk.tools as sdk_tools

    replacements: dict[str, Callable] = {
        "ffmpeg_bin": lambda: tool_path("ffmpeg"),
        "ffprobe_bin": lambda: tool_path("ffprobe"),
        "fpcalc_bin": lambda: tool_path("fpcalc"),
        "run_ffmpeg": run_ffmpeg,
        "run_ffprobe": run_ffprobe,
        "run_fpcalc": run_fpcalc,
        "download_file": _refuse_download,
        "install": _refuse_install,
        "ffmpeg_install": _refuse_install,
        "ffprobe_install": _refuse_install,
        "fpcalc_install": _refuse_install,
    }
    for name, func in replacements.items():
        setattr(sdk_tools, name, func)
        if hasattr(iscc_sdk, name):
            setattr(iscc_sdk, name, func)
    _configured = True
