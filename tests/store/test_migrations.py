"""The migrations produce exactly the schema the code declares, on SQLite and on PostgreSQL.

Alembic's autogenerate comparison (the same one ``alembic revision --autogenerate`` runs)
between the migrated database and the tables the code declares must find nothing: a
table, column, type, nullability, index or constraint added in code without a migration
(or the reverse) fails here, not on a user's server.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import obra.identify.similar  # noqa: F401 - declares the content-code tables
import obra.transparency.translog  # noqa: F401 - declares the log tables
from obra.errors import SchemaOutOfDate
from obra.store import Store
from obra.store.schema import metadata


def _differences(store: Store) -> list:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diffs = compare_metadata(ctx, metadata)
    return [d for d in diffs if not _ignorable(d)]


def _ignorable(diff) -> bool:
    # alembic's own version table is not ours to declare
    if isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version":
        return True
    # the search indexes of migration 0010 (FTS5 tables, pg_trgm and COLLATE "C" indexes) are one store's
    # index machinery, named search_*, not declared tables
    return (isinstance(diff, tuple) and diff[0] in ("remove_table", "remove_index")
            and str(diff[1].name).startswith("search_"))


def test_migrations_produce_exactly_the_declared_schema(store):
    assert _differences(store) == []


def test_one_head_and_the_store_is_at_it(store):
    assert store.revision() == store.expected_revision() == "0019_repeated_indexes"


def test_a_store_without_schema_is_refused_with_a_hint(tmp_path):
    with pytest.raises(SchemaOutOfDate) as err:
        Store.open(f"sqlite:///{tmp_path / 'new.db'}", tmp_path / "home")
    assert "obra init" in err.value.hint and err.value.status == 503


def test_a_store_at_an_older_revision_says_to_migrate(tmp_path):
    from alembic import command

    store = Store.open(f"sqlite:///{tmp_path / 'old.db'}", tmp_path / "home", migrate=True)
    command.downgrade(store.alembic_config(), "0006_party_identifiers")
    with pytest.raises(SchemaOutOfDate, match=f"0006_party_identifiers; this version of Obra needs "
                                              f"{store.expected_revision()}") as err:
        Store.open(f"sqlite:///{tmp_path / 'old.db'}", tmp_path / "home")
    assert "obra migrate" in err.value.hint


def test_reads_do_not_wait_for_a_long_write_on_sqlite(sqlite_store):
    """Issue #13, finding 2: a read during a long write used to queue behind the write lock
    (every transaction began IMMEDIATE) and failed with "database is locked" after 30 s."""
    import threading
    import time

    from sqlalchemy import insert, select

    from obra.store.schema import sequences

    holding, release = threading.Event(), threading.Event()

    def long_write():
        with sqlite_store.begin() as conn:
            conn.execute(insert(sequences).values(office="SLOW", year=2026, next_value=1))
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert holding.wait(10)
        started = time.perf_counter()
        with sqlite_store.connect() as conn:
            seen = conn.execute(select(sequences.c.office)).scalars().all()
        waited = time.perf_counter() - started
    finally:
        release.set()
        writer.join()
    assert waited < 1.0 and "SLOW" not in seen  # the read answered at once, with the last committed state
    with sqlite_store.connect() as conn:
        assert "SLOW" in conn.execute(select(sequences.c.office)).scalars().all()
