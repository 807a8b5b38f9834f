"""PostgreSQL bulk loads check their own foreign keys, set-based (issue #18): the per-row trigger checks are off
for the load's writes only, for a role allowed to turn them off; the parties a load names are locked as the
checks would lock them; a party gone by then refuses the load."""

from __future__ import annotations

import pytest
from psycopg import errors
from sqlalchemy import insert, select, text

from obra.access import create_principal
from obra.errors import Conflict
from obra.model.vocab import AccessRole
from obra.registry import bulk
from obra.registry.batch import Batch, import_batches
from obra.registry.service import Registry
from obra.store.schema import parties, registrations, shares

from tests.registry.test_bulk import _catalogue


@pytest.fixture
def pg_store(pg_admin_engine, tmp_path):
    from tests.conftest import _pg_store

    with _pg_store(pg_admin_engine, tmp_path) as store:
        yield store


def _role(conn) -> str:
    return conn.execute(text("SELECT current_setting('session_replication_role')")).scalar_one()


def test_the_checks_are_off_for_the_loads_writes_only(pg_store):
    admin, _ = create_principal(pg_store, "admin", AccessRole.ADMIN)
    import_batches(pg_store, admin, [Batch(_catalogue(3), "cat.json")], method="bulk")
    with pg_store.connect() as conn:
        rid = conn.execute(select(registrations.c.id)).scalars().first()
    with pg_store.begin() as conn:
        assert _role(conn) == "origin"
        with bulk._references_checked_here(conn):
            assert _role(conn) == "replica"
        assert _role(conn) == "origin"  # what follows in the same transaction is checked again
        with pytest.raises(Exception) as refused, conn.begin_nested():
            conn.execute(insert(shares).values(registration_id=rid, party_id=10**6, right_type="performance",
                                               territory="2WL", share="1"))
        assert "foreign key" in str(refused.value)


def test_a_role_without_the_right_keeps_the_per_row_checks(pg_store):
    with pg_store.begin() as conn:
        assert bulk._may_turn_off_reference_triggers(conn)  # the tests' role is a superuser
        conn.execute(text("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obra_test_plain') "
                          "THEN CREATE ROLE obra_test_plain NOLOGIN NOSUPERUSER; END IF; END $$"))
        conn.execute(text("SET LOCAL ROLE obra_test_plain"))
        assert not bulk._may_turn_off_reference_triggers(conn)
        with bulk._references_checked_here(conn):
            assert _role(conn) == "origin"


def test_the_parties_a_load_names_are_locked_until_it_ends(pg_store):
    admin, _ = create_principal(pg_store, "admin", AccessRole.ADMIN)
    import_batches(pg_store, admin, [Batch({"parties": _catalogue(1)["parties"]}, "parties.json")], method="bulk")
    with pg_store.connect() as conn:
        pid = conn.execute(select(parties.c.id).order_by(parties.c.id)).scalars().first()
    with pg_store.begin() as loading:
        named = bulk._party_names(loading, [pid])
        assert named[pid]["name"] == "Ana Compositora"
        with pg_store.engine.connect() as other:
            other.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(Exception) as waited:
                other.execute(parties.delete().where(parties.c.id == pid))
            assert isinstance(waited.value.orig, errors.LockNotAvailable)
            other.rollback()


def test_a_party_gone_by_the_time_of_the_load_refuses_it(store):
    with store.begin() as conn, pytest.raises(Conflict) as refused:
        bulk._party_names(conn, [4_242_424])
    assert "no longer on file" in str(refused.value) and "4242424" in str(refused.value)


def test_a_stores_tables_have_no_trigger_a_load_would_turn_off_but_the_foreign_keys(pg_store):
    """session_replication_role = replica turns off every ordinary trigger, not only the foreign keys' checks: a
    trigger added to a store's tables must be weighed against _references_checked_here (this test then fails)."""
    with pg_store.connect() as conn:
        triggers = conn.execute(text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relnamespace = CAST(current_schema() AS regnamespace) AND NOT t.tgisinternal")).all()
        checks = conn.execute(text(
            "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relnamespace = CAST(current_schema() AS regnamespace) AND t.tgisinternal")).scalar_one()
    assert triggers == [] and checks > 0


def test_a_bulk_load_leaves_no_pending_entries_in_the_search_indexes(pg_store):
    """The GIN indexes' pending lists a load fills are merged once it is done: a search does not read them whole."""
    admin, _ = create_principal(pg_store, "admin", AccessRole.ADMIN)
    import_batches(pg_store, admin, [Batch(_catalogue(40), "cat.json")], method="bulk")
    with pg_store.begin() as conn:
        pending = conn.execute(text("SELECT gin_clean_pending_list(CAST('search_titles_joints' AS regclass)) + "
                                    "gin_clean_pending_list(CAST('search_alt_titles_joints' AS regclass))")).scalar()
        assert pending == 0
    Registry(pg_store).register(admin, "work", {"title": "Otra canción"})  # one at a time: left pending
    with pg_store.begin() as conn:  # the check itself sees a pending entry when there is one
        assert conn.execute(text("SELECT gin_clean_pending_list(CAST('search_titles_joints' AS regclass))")).scalar() > 0


def test_merging_pending_entries_is_postgresqls_alone(sqlite_store):
    assert bulk.merge_pending_search_entries(sqlite_store) == 0
