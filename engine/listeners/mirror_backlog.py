"""The Redis mirror's memory: what is still to be written, bounded, with each order's latest state always kept.

Kept apart from the connection (engine/listeners/mirror.py) so the bookkeeping that decides what
is written, in what order and what is given up under pressure is plain data, tested without Redis
(tests/test_mirror_backlog.py). The engine appends here and never waits; the mirror's background
task takes batches and settles them once Redis has them. When the queue of publishes is full the
oldest is dropped (counted), but if it was its order's latest state that state is kept aside, and
written before the queue, so late listeners still find how every order ended; ended orders' kept
states are bounded too (oldest forgotten first, counted).
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from engine.model.domain import Order, update_message
from engine.model.jsonfmt import dumps


@dataclass(slots=True)
class BacklogItem:
    """One update waiting to be written; the JSON text is made only when it is about to be sent."""

    order_id: str
    message: dict[str, Any]
    terminal: bool
    pid: int
    sent: bool = False
    # The update's own JSON line when it came from one (made once for every listener), else made here.
    text: str | None = None

    @property
    def line(self) -> str:
        return self.text if self.text is not None else dumps(self.message)


class MirrorBacklog:
    """The updates queued for Redis, the latest states whose publishes were dropped, and the active orders."""

    def __init__(self, *, backlog_limit: int, terminal_limit: int, batch_size: int) -> None:
        self.backlog_limit = backlog_limit
        self.terminal_limit = terminal_limit
        self.batch_size = batch_size
        self.published = 0
        self.dropped = 0
        self.snapshots_dropped = 0
        self._pid = 0
        self._queue: deque[BacklogItem] = deque()
        self._queued: Counter[str] = Counter()
        self._unsent: dict[str, BacklogItem] = {}
        self._unsent_terminal: OrderedDict[str, BacklogItem] = OrderedDict()
        self._active: dict[str, BacklogItem] = {}

    @property
    def pending(self) -> int:
        """How many writes are still to be made: queued publishes and kept latest states."""
        return len(self._queue) + len(self._unsent) + len(self._unsent_terminal)

    def holds(self, order_id: str) -> bool:
        """Whether an update of this order is still to be written."""
        return order_id in self._queued or order_id in self._unsent or order_id in self._unsent_terminal

    def is_queued(self, order_id: str) -> bool:
        """Whether a publish of this order is in the queue (not only kept as a latest state)."""
        return order_id in self._queued

    def known_ids(self) -> set[str]:
        """Every order this backlog tracks: active, queued, or kept to be written."""
        return self._active.keys() | self._unsent.keys() | self._unsent_terminal.keys() | self._queued.keys()

    def sent_active(self) -> list[BacklogItem]:
        """Active orders whose latest state was already written once (their snapshots to put back)."""
        return [item for item in self._active.values() if item.sent]

    def add(self, order_id: str, message: dict[str, Any], terminal: bool, text: str | None) -> None:
        """Queue one update; memory only, never blocks (the engine's side)."""
        self._pid += 1
        item = BacklogItem(order_id, message, terminal, self._pid, text=text)
        while len(self._queue) >= self.backlog_limit:
            self._drop_oldest()
        # Superseded: this newer state is queued, so an older unsent one must not be written after it.
        self._unsent.pop(order_id, None)
        self._unsent_terminal.pop(order_id, None)
        if terminal:
            self._active.pop(order_id, None)
        else:
            self._active[order_id] = item
        self._queue.append(item)
        self._queued[order_id] += 1

    def adopt(self, orders: Iterable[Order]) -> None:
        """Know about orders that were active before this backlog existed; they count as written."""
        for order in orders:
            if order.is_terminal or order.id in self._active:
                continue
            self._pid += 1
            self._active[order.id] = BacklogItem(order.id, update_message(order), False, self._pid, sent=True)

    def _drop_oldest(self) -> None:
        """Forget the oldest publish; if it was its order's latest state, keep it as a snapshot to write."""
        old = self._queue.popleft()
        self.dropped += 1
        self._queued[old.order_id] -= 1
        if self._queued[old.order_id] > 0:
            return
        del self._queued[old.order_id]
        if not old.terminal:
            self._unsent[old.order_id] = old
            return
        self._unsent_terminal[old.order_id] = old
        while len(self._unsent_terminal) > self.terminal_limit:
            self._unsent_terminal.popitem(last=False)
            self.snapshots_dropped += 1

    def take_batch(self) -> list[BacklogItem]:
        """Latest states whose publishes were dropped first (each order's own publishes stay in order)."""
        batch = [*self._unsent.values(), *self._unsent_terminal.values()][: self.batch_size]
        room = self.batch_size - len(batch)
        batch.extend(self._queue[index] for index in range(min(room, len(self._queue))))
        return batch

    def held_after(self, batch: list[BacklogItem]) -> Callable[[str], bool]:
        """Whether an order will still have something to write once `batch` (just taken) has landed.

        What `settle` will forget: the batch's kept latest states, and the head of the queue up to
        the batch's last queued publish (a batch takes the queue's head, so that is all of them).
        """
        kept = {id(item) for item in batch if self._kept(item)}
        in_batch = Counter(item.order_id for item in batch if id(item) not in kept)

        def held(order_id: str) -> bool:
            for kept_states in (self._unsent, self._unsent_terminal):
                item = kept_states.get(order_id)
                if item is not None and id(item) not in kept:
                    return True
            return self._queued.get(order_id, 0) > in_batch[order_id]

        return held

    def _kept(self, item: BacklogItem) -> bool:
        """A latest state kept aside (its publish was dropped), not a publish in the queue."""
        return self._unsent.get(item.order_id) is item or self._unsent_terminal.get(item.order_id) is item

    def settle(self, batch: list[BacklogItem]) -> None:
        """Forget what landed; items dropped or superseded meanwhile are left where they are."""
        last_pid = 0
        for item in batch:
            item.sent = True
            if self._unsent.get(item.order_id) is item:
                del self._unsent[item.order_id]
            elif self._unsent_terminal.get(item.order_id) is item:
                del self._unsent_terminal[item.order_id]
            else:
                last_pid = max(last_pid, item.pid)
        while self._queue and self._queue[0].pid <= last_pid:
            done = self._queue.popleft()
            self._queued[done.order_id] -= 1
            if self._queued[done.order_id] <= 0:
                del self._queued[done.order_id]
        self.published += len(batch)
