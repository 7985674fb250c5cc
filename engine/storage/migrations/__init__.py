"""Alembic migrations of dexdesk's schema; `engine.storage.migrate` runs them when a database is opened."""
