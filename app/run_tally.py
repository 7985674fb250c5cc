"""What `dexdesk run` reports at the end, counted as orders end instead of kept until then.

A run of 100,000 orders used to keep every finished `Order` (with its whole log) in a dict only to
count them at the end: about 10 KB an order, most of a gigabyte at the peak. The tally keeps the
counts and the ids it has counted, so memory follows the orders in flight, not the run's length.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.model.domain import Order, OrderStatus


@dataclass(slots=True)
class RunTally:
    statuses: Counter[OrderStatus] = field(default_factory=Counter)
    venues: Counter[str] = field(default_factory=Counter)
    retried: int = 0
    ended: set[str] = field(default_factory=set)

    def add(self, order: Order) -> None:
        """Count an order that ended, once however many times its end is heard."""
        if order.id in self.ended:
            return
        self.ended.add(order.id)
        self.statuses[order.status] += 1
        if order.status is OrderStatus.CONFIRMED:
            self.venues[str(order.dex)] += 1
        if order.attempts > 1:
            self.retried += 1

    def summary(self, wall_s: float) -> dict[str, Any]:
        """The run's figures, as `run` prints them (`--json` gives this object)."""
        count = len(self.ended)
        confirmed = self.statuses[OrderStatus.CONFIRMED]
        return {
            "orders": count,
            "confirmed": confirmed,
            "failed": self.statuses[OrderStatus.FAILED],
            "cancelled": self.statuses[OrderStatus.CANCELLED],
            "retried": self.retried,
            "venueShare": {venue: round(n / confirmed, 4) for venue, n in sorted(self.venues.items())}
            if confirmed
            else {},
            "ordersPerSecond": round(count / wall_s, 1) if wall_s > 0 else None,
            "wallSeconds": round(wall_s, 3),
        }
