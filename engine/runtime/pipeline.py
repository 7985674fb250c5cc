"""One attempt of one order through the state machine: ROUTING → BUILDING → SUBMITTED → CONFIRMED.

Each step commits its new state, then announces it (`Transitions.apply`). ROUTING and BUILDING
are queued without waiting for their commit, so quoting and building overlap the write; the
transaction is not sent before SUBMITTED (and so everything before it) is stored, and nothing is
announced before it is stored. A failed attempt ends
in PENDING with a back-off, or in FAILED on the last attempt. A resumed order picks up from its
stored state: an order stored as SUBMITTED re-sends the same signed transaction, so it can land
once at most.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from engine.model.clock import Clock
from engine.model.domain import LogEntry, Order, OrderStatus, OrderUpdate, format_timestamp, update_message
from engine.model.lifecycle import check_transition
from engine.model.log_kinds import WAITING_AGAIN, LogKind
from engine.runtime.events import UpdateHub
from engine.runtime.retry import RetryPolicy
from engine.storage import Change, OrderStore, StorageFailure
from engine.trading.router import Execution, LimitMissed, Quote, Router, SwapFailed

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Transitions:
    """Commit-then-announce, the one way an order's state may change."""

    store: OrderStore
    hub: UpdateHub
    clock: Clock
    # Each order's latest change not yet known to be stored (or known to have failed: then every
    # later change of that order is refused by the store as well).
    _tail: dict[str, Change] = field(default_factory=dict)

    def now(self) -> datetime:
        """The clock's time to the millisecond, the precision every stored timestamp keeps."""
        moment = self.clock.utc_now()
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def entry(
        self,
        status: OrderStatus,
        kind: LogKind,
        message: str,
        data: dict[str, Any] | None = None,
        *,
        at: datetime | None = None,
    ) -> LogEntry:
        return LogEntry(at or self.now(), status, kind, message, data)

    async def apply(
        self,
        order: Order,
        logs: list[LogEntry],
        *,
        durable: bool = True,
        executed: bool = False,
        attempt: int | None = None,
        retry_in_ms: int | None = None,
        at: datetime | None = None,
        queued: Callable[[], None] | None = None,
        **changes: Any,
    ) -> Order:
        """Queue the new state for the group commit; announce it when, and only if, it is stored.

        With `durable` (the default) this returns once the state is stored and announced. Without,
        it returns at once, for steps whose next work has no effect outside the process; the
        store keeps one order's changes in order, so the next durable step covers this one.
        `queued` is called once the change is queued, before waiting for its commit.
        """
        new_logs = tuple(logs)
        if "status" in changes:
            check_transition(order.status, changes["status"])
        # One more than the version it was made from: the store writes it only over that version.
        updated = order.evolve(
            updated_at=at or self.now(), logs=order.logs + new_logs, version=order.version + 1, **changes
        )
        update = OrderUpdate(update_message(updated, attempt=attempt, retry_in_ms=retry_in_ms), updated, new_logs)
        change = Change(updated, new_logs, executed=executed, after=self._tail.get(order.id))
        self._tail[order.id] = change
        stored = self.store.enqueue(change)
        stored.add_done_callback(partial(self._announce, change, update))
        if queued is not None:
            queued()
        if durable:
            await stored
        return updated

    def forget(self, order_id: str) -> None:
        """The order left this engine (ended, cancelled, or lost to another process)."""
        self._tail.pop(order_id, None)

    def _announce(self, change: Change, update: OrderUpdate, stored: asyncio.Future[None]) -> None:
        if stored.cancelled() or stored.exception() is not None:
            return  # not stored, so never announced; the failed tail makes the store refuse what follows
        if self._tail.get(change.order.id) is change:
            del self._tail[change.order.id]
        self.hub.publish(update)


