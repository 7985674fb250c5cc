"""Storage: SQLAlchemy 2 async, SQLite by default, PostgreSQL by URL."""

from engine.storage.changes import Change, DatabaseMissing, StorageFailure, StorageUnavailable
from engine.storage.store import OrderStore

__all__ = ["Change", "DatabaseMissing", "OrderStore", "StorageFailure", "StorageUnavailable"]
