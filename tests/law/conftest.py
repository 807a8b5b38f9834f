"""Fixtures for the law package: the real packaged file, parsed independently of obra.law."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import obra.law

FILE = Path(obra.law.__file__).parent / "data" / "jurisdictions.json"


def read_raw() -> dict[str, Any]:
    """The packaged file as plain JSON, read with the standard library only."""
    return json.loads(FILE.read_text(encoding="utf-8"))


RAW = read_raw()


@pytest.fixture
def raw() -> dict[str, Any]:
    """A fresh deep copy of the real file, safe to mutate in a test."""
    return copy.deepcopy(RAW)


def write(tmp_path: Path, data: Any, name: str = "jurisdictions.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
