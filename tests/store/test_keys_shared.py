"""One signing-key history per office across hosts (issue #13, finding 6; "what to build" 6).

Before: each ``OBRA_HOME`` made its own signing key for the same office while the tree heads
lived in the shared PostgreSQL, so a certificate issued by the second host verified against
neither host's key history. Now the keys can live outside ``OBRA_HOME`` (``OBRA_KEYS_DIR``,
shared by every host), and a host whose keys did not sign the log already in the database
refuses to create a key or to sign, with a named error (:class:`ForeignKeyHistory`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import text

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.registry.certificates import certificate_bytes, certificate_for, verify_certificate
from obra.registry.service import Registry
from obra.store import Settings, Store
from obra.transparency.checkpoint import signed_checkpoint
from obra.transparency.signing import ForeignKeyHistory, OfficeKeys
from obra.transparency.translog import TransparencyLog

OBRA = str(Path(sys.executable).with_name("obra"))


@pytest.fixture
def pg_schema(pg_admin_engine):
    """A fresh, migrated PostgreSQL schema two hosts share; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pg_admin_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with pg_admin_engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def _host(tmp_path: Path, name: str, schema: str, keys_dir: Path | None = None, migrate: bool = False) -> Store:
    from tests.conftest import PG_URL

    store = Store(Settings(tmp_path / name, PG_URL, "UYMVD", keys_dir), schema=schema)
    if migrate:
        store.migrate()
    return store


def test_two_hosts_with_shared_keys_issue_certificates_each_verifies_with_the_others_history(tmp_path,
                                                                                            pg_schema):
    shared = tmp_path / "mounted-secret"
    a = _host(tmp_path, "host-a", pg_schema, shared, migrate=True)
    b = _host(tmp_path, "host-b", pg_schema, shared)
    admin, _ = create_principal(a, "admin", AccessRole.ADMIN)
    on_a = Registry(a).register(admin, "work", {"title": "Registered on host A"}).number
    cert_a = certificate_bytes(certificate_for(a, on_a))
    on_b = Registry(b).register(admin, "work", {"title": "Registered on host B"}).number
    cert_b = certificate_bytes(certificate_for(b, on_b))

    history_a, history_b = TransparencyLog(a).key_history(), TransparencyLog(b).key_history()
    assert history_a == history_b and len(history_a.keys) == 1
    assert verify_certificate(cert_b, history_a).number == on_b
    assert verify_certificate(cert_a, history_b).number == on_a
    # the keys live in the shared directory only, never in either OBRA_HOME
    assert (shared / "UYMVD" / "history.json").exists()
    assert not (a.home / "keys").exists() and not (b.home / "keys").exists()

    # a rotation on one host is the other host's rotation too: old and new certificates verify on both
    TransparencyLog(b).keys.rotate()
    on_a2 = Registry(a).register(admin, "work", {"title": "After the rotation"}).number
    cert_a2 = certificate_bytes(certificate_for(a, on_a2))
    history_b = TransparencyLog(b).key_history()
    assert len(history_b.keys) == 2
    for cert, number in ((cert_a, on_a), (cert_b, on_b), (cert_a2, on_a2)):
        assert verify_certificate(cert, history_b).number == number
    a.dispose()
    b.dispose()


def test_a_host_without_the_shared_keys_refuses_to_make_a_second_history(tmp_path, pg_schema):
    a = _host(tmp_path, "host-a", pg_schema, migrate=True)
    admin, _ = create_principal(a, "admin", AccessRole.ADMIN)
    number = Registry(a).register(admin, "work", {"title": "Signed by host A"}).number
    certificate_for(a, number)  # host A signs the log's first tree head with its own key

    b = _host(tmp_path, "host-b", pg_schema)  # its own OBRA_HOME, no OBRA_KEYS_DIR
    for attempt in (lambda: certificate_for(b, number), lambda: TransparencyLog(b).signed_tree_head(),
                    lambda: signed_checkpoint(TransparencyLog(b)), lambda: TransparencyLog(b).keys.rotate(),
                    lambda: TransparencyLog(b).key_history()):
        with pytest.raises(ForeignKeyHistory) as err:
            attempt()
        assert "signed by keys this host does not hold" in str(err.value)
        assert "OBRA_KEYS_DIR" in str(err.value) and "OBRA_KEYS_DIR" in err.value.hint
        assert err.value.status == 503
    assert not (b.home / "keys" / "UYMVD" / "history.json").exists()  # no fresh key was made
    # registering still works on host B: only signing needs the office's keys
    Registry(b).register(admin, "work", {"title": "Registered on host B"})

    # a host that already made a history of its own (before this check existed) may not sign with it either
    OfficeKeys(b.home, "UYMVD").history()
    with pytest.raises(ForeignKeyHistory, match="does not hold them"):
        certificate_for(b, number)
    assert len(TransparencyLog(a).key_history().keys) == 1
    a.dispose()
    b.dispose()


def test_the_command_line_names_the_error_and_the_fix(tmp_path, pg_schema):
    from tests.conftest import PG_URL

    a = _host(tmp_path, "host-a", pg_schema, migrate=True)
    admin, _ = create_principal(a, "admin", AccessRole.ADMIN)
    number = Registry(a).register(admin, "work", {"title": "Signed by host A"}).number
    certificate_for(a, number)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBRA_")}
    env.update(OBRA_HOME=str(tmp_path / "host-b"), OBRA_OFFICE="UYMVD",
               OBRA_DATABASE_URL=f"{PG_URL}?options={quote(f'-csearch_path={pg_schema}')}")
    refused = subprocess.run([OBRA, "certificate", number], capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 78, refused.stderr
    assert "signed by keys this host does not hold" in refused.stderr and "Traceback" not in refused.stderr
    assert "OBRA_KEYS_DIR" in refused.stderr
    assert not (tmp_path / "host-b" / "keys").exists()
    a.dispose()


def test_the_same_check_holds_on_either_store(store, tmp_path):
    """A database opened from another home (a copied SQLite file, a second host) does not start a second history."""
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    number = Registry(store).register(admin, "work", {"title": "Signed here"}).number
    certificate_for(store, number)
    elsewhere = Store(Settings(tmp_path / "elsewhere", store.url, store.office), schema=store.schema)
    with pytest.raises(ForeignKeyHistory):
        certificate_for(elsewhere, number)
    shared = Store(Settings(tmp_path / "elsewhere", store.url, store.office, store.home / "keys"),
                   schema=store.schema)
    assert verify_certificate(certificate_bytes(certificate_for(shared, number)),
                              TransparencyLog(store).key_history()).number == number
    elsewhere.dispose()
    shared.dispose()


def test_obra_keys_dir_is_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OBRA_KEYS_DIR", str(tmp_path / "shared"))
    settings = Settings.from_env(tmp_path / "home", office="UYMVD")
    assert settings.keys_directory("UYMVD") == (tmp_path / "shared" / "UYMVD").resolve()
    monkeypatch.delenv("OBRA_KEYS_DIR")
    assert Settings.from_env(tmp_path / "home").keys_directory("UYMVD") == (tmp_path / "home" / "keys" / "UYMVD")
