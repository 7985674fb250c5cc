"""The order queue behind a small interface; the in-process one is the order runner's in-process transport.

The interface speaks BullMQ's words: `concurrency`, a `limiter` of `max` starts per `duration`,
`attempts` and exponential `backoff`. The in-process queue below is FIFO by submission; a retry
whose back-off has run out goes to the head of the line, since it has already waited its turn.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from engine.model.clock import Clock
from engine.model.domain import Order, OrderUpdate
from engine.runtime.ratelimit import SlidingWindowLimiter
from engine.runtime.retry import RetryPolicy
from engine.runtime.runner_ports import Turn

if TYPE_CHECKING:
    from engine.runtime.order_runner import OrderRunner
    from engine.storage import OrderStore


@dataclass(frozen=True, slots=True)
class QueueSettings:
    concurrency: int = 10
    limiter_max: int = 100
    limiter_duration_s: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True, slots=True)
class QueueStats:
    waiting: int
    delayed: int
    in_flight: int
    concurrency: int
    window_used: int
    window_max: int
    next_start_in_s: float | None = None
    """When the rate limit holds orders back: seconds until the next one may start."""
    drain_in_s: float | None = None
    """Seconds until the last queued order starts: exact by the rate limit when it holds orders back,
    else estimated from how long recent attempts held their slots (None while nothing is known)."""


class OrderQueue(Protocol):
    """What the engine needs from a queue; nothing here knows about routing or states.

    Two kinds: `InProcessQueue`, whose `run` starts this engine's attempts, and a cluster's queue
    (engine/cluster/remote.py, a `ProducerQueue`), whose workers run them. The engine asks only what
    is written here, never which kind it has: its mode (engine/runtime/assembly.py) told it whether
    its orders go to a cluster and what keeps the queue going.
    """

    settings: QueueSettings

    @property
    def text(self) -> str | None:
        """One line for a status bar about a cluster (workers, queued, in flight), or None."""

    def discard(self, order_ids: set[str]) -> None:
        """Forget cancelled orders still waiting in line, so none takes a rate-limit start for nothing."""

    def upcoming(self, count: int) -> list[str]:
        """The ids next in line (at most `count`), so their rows can be read in one go as the first starts."""

    def start_delay(self, count: int) -> float:
        """Seconds until `count` more orders (behind everything queued) have all started, by the rate limit."""

    def outcome_queued(self) -> None:
        """The running attempt's last state is queued for commit: its slot may start the next order."""

    async def drain_in_flight(self) -> None:
        """Let attempts already started finish (a clean stop never abandons a swap mid-flight)."""

    async def abandon_in_flight(self) -> None:
        """Stop the attempts in flight where they stand (an interrupted command ends within 2 s)."""

    def add(self, order_id: str) -> None:
        """Queue an order's next attempt at the back of the line."""

    def add_after(self, order_id: str, delay_s: float) -> None:
        """Queue a retry once its back-off has passed (`delay_s` real seconds, on the loop's clock)."""

    def stats(self) -> QueueStats: ...

    def reconfigure(self, settings: QueueSettings) -> None:
        """Apply new concurrency and limiter numbers without dropping anything queued."""


class RemoteQueue(Protocol):
    """A queue whose orders other processes run (the cluster): checked before storing, fed after."""

    async def check(self) -> None:
        """Raise (one line for the user) if an order stored now could not be queued."""

    async def enqueue(self, orders: Sequence[Order]) -> None:
        """Queue orders just stored for the workers, in order; repeated ids are no-ops."""

    async def listen(
        self,
        store: OrderStore,
        publish: Callable[[OrderUpdate], None],
        following: Callable[[], Sequence[str]],
        wants_order: Callable[[str, bool], bool],
    ) -> None:
        """Start hearing the workers' updates (each passed to `publish`).

        A change comes with its order as stored where `wants_order(order id, ended)` says so, else
        by its message alone (`OrderUpdate.heard`). Returns once listening; an order of
        `following()` that ended unheard (a lost message, a Redis reconnect) is still published
        from the database within about two seconds.
        """


class ProducerQueue(OrderQueue, RemoteQueue, Protocol):
    """A cluster producer's queue: an `OrderQueue` to the engine, fed after storing, and followed while it runs."""

    async def run(self) -> None:
        """Hear the workers' updates and keep the cluster's figures fresh until cancelled."""


