"""The group commit's statements (and the paper account's settlement), on the driver's own connection.

Profiling `dexdesk bench engine` showed the writer spending most of each batch in SQLAlchemy's
execute path rather than in the database, so rows are built once as plain tuples, already in the
stored representation, and handed to the driver. The representation must match
`engine.storage.schema` exactly, since every read still goes through SQLAlchemy: on SQLite decimals
and timestamps are the same text the TypeDecorators write; PostgreSQL gets the rows as JSON
(engine/storage/json_rows.py), a log line's moment as the text SQLite stores.

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
Driver errors are raised as SQLAlchemy's (SQLite's here, asyncpg's by `driver_errors`), so the store's
retry loop tries again whatever means "try again": a lock, a deadlock, a dropped connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import OperationalError

from engine.model.jsonfmt import format_decimal
from engine.storage.account_store import settle_postgres, settle_sqlite
from engine.storage.change_feed import POSTGRES_MARK
from engine.storage.changes import Change, LogRow
from engine.storage.driver_errors import postgres_errors
from engine.storage.json_rows import ready_rows_json, rows_json
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

# The change mark, and whether the paper account holds any reservation: asked in the same trip to
# aiosqlite's thread, under the write lock the bump takes, so nobody can reserve before the batch settles.
_BUMP = (
    "UPDATE change_counter SET value = value + 1 WHERE id = 1"
    " RETURNING value, EXISTS (SELECT 1 FROM account_reservations)"
)
_LOOKUP_CHUNK = 500


@dataclass(slots=True)
class BatchResult:
    """What a group commit did: its change feed marks (one per transaction) and the orders it could not write."""

    change_seqs: list[int]
    lost: set[str] = field(default_factory=set)
    settled: bool = False  # it settled the paper account (the next batch goes straight to a transaction)


@dataclass(slots=True)
class _Fold:
    """One order's changes in a batch, folded into one row update."""

    expected_version: int
    last: Change
    changes: list[Change]
    claim_at: datetime | None  # its first change claims the order (Change.claim_at)


def _fold(batch: Sequence[Change]) -> dict[str, _Fold]:
    folds: dict[str, _Fold] = {}
    for change in batch:
        fold = folds.get(change.order_id)
        if fold is None:
            folds[change.order_id] = _Fold(change.version - 1, change, [change], change.claim_at)
        else:
            fold.last = change
            fold.changes.append(change)
    return folds


def _log_rows(folds: Sequence[_Fold]) -> list[LogRow]:
    """Every log line of the folds' changes, as both databases take them (made once, upstream)."""
    return [row for fold in folds for change in fold.changes for row in change.logs]


def _sqlite_ledger(folds: Sequence[_Fold]) -> list[tuple[Any, ...]]:
    """The ledger rows as SQLite stores them: the price and the time as text."""
    return [
        (*ledger[:3], format_decimal(ledger[3]), ledger[5])
        for fold in folds
        for change in fold.changes
        if (ledger := change.ledger) is not None
    ]


def _postgres_ledger(folds: Sequence[_Fold]) -> list[tuple[Any, ...]]:
    """The ledger rows as `rows_json` takes them: Decimal and datetime as they are."""
    return [ledger[:5] for fold in folds for change in fold.changes if (ledger := change.ledger) is not None]


_SQLITE_UPDATE = sqlite_update()
_SQLITE_LOG = sqlite_insert("order_logs", LOG_COLUMNS)
_SQLITE_LEDGER = sqlite_insert("ledger", LEDGER_COLUMNS)
_POSTGRES_WRITE = postgres_write(POSTGRES_MARK)
_POSTGRES_GUARDED = postgres_write(POSTGRES_MARK, guarded=True)
_UPDATE_COLUMNS = (*STATE_COLUMNS, *UPDATE_KEY)
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
        [(mark, reserving)] = await driver.execute_fetchall(_BUMP)
        seq = int(mark)
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
        logs, executions = _log_rows(written), _sqlite_ledger(written)
        if executions:
            await driver.executemany(_SQLITE_LEDGER, executions)
        if logs:
            await driver.executemany(_SQLITE_LOG, logs)
        if reserving:
            # The paper account settles the written orders that ended, in this same transaction.
            await settle_sqlite(driver, [change for fold in written for change in fold.changes])
    except sqlite3.OperationalError as error:  # "database is locked" and its kin: retry the batch
        raise OperationalError(_SQLITE_UPDATE, None, error) from error
    return BatchResult([seq], lost)


