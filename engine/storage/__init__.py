"""Storage: SQLAlchemy 2 async, SQLite by default, PostgreSQL by URL."""

from engine.storage.changes import Change, StorageFailure, StorageUnavailable
from engine.storage.store import OrderStore

__all__ = ["Change", "OrderStore", "StorageFailure", "StorageUnavailable"]
