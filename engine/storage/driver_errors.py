"""asyncpg's errors as SQLAlchemy's, for the statements dexdesk sends on the driver's own connection.

The group commit, the claims and the intake lane hand their statements to asyncpg directly (the
fast path). The store's retry loop (`OrderStore._with_retries`) judges SQLAlchemy's errors only:
an asyncpg error that reached it raw was never retried. Two workers' group commits that deadlock
(PostgreSQL aborts one after `deadlock_timeout`) then failed their batch for good, logged a
traceback and sent every order in it back to the queue. Each fast path therefore raises:

- a dropped connection, or one a terminated backend left mid-operation ("another operation is in
  progress"), as an invalidated connection's `OperationalError`: retried on a fresh connection;
- any other refusal by the server as `DBAPIError`, which the retry loop judges by what it says
  (`errors.is_transient`): a deadlock, a lock timeout or a serialization failure is tried again;
  a permanent problem stops the store with one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, OperationalError


@contextmanager
def postgres_errors(statement: str) -> Iterator[None]:
    """Raise what asyncpg raises inside as SQLAlchemy's error for `statement` (see the module's docstring)."""
    import asyncpg  # only PostgreSQL users pay for the import

    try:
        yield
    except (
        OSError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
        # Server errors that mean the backend went away (they are PostgresErrors, hence first).
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.CrashShutdownError,
        asyncpg.exceptions.CannotConnectNowError,
    ) as error:
        raise OperationalError(statement, None, error, connection_invalidated=True) from error
    except asyncpg.PostgresError as error:
        raise DBAPIError(statement, None, error) from error
