"""`GET /metrics`: the server's figures in Prometheus's text format, written by `prometheus-client`.

Each app has its own registry (the desk may serve, stop and serve again in one process). Gauges
that the engine already knows (orders by status, in flight, queued, WebSocket connections) are
read at scrape time; what only passing updates tell (attempt starts, the time from an order's POST
to its end) is counted as the updates are heard.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from engine.model.domain import OrderStatus, OrderUpdate
from engine.runtime.engine import Engine

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Orders answered by this server whose end it still waits to hear, for the latency histogram; past
# this many (orders that outlive the server's memory of them) the oldest are forgotten, not measured.
TIMED_LIMIT = 100_000
# At time scale 1 an order takes 2-3 s plus quotes, retries (2 s, 4 s back-off) and queueing.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 7.5, 10, 15, 30, 60, 120, 300)
TERMINAL = frozenset(str(status) for status in OrderStatus if status.is_terminal)


class ApiMetrics:
    def __init__(self, engine: Engine, websockets: Callable[[], int]) -> None:
        self.engine = engine
        self.registry = CollectorRegistry()
        self.orders = Gauge("dexdesk_orders", "Stored orders by status", ["status"], registry=self.registry)
        self.in_flight = Gauge("dexdesk_orders_in_flight", "Orders being attempted now", registry=self.registry)
        self.queued = Gauge(
            "dexdesk_orders_queued",
            "Orders waiting in the queue (incl. delayed by the rate limit)",
            registry=self.registry,
        )
        self.attempt_starts = Counter(
            "dexdesk_attempt_starts", "Attempts started (each ROUTING heard by this server)", registry=self.registry
        )
        self.latency = Histogram(
            "dexdesk_order_seconds",
            "Seconds from an order's POST answered to its terminal status (CONFIRMED, FAILED or CANCELLED)",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        connections = Gauge("dexdesk_websocket_connections", "WebSocket connections open", registry=self.registry)
        connections.set_function(lambda: float(websockets()))
        self._timed: OrderedDict[str, float] = OrderedDict()
        self._unsubscribe: Callable[[], None] | None = engine.subscribe(self._heard, snapshots="none")

    def admitted(self, order_id: str, is_terminal: bool) -> None:
        """An order a POST was answered with: its end, when heard, is measured from now."""
        if is_terminal or order_id in self._timed:
            return
        self._timed[order_id] = time.monotonic()
        if len(self._timed) > TIMED_LIMIT:
            self._timed.popitem(last=False)

    def _heard(self, update: OrderUpdate) -> None:
        status = update.message.get("status")
        if status == "ROUTING":
            self.attempt_starts.inc()
        elif status in TERMINAL:
            began = self._timed.pop(update.order_id, None)
            if began is not None:
                self.latency.observe(time.monotonic() - began)

    async def render(self) -> bytes:
        counts = await self.engine.counts_by_status()
        for status in OrderStatus:
            self.orders.labels(status=str(status)).set(counts.get(status, 0))
        stats = self.engine.stats()
        self.in_flight.set(stats.in_flight)
        self.queued.set(stats.waiting + stats.delayed)
        return generate_latest(self.registry)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
