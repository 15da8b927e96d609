"""Alembic environment: migrations run on the connection matcher.store.db.upgrade passes in."""

from alembic import context

from matcher.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
