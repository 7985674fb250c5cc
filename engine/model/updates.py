"""The update message and `OrderUpdate`: one committed state change, as every listener hears it.

Split from engine/model/domain.py, which re-exports both names: the message's keys follow
docs/contract.md exactly, since external listeners parse them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.domain import LogEntry, Order, OrderStatus, Venue, format_timestamp, parse_timestamp
from engine.model.jsonfmt import dumps


class OrderUpdate:
    """One committed state change, as announced to the desk, the CLI and Redis.

    `message` is exactly the contract's update message and `text` its JSON line, made once for
    every listener that sends it (the Redis mirror, the API's feed, `--json`); `order` is the
    committed snapshot and `new_logs` the log entries this change appended, for listeners that
    show more than the message. The engine's own pass (engine/runtime/live_order.py) announces
    without building a snapshot: `order` is then built on first use, from `build`, and kept, so
    only a listener that asks for one (the desk's board, a detail view) pays for it. `build` is one
    flat tuple, `(function, *arguments)`: an update kept by a listener holds one object more, not three.
    `order_id`, `status`, `version`, `attempts` and `updated_at` never need the snapshot.
    """

    __slots__ = (
        "_build",
        "_order",
        "_text",
        "attempts",
        "external",
        "message",
        "new_logs",
        "order_id",
        "status",
        "updated_at",
        "version",
    )

    def __init__(
        self,
        message: dict[str, Any],
        order: Order | None = None,
        new_logs: tuple[LogEntry, ...] = (),
        external: bool = False,
        *,
        build: tuple[Any, ...] | None = None,
        state: tuple[str, OrderStatus, int, int, datetime] | None = None,
        text: str | None = None,
    ) -> None:
        self.message = message
        self.new_logs = new_logs
        # True for a change another process made, seen through the change feed: the Redis mirror
        # leaves it alone (that process published it), the desk shows it like any other.
        self.external = external
        self._order = order
        self._build = build
        self._text = text
        if order is not None:
            state = (order.id, order.status, order.version, order.attempts, order.updated_at)
        if state is None:
            raise TypeError("OrderUpdate needs its order, or its state and a way to build the order")
        self.order_id, self.status, self.version, self.attempts, self.updated_at = state

    @classmethod
    def heard(cls, message: dict[str, Any], text: str) -> OrderUpdate:
        """Another process's change known by its message alone: a cluster worker's, heard on Redis.

        It has no snapshot (`has_order` is False; `order` refuses): a producer reads an order back
        only where a listener or a waiter reads it (engine/runtime/events.py).
        `version` is -1 (unknown) and `attempts` the message's `attempt` (0 when it has none).
        """
        status, updated_at = OrderStatus(message["status"]), parse_timestamp(str(message["timestamp"]))
        state = (str(message["orderId"]), status, -1, int(message.get("attempt", 0)), updated_at)
        return cls(message, None, (), True, state=state, text=text, build=())

    @property
    def has_order(self) -> bool:
        """False only for a change heard by its message alone (`heard`)."""
        return self._order is not None or bool(self._build)

    @property
    def order(self) -> Order:
        """The committed snapshot, built on first use when the update was announced without one."""
        order = self._order
        if order is None:
            if not self._build:
                raise LookupError(
                    f"order {self.order_id}: another process's change heard without its snapshot; "
                    'subscribe with snapshots="every" (or "ends") to have one'
                )
            function, *arguments = self._build
            order = self._order = function(*arguments)
            self._build = None
        return order

    @property
    def text(self) -> str:
        """The message as one compact JSON line, made once however many listeners send it."""
        text = self._text
        if text is None:
            text = self._text = dumps(self.message)
        return text

    def __repr__(self) -> str:
        return f"OrderUpdate({self.message!r}, external={self.external})"


_ERROR_STATES = frozenset({OrderStatus.FAILED, OrderStatus.CANCELLED})
_PRICED_STATES = frozenset({OrderStatus.BUILDING, OrderStatus.CONFIRMED})


def update_message(
    order: Order,
    *,
    attempt: int | None = None,
    retry_in_ms: int | None = None,
) -> dict[str, Any]:
    """Build the contract's update message: the seed's keys, optional ones only when meaningful."""
    return state_message(
        order.id,
        order.status,
        format_timestamp(order.updated_at),
        order.dex,
        order.execution_price,
        order.tx_hash,
        order.error,
        attempt=attempt,
        retry_in_ms=retry_in_ms,
    )


def state_message(
    order_id: str,
    status: OrderStatus,
    timestamp: str,
    dex: Venue | None,
    execution_price: Decimal | None,
    tx_hash: str | None,
    error: str | None,
    *,
    attempt: int | None = None,
    retry_in_ms: int | None = None,
) -> dict[str, Any]:
    """`update_message` from the state's values alone: the engine's pass has no snapshot to read them from."""
    message: dict[str, Any] = {"orderId": order_id, "status": str(status), "timestamp": timestamp}
    if dex is not None:
        message["dex"] = str(dex)
    if execution_price is not None and status in _PRICED_STATES:
        message["executionPrice"] = execution_price
    if status is OrderStatus.CONFIRMED and tx_hash:
        message["txHash"] = tx_hash
    if error is not None and (status in _ERROR_STATES or retry_in_ms is not None):
        message["error"] = error
    if attempt is not None:
        message["attempt"] = attempt
    if retry_in_ms is not None:
        message["retryInMs"] = retry_in_ms
    return message
