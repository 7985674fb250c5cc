"""The order runner's Redis transport: a BullMQ job per order (job id = order id), delayed rather than slept in.

A turn is one delivery of the order's job. A back-off, a limit order's next look at the market and
a hand-back (stopping, storage away) all move the job to BullMQ's delayed set with its due time
(`moveToDelayed`) and end the processor: no slot is held while nothing runs, the job survives its
worker, and any worker may take the next turn. The order is given up in the database first, so
that worker need not wait for this one's lease. Ending the processor is BullMQ's way: the job is
moved, then `DelayedError` is raised, which the worker's processor lets through.
"""

from __future__ import annotations

import logging
import time
from typing import Any, NoReturn

from bullmq.custom_errors import DelayedError

from engine.cluster.attempt_slots import AttemptSlots
from engine.listeners.mirror_keys import describe_error
from engine.model.domain import Order
from engine.runtime.runner_ports import Turn
from engine.storage import OrderStore, ownership

log = logging.getLogger(__name__)


def job_turn(order_id: str, transport: JobTransport, job: Any, token: str, stored: Order | None = None) -> Turn:
    """The turn a BullMQ job (with its lock token, and its copy of the order if it has one) gives the runner."""
    return Turn(order_id, transport, (job, token), stored)


class JobTransport:
    def __init__(self, store: OrderStore, worker_id: str, slots: AttemptSlots) -> None:
        self.store = store
        self.worker_id = worker_id
        self.slots = slots

    async def retry_later(self, turn: Turn, delay_s: float) -> NoReturn:
        await self._let_go_of_order(turn.order_id)
        await self._delay(turn, delay_s, "due again later")

    async def hand_back(self, turn: Turn, delay_s: float) -> NoReturn:
        await self._let_go_of_order(turn.order_id)
        await self._delay(turn, delay_s, "handed back to the queue")

    async def ack(self, turn: Turn) -> None:
        """Returning from the processor completes the job (and removes it: the database keeps the order).

        The completion goes only after the order's updates are on Redis (engine/cluster/completions.py),
        in the mirror's very pipeline when it can: once its job is gone nobody looks at the order
        again, so a worker killed between the two would leave its end unpublished for good.
        """

    def outcome_queued(self) -> None:
        """The attempt's last state is queued for commit: its attempt slot may start the next job's order."""
        self.slots.outcome_queued()

    async def _let_go_of_order(self, order_id: str) -> None:
        try:
            await ownership.release_one(self.store, order_id)
        except Exception as error:  # noqa: BLE001  (then the order is free once this worker's lease runs out)
            log.info("order %s: could not give it up before delaying its job (%s)", order_id, describe_error(error))

    async def _delay(self, turn: Turn, delay_s: float, why: str) -> NoReturn:
        job, token = turn.handle
        await job.moveToDelayed(int((time.time() + max(delay_s, 0.0)) * 1000), token)
        raise DelayedError(f"worker {self.worker_id}: order {turn.order_id} {why}")
