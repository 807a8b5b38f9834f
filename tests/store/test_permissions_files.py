"""Owner-only files under OBRA_HOME (issue #13, finding 9; "what to build" 7).

Before: the database, statements, usage data and manifest were world-readable in a
world-readable ``OBRA_HOME``. Now the ``obra`` command (and ``obra serve``) run with umask
077, the store creates its home mode 0700 and its SQLite file 0600 (SQLite gives the WAL and
SHM files the database's mode), and the office's keys are 0700/0600 whatever the umask. An
existing home others can read is reported once, with the chmod that fixes it, never
silently changed.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.registry.certificates import certificate_for
from obra.registry.service import Registry
from obra.store import Store

OBRA = str(Path(sys.executable).with_name("obra"))
DSR = Path(__file__).parents[1] / "data" / "dsr" / "DSR_TEST_YouTube_AdSupport-music_2015-Q4_IS_1of1_20160121T150926.tsv"


def _open_to_others(home: Path) -> list[str]:
    """Every path under ``home`` (itself included) that group or others may read, write or enter."""
    found = []
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{oct(mode)} {path.relative_to(home.parent)}")
    return found


@pytest.fixture
def loose_umask():
    """The umask most desktops and containers have (022): what a careless caller would create with."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _obra(env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([OBRA, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, (args, done.stderr)
    return done


def test_init_register_certificate_and_ingest_leave_nothing_readable_by_others(tmp_path, loose_umask):
    home = tmp_path / "obra-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBRA_")}
    env.update(OBRA_HOME=str(home), OBRA_OFFICE="UYMVD")
    _obra(env, "init", "--json")
    number = json.loads(_obra(env, "register", "--title", "Canción del Algoritmo", "--json").stdout)["number"]
    _obra(env, "certificate", number, "--out", str(tmp_path / "certificate.json"))  # makes the office's keys
    _obra(env, "ingest", "dsr", str(DSR), "--json")
    made = {p.relative_to(home).parts[0] for p in home.rglob("*")}
    assert {"obra.db", "credentials.json", "keys", "usage"} <= made, made
    assert _open_to_others(home) == []


def test_the_library_makes_the_home_database_and_keys_owner_only_whatever_the_umask(tmp_path, loose_umask):
    home = tmp_path / "home"
    store = Store.open(None, home, office="UYMVD", migrate=True)
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    number = Registry(store).register(admin, "work", {"title": "Owner only"}).number
    certificate_for(store, number)
    names = {p.name for p in home.rglob("*")}
    assert {"obra.db", "obra.db-wal", "obra.db-shm", "history.json", ".lock"} <= names, names
    assert _open_to_others(home) == []
    store.dispose()


def test_a_home_others_can_read_is_reported_once_with_the_fix_and_not_changed(tmp_path, caplog):
    home = tmp_path / "shared-home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    with caplog.at_level(logging.WARNING, logger="obra.store"):
        Store.open(None, home, migrate=True).dispose()
        Store.open(None, home).dispose()
    warnings = [r.getMessage() for r in caplog.records if r.name == "obra.store"]
    assert len(warnings) == 1
    assert "can be read by other users" in warnings[0] and f"chmod -R go-rwx {home}" in warnings[0]
    assert stat.S_IMODE(home.stat().st_mode) == 0o755  # reported, not silently changed


def test_the_command_line_says_so_on_stderr(tmp_path):
    home = tmp_path / "shared-home"
    home.mkdir()
    os.chmod(home, 0o750)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBRA_")}
    env.update(OBRA_HOME=str(home))
    done = _obra(env, "init", "--json")
    assert done.stderr.count("chmod -R go-rwx") == 1
    assert _open_to_others(home) == [f"0o750 {home.name}"]  # everything inside is owner-only all the same
