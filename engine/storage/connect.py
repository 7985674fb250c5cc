"""How the store connects: one SQLAlchemy async engine per database URL, with SQLite's pragmas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from engine.storage.changes import StorageUnavailable
from engine.storage.postgres_url import postgres_options

# Bounds on every dexdesk session, below the default 10 s lease. A process stalled inside a write
# transaction (SIGSTOP, a swapped-out machine) held its orders' row locks, and the claims, cancels
# and resumes of every other process waited on them for 10 minutes, far past its lease. Now the
# server ends such a session after 5 s idle in its transaction (its locks go with it, and it finds
# its connection gone when it wakes, which it retries like any lost connection), and a lock wait
# gives up after 3 s and is retried (`canceling statement due to lock timeout` is transient).
POSTGRES_BOUNDS = {"lock_timeout": "3s", "idle_in_transaction_session_timeout": "5s"}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; NORMAL sync is durable across a process crash.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _open_existing_only(dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
    """Once its file is made, a store's new connection opens that file or fails; it never makes another.

    SQLite creates a missing file on connect. A process whose database was deleted under it stops
    with one line, but a connection opened on the way out (a pool's new one, a last read) made an
    empty file at the path, beside the dead file's log: the next `dexdesk info` then read "disk I/O
    error" instead of "the database does not exist" (seen once in a CI run under load).
    """
    database = cargs[0] if cargs else None
    if isinstance(database, str) and not database.startswith("file:") and database != ":memory:":
        cargs[0] = f"{Path(database).resolve().as_uri()}?mode=rw"
        cparams["uri"] = True


def stop_creating(engine: AsyncEngine) -> None:
    """From now on a connection of this SQLite engine opens the existing file only (see `_open_existing_only`)."""
    sync = engine.sync_engine
    if sync.dialect.name == "sqlite" and not event.contains(sync, "do_connect", _open_existing_only):
        event.listen(sync, "do_connect", _open_existing_only)


def engine_for(url: str) -> AsyncEngine:
    """The async engine for `url`; a SQLite file's folder is made if missing (a first run)."""
    parsed: URL = make_url(url)
    connect_args: dict[str, Any] = {}
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StorageUnavailable(f"cannot create the database's folder {folder}: {error.strerror}") from None
        connect_args["timeout"] = 2.0
    elif parsed.get_backend_name() == "postgresql":
        parsed, connect_args, _schema = postgres_options(parsed)
        connect_args["server_settings"] = {**POSTGRES_BOUNDS, **connect_args.get("server_settings", {})}
        options.update(pool_pre_ping=True, pool_size=5, max_overflow=5)
    engine = create_async_engine(parsed, connect_args=connect_args, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def one_line(error: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's wrapper text and its 'Background on this error' line."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__
