"""Answers name files as the client knows them, never by the server's own paths.

A run's report lists its directory and every statement file; on the server those are
absolute paths under ``OBRA_HOME`` (or under a temporary directory while an upload is read).
:func:`without_server_paths` rewrites them before the answer leaves: a path under the home
becomes relative to it (``royalties/runs/run-000003/performance/statements/...``), a path under
the temporary directory keeps only its file name. Other text is left as it is.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def without_server_paths(value: Any, home: Path | str) -> Any:
    """``value`` (a JSON-like answer) with server paths made relative to ``home`` or reduced to names."""
    homes = {os.path.abspath(str(home)).rstrip(os.sep) + os.sep, os.path.realpath(str(home)).rstrip(os.sep) + os.sep}
    temps = {os.path.abspath(tempfile.gettempdir()).rstrip(os.sep) + os.sep,
             os.path.realpath(tempfile.gettempdir()).rstrip(os.sep) + os.sep}

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, str) and v.startswith(os.sep):
            for prefix in homes:
                if v.startswith(prefix):
                    return v[len(prefix):]
            if v.rstrip(os.sep) + os.sep in homes:
                return "."
            if any(v.startswith(prefix) for prefix in temps):
                return os.path.basename(v.rstrip(os.sep))
        return v

    return clean(value)


__all__ = ["without_server_paths"]
