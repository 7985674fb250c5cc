"""What a PostgreSQL URL may say beyond the server: `?schema=` and `?sslmode=`, checked and translated.

asyncpg takes neither as a URL option: the schema becomes the connection's search_path (created
if missing, under an advisory lock so two processes starting together on a fresh schema do not
race), and libpq's `sslmode` becomes asyncpg's `ssl`. A server that is not PostgreSQL (or a port
that never answers) is given up on after `CONNECT_TIMEOUT_S`, with what was tried.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.storage.changes import DatabaseMissing

CONNECT_TIMEOUT_S = 8.0
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_OWN_OPTIONS = ("schema", "sslmode")


def _one(query: Mapping[str, Any], name: str) -> str | None:
    value = query.get(name)
    if isinstance(value, tuple):
        value = value[-1] if value else ""
    return None if value is None else str(value)


def check_postgres_url_text(url: str) -> None:
    """What the parsed URL no longer shows: SQLAlchemy drops `?schema=` with no value, and public is used."""
    written = parse_qs(urlsplit(url).query, keep_blank_values=True)
    for name in _OWN_OPTIONS:
        if name in written and not all(written[name]):
            hint = "a schema (e.g. ?schema=trading) or leave it out for public" if name == "schema" else "a mode"
            raise ValueError(f"?{name}= is empty: name {hint}")


def check_postgres_query(query: Mapping[str, Any]) -> None:
    """Refuse options asyncpg would choke on, naming the rule (raises ValueError)."""
    schema = _one(query, "schema")
    if schema is not None and not schema:
        raise ValueError("?schema= is empty: name a schema (e.g. ?schema=trading) or leave it out for public")
    if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError("?schema= must be 1-63 letters, digits or _ starting with a letter or _")
    sslmode = _one(query, "sslmode")
    if sslmode is not None and sslmode not in SSL_MODES:
        raise ValueError(f"?sslmode= must be one of {', '.join(SSL_MODES)}")


def postgres_options(url: URL) -> tuple[URL, dict[str, Any], str | None]:
    """The URL asyncpg understands, its connect arguments, and the schema to use (None: public)."""
    check_postgres_query(url.query)
    schema = _one(url.query, "schema")
    sslmode = _one(url.query, "sslmode")
    connect_args: dict[str, Any] = {"timeout": CONNECT_TIMEOUT_S}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    if sslmode:
        connect_args["ssl"] = sslmode
    return url.difference_update_query(_OWN_OPTIONS), connect_args, schema


async def ensure_schema(connection: AsyncConnection, schema: str, *, create: bool = True) -> bool:
    """Create the schema if it is missing; True if this call created it.

    The transaction-scoped advisory lock makes a second process wait for the first one's commit
    instead of failing on pg_namespace's unique index ("duplicate key"), and it covers the table
    creation that follows in the same transaction too.
    """
    await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"dexdesk:{schema}"})
    exists = await connection.scalar(
        text("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = :schema)"), {"schema": schema}
    )
    if exists:
        return False
    if not create:
        raise DatabaseMissing(f"schema {schema!r} does not exist in this database (submit, run or the desk create it)")
    await connection.execute(text(f'CREATE SCHEMA "{schema}"'))  # the name passed _SCHEMA_NAME
    return True
