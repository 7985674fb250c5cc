"""The group commit's statements (and the paper account's settlement), on the driver's own connection.

Profiling `dexdesk bench engine` showed the writer spending most of each batch in SQLAlchemy's
execute path rather than in the database, so rows are built once as plain tuples, already in the
stored representation, and handed to the driver. The representation must match
`engine.storage.schema` exactly, since every read still goes through SQLAlchemy: on SQLite decimals
and timestamps are the same text the TypeDecorators write; asyncpg takes Decimal and datetime.

Every write is conditional: a row is updated only if it still has the version the change was made
from and this writer as its owner. One order's changes in a batch are folded into one row update
(the first change's expected version, the last change's state, every log line), so a batch never
updates a row twice. The rows that matched are learned exactly (PostgreSQL: `RETURNING id` of one
`UPDATE … FROM unnest(…)`; SQLite: executemany's row count, and only when it falls short a lookup);
logs and ledger rows are written for those alone (on PostgreSQL by the same statement). An order
that did not match is either already written by an earlier try of this very batch (its commit
acknowledgement was lost: owner and new version are ours) and counts as stored, or lost to another
writer: the rest of the batch commits.

Each transaction stamps its rows with its mark for the change feed (engine/storage/change_feed.py):
on SQLite the `change_counter` value it bumps first, on PostgreSQL its own transaction id, which
takes no lock, so the group commits of several processes run side by side.
Driver errors that mean "try again" are raised as SQLAlchemy's `OperationalError`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import OperationalError

from engine.model.jsonfmt import format_decimal
from engine.storage.account_store import settle_postgres, settle_sqlite
from engine.storage.change_feed import POSTGRES_MARK
from engine.storage.changes import Change
from engine.storage.order_codec import (
    LEDGER_COLUMNS,
    LOG_COLUMNS,
    STATE_COLUMNS,
    UPDATE_KEY,
    postgres_write,
    sqlite_insert,
    sqlite_state,
    sqlite_update,
)

_BUMP = "UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value"
_LOOKUP_CHUNK = 500


@dataclass(slots=True)
class BatchResult:
    """What a group commit did: the change feed mark it stamped (0: none), and the orders it could not write."""

    change_seq: int
    lost: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Fold:
    """One order's changes in a batch, folded into one row update."""

    expected_version: int
    last: Change
    changes: list[Change]


def _fold(batch: Sequence[Change]) -> dict[str, _Fold]:
    folds: dict[str, _Fold] = {}
    for change in batch:
        fold = folds.get(change.order_id)
        if fold is None:
            folds[change.order_id] = _Fold(change.version - 1, change, [change])
        else:
            fold.last = change
            fold.changes.append(change)
    return folds