class InProcessQueue:
    """An asyncio queue with a concurrency cap: the in-process `Transport` of the order runner.

    Its dispatcher admits one order at a time (the runner's claim and start gate, the sliding
    window), so starts keep the line's exact order, and runs the admitted attempts concurrently.
    """

    text: str | None = None  # no cluster to describe

    def __init__(self, settings: QueueSettings, clock: Clock, limiter: SlidingWindowLimiter | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.limiter = limiter or SlidingWindowLimiter(clock, settings.limiter_max, settings.limiter_duration_s)
        self._waiting: deque[str] = deque()
        self._delayed: set[asyncio.Task[None]] = set()
        self._delayed_by_id: dict[str, asyncio.Task[None]] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        # Attempts whose outcome is queued for the group commit: they only wait for it and announce,
        # so they no longer hold a slot (the next order's first states join the same commit).
        self._settling: set[asyncio.Task[None]] = set()
        self._wakeup = asyncio.Event()
        self._held: str | None = None  # taken from the line, waiting for the rate limit: still queued
        self._held_dropped = False
        # How long an attempt holds its slot, smoothed over the last few (on the engine's clock):
        # with the rate limit not the bound, the queue drains at concurrency / this.
        self._started: dict[asyncio.Task[None], float] = {}
        self._slot_s: float | None = None

    def add(self, order_id: str) -> None:
        self._waiting.append(order_id)
        self._wakeup.set()

    def add_after(self, order_id: str, delay_s: float) -> None:
        async def release() -> None:
            await asyncio.sleep(delay_s if delay_s > 0 else 0)
            self._waiting.appendleft(order_id)
            self._wakeup.set()

        task = asyncio.create_task(release(), name=f"backoff-{order_id[:8]}")
        self._delayed.add(task)
        self._delayed_by_id[order_id] = task

        def done(finished: asyncio.Task[None]) -> None:
            self._delayed.discard(finished)
            if self._delayed_by_id.get(order_id) is finished:
                del self._delayed_by_id[order_id]

        task.add_done_callback(done)

    def upcoming(self, count: int) -> list[str]:
        return list(itertools.islice(self._waiting, count))

    def discard(self, order_ids: set[str]) -> None:
        if not order_ids:
            return
        self._waiting = deque(order_id for order_id in self._waiting if order_id not in order_ids)
        if self._held in order_ids:
            self._held_dropped = True  # the dispatcher gives its start back when the limiter lets it go
        for order_id in order_ids & self._delayed_by_id.keys():
            self._delayed_by_id[order_id].cancel()

    def reconfigure(self, settings: QueueSettings) -> None:
        self.settings = settings
        self.limiter.max_starts = settings.limiter_max
        self.limiter.duration_s = settings.limiter_duration_s
        self._wakeup.set()

    def stats(self) -> QueueStats:
        waiting = len(self._waiting) + (self._held is not None and not self._held_dropped)
        held_back = bool(waiting) and self.limiter.enabled and self.limiter.used() >= self.settings.limiter_max
        by_rate = self.limiter.start_delay(waiting) if held_back else 0.0
        # Under the rate limit the slots are the bound: the last queued order starts once the
        # attempts ahead of it have each held a slot for about the recent attempts' time.
        by_slots = waiting * self._slot_s / self.settings.concurrency if waiting and self._slot_s else 0.0
        return QueueStats(
            waiting=waiting,
            delayed=len(self._delayed),
            in_flight=len(self._in_flight),
            concurrency=self.settings.concurrency,
            window_used=self.limiter.used() if self.limiter.enabled else 0,
            window_max=self.settings.limiter_max,
            next_start_in_s=self.limiter.start_delay(1) if held_back else None,
            drain_in_s=max(by_rate, by_slots) or None,
        )

    def start_delay(self, count: int) -> float:
        """Seconds until `count` more orders (behind everything queued) have all started, by the rate limit."""
        held = self._held is not None and not self._held_dropped
        return self.limiter.start_delay(len(self._waiting) + held + len(self._delayed) + count)

    async def _next_slot(self) -> str:
        """Wait for a queued order and a free slot; `_wakeup` is set by adds and finished attempts."""
        while not self._waiting or len(self._in_flight) >= self.settings.concurrency:
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._waiting.popleft()

    async def run(self, runner: OrderRunner) -> None:
        try:
            while True:
                order_id = await self._next_slot()
                self._held = order_id
                try:
                    admitted = await runner.admit(Turn(order_id, self))
                except asyncio.CancelledError:
                    self._waiting.appendleft(order_id)
                    raise
                finally:
                    self._held = None
                    self._held_dropped = False
                if admitted is None:
                    continue
                task = asyncio.create_task(runner.finish(admitted), name=f"attempt-{order_id[:8]}")
                self._in_flight.add(task)
                self._started[task] = self.clock.monotonic()
                task.add_done_callback(self._attempt_finished)
        finally:
            for task in self._delayed:
                task.cancel()

    # -- the runner's transport: how a turn ends ------------------------------------------

    async def retry_later(self, turn: Turn, delay_s: float) -> None:
        """A retry joins the head of the line once its back-off has passed (it has waited its turn)."""
        self.add_after(turn.order_id, delay_s)

    async def hand_back(self, turn: Turn, delay_s: float) -> None:
        self.add_after(turn.order_id, delay_s)

    async def ack(self, turn: Turn) -> None:
        """Nothing to settle: the line forgot the order when it delivered it."""

    def outcome_queued(self) -> None:
        """The running attempt's last state is queued for commit: its slot may start the next order.

        Called from the attempt's own task. It still waits for that commit before it announces
        the state (and ends), but it has no more work that counts against the concurrency.
        """
        task = asyncio.current_task()
        if task is not None and task in self._in_flight:
            self._in_flight.discard(task)
            self._settling.add(task)
            self._slot_freed(task)
            self._wakeup.set()

    def _attempt_finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._settling.discard(task)
        self._slot_freed(task)
        self._wakeup.set()

    def _slot_freed(self, task: asyncio.Task[None]) -> None:
        started = self._started.pop(task, None)
        if started is None:
            return
        held = self.clock.monotonic() - started
        self._slot_s = held if self._slot_s is None else 0.8 * self._slot_s + 0.2 * held

    async def abandon_in_flight(self) -> None:
        """Stop the attempts in flight where they stand (an interrupted command must end within 2 s).

        Each keeps its last stored state: a SUBMITTED swap was stored with its signed transaction
        before it was sent, and the next start re-sends that very transaction, which lands at most
        once. Attempts whose outcome is already queued for commit are let finish.
        """
        for task in self._in_flight:
            task.cancel()
        while self._in_flight or self._settling:
            await asyncio.gather(*self._in_flight, *self._settling, return_exceptions=True)

    async def drain_in_flight(self) -> None:
        """Let attempts already started finish (a clean stop never abandons a swap mid-flight)."""
        while self._in_flight or self._settling:
            await asyncio.gather(*self._in_flight, *self._settling, return_exceptions=True)
