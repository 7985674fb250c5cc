"""Storage: SQLAlchemy 2 async, SQLite by default, PostgreSQL by URL."""

from engine.storage.store import Change, OrderStore, StorageFailure, StorageUnavailable

__all__ = ["Change", "OrderStore", "StorageFailure", "StorageUnavailable"]
