"""The house's layers hold: imports run one way (interfaces → application → capabilities → law →
core), no two sibling modules import each other in a cycle, and synthetic data stays out of the
product. The contracts are in pyproject.toml (``[tool.importlinter]``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_import_contracts_are_kept():
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_a_core_module_importing_an_interface_breaks_the_contract(tmp_path):
    """The check can fail: the same contracts on a copy where money.py imports the CLI."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src", copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    money = copy / "obra" / "money.py"
    money.write_text(money.read_text() + "\nimport obra.cli.common  # noqa: E402,F401\n")
    result = _lint(copy)
    assert result.returncode != 0
    assert "obra.money is not allowed to import obra.cli" in result.stdout
