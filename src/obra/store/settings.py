"""Where Obra keeps its data: embedded by default, a real server when outgrown.

* ``OBRA_HOME`` (default ``./obra-data``): the embedded SQLite database ``obra.db``, keys,
  Parquet usage data and generated statements. Created owner-only (mode 0700).
* ``OBRA_DATABASE_URL``: a SQLAlchemy URL, e.g.
  ``postgresql+psycopg://postgres@127.0.0.1:5432/test`` for server mode.
* ``OBRA_OFFICE``: the issuing office code in registration numbers (default ``OBRA``).
* ``OBRA_KEYS_DIR``: where the office's signing keys live when they must not live in
  ``OBRA_HOME`` — in server mode, a directory every host mounts (a secret volume, NFS), so
  that all hosts sign with one key history (``docs/key-management.md``). Default:
  ``$OBRA_HOME/keys``.
* ``OBRA_BUSY_TIMEOUT_S``: how long a write waits for another write to finish before it is
  refused with "the store is busy" (SQLite; default 30 seconds).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from obra.errors import InvalidInput, Problem
from obra.store.paths import StorePaths

DEFAULT_BUSY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    office: str
    keys_dir: Path | None = None
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S

    @classmethod
    def from_env(cls, home: str | Path | None = None, database_url: str | None = None,
                 office: str | None = None) -> "Settings":
        root = Path(home or os.environ.get("OBRA_HOME") or "obra-data").resolve()
        url = database_url or os.environ.get("OBRA_DATABASE_URL") or f"sqlite:///{StorePaths(root).database}"
        code = (office or os.environ.get("OBRA_OFFICE") or "OBRA").upper()
        if not re.fullmatch(r"[A-Z0-9]{2,8}", code):
            raise InvalidInput(Problem(f"office code '{code}' must be 2-8 letters or digits",
                                       field="OBRA_OFFICE"))
        keys = os.environ.get("OBRA_KEYS_DIR")
        return cls(root, url, code, Path(keys).expanduser().resolve() if keys else None,
                   _busy_timeout(os.environ.get("OBRA_BUSY_TIMEOUT_S")))

    def keys_directory(self, office: str) -> Path:
        """Where ``office``'s signing keys and key history live: ``OBRA_KEYS_DIR/<OFFICE>`` when set."""
        if self.keys_dir is not None:
            return self.keys_dir / office.upper()
        return StorePaths(self.home).keys(office.upper())


def _busy_timeout(value: str | None) -> float:
    if value is None or value.strip() == "":
        return DEFAULT_BUSY_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= 3600):
        raise InvalidInput(Problem(f"OBRA_BUSY_TIMEOUT_S={value!r} must be a number of seconds between 0 and 3600",
                                   field="OBRA_BUSY_TIMEOUT_S"))
    return seconds
