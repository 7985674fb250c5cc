"""The order, its states and the update message: the vocabulary every other module shares.

Field names and message keys follow docs/contract.md exactly; they are what external listeners parse.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


class OrderStatus(enum.StrEnum):
    PENDING = "PENDING"
    ROUTING = "ROUTING"
    BUILDING = "BUILDING"
    SUBMITTED = "SUBMITTED"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({OrderStatus.CONFIRMED, OrderStatus.FAILED, OrderStatus.CANCELLED})
ACTIVE_STATES = frozenset(set(OrderStatus) - TERMINAL_STATES)


class Direction(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Venue(enum.StrEnum):
    RAYDIUM = "raydium"
    METEORA = "meteora"


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and `Z`, the one timestamp shape of the contract."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # `isoformat` is C and truncates to milliseconds, as the contract's shape wants; it is on the hot path.
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def new_order_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of an order's log; logs only ever grow, so entries are immutable."""

    timestamp: datetime
    status: OrderStatus
    kind: str
    message: str
    data: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "timestamp": format_timestamp(self.timestamp),
            "status": str(self.status),
            "kind": self.kind,
            "message": self.message,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class Route:
    """What an attempt carries from BUILDING to SUBMITTED, kept so a restart can finish it.

    `signature` is the signed transaction's id: it is fixed when the transaction is built, so
    re-sending after a crash can never produce a second execution with a new hash.
    """

    venue: Venue
    quoted_price: Decimal
    signature: str

    def to_json(self) -> dict[str, Any]:
        return {"venue": str(self.venue), "quotedPrice": str(self.quoted_price), "signature": self.signature}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Route:
        return cls(Venue(data["venue"]), Decimal(data["quotedPrice"]), data["signature"])


@dataclass(frozen=True, slots=True)
class Order:
    """An order as stored: immutable snapshots make every announced state a consistent one."""

    id: str
    seq: int
    pair: str
    direction: Direction
    amount: Decimal
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    dex: Venue | None = None
    execution_price: Decimal | None = None
    tx_hash: str | None = None
    attempts: int = 0
    error: str | None = None
    logs: tuple[LogEntry, ...] = field(default=())
    route: Route | None = None
    # Ownership (see engine/lifecycle.py and the storage): every stored change bumps `version`,
    # and is written only if the stored version is still the one its writer read.
    version: int = 0
    owner: str | None = None
    retry_at: datetime | None = None

    def evolve(self, **changes: Any) -> Order:
        return replace(self, **changes)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def to_json(self, *, with_logs: bool = True) -> dict[str, Any]:
        """The order with docs/contract.md's field names, as `show --json` and `list --json` print it."""
        data: dict[str, Any] = {
            "id": self.id,
            "pair": self.pair,
            "amount": self.amount,
            "direction": str(self.direction),
            "status": str(self.status),
            "dex": str(self.dex) if self.dex else None,
            "executionPrice": self.execution_price,
            "txHash": self.tx_hash,
            "attempts": self.attempts,
            "error": self.error,
            "createdAt": format_timestamp(self.created_at),
            "updatedAt": format_timestamp(self.updated_at),
        }
        if with_logs:
            data["logs"] = [entry.to_json() for entry in self.logs]
        return data


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """One committed state change, as announced to the desk, the CLI and Redis.

    `message` is exactly the contract's update message; `order` is the committed snapshot and
    `new_logs` the log entries this change appended, for listeners that show more than the message.
    """

    message: dict[str, Any]
    order: Order
    new_logs: tuple[LogEntry, ...]
    # True for a change another process made, seen through the change feed: the Redis mirror
    # leaves it alone (that process published it), the desk shows it like any other.
    external: bool = False

    @property
    def order_id(self) -> str:
        return self.order.id

    @property
    def status(self) -> OrderStatus:
        return self.order.status


_ERROR_STATES = frozenset({OrderStatus.FAILED, OrderStatus.CANCELLED})


def update_message(
    order: Order,
    *,
    attempt: int | None = None,
    retry_in_ms: int | None = None,
) -> dict[str, Any]:
    """Build the contract's update message: the seed's keys, optional ones only when meaningful."""
    message: dict[str, Any] = {
        "orderId": order.id,
        "status": str(order.status),
        "timestamp": format_timestamp(order.updated_at),
    }
    if order.dex is not None:
        message["dex"] = str(order.dex)
    if order.execution_price is not None and order.status in (OrderStatus.BUILDING, OrderStatus.CONFIRMED):
        message["executionPrice"] = order.execution_price
    if order.status is OrderStatus.CONFIRMED and order.tx_hash:
        message["txHash"] = order.tx_hash
    if order.error is not None and (order.status in _ERROR_STATES or retry_in_ms is not None):
        message["error"] = order.error
    if attempt is not None:
        message["attempt"] = attempt
    if retry_in_ms is not None:
        message["retryInMs"] = retry_in_ms
    return message