def _sqlite_logs_and_ledger(folds: Sequence[_Fold]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The log and ledger rows as SQLite stores them: timestamps and decimals as text (made once, upstream)."""
    logs = []
    executions = []
    for fold in folds:
        for change in fold.changes:
            logs.extend([(row[0], row[1], *row[3:]) for row in change.logs])
            ledger = change.ledger
            if ledger is not None:
                executions.append((*ledger[:3], format_decimal(ledger[3]), ledger[5]))
    return logs, executions


def _postgres_logs_and_ledger(folds: Sequence[_Fold]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The log and ledger rows as asyncpg takes them: Decimal and datetime as they are."""
    logs = []
    executions = []
    for fold in folds:
        for change in fold.changes:
            logs.extend([(*row[:3], *row[4:]) for row in change.logs])
            if change.ledger is not None:
                executions.append(change.ledger[:5])
    return logs, executions


_SQLITE_UPDATE = sqlite_update()
_SQLITE_LOG = sqlite_insert("order_logs", LOG_COLUMNS)
_SQLITE_LEDGER = sqlite_insert("ledger", LEDGER_COLUMNS)
_POSTGRES_WRITE = postgres_write(POSTGRES_MARK)
_UPDATE_WIDTH = len(STATE_COLUMNS) + len(UPDATE_KEY)  # the arrays each update row makes for the statement
_POSTGRES_LOOKUP = "SELECT id, owner, version, change_seq FROM orders WHERE id = ANY($1::text[])"


def _settle(
    folds: dict[str, _Fold], unmatched: Sequence[str], stored: dict[str, tuple[str | None, int, int]], owner: str
) -> tuple[set[str], set[str]]:
    """Split the unmatched orders into already written by an earlier try (ours, at the new version) and lost."""
    already, lost = set(), set()
    for order_id in unmatched:
        row = stored.get(order_id)
        if row is not None and row[0] == owner and row[1] == folds[order_id].last.version:
            already.add(order_id)
        else:
            lost.add(order_id)
    return already, lost


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[Any]:
    """Rows as one list per column, the arrays `unnest` takes (empty lists for no rows)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


async def write_sqlite(driver: Any, batch: Sequence[Change], owner: str) -> BatchResult:
    """Write a batch on an aiosqlite connection; sqlite3 opens the transaction, the caller commits it.

    The rows are built here, on the loop, and each statement carries the whole batch
    (`executemany`), so a batch costs a fixed few trips to aiosqlite's thread, not one per row:
    the change sequence, the updates, the ledger and log rows. Each trip is a future, a queue and
    a wake-up through the loop's self-pipe, and on a loaded machine a wait to be scheduled. Only
    aiosqlite's public API is used. The paper account settles after, in the same transaction.
    """
    folds = _fold(batch)
    ids = list(folds)
    try:
        seq = int((await driver.execute_fetchall(_BUMP))[0][0])
        updates = []
        for order_id, fold in folds.items():
            last = fold.last
            # The state, the change mark, then WHERE id, version, owner.
            updates.append((*sqlite_state(last.state, last.updated_text), seq, order_id, fold.expected_version, owner))
        written = list(folds.values())
        lost: set[str] = set()
        if (await driver.executemany(_SQLITE_UPDATE, updates)).rowcount != len(updates):
            # Some rows did not match: only the rows this batch wrote get logs and ledger entries.
            stored = await _stored_sqlite(driver, ids)
            matched = {
                order_id
                for order_id, row in stored.items()
                if row[2] == seq and row[0] == owner and row[1] == folds[order_id].last.version
            }
            _already, lost = _settle(folds, [i for i in ids if i not in matched], stored, owner)
            written = [folds[order_id] for order_id in ids if order_id in matched]
        logs, executions = _sqlite_logs_and_ledger(written)
        if executions:
            await driver.executemany(_SQLITE_LEDGER, executions)
        if logs:
            await driver.executemany(_SQLITE_LOG, logs)
        # The paper account settles the written orders that ended, in this same transaction.
        await settle_sqlite(driver, [change for fold in written for change in fold.changes])
    except sqlite3.OperationalError as error:  # "database is locked" and its kin: retry the batch
        raise OperationalError(_SQLITE_UPDATE, None, error) from error
    return BatchResult(seq, lost)


async def _stored_sqlite(driver: Any, ids: list[str]) -> dict[str, tuple[str | None, int, int]]:
    """The stored (owner, version, change_seq) of the batch's orders, to tell written from lost."""
    stored: dict[str, tuple[str | None, int, int]] = {}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        marks = ", ".join("?" * len(chunk))
        query = f"SELECT id, owner, version, change_seq FROM orders WHERE id IN ({marks})"
        stored.update({row[0]: (row[1], row[2], row[3]) for row in await driver.execute_fetchall(query, chunk)})
    return stored


async def write_postgres(driver: Any, batch: Sequence[Change], owner: str) -> BatchResult:
    """Write a batch on an asyncpg connection in one transaction of its own.

    SQLAlchemy's asyncpg adapter only opens a transaction when it executes something itself, so
    the transaction is asyncpg's; the caller's SQLAlchemy commit then has nothing to do.
    """
    import asyncpg  # only PostgreSQL users pay for the import

    folds = _fold(batch)
    rows = [(*fold.last.state, order_id, fold.expected_version) for order_id, fold in folds.items()]
    logs, executions = _postgres_logs_and_ledger(list(folds.values()))
    updates = _columns(rows, _UPDATE_WIDTH)
    # Every order's log and ledger rows go along; the statement keeps those of the orders it updated.
    appended = _columns(logs, len(LOG_COLUMNS)) + _columns(executions, len(LEDGER_COLUMNS))
    try:
        async with driver.transaction():
            returned = await driver.fetch(_POSTGRES_WRITE, *updates, owner, *appended)
            matched = {row[0] for row in returned}
            seq = int(returned[0][1]) if returned else 0
            lost: set[str] = set()
            if len(matched) != len(folds):
                unmatched = [order_id for order_id in folds if order_id not in matched]
                found = await driver.fetch(_POSTGRES_LOOKUP, unmatched)
                stored = {row[0]: (row[1], row[2], row[3]) for row in found}
                _already, lost = _settle(folds, unmatched, stored, owner)
            # The paper account settles the written orders that ended, in this same transaction.
            await settle_postgres(driver, [change for i in folds if i in matched for change in folds[i].changes])
    except (
        OSError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.AdminShutdownError,
        asyncpg.exceptions.CrashShutdownError,
        asyncpg.exceptions.CannotConnectNowError,
        asyncpg.exceptions.InternalClientError,
    ) as error:
        # After a terminated backend the kept connection can be left mid-operation ("another
        # operation is in progress", InterfaceError or InternalClientError): it is unusable, not
        # misused. Invalidate it; the batch is one transaction and is retried on a fresh one.
        raise OperationalError(_POSTGRES_WRITE, None, error, connection_invalidated=True) from error
    return BatchResult(seq, lost)