class AttemptRunner:
    def __init__(
        self,
        transitions: Transitions,
        router: Router,
        retry: RetryPolicy,
        schedule_retry: Callable[[str, float], None],
        wait_again: Callable[[Order], None] | None = None,
    ) -> None:
        self.transitions = transitions
        self.router = router
        self.retry = retry
        self.schedule_retry = schedule_retry
        # Where a triggered limit order that missed its limit goes back to wait (the limit book).
        self.wait_again = wait_again

    async def run(
        self,
        order: Order,
        save: Callable[[Order], None],
        *,
        started_at: datetime | None = None,
        outcome_queued: Callable[[], None] | None = None,
    ) -> Order:
        """Run the order's next attempt; `save` receives every committed snapshot.

        `started_at` is when a rate window counted this start (the cluster's, on the Redis
        server's clock), so the attempt's ROUTING update carries the very moment the window holds.
        `outcome_queued` is called once the attempt's last state (CONFIRMED, FAILED, or PENDING
        for a retry) is queued for commit: the queue may start the next order while this one
        waits for that commit, so the next order's first states join the same group commit.
        """
        latest = order

        def keep(committed: Order) -> Order:
            nonlocal latest
            latest = committed
            save(committed)
            return committed

        try:
            return await self._steps(order, keep, started_at, outcome_queued)
        except LimitMissed as missed:
            return await self._wait_again(latest, str(missed), keep, outcome_queued)
        except SwapFailed as failure:
            return await self._fail(latest, str(failure), keep, outcome_queued)
        except StorageFailure:
            raise
        except Exception as error:
            log.exception("attempt of order %s failed unexpectedly", order.id)
            return await self._fail(latest, f"internal error: {error!r}", keep, outcome_queued)

    async def _steps(
        self,
        order: Order,
        keep: Callable[[Order], Order],
        started_at: datetime | None,
        outcome_queued: Callable[[], None] | None,
    ) -> Order:
        t = self.transitions
        if order.status is OrderStatus.SUBMITTED and order.route is not None:
            # Resumed (its `resumed` entry is written when it is claimed): re-send the same signed transaction.
            return await self._execute(order, order.attempts, keep, outcome_queued)

        resumed = order.status in (OrderStatus.ROUTING, OrderStatus.BUILDING) and order.attempts > 0
        attempt = order.attempts if resumed else order.attempts + 1
        note = " (resumed after restart)" if resumed else ""
        # One moment per step: its log lines and its snapshot share the timestamp (one clock read).
        at = started_at or t.now()
        start = t.entry(
            OrderStatus.ROUTING,
            LogKind.ATTEMPT_STARTED,
            f"attempt {attempt} of {self.retry.attempts}{note}: fetching quotes from Raydium and Meteora",
            {"attempt": attempt, "attempts": self.retry.attempts, "resumed": resumed},
            at=at,
        )
        order = keep(
            await t.apply(
                order,
                [start],
                durable=False,
                at=at,
                status=OrderStatus.ROUTING,
                attempts=attempt,
                dex=None,
                execution_price=None,
                route=None,
                retry_at=None,
            )
        )
        decision = await self.router.route(order, attempt)
        built = self.router.prepare(order, decision, attempt)
        chosen = decision.chosen
        at = t.now()
        logs = [
            t.entry(OrderStatus.ROUTING, LogKind.QUOTE, _quote_line(quote), quote.to_json(), at=at)
            for quote in decision.quotes
        ]
        logs.append(t.entry(OrderStatus.ROUTING, LogKind.ROUTE_CHOSEN, decision.reason(), decision.to_json(), at=at))
        logs.append(
            t.entry(
                OrderStatus.BUILDING,
                LogKind.BUILT,
                f"building swap on {chosen.legs_text() or chosen.venue} at quoted {chosen.effective_price}",
                built.route.to_json(),
                at=at,
            )
        )
        logs.extend(t.entry(OrderStatus.BUILDING, LogKind.WRAP, text, {"action": text}, at=at) for text in built.notes)
        order = keep(
            await t.apply(
                order,
                logs,
                durable=False,
                at=at,
                status=OrderStatus.BUILDING,
                dex=chosen.venue,
                execution_price=chosen.effective_price,
                route=built.route,
            )
        )
        await self.router.build_delay()
        at = t.now()
        sent = t.entry(
            OrderStatus.SUBMITTED,
            LogKind.SUBMITTED,
            f"transaction {built.route.signature[:12]}… sent to {_venues_text(chosen)}; waiting for confirmation",
            {"signature": built.route.signature, "venue": str(chosen.venue)},
            at=at,
        )
        # Durable before sending: a restart finds the signed transaction and re-sends that one.
        order = keep(await t.apply(order, [sent], at=at, status=OrderStatus.SUBMITTED))
        return await self._execute(order, attempt, keep, outcome_queued)

    async def _execute(
        self,
        order: Order,
        attempt: int,
        keep: Callable[[Order], Order],
        outcome_queued: Callable[[], None] | None,
    ) -> Order:
        assert order.route is not None
        execution: Execution = await self.router.execute(order, order.route, attempt)
        quoted = order.route.quoted_price
        slip = (execution.price - quoted) / quoted * 100 if quoted else Decimal(0)
        t = self.transitions
        at = t.now()
        data: dict[str, Any] = {"txHash": execution.tx_hash, "executionPrice": execution.price, "quotedPrice": quoted}
        where = str(order.route.venue)
        route = order.route
        if execution.legs:
            # A split: each leg's executed price is kept on the route (the fee is each leg's own).
            route = replace(order.route, legs=execution.legs)
            data["legs"] = [leg.to_json() for leg in execution.legs]
            where = " + ".join(f"{leg.venue} {leg.amount} at {leg.executed_price}" for leg in execution.legs)
        if execution.hops:
            # Two hops: each hop's landed amounts are kept on the route (the intermediate nets to zero).
            route = replace(order.route, hops=execution.hops)
            data["hops"] = [hop.to_json() for hop in execution.hops]
            where = " then ".join(
                f"{hop.venue} {hop.amount_in} {hop.token_in} → {hop.amount_out} {hop.token_out}"
                for hop in execution.hops
            )
        confirmed = t.entry(
            OrderStatus.CONFIRMED,
            LogKind.CONFIRMED,
            f"confirmed on {where}: executed at {execution.price} (quoted {quoted}, {slip:+.3f}%)",
            data,
            at=at,
        )
        return keep(
            await t.apply(
                order,
                [confirmed],
                at=at,
                executed=True,
                queued=outcome_queued,
                status=OrderStatus.CONFIRMED,
                tx_hash=execution.tx_hash,
                execution_price=execution.price,
                route=route,
                error=None,
            )
        )

    async def _wait_again(
        self,
        order: Order,
        reason: str,
        keep: Callable[[Order], Order],
        outcome_queued: Callable[[], None] | None,
    ) -> Order:
        """A triggered limit order missed its limit at landing: back to waiting for its price.

        Nothing executed and nothing is wrong with the order, so this is no failed attempt: the
        order is PENDING in the limit book again, keeps its reserve and its expiry, and counts its
        attempts afresh when it next triggers (the router keys that attempt's signature by the
        new trigger, so no signature repeats).
        """
        t = self.transitions
        # The market time it triggered at: it triggers again only at a later one (at time scale 0
        # the market stands still between orders, and the same moment would miss the same way).
        data: dict[str, Any] = {"attempt": order.attempts, "reason": reason, WAITING_AGAIN: order.trigger_time or 0.0}
        if order.route is not None:
            data["signature"] = order.route.signature
        entry = t.entry(
            OrderStatus.PENDING,
            LogKind.LIMIT_WAITING,
            f"{reason}; nothing executed, back to waiting for the limit price",
            data,
        )
        waiting = keep(
            await t.apply(
                order,
                [entry],
                queued=outcome_queued,
                status=OrderStatus.PENDING,
                attempts=0,
                dex=None,
                route=None,
                execution_price=None,
                retry_at=None,
                trigger_time=None,
                error=None,
            )
        )
        if self.wait_again is not None:
            self.wait_again(waiting)
        return waiting

    async def _fail(
        self,
        order: Order,
        reason: str,
        keep: Callable[[Order], Order],
        outcome_queued: Callable[[], None] | None,
    ) -> Order:
        t = self.transitions
        attempt = order.attempts
        of = f"attempt {attempt} of {self.retry.attempts} failed: {reason}"
        backoff_ms = self.retry.backoff_ms(attempt)
        # The failed attempt's full signature stays in the log, for post-mortems on the chain.
        failed_data: dict[str, Any] = {"attempt": attempt}
        if order.route is not None:
            failed_data["signature"] = order.route.signature
        if backoff_ms is None:
            final = t.entry(
                OrderStatus.FAILED, LogKind.FAILED, f"{of}; no attempts left", {"error": reason, **failed_data}
            )
            # Nothing was executed: a quoted price must not read as a price paid (docs/contract.md).
            return keep(
                await t.apply(
                    order,
                    [final],
                    queued=outcome_queued,
                    status=OrderStatus.FAILED,
                    error=reason,
                    execution_price=None,
                )
            )
        # When the retry is due, stored, so a restart waits only what is left of the back-off.
        retry_at = t.now() + timedelta(seconds=backoff_ms / 1000 * t.clock.time_scale)
        retry = t.entry(
            OrderStatus.PENDING,
            LogKind.RETRY_SCHEDULED,
            f"{of}; retrying in {backoff_ms / 1000:g} s",
            {"error": reason, "retryInMs": backoff_ms, "retryAt": format_timestamp(retry_at), **failed_data},
        )
        pending = keep(
            await t.apply(
                order,
                [retry],
                attempt=attempt,
                retry_in_ms=backoff_ms,
                queued=outcome_queued,
                status=OrderStatus.PENDING,
                error=reason,
                route=None,
                execution_price=None,
                retry_at=retry_at,
            )
        )
        self.schedule_retry(order.id, backoff_ms / 1000)
        return pending


def _quote_line(quote: Quote) -> str:
    impact = quote.price_impact * 100
    return (
        f"{quote.venue} quote: {quote.effective_price} effective (pool {quote.pool_price}, "
        f"fee {quote.fee_rate * 100:.2f}%, impact {impact:.4f}%)"
    )


def _venues_text(chosen: Quote) -> str:
    """Where a swap was sent: one venue, a split's venues, or a two-hop route's in the order they trade."""
    if chosen.legs:
        return " + ".join(str(leg.venue) for leg in chosen.legs)
    if chosen.hops:
        return " then ".join(str(hop.venue) for hop in chosen.hops)
    return str(chosen.venue)
