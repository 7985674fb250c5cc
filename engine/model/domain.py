"""The order, its states and the update message: the vocabulary every other module shares.

Field names and message keys follow docs/contract.md exactly; they are what external listeners parse.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any


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


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"


def utc_now() -> datetime:
    return datetime.now(UTC)


_last_formatted: list[tuple[datetime, str]] = [(datetime.min.replace(tzinfo=UTC), "")]


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and `Z`, the one timestamp shape of the contract.

    On the hot path: one state change formats its moment for its row, its log lines and its
    message, so the last moment's text is kept and handed out again.
    """
    last, text = _last_formatted[0]
    if moment == last:  # the same instant has the same UTC text (naive never equals aware)
        return text
    given = moment
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # `isoformat` is C and truncates to milliseconds, as the contract's shape wants.
    text = moment.isoformat(timespec="milliseconds")[:23] + "Z"
    _last_formatted[0] = (given, text)
    return text


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
class OrderTerms:
    """What the trader agreed to when sending the order; fixed for the order's life.

    `price_bound` is the worst execution price accepted (BUY: the most paid per BASE, SELL: the
    least received): the quote the trader saw widened by the slippage tolerance for a market
    order, the limit price for a limit order. It is what the paper account reserves against, so
    an execution can never spend more than was reserved. Orders stored before 0.2 have none and
    are bound by the router's tolerance around their routing quote, as then.
    """

    type: OrderType = OrderType.MARKET
    price_bound: Decimal | None = None
    quoted_price: Decimal | None = None
    slippage: Decimal | None = None
    expires_at: datetime | None = None

    @property
    def limit_price(self) -> Decimal | None:
        return self.price_bound if self.type is OrderType.LIMIT else None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": str(self.type)}
        if self.price_bound is not None:
            data["priceBound"] = self.price_bound
        if self.quoted_price is not None:
            data["quotedPrice"] = self.quoted_price
        if self.slippage is not None:
            data["slippage"] = self.slippage
        if self.expires_at is not None:
            data["expiresAt"] = format_timestamp(self.expires_at)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderTerms:
        def decimal(key: str) -> Decimal | None:
            value = data.get(key)
            return None if value is None else Decimal(str(value))

        expires = data.get("expiresAt")
        return cls(
            type=OrderType(data.get("type", "market")),
            price_bound=decimal("priceBound"),
            quoted_price=decimal("quotedPrice"),
            slippage=decimal("slippage"),
            expires_at=parse_timestamp(expires) if expires else None,
        )


MARKET_TERMS = OrderTerms()


@dataclass(frozen=True, slots=True)
class RouteLeg:
    """One venue's part of a split order: its amount, its quoted price and, once landed, its executed one."""

    venue: Venue
    amount: Decimal
    quoted_price: Decimal
    executed_price: Decimal | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "venue": str(self.venue),
            "amount": str(self.amount),
            "quotedPrice": str(self.quoted_price),
        }
        if self.executed_price is not None:
            data["executedPrice"] = str(self.executed_price)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RouteLeg:
        executed = data.get("executedPrice")
        return cls(
            Venue(data["venue"]),
            Decimal(str(data["amount"])),
            Decimal(str(data["quotedPrice"])),
            Decimal(str(executed)) if executed is not None else None,
        )


