"""Shared fixtures: real stores (SQLite and PostgreSQL), principals, one Spark session.

``store`` is parametrised over the embedded SQLite store and the real PostgreSQL server,
so every storage test runs against both. Each PostgreSQL test gets its own schema,
dropped afterwards. When ``OBRA_REQUIRE_SERVICES=1`` (CI), a missing PostgreSQL or Spark
is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.store import Store

PG_URL = os.environ.get("OBRA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE = os.environ.get("OBRA_REQUIRE_SERVICES") == "1"


def _unavailable(what: str, why: Exception | str) -> None:
    message = f"{what} is not available: {why}"
    if REQUIRE:
        pytest.fail(message + " (OBRA_REQUIRE_SERVICES=1: CI must not skip)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_admin_engine():
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not available"
        _unavailable("PostgreSQL", exc)
    yield engine
    engine.dispose()


@contextmanager
def _sqlite_store(tmp_path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'obra.db'}", tmp_path / "home", migrate=True)
    yield s
    s.dispose()


@contextmanager
def _pg_store(pg_admin_engine, tmp_path) -> Iterator[Store]:
    """A store in a schema of its own, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pg_admin_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    s = Store.open(PG_URL, tmp_path / "home", schema=schema, migrate=True)
    try:
        yield s
    finally:
        s.dispose()
        with pg_admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A fresh, migrated, empty store on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        with _sqlite_store(tmp_path) as s:
            yield s
    else:
        with _pg_store(request.getfixturevalue("pg_admin_engine"), tmp_path) as s:
            yield s


@pytest.fixture
def sqlite_store(tmp_path):
    with _sqlite_store(tmp_path) as s:
        yield s


@pytest.fixture
def admin(store):
    principal, _ = create_principal(store, "admin", AccessRole.ADMIN)
    return principal


@pytest.fixture
def principals(store):
    """One principal (and token) per role, created by the bootstrap admin."""
    root, root_token = create_principal(store, "root", AccessRole.ADMIN)
    made = {"admin": (root, root_token)}
    for role in AccessRole:
        if role in (AccessRole.ADMIN, AccessRole.PUBLIC):
            continue
        made[role.value] = create_principal(store, f"{role.value}-1", role, by=root)
    return made


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole test run (start-up costs several seconds)."""
    try:
        from obra.royalties.engine import spark_session

        session = spark_session(app_name="obra-tests")
    except Exception as exc:  # noqa: BLE001 - no Java, no pyspark: not available
        _unavailable("Apache Spark (local mode)", exc)
    yield session
    session.stop()


@pytest.fixture
def cli_home(tmp_path, monkeypatch):
    """An initialised OBRA_HOME for command-line tests: embedded store, office UYMVD, local admin token."""
    from typer.testing import CliRunner

    from obra.cli.main import app

    home = tmp_path / "obra-home"
    monkeypatch.setenv("OBRA_HOME", str(home))
    monkeypatch.setenv("OBRA_OFFICE", "UYMVD")
    monkeypatch.delenv("OBRA_DATABASE_URL", raising=False)
    monkeypatch.delenv("OBRA_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["init", "--json"])
    assert result.exit_code == 0, result.output
    return home
