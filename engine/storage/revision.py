"""The schema revision a database is at, read without opening a store.

`dexdesk --version` says which revision a database is at, and a version check must change nothing:
opening an `OrderStore` would create a missing database, take the migration lock and upgrade an
old one. This reads the Alembic stamp (or sees 0.1.0's unstamped tables) on a connection of its own
and leaves everything as it found it. PostgreSQL gets a short time limit, so a server that does
not answer makes the line say so instead of holding the version check for the driver's minute.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from engine.storage import migrate
from engine.storage.changes import DatabaseMissing, StorageUnavailable
from engine.storage.connect import engine_for, one_line
from engine.storage.report_reader import sqlite_file

# How long a version check waits for a database server before saying it did not answer.
PEEK_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database stands against this release's schema."""

    head: str  # the newest revision this release ships and writes
    current: str | None  # the database's revision; "0.1.0" for 0.1.0's unstamped tables; None when it has none

    def describe(self) -> str:
        """One phrase for the version line, e.g. 'at revision 0004; upgraded to 0006 when next opened'."""
        if self.current is None:
            return "holds no dexdesk tables yet"
        if self.current == self.head:
            return f"at revision {self.current}"
        later = f"upgraded to {self.head} when dexdesk next opens it"
        if self.current == "0.1.0":
            return f"written by 0.1.0, before revisions; {later}"
        if not migrate.is_known(self.current):
            return f"at revision {self.current}, which this release does not know (written by a newer dexdesk)"
        return f"at revision {self.current}; {later}"


def _read_only_engine(path: Path) -> AsyncEngine:
    """SQLite opened read-only (no WAL pragma, no write lock): a look that cannot change the file."""
    return create_async_engine(
        f"sqlite+aiosqlite:///file:{path.resolve()}?mode=ro&uri=true", connect_args={"timeout": 2.0}
    )


def _stamp(connection: Connection) -> str | None:
    revision = migrate.current_revision(connection)
    if revision is None and inspect(connection).has_table("orders"):
        return "0.1.0"
    return revision


async def schema_state(url: str) -> SchemaState:
    """Read `url`'s revision. Raises DatabaseMissing for a SQLite file that is not there (it is not
    created), StorageUnavailable when the database cannot be read."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseMissing(f"database {path} does not exist yet")
    engine = _read_only_engine(path) if path is not None else engine_for(url)
    try:
        async with asyncio.timeout(PEEK_TIMEOUT_S), engine.connect() as connection:
            current: str | None = await connection.run_sync(_stamp)
    except TimeoutError:
        raise StorageUnavailable(f"the database did not answer within {PEEK_TIMEOUT_S:g} s") from None
    except Exception as error:  # any driver error ends as one line for the user
        raise StorageUnavailable(one_line(error)) from error
    finally:
        await engine.dispose()
    return SchemaState(head=migrate.head_revision(), current=current)
