"""The engine: takes validated orders, stores them, runs them through the queue, announces updates.

Commands flow in (`submit`, `submit_many`, `cancel`, `reconfigure`, `stop`); committed updates flow
out through `hub`, with other processes' changes to the same database (`external`). Starting
claims every unfinished order nobody else holds and resumes it, oldest first; each order is run by
exactly one engine at a time (its owner, see engine/storage/ownership.py), and a clean stop hands
back what it still holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from engine.account.model import reservation_for
from engine.model.domain import Direction, Order, OrderStatus, OrderTerms, OrderType, OrderUpdate, update_message
from engine.model.validation import OrderRequest, validate_order
from engine.runtime.assembly import EngineMode, build_core, in_process
from engine.runtime.coordination import Coordinator
from engine.runtime.engine_config import CancelResult, EngineSettings, StorageHealth, engine_settings, new_owner_id
from engine.runtime.engine_reads import EngineReads
from engine.runtime.engine_waits import EngineWaits
from engine.runtime.events import Snapshots
from engine.runtime.queue import OrderQueue, QueueStats
from engine.runtime.resume_note import resumed_entry
from engine.runtime.task_stop import stop_task
from engine.storage import OrderStore, cancels, ownership
from engine.storage.summary import SummaryCounter
from engine.trading.pairs import PairCatalog
from engine.trading.router import Router, worst_price

log = logging.getLogger(__name__)

INTERRUPTED_HAND_BACK_S = 1.0


class Engine(EngineReads, EngineWaits):
    def __init__(
        self,
        store: OrderStore,
        settings: EngineSettings | None = None,
        *,
        catalog: PairCatalog | None = None,
        owner_id: str | None = None,
        mode: EngineMode = in_process,
    ) -> None:
        """An engine on `store`; `mode` (engine/runtime/assembly.py) builds what it runs on, never the engine.

        `in_process` runs its orders here; app/assembly.py passes `cluster_producer(queue)` for one
        whose runner is in the workers.
        """
        self.settings = settings or EngineSettings()
        self.owner_id = owner_id or store.owner_id or new_owner_id()
        store.owner_id = self.owner_id
        self.store = store
        parts = mode(build_core(store, self.settings, catalog))
        core = parts.core
        self.catalog = core.catalog
        self.clock = core.clock
        self.hub = core.hub
        self.router: Router = core.router
        self._transitions = core.transitions
        self.queue: OrderQueue = parts.queue
        self._seq = parts.seq
        self._active = parts.active
        self.limits = parts.limits
        # The one order runner (engine/runtime/order_runner.py) with this mode's plugs; None in a producer.
        self.runner = parts.runner
        self._holder = parts.holder
        self._work = parts.work
        self._remote = parts.remote
        self._dispatcher: asyncio.Task[None] | None = None
        self.resumed = 0
        self._coordinator = Coordinator(
            store,
            self.clock,
            lease_s=self.settings.lease_s,
            feed_interval_s=self.settings.feed_interval_s,
            on_external=self._external,
            on_takeover=self._resume,
        )
        self._summary_counter = SummaryCounter()
        self.hub.subscribe(self.limits.forget, snapshots="none")

    @property
    def _last_seq(self) -> int:
        """The newest order seq known here (the market's position: the next order's quote is at `+ 1`)."""
        return self._seq.last

    @_last_seq.setter
    def _last_seq(self, value: int) -> None:
        self._seq.last = value

    # -- life cycle -----------------------------------------------------------------------

    async def open_for_reading(self) -> None:
        """Open storage without running anything (commands that read the account or quote)."""
        await self.store.open()
        self._last_seq = await self.store.max_seq()

    async def start(self) -> list[Order]:
        """Open storage, claim and queue every unfinished order nobody holds (oldest first), start processing."""
        await self.store.open()
        remote = self._remote
        if remote is not None:
            # A cluster producer: workers run (and resume) every order; this engine only submits
            # and passes on what the workers publish.
            self._last_seq = await self.store.max_seq()
            # Listening before the first submission: an order that ends at once is still heard.
            await remote.listen(self.store, self._heard_from_worker, self._active.ids, self._wants_worker_order)
            self._dispatcher = asyncio.create_task(self._work(), name="dexdesk-dispatcher")
            return []
        await self._coordinator.start()
        self._last_seq = await self.store.max_seq()
        claimed = await ownership.claim(self.store, now=self.clock.utc_now(), until=self._coordinator.lease_until())
        await self._resume(claimed)
        if claimed:
            log.info("resuming %d unfinished orders", len(claimed))
        self._dispatcher = asyncio.create_task(self._work(), name="dexdesk-dispatcher")
        self.limits.start()
        return claimed

    async def _resume(self, claimed: list[Order]) -> None:
        """Queue orders just claimed, each with a `resumed` log entry; a backed-off one waits what is left."""
        now = self._transitions.now()
        for order in claimed:
            if order.id in self._active:
                continue
            self.resumed += 1
            remaining_s = 0.0
            if order.status is OrderStatus.PENDING and order.retry_at is not None:
                remaining_s = max(0.0, (order.retry_at - now).total_seconds())
            entry = resumed_entry(self._transitions, order, self.owner_id, remaining_s)
            self._track(order)
            # Everything from here on acts on the order as stored with its `resumed` entry: the limit
            # book once held the copy from before it, and its expiry's log entry took the same place
            # in the log (UNIQUE constraint failed: order_logs), so the order never expired.
            resumed = await self._transitions.apply(order, [entry], durable=False)
            self._save(resumed)
            if remaining_s:
                scale = self.clock.time_scale
                self.queue.add_after(order.id, remaining_s if scale > 0 else 0.0)
            else:
                self._dispatch(resumed)

    async def stop(self, *, interrupted: bool = False) -> None:
        """Stop starting attempts, let the ones in flight finish, hand back the rest, close storage.

        Orders still queued or backing off stay stored as they are, unowned, so another process
        takes them at once (or the next start here resumes them). `interrupted` (Ctrl-C, SIGTERM):
        the attempts in flight stop where they stand instead (a swap takes 2-3 s, and an interrupted
        command ends within 2 s), and handing back waits at most `INTERRUPTED_HAND_BACK_S`; what is
        not handed back is taken over once its lease runs out.
        """
        await self.limits.stop()
        if self._dispatcher is not None:
            await stop_task(self._dispatcher)
            self._dispatcher = None
        await (self.queue.abandon_in_flight() if interrupted else self.queue.drain_in_flight())
        if self._holder is not None:
            await self._holder.close()
        await self._coordinator.stop()
        try:
            hand_back = self._hand_back()
            await (asyncio.wait_for(hand_back, INTERRUPTED_HAND_BACK_S) if interrupted else hand_back)
        except TimeoutError:
            log.info("unfinished orders not handed back in time; others take them when the lease runs out")
        await self.store.close()

    async def _hand_back(self) -> None:
        await self.store.flush()
        try:
            if self.store.fatal is None:  # a database that refused for good is not written again
                await ownership.release(self.store)
        except Exception:
            log.warning(
                "could not hand back unfinished orders; others take them when the lease runs out", exc_info=True
            )

    def reconfigure(self, settings: EngineSettings) -> None:
        """Apply new numbers to the running engine; queued orders are kept."""
        self.settings = settings
        self.clock.time_scale = settings.time_scale
        self.router.settings = settings.router
        self.queue.reconfigure(settings.queue)
        if self.runner is not None:
            self.runner.attempts.retry = settings.queue.retry

    # -- commands -------------------------------------------------------------------------

    def validate(self, pair: object, amount: object, direction: object, **terms: object) -> OrderRequest:
        """Check an order's input; `terms` are validate_order's type, limit_price, expires_in, slippage."""
        return validate_order(pair, amount, direction, self.catalog, **terms)

    async def submit(self, pair: object, amount: object, direction: object, **terms: object) -> Order:
        """Validate, store as PENDING, announce, queue. Bad input raises InvalidOrder and stores nothing."""
        request = self.validate(pair, amount, direction, **terms)
        return (await self.submit_many([request]))[0]

    async def submit_many(self, requests: Iterable[OrderRequest]) -> list[Order]:
        """Store a batch of validated orders in one transaction, then queue them in order.

        Idempotent per `OrderRequest.order_id`: an id already stored comes back as stored, with no
        second order made and nothing announced. A market order is bound by the quote it was sent
        from (the ticket's, or the engine's own quote now) widened by its slippage tolerance; a
        limit order by its limit. With a paper account a shortfall raises InvalidOrder, nothing stored.
        """
        now = self._transitions.now()
        requests = list(requests)
        remote = self._remote
        if remote is not None:
            # Refused before anything is stored: an order no worker would hear about is never kept.
            await remote.check()
        # A cluster producer stores its orders unowned: the worker that takes a job claims its order.
        owner = None if remote is not None else self.owner_id
        fresh = [
            request.to_order(now, self._terms(request, now, self._last_seq + 1 + index)).evolve(owner=owner)
            for index, request in enumerate(requests)
        ]
        reservations = [item for item in map(reservation_for, fresh) if item is not None]
        results = await self.store.insert(fresh, reservations)
        stored = []
        for order, created in results:
            stored.append(order)
            if not created or order.id in self._active:
                continue
            self._last_seq = max(self._last_seq, order.seq)
            if order.is_waiting_limit and remote is None:
                self._track(order)  # the limit book watches this very snapshot
            else:
                self._active.track_queued(order)  # whole, or its id alone in a long line (read back as it starts)
            self.hub.publish(OrderUpdate(update_message(order), order, order.logs))
            if remote is None:
                self._dispatch(order)
        if remote is not None:
            # Job id = order id: an order stored by an earlier try (its acknowledgement lost) is queued
            # again harmlessly, so a retried submission never leaves an order without a job.
            await remote.enqueue([order for order in stored if not order.is_terminal])
        else:
            self.limits.poke()
        return stored

    def _heard_from_worker(self, update: OrderUpdate) -> None:
        """A worker's update (cluster mode): this engine's own orders end here too, for `wait_terminal`/`wait_idle`.

        A change heard by its message alone leaves the snapshot kept here as it was (reads go to the
        database); an end heard so lets the order go, and has its order read back if anyone waits for it.
        """
        if update.order_id in self._active:
            if update.has_order:
                self._save(update.order)
            elif update.status.is_terminal:
                self._active.left(update.order_id, update.status)
        self.hub.publish(update)

    def _terms(self, request: OrderRequest, now: Any, next_seq: int) -> OrderTerms:
        if request.order_type is OrderType.LIMIT:
            return request.terms(now, None, None)
        quoted = request.quoted_price
        if quoted is None:
            decision = self.router.indicative(request.pair, request.amount, request.direction, next_seq)
            quoted = decision.chosen.effective_price
        tolerance = request.slippage if request.slippage is not None else self.settings.router.slippage_tolerance
        places = self.catalog[request.pair].price_decimals
        return request.terms(now, quoted, worst_price(quoted, request.direction, tolerance, places))

    def _dispatch(self, order: Order) -> None:
        """A limit order that has not triggered waits in the book; everything else joins the queue."""
        if order.is_waiting_limit:
            self.limits.add(order)
        else:
            self.queue.add(order.id)

    async def cancel(self, order_id: str) -> CancelResult:
        """Cancel an order whose swap has not been sent, whichever process runs it.

        One versioned write; the owner notices at its next write (or its next look at the change
        feed) and drops the order before sending any swap, since SUBMITTED is stored before sending.
        """
        [result] = await cancels.cancel(self.store, [order_id], now=self._transitions.now(), by=self._by())
        return self._cancelled(result)

    async def cancel_queued(self) -> int:
        """Cancel every order of this engine that waits without having started its swap (queued or backing off)."""
        waiting = self._active.pending_ids()
        if not waiting:
            return 0
        results = await cancels.cancel(self.store, waiting, now=self._transitions.now(), by=self._by())
        return sum(1 for result in results if self._cancelled(result).outcome == "cancelled")

    def _by(self) -> str:
        return f"process {self.owner_id}"

    def _cancelled(self, result: cancels.Cancelled) -> CancelResult:
        order = result.order
        if result.outcome == "unknown" or order is None:
            return CancelResult("unknown", "no order has this id", None)
        if result.outcome == "too_late":
            return CancelResult("too_late", cancels.too_late_reason(order.status), order)
        self.hub.publish(OrderUpdate(update_message(order), order, order.logs[-1:]))
        self.queue.discard({order.id})  # no ghost in the line: it would take a rate-limit start for nothing
        self._end(order)
        was = (order.logs[-1].data or {}).get("from", "a waiting state") if order.logs else "a waiting state"
        return CancelResult("cancelled", f"cancelled in {was}; no swap was sent", order)

    # -- observation ----------------------------------------------------------------------

    def active_orders(self) -> list[Order]:
        """Snapshots of the unfinished orders this engine owns and holds whole (started, resumed, waiting
        for a limit); an order only queued is held as its id until it starts, so `owned_count` counts them all."""
        return self._active.orders()

    def owned_count(self) -> int:
        return len(self._active)

    async def others_active_count(self) -> int:
        """Unfinished orders held by other live processes on the same database."""
        return await ownership.others_active(self.store, self.clock.utc_now())

    def stats(self) -> QueueStats:
        return self.queue.stats()

    def start_delay(self, count: int) -> float:
        """How long until `count` more orders would all have started: what a Burst is told before it is sent."""
        return self.queue.start_delay(count)

    def cluster_text(self) -> str | None:
        """The cluster's figures in one line (workers alive, queued, in flight, window), or None when not a cluster."""
        return self.queue.text

    def subscribe(
        self, listener: Callable[[OrderUpdate], None], *, snapshots: Snapshots = "every"
    ) -> Callable[[], None]:
        """Hear every committed update; `snapshots`: which of a cluster worker's `update.order` the listener reads
        (every change, ends, none: engine/runtime/events.py), so a producer reads back no more than that."""
        return self.hub.subscribe(listener, snapshots=snapshots)

    def _wants_worker_order(self, order_id: str, ended: bool) -> bool:
        """Whether a worker's change is handed on with its order read back: a listener or a waiter reads it."""
        wanted = self.hub.snapshots_wanted
        return wanted == "every" or (ended and (wanted == "ends" or self._active.waited(order_id)))

    # -- internals ------------------------------------------------------------------------

    def _track(self, order: Order) -> None:
        self._active.track(order)

    def _save(self, order: Order) -> None:
        self._active.save(order)

    def _end(self, order: Order) -> None:
        self._active.end(order)

    def _external(self, update: OrderUpdate) -> None:
        """Another process changed an order: announce it; if it was one of ours, it is ours no more."""
        order = update.order
        if order.id in self._active and order.owner != self.owner_id:
            log.warning("order %s was changed by another process (%s); dropped here", order.id, order.status)
            self._end(order)
        elif order.is_terminal:
            self._active.ended(order)
        self.hub.publish(update)


__all__ = [
    "CancelResult",
    "Direction",
    "Engine",
    "EngineSettings",
    "StorageHealth",
    "engine_settings",
    "new_owner_id",
]
