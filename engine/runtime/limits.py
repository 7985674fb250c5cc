"""Waiting limit orders: watched against the market until their price is reached or they expire.

A limit order is stored PENDING and waits here, not in the queue: it holds none of the in-flight
slots and no rate-limit start until it triggers. The book looks at the market every half
simulated second (at time scale 0, whenever an order arrives or finishes, since only orders move
that market, and every half real second for expiries). When the best venue's effective price
for the order's size reaches the limit (BUY at or below, SELL at or above) the order logs the
trigger and joins the queue, where the normal pipeline runs it with the limit as its bound. If
its swap would land past the limit (the price moved between trigger and landing) nothing executes
and it comes back here to wait (engine/runtime/pipeline.py `_wait_again`), as a limit order does on any
venue; it triggers again only at a later market time. Past its expiry it ends FAILED with error
"expired", which releases what it reserved; the desk and the CSV show that as its own outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from engine.model.domain import Direction, Order, OrderStatus, OrderUpdate, format_timestamp
from engine.model.log_kinds import WAITING_AGAIN, LogKind
from engine.model.outcomes import EXPIRED
from engine.runtime.pipeline import Transitions
from engine.runtime.task_stop import stop_task
from engine.storage import OrderLost, StorageFailure
from engine.trading.router import Router

log = logging.getLogger(__name__)

CHECK_EVERY_S = 0.5


def last_missed_trigger(order: Order) -> float | None:
    """The market time of the trigger whose swap missed the limit, if that is the order's latest news."""
    for entry in reversed(order.logs):
        if entry.data and WAITING_AGAIN in entry.data:
            return float(entry.data[WAITING_AGAIN])
        if entry.data and "triggerPrice" in entry.data:
            return None
    return None


def limit_reached(direction: Direction, best_price: Decimal, limit: Decimal) -> bool:
    return best_price <= limit if direction is Direction.BUY else best_price >= limit


class LimitBook:
    """The waiting limit orders of one engine, and the task that watches them."""

    def __init__(
        self,
        transitions: Transitions,
        router: Router,
        next_seq: Callable[[], int],
        enqueue: Callable[[Order], None],
        save: Callable[[Order], None],
    ) -> None:
        self.transitions = transitions
        self.router = router
        self._next_seq = next_seq
        self._enqueue = enqueue
        self._save = save
        self._waiting: dict[str, Order] = {}
        # Orders that missed their limit at landing: the market time of that trigger, which they
        # must pass before triggering again.
        self._not_before: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Checked every turn too: 3.11's wait_for can swallow a cancel that lands as it times out.
        self._stopping = False

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._waiting

    def waiting(self) -> list[Order]:
        return list(self._waiting.values())

    def add(self, order: Order) -> None:
        self._waiting[order.id] = order
        missed = last_missed_trigger(order)
        if missed is not None:
            self._not_before[order.id] = missed
        self.poke()

    def poke(self) -> None:
        """Something happened that may have moved the market (at time scale 0, an order)."""
        self._wake.set()

    def forget(self, update: OrderUpdate) -> None:
        """A waiting order ended elsewhere (cancelled): stop watching it."""
        if update.status.is_terminal:
            self._waiting.pop(update.order_id, None)

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._watch(), name="dexdesk-limit-book")

    def stopping(self) -> bool:
        return self._stopping

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await stop_task(self._task)
            self._task = None

    async def _watch(self) -> None:
        clock = self.transitions.clock
        while not self._stopping:
            scale = clock.time_scale
            timeout = CHECK_EVERY_S * scale if scale > 0 else CHECK_EVERY_S
            self._wake.clear()
            if self._waiting:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            else:
                await self._wake.wait()
            if self.stopping():
                return
            try:
                await self.check()
            except StorageFailure:
                log.exception("a limit order's change could not be stored; it is checked again")

    async def check(self) -> None:
        """Trigger or expire every waiting order whose moment has come."""
        now = self.transitions.now()
        at = self.router.market.now(self._next_seq())
        for order in list(self._waiting.values()):
            if order.id not in self._waiting:
                continue
            try:
                await self._check_one(order, now, at)
            except OrderLost:
                # Cancelled (or taken over) by another writer as it triggered or expired: that
                # writer's state stands, and there is nothing wrong to report.
                self._waiting.pop(order.id, None)
                log.info("limit order %s changed elsewhere as it was checked; dropped here", order.id)
            except StorageFailure:
                raise
            except Exception as error:
                # One order's error is that order's outcome: the book goes on watching the others.
                self._waiting.pop(order.id, None)
                log.exception("limit order %s could not be checked; it fails and the book goes on", order.id)
                await self._fail(order, f"could not be priced: {error!r}")

    async def _check_one(self, order: Order, now: datetime, at: float) -> None:
        if has_expired(order, now):
            del self._waiting[order.id]
            await self._expire(order)
            return
        if at <= self._not_before.get(order.id, -1.0):
            return
        reached = limit_reached_at(self.router, order, at)
        if reached is not None:
            del self._waiting[order.id]
            self._not_before.pop(order.id, None)
            triggered = await trigger(self.transitions, order, reached, at)
            self._save(triggered)
            self._enqueue(triggered)

    async def _fail(self, order: Order, error: str) -> None:
        t = self.transitions
        entry = t.entry(OrderStatus.FAILED, LogKind.FAILED, f"failed: {error}; no swap was made", {"error": error})
        self._save(await t.apply(order, [entry], status=OrderStatus.FAILED, error=error))

    async def _expire(self, order: Order) -> None:
        self._save(await expire(self.transitions, order))


@dataclass(frozen=True, slots=True)
class Reached:
    """The quote that reached a limit order's price."""

    best: Decimal
    limit: Decimal
    venue: str


def limit_reached_at(router: Router, order: Order, at: float) -> Reached | None:
    """Whether the best venue's effective price for the order's size reaches its limit at market time `at`."""
    limit = order.terms.price_bound
    if limit is None:
        raise ValueError("a waiting limit order has no limit price")
    decision = router.quote_at(order.pair, order.amount, order.direction, at)
    best = decision.chosen.effective_price
    if limit_reached(order.direction, best, limit):
        return Reached(best, limit, str(decision.chosen.venue))
    return None


async def trigger(transitions: Transitions, order: Order, reached: Reached, at: float) -> Order:
    """Store the trigger (durable): the order then runs like a market order bound by its limit."""
    word = "at or below" if order.direction is Direction.BUY else "at or above"
    entry = transitions.entry(
        OrderStatus.PENDING,
        LogKind.LIMIT_TRIGGERED,
        f"limit reached: {reached.venue} at {reached.best} is {word} the limit {reached.limit}; queued",
        {"triggerPrice": reached.best, "limitPrice": reached.limit, "venue": reached.venue, "marketTime": at},
    )
    return await transitions.apply(order, [entry], trigger_time=at)


def has_expired(order: Order, now: datetime) -> bool:
    expires = order.terms.expires_at
    return expires is not None and now >= expires


async def expire(transitions: Transitions, order: Order) -> Order:
    """End a waiting limit order past its expiry: FAILED `expired`, which releases what it reserved."""
    expires = order.terms.expires_at
    assert expires is not None
    entry = transitions.entry(
        OrderStatus.FAILED,
        LogKind.EXPIRED,
        "limit order expired without reaching its price; no swap was made and its reserve is released",
        {"error": EXPIRED, "expiresAt": format_timestamp(expires)},
    )
    return await transitions.apply(order, [entry], status=OrderStatus.FAILED, error=EXPIRED)
