"""The engine: takes validated orders, stores them, runs them through the queue, announces updates.

Commands flow in (`submit`, `submit_many`, `reconfigure`, `stop`); committed updates flow out
through `hub`. Starting resumes every unfinished order first, oldest first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from engine.clock import Clock
from engine.domain import Direction, Order, OrderStatus, OrderUpdate, update_message
from engine.events import UpdateHub
from engine.pairs import PairCatalog, default_catalog
from engine.pipeline import AttemptRunner, Transitions
from engine.queue import InProcessQueue, OrderQueue, QueueSettings, QueueStats
from engine.reports import export_csv
from engine.router import MockDexRouter, Router, RouterSettings, RoutingDecision
from engine.storage import OrderStore, StorageFailure
from engine.validation import OrderRequest, validate_order

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StorageHealth:
    """What a status bar says about the database: which one, and the last transient error if any."""

    dialect: str
    url: str
    last_error: str | None


@dataclass(frozen=True, slots=True)
class EngineSettings:
    time_scale: float = 1.0
    queue: QueueSettings = field(default_factory=QueueSettings)
    router: RouterSettings = field(default_factory=RouterSettings)


class Engine:
    def __init__(
        self,
        store: OrderStore,
        settings: EngineSettings | None = None,
        *,
        catalog: PairCatalog | None = None,
        queue: OrderQueue | None = None,
    ) -> None:
        self.settings = settings or EngineSettings()
        self.store = store
        self.catalog = catalog or default_catalog()
        self.clock = Clock(self.settings.time_scale)
        self.hub = UpdateHub()
        self.router: Router = MockDexRouter(self.catalog, self.settings.router, self.clock)
        self.queue: OrderQueue = queue or InProcessQueue(self.settings.queue, self.clock)
        self._transitions = Transitions(store, self.hub, self.clock)
        self._runner = AttemptRunner(self._transitions, self.router, self.settings.queue.retry, self._retry_later)
        self._active: dict[str, Order] = {}
        self._terminal_waiters: dict[str, list[asyncio.Future[Order]]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._dispatcher: asyncio.Task[None] | None = None
        self.resumed = 0
        self._last_seq = 0

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> list[Order]:
        """Open storage, queue every unfinished order (oldest first), and start processing."""
        await self.store.open()
        unfinished = await self.store.unfinished()
        self._last_seq = await self.store.max_seq()
        for order in unfinished:
            self._track(order)
            self.queue.add(order.id)
        self.resumed = len(unfinished)
        if unfinished:
            log.info("resuming %d unfinished orders", len(unfinished))
        self._dispatcher = asyncio.create_task(self.queue.run(self._attempt), name="dexdesk-dispatcher")
        return unfinished

    async def stop(self) -> None:
        """Stop starting attempts, let the ones in flight finish, then close storage.

        Orders still queued or backing off stay stored as they are and resume on the next start.
        """
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
            self._dispatcher = None
        drain = getattr(self.queue, "drain_in_flight", None)
        if drain is not None:
            await drain()
        await self.store.close()

    def reconfigure(self, settings: EngineSettings) -> None:
        """Apply new numbers to the running engine; queued orders are kept."""
        self.settings = settings
        self.clock.time_scale = settings.time_scale
        self.router.settings = settings.router
        self.queue.reconfigure(settings.queue)
        self._runner.retry = settings.queue.retry

    # -- commands -------------------------------------------------------------------------

    def validate(self, pair: object, amount: object, direction: object) -> OrderRequest:
        return validate_order(pair, amount, direction, self.catalog)

    async def submit(self, pair: object, amount: object, direction: object) -> Order:
        """Validate, store as PENDING, announce, queue. Bad input raises InvalidOrder and stores nothing."""
        request = self.validate(pair, amount, direction)
        return (await self.submit_many([request]))[0]

    async def submit_many(self, requests: Iterable[OrderRequest]) -> list[Order]:
        """Store a batch of validated orders in one transaction, then queue them in order."""
        now = self._transitions.now()
        fresh = [request.to_order(now) for request in requests]
        stored = await self.store.insert(fresh)
        for order in stored:
            self._last_seq = max(self._last_seq, order.seq)
            self._track(order)
            self.hub.publish(OrderUpdate(update_message(order), order, order.logs))
            self.queue.add(order.id)
        return stored

    # -- observation ----------------------------------------------------------------------

    def active_orders(self) -> list[Order]:
        return list(self._active.values())

    def stats(self) -> QueueStats:
        return self.queue.stats()

    @property
    def seed(self) -> int:
        return self.settings.router.seed

    def storage_health(self) -> StorageHealth:
        return StorageHealth(self.store.dialect, self.store.display_url, self.store.last_error)

    async def order(self, order_id: str) -> Order | None:
        """One stored order with its whole log."""
        return await self.store.get(order_id)

    async def orders_page(
        self,
        *,
        limit: int,
        before_seq: int | None = None,
        status: OrderStatus | None = None,
        pair: str | None = None,
    ) -> list[Order]:
        """A page of stored orders without logs, newest first, older than `before_seq` when given."""
        return await self.store.list_orders(status=status, pair=pair, limit=limit, before_seq=before_seq)

    async def counts_by_status(self) -> dict[OrderStatus, int]:
        return await self.store.counts_by_status()

    async def export_csv(
        self,
        path: Path,
        *,
        status: OrderStatus | None = None,
        pair: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """The CSV report of every stored order that matches, streamed from storage."""
        return await export_csv(self.store, path, status=status, pair=pair, progress=progress)

    def indicative_quote(self, pair: str, amount: Decimal, direction: Direction) -> RoutingDecision:
        """Both venues' quotes for an order sent now, without storing or waiting for anything."""
        return self.router.indicative(pair, amount, direction, self._last_seq + 1)

    def subscribe(self, listener: Callable[[OrderUpdate], None]) -> Callable[[], None]:
        return self.hub.subscribe(listener)

    async def wait_terminal(self, order_id: str) -> Order:
        """Wait until the order is CONFIRMED or FAILED; returns at once if it already is."""
        if order_id not in self._active:
            stored = await self.store.get(order_id)
            if stored is None:
                raise KeyError(order_id)
            if stored.is_terminal or order_id not in self._active:
                return stored
        future: asyncio.Future[Order] = asyncio.get_running_loop().create_future()
        self._terminal_waiters.setdefault(order_id, []).append(future)
        return await future

    async def wait_idle(self) -> None:
        """Wait until no order is active: everything queued has reached a terminal state."""
        await self._idle.wait()

    # -- internals ------------------------------------------------------------------------

    def _track(self, order: Order) -> None:
        self._active[order.id] = order
        self._idle.clear()

    def _save(self, order: Order) -> None:
        if not order.is_terminal:
            self._active[order.id] = order
            return
        self._active.pop(order.id, None)
        log.info("order %s %s after %d attempt(s)", order.id, order.status, order.attempts)
        for future in self._terminal_waiters.pop(order.id, []):
            if not future.done():
                future.set_result(order)
        if not self._active:
            self._idle.set()

    def _retry_later(self, order_id: str, delay_s: float) -> None:
        self.queue.add_after(order_id, delay_s)

    async def _attempt(self, order_id: str) -> None:
        order = self._active.get(order_id)
        if order is None:
            return
        try:
            await self._runner.run(order, self._save)
        except StorageFailure:
            log.exception("order %s keeps its last stored state and resumes on the next start", order_id)


def engine_settings(
    *,
    time_scale: float = 1.0,
    concurrency: int = 10,
    rate_limit: int = 100,
    seed: int = 0,
    slippage_tolerance: Decimal | float | str = Decimal("0.01"),
    failure_rate: float = 0.05,
) -> EngineSettings:
    """The engine's numbers from the user's words (per-minute rate limit, 0 = off)."""
    return EngineSettings(
        time_scale=time_scale,
        queue=replace(QueueSettings(), concurrency=concurrency, limiter_max=rate_limit),
        router=replace(
            RouterSettings(), seed=seed, slippage_tolerance=Decimal(str(slippage_tolerance)), failure_rate=failure_rate
        ),
    )


__all__ = ["Direction", "Engine", "EngineSettings", "engine_settings"]
