"""Alembic environment: run migrations on the engine handed over by obra.store.Store."""

from alembic import context

from obra.store.schema import metadata

config = context.config
engine = config.attributes.get("engine")


def run() -> None:
    if engine is None:
        raise RuntimeError("run migrations through obra.store.Store.migrate(), which provides the engine")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
