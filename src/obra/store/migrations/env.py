"""Alembic environment: run migrations on the connection handed over by obra.store.Store.migrate().

``Store.migrate()`` opens the connection, begins the transaction and takes the migration lock
(PostgreSQL: an advisory lock per schema; SQLite: ``BEGIN IMMEDIATE``) before handing it over,
so concurrent ``obra init`` / ``obra migrate`` runs upgrade one at a time and the whole upgrade
commits or rolls back as one.
"""

from alembic import context

from obra.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
engine = config.attributes.get("engine")


def _run_on(conn) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    if connection is not None:
        _run_on(connection)
    elif engine is not None:  # a maintainer's own alembic command (e.g. a downgrade) on Store.alembic_config()
        with engine.begin() as conn:
            _run_on(conn)
    else:
        raise RuntimeError("run migrations through obra.store.Store.migrate(), which provides the connection")


run()
