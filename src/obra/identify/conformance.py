"""ISO 24138 conformance: the official ISCC test vectors, run through the generators we use.

An application that claims ISCC conformance must reproduce every vector of the ISCC
conformance suite (``data.json`` from iscc-core). :func:`identify_file` computes codes
with iscc-sdk, and iscc-sdk computes every unit with the ``gen_*_v0`` functions of
iscc-lib; :data:`GENERATORS` names those very functions, so a vector that passes here is
a unit our registrations would compute the same way. The vectors ship with the tests
(``tests/data/iscc/data.json``, Apache-2.0) so that the check runs offline.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from obra.errors import InvalidInput, Problem

__all__ = ["GENERATORS", "VectorResult", "generators", "run_vectors"]

#: The ISO 24138 function names in the suite, mapped to the iscc-lib generator we use.
GENERATORS = (
    "gen_meta_code_v0",
    "gen_text_code_v0",
    "gen_image_code_v0",
    "gen_audio_code_v0",
    "gen_video_code_v0",
    "gen_mixed_code_v0",
    "gen_data_code_v0",
    "gen_instance_code_v0",
    "gen_iscc_code_v0",
)


@dataclass(frozen=True)
class VectorResult:
    """The outcome of one conformance vector: which function, which test, and any mismatch."""

    function: str
    test: str
    passed: bool
    detail: str = ""


def generators() -> dict[str, Callable]:
    """The generator functions iscc-sdk calls (``iscc_sdk.main`` uses ``iscc_lib as il``)."""
    import iscc_lib
    import iscc_sdk.main as sdk_main

    engine = sdk_main.il
    if engine is not iscc_lib:  # the SDK changed engine: then these vectors test the wrong code
        raise RuntimeError("iscc-sdk no longer computes codes with iscc-lib; update conformance.py")
    return {name: getattr(engine, name) for name in GENERATORS}


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("stream:"):
        return io.BytesIO(bytes.fromhex(value.removeprefix("stream:")))
    if isinstance(value, str) and value.startswith("bytes:"):
        return bytes.fromhex(value.removeprefix("bytes:"))
    return value


def _compare(expected: dict, got: Any) -> str:
    got = dict(got)
    wrong = [f"{k}: expected {v!r}, got {got.get(k)!r}" for k, v in expected.items() if got.get(k) != v]
    return "; ".join(wrong)


def run_vectors(path: str | Path) -> list[VectorResult]:
    """Run every vector of an ISCC conformance ``data.json`` and report each outcome.

    A function name we do not implement is reported as a failure, not skipped: a newer
    suite with a new function should make the conformance test fail until we support it.
    """
    path = Path(path)
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidInput(Problem(f"cannot read the conformance suite: {e}", source=str(path))) from e
    funcs = generators()
    results: list[VectorResult] = []
    for function, tests in suite.items():
        if function.startswith("_"):
            continue
        func = funcs.get(function)
        for test, values in tests.items():
            if func is None:
                results.append(VectorResult(function, test, False, "function not implemented"))
                continue
            try:
                got = func(*[_decode(v) for v in values["inputs"]])
                detail = _compare(values["outputs"], got)
            except Exception as e:  # a crash on a vector is a failed vector, reported as such
                detail = f"raised {type(e).__name__}: {e}"
            results.append(VectorResult(function, test, not detail, detail))
    return results
