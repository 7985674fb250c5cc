"""The figures stored beside a CONFIRMED order, so reports and the summary read columns, not JSON.

Quoted price, slippage, notional and fee (exactly as the CSV's added columns show them) and the
milliseconds from submission to CONFIRMED are worked out once, by the write that stores the
order as CONFIRMED, and never change again. Before that every export parsed each confirmed row's
route JSON and redid the decimal maths (most of its time), and every first Summary made the
database extract the quoted price from JSON and sort 100,000 rows. Every other status stores
NULLs. Revision 0005 fills them in for the orders of older databases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.model.domain import Direction, Order, OrderStatus, parse_timestamp
from engine.model.execution_figures import order_fee, sent_price, settled_figures

FIGURE_COLUMNS = ("quoted_price", "slippage_bps", "notional", "fee", "confirm_ms")
NO_FIGURES: tuple[None, ...] = (None,) * len(FIGURE_COLUMNS)
_MILLISECOND = timedelta(milliseconds=1)


def figure_values(order: Order, decimal: Callable[[Decimal], Any]) -> tuple[Any, ...]:
    """The stored figures of an order, in FIGURE_COLUMNS' order; `decimal` turns a Decimal into the stored form."""
    price, route = order.execution_price, order.route
    if order.status is not OrderStatus.CONFIRMED or price is None or route is None:
        return NO_FIGURES
    return _values(
        order.direction,
        order.amount,
        order.dex,
        price,
        sent_price(order),
        order.created_at,
        order.updated_at,
        decimal,
        order_fee(order),
    )


def stored_figure_values(row: Any, decimal: Callable[[Decimal], Any]) -> tuple[Any, ...]:
    """The same from a stored row (status, direction, amount, dex, execution_price, route, created_at, updated_at).

    Reads what older releases stored: decimals and timestamps as text (SQLite) or as Decimal and
    datetime (PostgreSQL), and the route's quoted price from its JSON, as the report used to.
    """
    status, direction, amount, dex, price, route, created, updated = row
    if status != OrderStatus.CONFIRMED or price is None or price == "" or not route:
        return NO_FIGURES
    quoted_text = json.loads(route).get("quotedPrice")
    quoted = Decimal(quoted_text) if quoted_text else None
    return _values(
        Direction(direction),
        Decimal(amount),
        dex,
        Decimal(price),
        quoted,
        _moment(created),
        _moment(updated),
        decimal,
    )


def _values(
    direction: Direction,
    amount: Decimal,
    venue: Any,
    price: Decimal,
    quoted: Decimal | None,
    created: datetime,
    updated: datetime,
    decimal: Callable[[Decimal], Any],
    fee: Decimal | None = None,
) -> tuple[Any, ...]:
    figures = settled_figures(direction, amount, str(venue) if venue else None, price, quoted, fee)
    return (
        *(
            None if value is None else decimal(value)
            for value in (figures.quoted_price, figures.slippage_bps, figures.notional, figures.fee)
        ),
        round((updated - created) / _MILLISECOND),
    )


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else parse_timestamp(value)
