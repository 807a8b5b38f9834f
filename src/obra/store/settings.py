"""Where Obra keeps its data: embedded by default, a real server when outgrown.

* ``OBRA_HOME`` (default ``./obra-data``): the embedded SQLite database ``obra.db``, keys,
  Parquet usage data and generated statements.
* ``OBRA_DATABASE_URL``: a SQLAlchemy URL, e.g.
  ``postgresql+psycopg://postgres@127.0.0.1:5432/test`` for server mode.
* ``OBRA_OFFICE``: the issuing office code in registration numbers (default ``OBRA``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from obra.errors import InvalidInput, Problem
from obra.store.paths import StorePaths


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    office: str

    @classmethod
    def from_env(cls, home: str | Path | None = None, database_url: str | None = None,
                 office: str | None = None) -> "Settings":
        root = Path(home or os.environ.get("OBRA_HOME") or "obra-data").resolve()
        url = database_url or os.environ.get("OBRA_DATABASE_URL") or f"sqlite:///{StorePaths(root).database}"
        code = (office or os.environ.get("OBRA_OFFICE") or "OBRA").upper()
        if not re.fullmatch(r"[A-Z0-9]{2,8}", code):
            raise InvalidInput(Problem(f"office code '{code}' must be 2-8 letters or digits",
                                       field="OBRA_OFFICE"))
        return cls(root, url, code)
