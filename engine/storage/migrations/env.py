"""Alembic's environment: always handed a live connection by `engine.storage.migrate`, never a URL.

The store opens the database with its own async engine and runs the upgrade through
`connection.run_sync`, so there is no alembic.ini and no second way to connect.
"""

from __future__ import annotations

from alembic import context

from engine.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
