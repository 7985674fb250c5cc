"""What the board shows: a one-line search, a set of statuses, a pair, and "active only".

The filter is applied by the model itself, over the codes and lower-cased text it keeps per order
(`BoardKeys`), with numpy masks and one list comprehension for the search: tens of milliseconds for
100,000 orders, where QSortFilterProxyModel's per-row `filterAcceptsRow` calls from C++ took
0.2-0.7 s. `accepts` answers the same question for one order, for updates that arrive in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.model.domain import ACTIVE_STATES, Order, OrderStatus
from ui.board.columns import RUNNING_STATES, STATUS_RANK, matches_search
from ui.board.keys import BoardKeys, Slots

PRESETS: dict[str, frozenset[OrderStatus]] = {
    "Running": RUNNING_STATES,
    "Waiting": frozenset({OrderStatus.PENDING}),
    "Finished": frozenset({OrderStatus.CONFIRMED, OrderStatus.FAILED, OrderStatus.CANCELLED}),
}


@dataclass(frozen=True)
class BoardFilter:
    """An immutable filter: the model swaps it whole, so "did anything change" is one comparison."""

    search: str = ""  # as typed: ids, pairs, sides and venues match in any case, tx hashes exactly
    statuses: frozenset[OrderStatus] = field(default_factory=frozenset)  # empty: every status
    pair: str | None = None
    active_only: bool = False

    @property
    def is_filtering(self) -> bool:
        return bool(self.search or self.statuses or self.pair or self.active_only)

    @property
    def shown_statuses(self) -> frozenset[OrderStatus]:
        """The statuses that can be shown (every one when no status filter is set)."""
        chosen = self.statuses or frozenset(OrderStatus)
        return chosen & ACTIVE_STATES if self.active_only else chosen

    def describe(self) -> list[str]:
        """The active filters in words, for the board's "filters on" line."""
        parts = []
        if self.search:
            parts.append(f"search “{self.search}”")
        if self.statuses:
            named = next((name for name, preset in PRESETS.items() if preset == self.statuses), None)
            parts.append(named or " + ".join(str(s) for s in OrderStatus if s in self.statuses))
        if self.pair:
            parts.append(self.pair)
        if self.active_only:
            parts.append("active only")
        return parts

    def accepts(self, order: Order) -> bool:
        if (self.statuses or self.active_only) and order.status not in self.shown_statuses:
            return False
        if self.pair is not None and order.pair != self.pair:
            return False
        return not self.search or matches_search(order, self.search)

    def select(self, slots: Slots, keys: BoardKeys) -> list[int]:
        """The slots (in the given order) that pass: numpy masks first, then the text search on what is left."""
        if self.statuses or self.active_only:
            wanted = np.array([STATUS_RANK[status] for status in self.shown_statuses], dtype=np.int8)
            slots = slots[np.isin(keys.status_codes(slots), wanted)]
        if self.pair is not None:
            pairs = keys.categories["pair"]
            code = pairs.codes.get(self.pair)
            slots = slots[pairs.of(slots) == code] if code is not None else slots[:0]
        if self.search:
            return keys.search(slots, self.search)
        shown: list[int] = slots.tolist()
        return shown

    def narrow(self, slots: list[int], keys: BoardKeys) -> list[int]:
        """Apply only the search to `slots` (all other filters already hold for them)."""
        if not self.search:
            return slots
        return keys.search(np.asarray(slots, dtype=np.int64), self.search)
