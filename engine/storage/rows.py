"""Conversions between stored rows and domain objects, in one place."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.domain import (
    MARKET_TERMS,
    Direction,
    LogEntry,
    Order,
    OrderStatus,
    OrderTerms,
    Route,
    Venue,
    format_timestamp,
)
from engine.model.jsonfmt import dumps, format_decimal, loads_exact
from engine.model.log_kinds import WAITING_AGAIN, infer_kind
from engine.storage.order_codec import STATE_NAMES, as_is, state_values


def order_row(order: Order) -> dict[str, Any]:
    """The whole row SQLAlchemy inserts at submission: the order's identity, then its state (order_codec)."""
    return {
        "id": order.id,
        "pair": order.pair,
        "direction": str(order.direction),
        "amount": order.amount,
        "created_at": order.created_at,
        "owner": order.owner,
        "user_label": order.user_label,
        "request_key": order.request_key,
        **dict(zip(STATE_NAMES, state_values(order, as_is, as_is), strict=True)),
    }


def log_rows(order_id: str, first_index: int, entries: Sequence[LogEntry]) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order_id,
            "idx": first_index + offset,
            "timestamp": entry.timestamp,
            "status": str(entry.status),
            "message": entry.message,
            "data": dumps(entry.data) if entry.data is not None else None,
            "kind": str(entry.kind),
        }
        for offset, entry in enumerate(entries)
    ]


def order_from_row(row: Mapping[Any, Any], logs: tuple[LogEntry, ...] = ()) -> Order:
    route = row["route"]
    return Order(
        id=row["id"],
        seq=row["seq"],
        pair=row["pair"],
        direction=Direction(row["direction"]),
        amount=row["amount"],
        status=OrderStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        dex=Venue(row["dex"]) if row["dex"] else None,
        execution_price=row["execution_price"],
        tx_hash=row["tx_hash"],
        attempts=row["attempts"],
        error=row["error"],
        logs=logs,
        route=Route.from_json(json.loads(route)) if route else None,
        version=row.get("version", 0),
        owner=row.get("owner"),
        retry_at=row.get("retry_at"),
        terms=terms_from_logs(logs) if logs else _terms_from_figures(row),
        trigger_time=trigger_time_from_logs(logs),
        user_label=row.get("user_label"),
        request_key=row.get("request_key"),
    )


def _terms_from_figures(row: Mapping[Any, Any]) -> OrderTerms:
    """Read without its logs, a CONFIRMED order still knows the price it was sent at: its stored figure.

    Slippage is measured against that price everywhere (engine/model/execution_figures.py `sent_price`),
    so a board row read from a list shows the number the CSV and the summary show.
    """
    sent = row.get("quoted_price")
    return MARKET_TERMS if sent is None else OrderTerms(quoted_price=sent)


def terms_from_logs(logs: Sequence[LogEntry]) -> OrderTerms:
    """An order's terms, kept in its first log entry (orders from 0.1.0 have none: market terms)."""
    if not logs or not logs[0].data or "terms" not in logs[0].data:
        return MARKET_TERMS
    return OrderTerms.from_json(logs[0].data["terms"])


def trigger_time_from_logs(logs: Sequence[LogEntry]) -> float | None:
    """The market time a limit order triggered at, if it did (a resumed order routes from there)."""
    for entry in reversed(logs):
        if entry.data and WAITING_AGAIN in entry.data:
            return None  # it missed its limit at landing and waits again
        if entry.data and "triggerPrice" in entry.data:
            return float(entry.data["marketTime"])
    return None


def log_from_row(row: Mapping[Any, Any]) -> LogEntry:
    data = row["data"]
    parsed = loads_exact(data) if data else None
    return LogEntry(
        timestamp=row["timestamp"],
        status=OrderStatus(row["status"]),
        kind=row.get("kind") or infer_kind(row["status"], row["message"], parsed),
        message=row["message"],
        data=parsed,
    )


def report_cells(row: Sequence[Any]) -> tuple[Any, ...]:
    """A report row from a database that returns Decimal and datetime (PostgreSQL): the contract's text."""
    return tuple(
        format_decimal(value)
        if isinstance(value, Decimal)
        else format_timestamp(value)
        if isinstance(value, datetime)
        else value
        for value in row
    )
