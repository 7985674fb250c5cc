"""How every process's order-running parts are made: one core rule, one runner rule, the engine's two modes.

The in-process `Engine` and the cluster's `ClusterWorker` each used to build their own clock,
router, transitions and `OrderRunner`; the copies could drift (a worker once drew its own market).
Now both are handed what is built here: `build_core` (the same clock, update hub, router on the
settings' market and transitions for every process) and `build_runner` (the one runner, given the
mode's plugs). The engine's two modes are `in_process` (it runs its orders: the in-process line,
the database window, its active set and limit book as plugs) and `cluster_producer` (its runner is
in the workers). app/assembly.py picks the mode and builds a worker's Redis plugs; this module never
imports the cluster, so the engine and its tests can still be made with `Engine(store, settings)`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from engine.model.clock import Clock
from engine.runtime.active_orders import ActiveOrders
from engine.runtime.engine_config import EngineSettings
from engine.runtime.events import UpdateHub
from engine.runtime.limits import LimitBook
from engine.runtime.local_plugs import ActiveHolder, BookWatch, WindowGate
from engine.runtime.order_runner import OrderRunner
from engine.runtime.pipeline import Transitions
from engine.runtime.queue import InProcessQueue, OrderQueue, ProducerQueue, RemoteQueue
from engine.runtime.ratelimit import SharedWindowLimiter
from engine.runtime.runner_ports import LimitWatch, OrderHolder, StartGate
from engine.storage import OrderStore, rate_window
from engine.trading.pairs import PairCatalog, default_catalog
from engine.trading.router import MockDexRouter, Router


@dataclass(frozen=True, slots=True)
class Core:
    """What every process that touches orders builds by the same rule, whatever its mode."""

    store: OrderStore
    settings: EngineSettings  # as built; a running engine's `reconfigure` may change its own copy later
    catalog: PairCatalog
    clock: Clock
    hub: UpdateHub
    router: Router
    transitions: Transitions


def build_core(store: OrderStore, settings: EngineSettings, catalog: PairCatalog | None = None) -> Core:
    """The clock, the update hub, the router on the settings' market, and commit-then-announce on `store`.

    The market is `settings.router`'s: app/assembly.py derives it by the one seed rule every process
    of a cluster shares, so a producer's quote and the worker that executes it see the same prices.
    """
    catalog = catalog or default_catalog()
    clock = Clock(settings.time_scale)
    hub = UpdateHub()
    router = MockDexRouter(catalog, settings.router, clock)
    return Core(store, settings, catalog, clock, hub, router, Transitions(store, hub, clock))


def build_runner(core: Core, *, gate: StartGate, holder: OrderHolder, limits: LimitWatch) -> OrderRunner:
    """The one order runner, on the core's transitions, router and retry policy, with one mode's plugs."""
    retry = core.settings.queue.retry
    return OrderRunner(core.transitions, core.router, retry, gate=gate, holder=holder, limits=limits)


class SeqMark:
    """The newest order seq an engine knows: the market's position for quotes (the next order is `last + 1`)."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        return self.last + 1


@dataclass(frozen=True, slots=True)
class EngineParts:
    """Everything an `Engine` runs on, built by one mode; the engine builds none of it itself."""

    core: Core
    seq: SeqMark
    active: ActiveOrders
    limits: LimitBook
    queue: OrderQueue
    # None: a cluster producer, whose orders the workers' runners run.
    runner: OrderRunner | None
    holder: ActiveHolder | None
    # What runs while the engine does: the line delivering to the runner, or a producer's follower.
    work: Callable[[], Coroutine[Any, Any, None]]
    # The cluster its stored orders go to (checked before storing, enqueued after); None: run here.
    remote: RemoteQueue | None


EngineMode = Callable[[Core], EngineParts]
"""How an engine's orders run, given its core: `in_process`, or `cluster_producer(queue)`."""


def _engine_state(core: Core, enqueue: Callable[[str], None]) -> tuple[SeqMark, ActiveOrders, LimitBook]:
    """The engine's own bookkeeping (every mode): its market position, its active set, its limit book."""
    seq = SeqMark()

    def left(order_id: str) -> None:
        # An order left the active set: nothing more of it is written here, and a limit may start.
        core.transitions.forget(order_id)
        limits.poke()

    active = ActiveOrders(on_leave=left)
    limits = LimitBook(core.transitions, core.router, seq.next, lambda order: enqueue(order.id), active.save)
    return seq, active, limits


def in_process(core: Core) -> EngineParts:
    """An engine that runs its own orders: the in-process line as transport, the database window as gate."""
    settings = core.settings
    # The rate limit's window lives in the database: it holds across restarts and processes.
    window = SharedWindowLimiter(
        core.clock,
        settings.queue.limiter_max,
        settings.queue.limiter_duration_s,
        functools.partial(rate_window.admit, core.store),
    )
    queue = InProcessQueue(settings.queue, core.clock, window)
    seq, active, limits = _engine_state(core, queue.add)
    holder = ActiveHolder(active, core.store, active.end, queue.upcoming)
    runner = build_runner(core, gate=WindowGate(window), holder=holder, limits=BookWatch(limits, active))
    return EngineParts(core, seq, active, limits, queue, runner, holder, functools.partial(queue.run, runner), None)


def cluster_producer(queue: ProducerQueue) -> EngineMode:
    """An engine whose runner is elsewhere: it stores, announces and hands its orders to `queue`'s workers.

    The queue's `run` goes on while the engine does: it hears the workers' updates and keeps the
    cluster's figures.
    """

    def mode(core: Core) -> EngineParts:
        seq, active, limits = _engine_state(core, queue.add)
        return EngineParts(core, seq, active, limits, queue, None, None, queue.run, queue)

    return mode
