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
from typing import Any

from engine.account.model import parse_balances, reservation_for
from engine.account.view import AccountView, build_view
from engine.clock import Clock
from engine.domain import Direction, Order, OrderStatus, OrderTerms, OrderType, OrderUpdate, update_message
from engine.events import UpdateHub
from engine.limits import LimitBook
from engine.pairs import PairCatalog, default_catalog
from engine.pipeline import AttemptRunner, Transitions
from engine.queue import InProcessQueue, OrderQueue, QueueSettings, QueueStats
from engine.reports import export_csv
from engine.router import MockDexRouter, Router, RouterSettings, RoutingDecision, worst_price
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
        self.limits = LimitBook(self._transitions, self.router, lambda: self._last_seq + 1, self._enqueue, self._save)
        self.hub.subscribe(self.limits.forget)

    # -- life cycle -----------------------------------------------------------------------

    async def open_for_reading(self) -> None:
        """Open storage without running anything (commands that read the account or quote)."""
        await self.store.open()
        self._last_seq = await self.store.max_seq()

    async def start(self) -> list[Order]:
        """Open storage, queue every unfinished order (oldest first), and start processing."""
        await self.store.open()
        unfinished = await self.store.unfinished()
        self._last_seq = await self.store.max_seq()
        for order in unfinished:
            self._track(order)
            self._dispatch(order)
        self.resumed = len(unfinished)
        if unfinished:
            log.info("resuming %d unfinished orders", len(unfinished))
        self._dispatcher = asyncio.create_task(self.queue.run(self._attempt), name="dexdesk-dispatcher")
        self.limits.start()
        return unfinished

    async def stop(self) -> None:
        """Stop starting attempts, let the ones in flight finish, then close storage.

        Orders still queued or backing off stay stored as they are and resume on the next start.
        """
        await self.limits.stop()
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

    def validate(self, pair: object, amount: object, direction: object, **terms: object) -> OrderRequest:
        """Check an order's input; `terms` are validate_order's type, limit_price, expires_in, slippage."""
        return validate_order(pair, amount, direction, self.catalog, **terms)

    async def submit(self, pair: object, amount: object, direction: object, **terms: object) -> Order:
        """Validate, store as PENDING, announce, queue. Bad input raises InvalidOrder and stores nothing."""
        request = self.validate(pair, amount, direction, **terms)
        return (await self.submit_many([request]))[0]

    async def submit_many(self, requests: Iterable[OrderRequest]) -> list[Order]:
        """Store a batch of validated orders in one transaction, then queue them in order.

        A market order is bound by the quote it was sent from (the ticket's, or the engine's own
        quote now) widened by its slippage tolerance; a limit order by its limit.
        """
        now = self._transitions.now()
        fresh = [
            request.to_order(now, self._terms(request, now, self._last_seq + 1 + index))
            for index, request in enumerate(requests)
        ]
        reservations = [item for item in map(reservation_for, fresh) if item is not None]
        stored = await self.store.insert(fresh, reservations)
        for order in stored:
            self._last_seq = max(self._last_seq, order.seq)
            self._track(order)
            self.hub.publish(OrderUpdate(update_message(order), order, order.logs))
            self._dispatch(order)
        self.limits.poke()
        return stored

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
        if order.terms.type is OrderType.LIMIT and order.trigger_time is None and order.attempts == 0:
            self.limits.add(order)
        else:
            self.queue.add(order.id)

    async def cancel_limit(self, order_id: str) -> Order | None:
        """Cancel a limit order still waiting in this engine's book; None if it is not waiting here."""
        return await self.limits.cancel(order_id)

    def _enqueue(self, order: Order) -> None:
        self.queue.add(order.id)

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

    def indicative_quote(
        self, pair: str, amount: Decimal, direction: Direction, slippage: Decimal | None = None
    ) -> RoutingDecision:
        """What a market order sent now gets: the venue it routes to and the price, before the market moves.

        Send it with `OrderRequest.quoted_price` = the chosen effective price, and the order is
        bound to this quote widened by `slippage` (the router's tolerance when None).
        """
        return self.router.indicative(pair, amount, direction, self._last_seq + 1, slippage)

    def market_time(self) -> float:
        """The market's time now (engine/market.py), for charts that sample it."""
        return self.router.market.now(self._last_seq + 1)

    async def account(self) -> AccountView | None:
        """The paper account (balances, positions, PnL marked to the reference now), or None if not started."""
        found = await self.store.read_account()
        if found is None:
            return None
        started, balances, fills = found
        at = self.market_time()
        places = {spec.pair: Decimal(1).scaleb(-spec.price_decimals) for spec in self.catalog}

        def mark(pair: str) -> Decimal | None:
            spec = self.catalog.get(pair)
            if spec is None:
                return None
            return Decimal(repr(self.router.market.reference(spec, at))).quantize(places[pair])

        return build_view(started, balances, fills, mark)

    async def reset_account(self, balances: dict[str, Decimal] | str) -> None:
        """Start the paper account over (`"USDC=10000,SOL=10"` or a dict); bad text raises InvalidOrder."""
        parsed = parse_balances(balances) if isinstance(balances, str) else balances
        await self.store.reset_account(parsed, self._transitions.now())

    async def ensure_account(self, start: str) -> bool:
        """Start the paper account with `start` if there is none yet; True if it was started now."""
        if await self.store.read_account() is not None:
            return False
        await self.reset_account(start)
        return True

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
        self.limits.poke()

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
