"""Terms for orders read without their logs, so a waiting limit order shows its limit wherever it is listed.

Lists (the desk's history, another process's changes heard through the change feed) read order rows
without logs, and an order's terms live in its first log line (rows.terms_from_logs): a desk
watching another process's limit order showed it as a plain PENDING with no price. Only a PENDING
order not yet attempted (a limit order that missed at landing starts its attempts afresh) can be a
limit order waiting for its price, so only those have their first
line read (a primary-key lookup each); a limit order's other lines then tell whether it triggered.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.model.domain import Order, OrderStatus, OrderTerms, OrderType
from engine.model.jsonfmt import loads_exact
from engine.model.log_kinds import WAITING_AGAIN
from engine.storage.schema import order_logs

_CHUNK = 500
_SQLITE_FIRST_LINES = "SELECT order_id, data FROM order_logs WHERE idx = 0 AND order_id IN ({marks})"
_SQLITE_LINES = "SELECT order_id, data FROM order_logs WHERE order_id IN ({marks}) ORDER BY order_id, idx"


def _candidates(found: Sequence[Order]) -> list[str]:
    return [order.id for order in found if order.status is OrderStatus.PENDING and order.attempts == 0]


def _parsed(data: str | None) -> dict[str, object] | None:
    value = loads_exact(data) if data else None
    return value if isinstance(value, dict) else None


def _terms(first_lines: Iterable[tuple[str, str | None]]) -> dict[str, OrderTerms]:
    """The limit orders among the first lines, with their terms (a market order keeps the default)."""
    found: dict[str, OrderTerms] = {}
    for order_id, data in first_lines:
        parsed = _parsed(data)
        terms = parsed.get("terms") if parsed else None
        if isinstance(terms, dict):
            read = OrderTerms.from_json(terms)
            if read.type is OrderType.LIMIT:
                found[order_id] = read
    return found


def _triggers(lines: Iterable[tuple[str, str | None]]) -> dict[str, float]:
    """The market time each limit order triggered at, if it did (its last line carrying a trigger price)."""
    found: dict[str, float] = {}
    for order_id, data in lines:
        parsed = _parsed(data)
        if parsed and WAITING_AGAIN in parsed:
            found.pop(order_id, None)  # it missed its limit at landing and waits again
        elif parsed and "triggerPrice" in parsed and parsed.get("marketTime") is not None:
            found[order_id] = float(str(parsed["marketTime"]))
    return found


def _apply(found: list[Order], terms: dict[str, OrderTerms], triggers: dict[str, float]) -> list[Order]:
    if not terms:
        return found
    return [
        order.evolve(terms=terms[order.id], trigger_time=triggers.get(order.id)) if order.id in terms else order
        for order in found
    ]


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    return (ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK))


async def with_limit_terms(connection: AsyncConnection, found: list[Order]) -> list[Order]:
    """`found` with each waiting limit order's terms, read on `connection` (SQLAlchemy, either database)."""
    candidates = _candidates(found)
    if not candidates:
        return found
    terms: dict[str, OrderTerms] = {}
    for chunk in _chunks(candidates):
        query = select(order_logs.c.order_id, order_logs.c.data).where(
            order_logs.c.idx == 0, order_logs.c.order_id.in_(chunk)
        )
        terms.update(_terms((row[0], row[1]) for row in await connection.execute(query)))
    triggers: dict[str, float] = {}
    for chunk in _chunks(sorted(terms)):
        query = (
            select(order_logs.c.order_id, order_logs.c.data)
            .where(order_logs.c.order_id.in_(chunk))
            .order_by(order_logs.c.order_id, order_logs.c.idx)
        )
        triggers.update(_triggers((row[0], row[1]) for row in await connection.execute(query)))
    return _apply(found, terms, triggers)


def with_limit_terms_sqlite(connection: sqlite3.Connection, found: list[Order]) -> list[Order]:
    """The same on a plain `sqlite3` connection (the desk's history reader, in its worker thread)."""
    candidates = _candidates(found)
    if not candidates:
        return found
    terms: dict[str, OrderTerms] = {}
    for chunk in _chunks(candidates):
        sql = _SQLITE_FIRST_LINES.format(marks=", ".join("?" * len(chunk)))
        terms.update(_terms(connection.execute(sql, list(chunk))))
    triggers: dict[str, float] = {}
    for chunk in _chunks(sorted(terms)):
        sql = _SQLITE_LINES.format(marks=", ".join("?" * len(chunk)))
        triggers.update(_triggers(connection.execute(sql, list(chunk))))
    return _apply(found, terms, triggers)
