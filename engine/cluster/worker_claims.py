"""What a cluster worker holds of orders: the order runner's `OrderHolder`, by database claims.

The queue is at-least-once (a job whose lock lapsed is handed to another worker, or back to this
one), so each turn first claims its order in the database (owner + lease, batched with the turns
starting at about the same moment, engine/cluster/claims.py), or, when the job carries the order as
stored (engine/cluster/job_snapshot.py), with its first write; every write is conditional on
holding it, so a second delivery never becomes a second execution. A live process holding the
order is waited out (it may be a worker BullMQ thought stalled and that still runs the order; it
finishes, and this turn then finds the order ended); a dead one's lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from engine.cluster.claims import ClaimBatcher
from engine.listeners.mirror import RedisMirror
from engine.model.domain import Order
from engine.runtime.pipeline import Transitions
from engine.runtime.runner_ports import Stopped, Turn
from engine.storage import OrderStore, StorageFailure, ownership

log = logging.getLogger(__name__)

CLAIM_RETRY_S = 0.5


class WorkerClaims:
    def __init__(
        self,
        store: OrderStore,
        transitions: Transitions,
        mirror: RedisMirror,
        stopping: asyncio.Event,
        *,
        lease_s: float,
        lease_until: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.transitions = transitions
        self.mirror = mirror
        self.stopping = stopping
        self.lease_s = lease_s
        self._lease_until = lease_until
        self.lease_renewed_at = float("-inf")  # monotonic time of the last renewal of this worker's lease
        self._claims = ClaimBatcher(self._claim_many)
        self._running: set[str] = set()  # orders a turn of this worker is working on

    async def claim(self, turn: Turn) -> Order | None:
        order_id = turn.order_id
        # A job redelivered to this very worker (its lock lapsed while the worker was busy) waits
        # for the turn already running the order here, then finds it ended: one run per order.
        while order_id in self._running:
            await self._pause()
        self._running.add(order_id)
        if turn.stored is not None:
            return turn.stored  # claimed by its first write, or refused there and claimed here after all
        try:
            while True:
                claim = await self._claims.claim(order_id)
                order = claim.order
                if order is None:
                    log.warning("a job names order %s, which is not in the database; nothing to run", order_id)
                    return None
                if order.is_terminal:
                    # A redelivered job: its worker may have stored the end and died before publishing it.
                    await self.mirror.ensure_ended(order)
                    return order
                if claim.claimed:
                    return order
                await self._pause()
        except BaseException:
            self._running.discard(order_id)
            raise

    async def _pause(self) -> None:
        """Wait a moment before looking again, unless the worker stops first (`Stopped`: the job goes back)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), CLAIM_RETRY_S)
        if self.stopping.is_set():
            raise Stopped

    def wanted(self, order_id: str) -> bool:
        """A cancel meanwhile shows at the first write (refused): nothing to ask here."""
        return True

    def save(self, order: Order) -> None:
        """The database and the update channel are the record; a worker keeps no snapshots."""

    async def lost(self, order: Order) -> None:
        self.transitions.forget(order.id)

    def failed(self, order: Order, error: StorageFailure) -> bool:
        log.warning("order %s keeps its last stored state (%s); its job is tried again from there", order.id, error)
        self.transitions.forget(order.id)
        return True

    def let_go(self, order_id: str) -> None:
        self._running.discard(order_id)

    async def close(self) -> None:
        await self._claims.close()

    async def _claim_many(self, order_ids: Sequence[str]) -> dict[str, ownership.Claim]:
        """One batch of claims; renews this worker's lease with it only when the renewal loop has not lately."""
        asked_at = time.monotonic()
        renew = asked_at - self.lease_renewed_at > self.lease_s / 6
        now, until = self.transitions.clock.utc_now(), self._lease_until()
        claims = await ownership.claim_many(self.store, order_ids, now=now, until=until, renew=renew)
        if renew and any(claim.claimed for claim in claims.values()):
            self.lease_renewed_at = asked_at
        return claims
