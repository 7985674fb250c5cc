"""One attempt of one order through the state machine: ROUTING → BUILDING → SUBMITTED → CONFIRMED.

Each step commits its new state, then announces it (`Transitions.apply_live`, in one pass that makes
the stored row and the message without an `Order` snapshot per state). ROUTING and BUILDING
are queued without waiting for their commit, so quoting and building overlap the write; the
transaction is not sent before SUBMITTED (and so everything before it) is stored, and nothing is
announced before it is stored. A failed attempt ends
in PENDING with a back-off, or in FAILED on the last attempt. A resumed order picks up from its
stored state: an order stored as SUBMITTED re-sends the same signed transaction, so it can land
once at most.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.model.domain import Order, OrderStatus, format_timestamp
from engine.model.log_kinds import WAITING_AGAIN, LogKind
from engine.runtime.live_order import LiveOrder
from engine.runtime.retry import RetryPolicy
from engine.runtime.transitions import Transitions
from engine.storage import StorageFailure
from engine.trading.router import Execution, LimitMissed, Quote, Router, SwapFailed

log = logging.getLogger(__name__)

__all__ = ["AttemptRunner", "Transitions"]  # Transitions lives in engine/runtime/transitions.py


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
        claim_on_write: bool = False,
    ) -> Order:
        """Run the order's next attempt; `save` receives its start's snapshot and its outcome's, once committed.

        The states in between are stored and announced without a snapshot (engine/runtime/transitions.py);
        the engine keeps the outcome, which the order's next attempt starts from.

        `started_at` is when a rate window counted this start (the cluster's, on the Redis
        server's clock), so the attempt's ROUTING update carries the very moment the window holds.
        `outcome_queued` is called once the attempt's last state (CONFIRMED, FAILED, or PENDING
        for a retry) is queued for commit: the queue may start the next order while this one
        waits for that commit, so the next order's first states join the same group commit.
        `claim_on_write`: `order` is a copy of the stored order that this process does not own yet;
        the attempt's first write claims it, and raises `OrderLost` (at SUBMITTED, before anything
        is sent) when the stored order is no longer that copy or another live process holds it.
        """
        live = LiveOrder(order)
        live.claims = claim_on_write
        try:
            await self._steps(live, save, started_at, outcome_queued)
        except LimitMissed as missed:
            return await self._wait_again(live, str(missed), save, outcome_queued)
        except SwapFailed as failure:
            await self._fail(live, str(failure), outcome_queued)
        except StorageFailure:
            raise
        except Exception as error:
            log.exception("attempt of order %s failed unexpectedly", order.id)
            await self._fail(live, f"internal error: {error!r}", outcome_queued)
        outcome = live.snapshot()
        save(outcome)
        return outcome

    async def _steps(
        self,
        live: LiveOrder,
        save: Callable[[Order], None],
        started_at: datetime | None,
        outcome_queued: Callable[[], None] | None,
    ) -> None:
        t = self.transitions
        order = live.base  # what the router reads (pair, amount, terms, seq) does not change in an attempt
        if live.status is OrderStatus.SUBMITTED and live.route is not None:
            # Resumed (its `resumed` entry is written when it is claimed): re-send the same signed transaction.
            return await self._execute(live, live.attempts, outcome_queued)

        resumed = live.status in (OrderStatus.ROUTING, OrderStatus.BUILDING) and live.attempts > 0
        attempt = live.attempts if resumed else live.attempts + 1
        note = " (resumed after restart)" if resumed else ""
        # One moment per step: its log lines and its stored state share the timestamp (one clock read).
        at = started_at or t.now()
        start = t.entry(
            OrderStatus.ROUTING,
            LogKind.ATTEMPT_STARTED,
            f"attempt {attempt} of {self.retry.attempts}{note}: fetching quotes from Raydium and Meteora",
            {"attempt": attempt, "attempts": self.retry.attempts, "resumed": resumed},
            at=at,
        )
        await t.apply_live(
            live,
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
        # The engine's copy stops reading PENDING as soon as the attempt starts ("cancel queued" leaves it).
        save(live.snapshot())
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
        await t.apply_live(
            live,
            logs,
            durable=False,
            at=at,
            status=OrderStatus.BUILDING,
            dex=chosen.venue,
            execution_price=chosen.effective_price,
            route=built.route,
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
        await t.apply_live(live, [sent], at=at, status=OrderStatus.SUBMITTED)
        return await self._execute(live, attempt, outcome_queued)

    async def _execute(self, live: LiveOrder, attempt: int, outcome_queued: Callable[[], None] | None) -> None:
        route = live.route
        assert route is not None
        execution: Execution = await self.router.execute(live.base, route, attempt)
        quoted = route.quoted_price
        slip = (execution.price - quoted) / quoted * 100 if quoted else Decimal(0)
        t = self.transitions
        at = t.now()
        data: dict[str, Any] = {"txHash": execution.tx_hash, "executionPrice": execution.price, "quotedPrice": quoted}
        where = str(route.venue)
        if execution.legs:
            # A split: each leg's executed price is kept on the route (the fee is each leg's own).
            route = replace(route, legs=execution.legs)
            data["legs"] = [leg.to_json() for leg in execution.legs]
            where = " + ".join(f"{leg.venue} {leg.amount} at {leg.executed_price}" for leg in execution.legs)
        if execution.hops:
            # Two hops: each hop's landed amounts are kept on the route (the intermediate nets to zero).
            route = replace(route, hops=execution.hops)
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
        await t.apply_live(
            live,
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

    async def _wait_again(
        self,
        live: LiveOrder,
        reason: str,
        save: Callable[[Order], None],
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
        data: dict[str, Any] = {"attempt": live.attempts, "reason": reason, WAITING_AGAIN: live.trigger_time or 0.0}
        if live.route is not None:
            data["signature"] = live.route.signature
        entry = t.entry(
            OrderStatus.PENDING,
            LogKind.LIMIT_WAITING,
            f"{reason}; nothing executed, back to waiting for the limit price",
            data,
        )
        await t.apply_live(
            live,
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
        waiting = live.snapshot()
        save(waiting)
        if self.wait_again is not None:
            self.wait_again(waiting)
        return waiting

    async def _fail(self, live: LiveOrder, reason: str, outcome_queued: Callable[[], None] | None) -> None:
        t = self.transitions
        attempt = live.attempts
        of = f"attempt {attempt} of {self.retry.attempts} failed: {reason}"
        backoff_ms = self.retry.backoff_ms(attempt)
        # The failed attempt's full signature stays in the log, for post-mortems on the chain.
        failed_data: dict[str, Any] = {"attempt": attempt}
        if live.route is not None:
            failed_data["signature"] = live.route.signature
        if backoff_ms is None:
            final = t.entry(
                OrderStatus.FAILED, LogKind.FAILED, f"{of}; no attempts left", {"error": reason, **failed_data}
            )
            # Nothing was executed: a quoted price must not read as a price paid (docs/contract.md).
            await t.apply_live(
                live,
                [final],
                queued=outcome_queued,
                status=OrderStatus.FAILED,
                error=reason,
                execution_price=None,
            )
            return
        # When the retry is due, stored, so a restart waits only what is left of the back-off.
        retry_at = t.now() + timedelta(seconds=backoff_ms / 1000 * t.clock.time_scale)
        retry = t.entry(
            OrderStatus.PENDING,
            LogKind.RETRY_SCHEDULED,
            f"{of}; retrying in {backoff_ms / 1000:g} s",
            {"error": reason, "retryInMs": backoff_ms, "retryAt": format_timestamp(retry_at), **failed_data},
        )
        await t.apply_live(
            live,
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
        self.schedule_retry(live.id, backoff_ms / 1000)


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
