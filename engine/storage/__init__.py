"""Storage: SQLAlchemy 2 async, SQLite by default, PostgreSQL by URL; schema by Alembic migrations."""

from engine.storage import cancels, ownership
from engine.storage.changes import Change, DatabaseMissing, OrderLost, StorageFailure, StorageUnavailable
from engine.storage.store import OrderStore

__all__ = [
    "Change",
    "DatabaseMissing",
    "OrderLost",
    "OrderStore",
    "StorageFailure",
    "StorageUnavailable",
    "cancels",
    "ownership",
]
