"""Which database errors are worth waiting out, and what to tell the user about the others.

Transient: a lock held by another process, a connection that dropped, a server restarting. The
writer retries those until the batch lands; orders wait, none is lost. Permanent: retrying can
never help (a read-only file, another application's file, a damaged one, a server that is not
PostgreSQL). Those stop the command with one line that says what is wrong and what to do.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Connection, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from engine.storage.changes import StorageUnavailable
from engine.storage.postgres_url import CONNECT_TIMEOUT_S

# The orders table's columns since 0.1.0 (later revisions only add): a table without them is not ours.
_BASELINE_ORDER_COLUMNS = frozenset(
    {"seq", "id", "pair", "direction", "amount", "status", "attempts", "created_at", "updated_at"}
)
_TRANSIENT_WORDS = (
    "database is locked",
    "database table is locked",
    "database schema is locked",
    "connection was closed",
    "connection is closed",
    "connection refused",
    "terminating connection",
    "server closed the connection",
    "the database system is starting up",
    "the database system is shutting down",
    "canceling statement due to lock timeout",
    "could not serialize access",
    "deadlock detected",
)


def driver_error(error: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrapper."""
    return getattr(error, "orig", None) or error


def _text(error: BaseException) -> str:
    cause = driver_error(error)
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def permanent_problem(error: BaseException, url: str) -> str | None:
    """One line for an error no retry can fix, or None if it may pass (then retry it)."""
    where = _sqlite_path(url)
    shown = str(where) if where else make_url(url).render_as_string(hide_password=True)
    words = _text(error).lower()
    cause = driver_error(error)
    if "readonly database" in words or "read-only transaction" in words or "read only" in words:
        return f"cannot write database {shown}: it is read-only (check the file's and its folder's permissions)"
    if "malformed" in words or "disk image" in words:
        target = where or Path("orders.db")
        return (
            f"database {shown} is damaged ({_text(error)}); recover what it holds with "
            f"`sqlite3 {target} .recover | sqlite3 {target.with_name(target.stem + '-recovered.db')}`, "
            f"then use --db with the recovered file"
        )
    if "file is not a database" in words or "not a database" in words:
        return f"{shown} is not a SQLite database (is it another application's file?)"
    if "no such column" in words or "no such table" in words or "undefinedcolumn" in type(cause).__name__.lower():
        return f"{shown} is not a dexdesk database: its tables differ ({_text(error)}); give dexdesk its own file"
    if isinstance(cause, TimeoutError) and make_url(url).get_backend_name() == "postgresql":
        host = make_url(url).host or "localhost"
        port = make_url(url).port or 5432
        return (
            f"cannot open database {shown}: no PostgreSQL answered at {host}:{port} within "
            f"{CONNECT_TIMEOUT_S:g} s (is that port a PostgreSQL server?)"
        )
    return None


def is_transient(error: BaseException, url: str) -> bool:
    """Worth retrying: a lock, a dropped connection, a restarting server; never a permanent problem."""
    if permanent_problem(error, url) is not None:
        return False
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    cause = driver_error(error)
    if isinstance(cause, sqlite3.OperationalError):
        return any(word in str(cause).lower() for word in _TRANSIENT_WORDS) or "disk i/o" in str(cause).lower()
    if isinstance(cause, ConnectionError | OSError):
        return True
    words = _text(error).lower()
    return any(word in words for word in _TRANSIENT_WORDS) or type(cause).__name__ in (
        "ConnectionDoesNotExistError",
        "InterfaceError",
        "CannotConnectNowError",
        "AdminShutdownError",
        "ConnectionFailureError",
    )


def refuse_foreign_tables(connection: Connection, shown: str) -> None:
    """Before creating anything: an `orders` table without dexdesk's columns is another application's.

    Creating dexdesk's other tables beside it would write into that application's file.
    """
    inspector = inspect(connection)
    if not inspector.has_table("orders"):
        return
    present = {column["name"] for column in inspector.get_columns("orders")}
    missing = sorted(_BASELINE_ORDER_COLUMNS - present)
    if missing:
        raise StorageUnavailable(
            f"{shown} is not a dexdesk database: its orders table has no {', '.join(missing[:3])} column; "
            "give dexdesk its own file or schema"
        )


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)
