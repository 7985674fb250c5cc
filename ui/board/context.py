"""What a board cell needs besides its order: pair precision, the retry limit, queue places, the clock."""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass, field
from datetime import UTC, datetime

from engine.model.domain import Order, OrderStatus
from engine.trading.pairs import PairCatalog
from ui.formatting import PairFormats


class QueuePositions:
    """Each waiting order's place in this desk's queue, kept as a sorted list of their sequence numbers.

    The engine's queue is first-in first-out by submission, so among orders that have not started
    (PENDING, no attempt yet) an order's place is how many older ones still wait, plus one. Orders
    another process owns wait in that process's queue and are not counted. An update costs a bisect.
    """

    def __init__(self) -> None:
        self._waiting: list[int] = []
        self.local_owner: str | None = None

    def _waits_here(self, order: Order) -> bool:
        if order.status is not OrderStatus.PENDING or order.attempts:
            return False
        return order.owner is None or self.local_owner is None or order.owner == self.local_owner

    def track(self, before: Order | None, after: Order) -> None:
        was = before is not None and self._waits_here(before)
        now = self._waits_here(after)
        if was and not now:
            index = bisect_left(self._waiting, after.seq)
            if index < len(self._waiting) and self._waiting[index] == after.seq:
                del self._waiting[index]
        elif now and not was:
            insort(self._waiting, after.seq)

    def position(self, order: Order) -> int | None:
        if not self._waits_here(order):
            return None
        return bisect_left(self._waiting, order.seq) + 1

    def __len__(self) -> int:
        return len(self._waiting)


@dataclass
class BoardContext:
    formats: PairFormats
    max_attempts: int = 3
    queue: QueuePositions = field(default_factory=QueuePositions)

    @classmethod
    def for_catalog(cls, catalog: PairCatalog) -> BoardContext:
        return cls(PairFormats(catalog))

    @staticmethod
    def seconds_until(moment: datetime | None) -> float | None:
        return None if moment is None else (moment - datetime.now(UTC)).total_seconds()
