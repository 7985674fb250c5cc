"""Bring a database to the schema this code needs, with Alembic, when the store opens it.

Three cases: an empty database is built by running every revision; a database written by 0.1.0
(our tables, no `alembic_version`) is stamped with the baseline 0001 first, then upgraded, keeping
every order and log; a database already under Alembic is upgraded from where it is. Two processes
opening a fresh database at once must not both build it, so the check and the upgrade run under a
lock: PostgreSQL's transaction-scoped advisory lock (keyed by the schema, so tests in their own
schemas do not wait for each other), SQLite's `BEGIN IMMEDIATE` write lock. DDL is transactional on
both, so a crash mid-upgrade leaves the previous revision intact.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """The newest revision this code ships (what an up-to-date database is stamped with)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations have no head"
    return head


def is_known(revision: str) -> bool:
    """True when this code ships `revision` (a database stamped with another was written by a newer release)."""
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:  # "No such revision or branch"
        return False


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for an empty database or one written by 0.1.0."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection) -> str:
    """Upgrade to the head under the database's lock; returns the revision before (or 'empty'/'0.1.0').

    Runs inside the caller's transaction on `connection`; the caller commits.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' dexdesk-migrate'))"))
    else:
        # Take SQLite's write lock now, before reading the schema: a second process waits here
        # (busy timeout) and then finds the work done.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    before = current_revision(connection)
    config = _config(connection)
    if before is None:
        if inspect(connection).has_table("orders"):
            command.stamp(config, BASELINE)
            before = "0.1.0"
        else:
            before = "empty"
    if before != head_revision():
        command.upgrade(config, "head")
    return before