async def _stored_sqlite(driver: Any, ids: list[str]) -> dict[str, tuple[str | None, int, int]]:
    """The stored (owner, version, change_seq) of the batch's orders, to tell written from lost."""
    stored: dict[str, tuple[str | None, int, int]] = {}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        marks = ", ".join("?" * len(chunk))
        query = f"SELECT id, owner, version, change_seq FROM orders WHERE id IN ({marks})"
        stored.update({row[0]: (row[1], row[2], row[3]) for row in await driver.execute_fetchall(query, chunk)})
    return stored


async def write_postgres(driver: Any, batch: Sequence[Change], owner: str, *, settling: bool = False) -> BatchResult:
    """Write a batch on an asyncpg connection: one statement, or one transaction where the account settles.

    A batch whose ending orders hold no paper-account reservation is one statement, which is atomic
    on its own, so it is sent alone: no BEGIN and COMMIT round trips (a cluster worker's commits are
    small, and those two trips were half of each). The guarded statement leaves the ending orders
    that do hold one untouched and names them; they are written again with their settlement in one
    transaction. `settling` (the last batch settled a reservation) goes straight to the transaction,
    so a desk on a paper account does not pay for the guarded statement every time.

    SQLAlchemy's asyncpg adapter only opens a transaction when it executes something itself, so
    the statement runs on its own (autocommit) and the transaction is asyncpg's; the caller's
    SQLAlchemy commit then has nothing to do.
    """
    folds = _fold(batch)
    ending = [order_id for order_id, fold in folds.items() if any(change.ended is not None for change in fold.changes)]
    with postgres_errors(_POSTGRES_WRITE):
        if settling and ending:
            return await _write_settling(driver, folds, owner)
        returned = await driver.fetch(_POSTGRES_GUARDED, *_statement_rows(folds, owner), ending)
        held = {row[0] for row in returned if row[2]}
        seqs = [int(row[1]) for row in returned if not row[2]][:1]
        lost = await _lost(driver, folds, {row[0] for row in returned if not row[2]} | held, owner)
        if held:
            settled = await _write_settling(driver, {order_id: folds[order_id] for order_id in held}, owner)
            return BatchResult(seqs + settled.change_seqs, lost | settled.lost, settled=settled.settled)
        return BatchResult(seqs, lost)


async def _write_settling(driver: Any, folds: dict[str, _Fold], owner: str) -> BatchResult:
    """The batch and the paper account's settlement of the orders it ends, in one transaction."""
    async with driver.transaction():
        returned = await driver.fetch(_POSTGRES_WRITE, *_statement_rows(folds, owner))
        matched = {row[0] for row in returned}
        lost = await _lost(driver, folds, matched, owner)
        # The paper account settles the written orders that ended, in this same transaction.
        settled = await settle_postgres(driver, [change for i in folds if i in matched for change in folds[i].changes])
    return BatchResult([int(row[1]) for row in returned[:1]], lost, settled=settled)


def _statement_rows(folds: dict[str, _Fold], owner: str) -> tuple[str, list[str], str, str, str]:
    """The statement's parameters: the update rows (the last state, the id, the version it was made
    from, when it claims the order), their ids, the owner, then every order's log and ledger rows
    (the statement keeps those of the orders it updated)."""
    updates = [(*fold.last.state, order_id, fold.expected_version, fold.claim_at) for order_id, fold in folds.items()]
    written = list(folds.values())
    return (
        rows_json(updates, _UPDATE_COLUMNS),
        list(folds),
        owner,
        ready_rows_json(_log_rows(written)),
        rows_json(_postgres_ledger(written), LEDGER_COLUMNS),
    )


async def _lost(driver: Any, folds: dict[str, _Fold], answered: set[str], owner: str) -> set[str]:
    """The orders the statement did not write that another writer took (not this batch's earlier try)."""
    if len(answered) == len(folds):
        return set()
    unmatched = [order_id for order_id in folds if order_id not in answered]
    found = await driver.fetch(_POSTGRES_LOOKUP, unmatched)
    _already, lost = _settle(folds, unmatched, {row[0]: (row[1], row[2], row[3]) for row in found}, owner)
    return lost
