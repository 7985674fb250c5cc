"""The paper account's tables and every write to them, each inside a transaction the store already runs.

Reserving happens in the transaction that inserts the orders (a shortfall rolls the insert
back: nothing is stored); settling and releasing happen in the group commit's transaction that
stores the orders' terminal states, driven by that batch's changes (`settle_sqlite`,
`settle_postgres`). So a balance never disagrees with the orders that moved it, whatever
crashes when. Decimals are computed in Python and stored exactly (text on SQLite, NUMERIC on
PostgreSQL), never added up in SQL as floats.

An account exists once it has been started (`dexdesk account reset`, the desk's Reset, or the
desk's first start): until then orders reserve nothing, as in 0.1.0.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, delete, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.account.model import Balance, Fill, Reservation, Shortfall, fill_for, settlement_deltas
from engine.model.domain import Direction, Order, format_timestamp, parse_timestamp
from engine.model.jsonfmt import dumps, format_decimal
from engine.storage.changes import Change
from engine.storage.schema import ExactDecimal, UtcTimestamp, metadata

account_meta = Table(
    "account_meta",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("value", Text, nullable=False),
)

account_balances = Table(
    "account_balances",
    metadata,
    Column("token", String(16), primary_key=True),
    Column("total", ExactDecimal, nullable=False),
    Column("reserved", ExactDecimal, nullable=False),
)

account_reservations = Table(
    "account_reservations",
    metadata,
    Column("order_id", String(36), ForeignKey("orders.id"), primary_key=True),
    Column("token", String(16), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
)

account_fills = Table(
    "account_fills",
    metadata,
    Column("order_id", String(36), ForeignKey("orders.id"), primary_key=True),
    Column("seq", Integer, nullable=False, index=True),
    Column("pair", String(32), nullable=False),
    Column("direction", String(4), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("notional", ExactDecimal, nullable=False),
    Column("fee", ExactDecimal, nullable=False),
    Column("venue", String(10), nullable=False),
    Column("executed_at", UtcTimestamp, nullable=False),
)

# The account_meta key whose row says a paper account exists (the intake lane asks for it by this key).
STARTED_KEY = "started_at"
_STARTED = STARTED_KEY
_START_BALANCES = "start_balances"


# -- in the insert's transaction (SQLAlchemy) -------------------------------------------------


async def account_exists(connection: AsyncConnection) -> bool:
    query = select(account_meta.c.value).where(account_meta.c.key == _STARTED)
    return (await connection.execute(query)).first() is not None


async def reserve(connection: AsyncConnection, reservations: Sequence[Reservation]) -> None:
    """Reserve for newly inserted orders, or raise Shortfall (the caller's transaction rolls back)."""
    if not reservations or not await account_exists(connection):
        return
    needed: dict[str, Decimal] = {}
    for item in reservations:
        needed[item.token] = needed.get(item.token, Decimal(0)) + item.amount
    query = select(account_balances).where(account_balances.c.token.in_(sorted(needed)))
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    rows = {row.token: Balance(row.token, row.total, row.reserved) for row in await connection.execute(query)}
    for token, amount in needed.items():
        balance = rows.get(token, Balance(token, Decimal(0), Decimal(0)))
        if amount > balance.available:
            raise Shortfall.of(token, amount, balance.available)
    for token, amount in needed.items():
        if token in rows:
            new_reserved = rows[token].reserved + amount
            await connection.execute(
                update(account_balances).where(account_balances.c.token == token).values(reserved=new_reserved)
            )
    await connection.execute(
        insert(account_reservations),
        [{"order_id": item.order_id, "token": item.token, "amount": item.amount} for item in reservations],
    )


async def release(connection: AsyncConnection, order_ids: Sequence[str]) -> None:
    """Release the reservations of orders that ended without a swap (cancelled outside the group commit)."""
    if not order_ids:
        return
    query = select(account_reservations).where(account_reservations.c.order_id.in_(list(order_ids)))
    held: dict[str, Decimal] = {}
    for row in await connection.execute(query):
        held[row.token] = held.get(row.token, Decimal(0)) + row.amount
    if not held:
        return
    balances = select(account_balances).where(account_balances.c.token.in_(sorted(held)))
    if connection.dialect.name == "postgresql":
        balances = balances.with_for_update()
    for row in list(await connection.execute(balances)):
        await connection.execute(
            update(account_balances)
            .where(account_balances.c.token == row.token)
            .values(reserved=row.reserved - held[row.token])
        )
    await connection.execute(delete(account_reservations).where(account_reservations.c.order_id.in_(list(order_ids))))


async def reset(
    connection: AsyncConnection, balances: dict[str, Decimal], now: datetime, market: dict[str, str] | None = None
) -> None:
    """Start the account over: these balances, nothing reserved, no fills; `market` is the
    account's market (engine/account/market.py `AccountMarket.to_meta`), kept beside its start.

    Orders still running keep going but no longer settle against the account (their reservation
    went with the old account).
    """
    await connection.execute(delete(account_reservations))
    await connection.execute(delete(account_fills))
    await connection.execute(delete(account_balances))
    await connection.execute(delete(account_meta))
    await connection.execute(
        insert(account_balances),
        [{"token": token, "total": amount, "reserved": Decimal(0)} for token, amount in balances.items()],
    )
    await connection.execute(
        insert(account_meta),
        [
            {"key": _STARTED, "value": format_timestamp(now)},
            {"key": _START_BALANCES, "value": dumps(balances)},
            *({"key": key, "value": value} for key, value in (market or {}).items()),
        ],
    )


async def read_account(connection: AsyncConnection) -> tuple[datetime, list[Balance], list[Fill]] | None:
    """The account's start, balances and fills (oldest first), or None if no account was started."""
    meta = {row.key: row.value for row in await connection.execute(select(account_meta))}
    if _STARTED not in meta:
        return None
    balances = [
        Balance(row.token, row.total, row.reserved)
        for row in await connection.execute(select(account_balances).order_by(account_balances.c.token))
    ]
    fills = [
        Fill(
            row.order_id,
            row.seq,
            row.pair,
            Direction(row.direction),
            row.amount,
            row.price,
            row.notional,
            row.fee,
            row.venue,
            row.executed_at,
        )
        # In fill (execution) order: average cost and realized PnL follow the fills as they
        # happened, not the order they were submitted in.
        for row in await connection.execute(
            select(account_fills).order_by(account_fills.c.executed_at, account_fills.c.seq)
        )
    ]
    return parse_timestamp(meta[_STARTED]), balances, fills


async def read_account_meta(connection: AsyncConnection) -> dict[str, str]:
    """The account's stored facts (its start, its market); empty if no account was started."""
    return {row.key: row.value for row in await connection.execute(select(account_meta))}


# -- in the group commit's transaction (driver connection) -----------------------------------


def _terminal(batch: Iterable[Change]) -> dict[str, Order]:
    return {change.order_id: change.ended for change in batch if change.ended is not None}


def _apply(
    ended: dict[str, Order], reserved: list[tuple[str, str, Any]], current: dict[str, tuple[Any, Any]]
) -> tuple[dict[str, tuple[Decimal, Decimal]], list[Fill]]:
    """New (total, reserved) per touched token, and the fills to record."""
    balances = {token: (Decimal(total), Decimal(held)) for token, (total, held) in current.items()}
    fills = []
    for order_id, token, amount in reserved:
        order = ended[order_id]
        for name, (total_delta, held_delta) in settlement_deltas(
            Reservation(order_id, token, Decimal(amount)), order
        ).items():
            total, held = balances.get(name, (Decimal(0), Decimal(0)))
            balances[name] = (total + total_delta, held + held_delta)
        fill = fill_for(order)
        if fill is not None:
            fills.append(fill)
    return balances, fills


def _tokens(ended: dict[str, Order], reserved: list[tuple[str, str, Any]]) -> list[str]:
    tokens = set()
    for order_id, token, _amount in reserved:
        tokens.add(token)
        tokens.update(ended[order_id].pair.split("-"))
    return sorted(tokens)


async def settle_sqlite(driver: Any, batch: Sequence[Change]) -> None:
    """Settle or release the reservations of the batch's orders that ended (aiosqlite connection)."""
    ended = _terminal(batch)
    if not ended:
        return
    try:
        reserved: list[tuple[str, str, Any]] = []
        ids = list(ended)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await driver.execute_fetchall(
                f"SELECT order_id, token, amount FROM account_reservations WHERE order_id IN ({marks})", chunk
            )
            reserved.extend(tuple(row) for row in rows)
        if not reserved:
            return
        tokens = _tokens(ended, reserved)
        marks = ", ".join("?" for _ in tokens)
        rows = await driver.execute_fetchall(
            f"SELECT token, total, reserved FROM account_balances WHERE token IN ({marks})", tokens
        )
        current = {row[0]: (row[1], row[2]) for row in rows}
        balances, fills = _apply(ended, reserved, current)
        await driver.executemany(
            "INSERT INTO account_balances (token, total, reserved) VALUES (?, ?, ?) "
            "ON CONFLICT (token) DO UPDATE SET total = excluded.total, reserved = excluded.reserved",
            [(token, format_decimal(total), format_decimal(held)) for token, (total, held) in balances.items()],
        )
        await driver.executemany(
            "DELETE FROM account_reservations WHERE order_id = ?", [(order_id,) for order_id, _t, _a in reserved]
        )
        if fills:
            rows = [_fill_row(fill, format_decimal, format_timestamp) for fill in fills]
            await driver.executemany(_FILL_SQL_SQLITE, rows)
    except sqlite3.OperationalError as error:
        raise OperationalError("settle", None, error) from error


async def settle_postgres(driver: Any, batch: Sequence[Change]) -> bool:
    """`settle_sqlite` on an asyncpg connection, inside the batch's transaction; balance rows locked.

    Whether any reservation was settled (the group commit expects the next batch to settle too).
    """
    ended = _terminal(batch)
    if not ended:
        return False
    rows = await driver.fetch(
        "SELECT order_id, token, amount FROM account_reservations WHERE order_id = ANY($1::text[])", list(ended)
    )
    reserved = [(row["order_id"], row["token"], row["amount"]) for row in rows]
    if not reserved:
        return False
    tokens = _tokens(ended, reserved)
    rows = await driver.fetch(
        "SELECT token, total, reserved FROM account_balances WHERE token = ANY($1::text[]) ORDER BY token FOR UPDATE",
        tokens,
    )
    current = {row["token"]: (row["total"], row["reserved"]) for row in rows}
    balances, fills = _apply(ended, reserved, current)
    await driver.executemany(
        "INSERT INTO account_balances (token, total, reserved) VALUES ($1, $2, $3) "
        "ON CONFLICT (token) DO UPDATE SET total = excluded.total, reserved = excluded.reserved",
        [(token, total, held) for token, (total, held) in balances.items()],
    )
    await driver.executemany(
        "DELETE FROM account_reservations WHERE order_id = $1", [(order_id,) for order_id, _t, _a in reserved]
    )
    if fills:
        await driver.executemany(_FILL_SQL_PG, [_fill_row(fill, _as_is, _as_is) for fill in fills])
    return True


_FILL_COLUMNS = ("order_id", "seq", "pair", "direction", "amount", "price", "notional", "fee", "venue", "executed_at")
_FILL_SQL_SQLITE = (
    f"INSERT INTO account_fills ({', '.join(_FILL_COLUMNS)}) VALUES ({', '.join('?' for _ in _FILL_COLUMNS)})"
)
_FILL_SQL_PG = (
    f"INSERT INTO account_fills ({', '.join(_FILL_COLUMNS)}) "
    f"VALUES ({', '.join(f'${index}' for index in range(1, len(_FILL_COLUMNS) + 1))})"
)


def _as_is(value: Any) -> Any:
    return value


def _fill_row(fill: Fill, decimal: Any, timestamp: Any) -> tuple[Any, ...]:
    return (
        fill.order_id,
        fill.seq,
        fill.pair,
        str(fill.direction),
        decimal(fill.amount),
        decimal(fill.price),
        decimal(fill.notional),
        decimal(fill.fee),
        fill.venue,
        timestamp(fill.executed_at),
    )