@dataclass(frozen=True, slots=True)
class RouteHop:
    """One hop of a two-hop route (engine/trading/hops.py): a listed pair's pool on one venue, the tokens
    in the order they flow and the amounts quoted, and once landed, the amounts executed."""

    pair: str
    venue: Venue
    token_in: str
    token_out: str
    amount_in: Decimal
    amount_out: Decimal
    price: Decimal
    fee: Decimal
    price_impact: Decimal
    executed: bool = False  # the amounts and price above are the landed ones

    def to_json(self) -> dict[str, Any]:
        return {
            "pair": self.pair,
            "venue": str(self.venue),
            "tokenIn": self.token_in,
            "tokenOut": self.token_out,
            "amountIn": str(self.amount_in),
            "amountOut": str(self.amount_out),
            "price": str(self.price),
            "fee": str(self.fee),
            "priceImpact": str(self.price_impact),
            "executed": self.executed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RouteHop:
        return cls(
            data["pair"],
            Venue(data["venue"]),
            data["tokenIn"],
            data["tokenOut"],
            Decimal(str(data["amountIn"])),
            Decimal(str(data["amountOut"])),
            Decimal(str(data["price"])),
            Decimal(str(data["fee"])),
            Decimal(str(data["priceImpact"])),
            bool(data.get("executed", False)),
        )


@dataclass(frozen=True, slots=True)
class Route:
    """What an attempt carries from BUILDING to SUBMITTED, kept so a restart can finish it.

    `signature` is the signed transaction's id: it is fixed when the transaction is built, so
    re-sending after a crash can never produce a second execution with a new hash.
    """

    venue: Venue
    quoted_price: Decimal
    signature: str
    # The market time the route was quoted at (engine/trading/market.py); a resumed swap executes after it.
    market_time: float | None = None
    # A split order's legs (engine/trading/router.py); empty for a single-venue route, whose venue is `venue`.
    legs: tuple[RouteLeg, ...] = ()
    # A two-hop route's hops in the order the tokens flow (engine/trading/hops.py); `venue` is the first's.
    hops: tuple[RouteHop, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "venue": str(self.venue),
            "quotedPrice": str(self.quoted_price),
            "signature": self.signature,
        }
        if self.market_time is not None:
            data["marketTime"] = self.market_time
        if self.legs:
            data["legs"] = [leg.to_json() for leg in self.legs]
        if self.hops:
            data["hops"] = [hop.to_json() for hop in self.hops]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Route:
        moment = data.get("marketTime")
        return cls(
            Venue(data["venue"]),
            Decimal(data["quotedPrice"]),
            data["signature"],
            float(moment) if moment is not None else None,
            tuple(RouteLeg.from_json(leg) for leg in data.get("legs") or ()),
            tuple(RouteHop.from_json(hop) for hop in data.get("hops") or ()),
        )


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
    # Ownership (see engine/model/lifecycle.py and the storage): every stored change bumps `version`,
    # and is written only if the stored version is still the one its writer read.
    version: int = 0
    owner: str | None = None
    retry_at: datetime | None = None
    # Kept in the order's first log entry (its terms never change); default for orders read without logs.
    terms: OrderTerms = MARKET_TERMS
    # Market time a waiting limit order triggered at (engine/trading/market.py); it routes from then on.
    trigger_time: float | None = None
    # A client's own label for the order (the API's `userId`), and the fingerprint of the API request
    # that made it under an Idempotency-Key (engine/api/idempotency.py); both None otherwise.
    user_label: str | None = None
    request_key: str | None = None

    def evolve(self, **changes: Any) -> Order:
        """A copy with `changes`: what `dataclasses.replace` does, at a fifth of its cost.

        Every state change makes one (several per order on the engine's hot path); `replace`
        walks the fields' metadata each time, this reads the values in one C call.
        """
        values = list(_order_values(self))
        try:
            for name, value in changes.items():
                values[_ORDER_INDEX[name]] = value
        except KeyError as missing:
            raise TypeError(f"Order has no field {missing}") from None
        return Order(*values)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def is_waiting_limit(self) -> bool:
        """A limit order watching the market: PENDING, in no queue, until its price is reached.

        The one definition the engine (which book an order goes to), the board and the chart share;
        the book that watches such an order is engine/runtime/limits.py.
        """
        return (
            self.status is OrderStatus.PENDING
            and self.terms.type is OrderType.LIMIT
            and self.trigger_time is None
            and self.attempts == 0
        )

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
        if self.user_label is not None:
            data["userId"] = self.user_label
        if with_logs:
            data["logs"] = [entry.to_json() for entry in self.logs]
        return data


_ORDER_INDEX = {item.name: index for index, item in enumerate(fields(Order))}
_order_values = attrgetter(*_ORDER_INDEX)


# The update message and `OrderUpdate` live in engine/model/updates.py (this module stays the order's
# vocabulary); every module imports them from here, as before the split.
if TYPE_CHECKING:
    pass

_MOVED = frozenset({"OrderUpdate", "state_message", "update_message"})


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from engine.model import updates

        return getattr(updates, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
