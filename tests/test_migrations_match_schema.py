"""The Alembic migrations build exactly the schema the code declares.

A table, column or index added to engine/storage/schema.py without its migration would pass every
test that creates a fresh database from the code, then fail on a user's database upgraded from the
last release. This upgrades a new SQLite file through every revision, as a first start does, and
compares it with the declared metadata: any difference is a missing migration.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.storage.migrate import upgrade
from engine.storage.schema import metadata


def test_a_database_built_by_the_migrations_has_the_declared_schema(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        with engine.begin() as connection:
            upgrade(connection)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()
    assert differences == [], f"schema.py and the migrations differ (a migration is missing): {differences}"
