"""One order runner for every mode: claim → start gate → attempt → done / retry later / hand back.

An order's life used to be written twice, in the in-process engine (its queue, active set, limit
book, retries on queue timers) and in the cluster worker (its own claim, rate gate, attempt loop
and a back-off slept inside the job); the copies drifted into bugs. Both now run every turn of
every order here, and differ only in their plugs (engine/runtime/runner_ports.py): the in-process
line and database window, or a BullMQ job and the Redis Lua window. A back-off is never a sleep
inside a turn: the transport delivers the order again when it is due (BullMQ's delayed jobs).

A turn may bring its order as stored when it was queued (a cluster job's copy, `Turn.stored`): its
attempt's first write then claims the order, with no claim of its own before it, and a copy that
write refuses sends the turn back to an ordinary claim.

`admit` (claim and gate) and `finish` (the attempt and its outcome) are separate so the in-process
line can admit one order at a time, in its exact FIFO order, and run attempts concurrently;
a BullMQ job calls `take`, both at once, and the Redis window's line keeps the FIFO across workers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from engine.model.clock import Clock
from engine.model.domain import Order
from engine.runtime.pipeline import AttemptRunner, Transitions
from engine.runtime.retry import RetryPolicy
from engine.runtime.runner_ports import LimitWatch, OrderHolder, StartGate, Stopped, Turn
from engine.storage import OrderLost, StorageFailure
from engine.trading.router import Router

log = logging.getLogger(__name__)

STORAGE_RETRY_S = 1.0

# Ranks in the start gate's line: a due retry (or a taken-over order) before every first attempt.
RETRY_RANK_BASE = 0
FIRST_ATTEMPT_RANK_BASE = 10**15


def rank_for(order: Order) -> int:
    """Its place in the window's line: retries first, then by submission (the in-process queue's rule too)."""
    return (RETRY_RANK_BASE if order.attempts > 0 else FIRST_ATTEMPT_RANK_BASE) + order.seq


@dataclass(frozen=True, slots=True)
class Admitted:
    """A turn past its claim and the start gate: its attempt may run."""

    turn: Turn
    order: Order
    started_at: datetime | None


class OrderRunner:
    def __init__(
        self,
        transitions: Transitions,
        router: Router,
        retry: RetryPolicy,
        *,
        gate: StartGate,
        holder: OrderHolder,
        limits: LimitWatch,
    ) -> None:
        self.clock: Clock = transitions.clock
        self.gate = gate
        self.holder = holder
        self.limits = limits
        # Back-offs the attempt asked for (simulated seconds), read once it has returned.
        self._retry_in: dict[str, float] = {}
        self.attempts = AttemptRunner(transitions, router, retry, self._retry_in.__setitem__)
        self.done = 0

    async def take(self, turn: Turn) -> Order | None:
        """A whole turn: what a BullMQ job runs.

        Returns the order when its attempt asked for a retry that is due at once (no back-off left:
        time scale 0). The in-process line puts such a retry at the head of its line, still holding
        the order; a job letting go of it, queueing it again and claiming it back cost a worker two
        database statements, two Redis scripts and a read of the order with its log. The caller
        takes it again instead (as `Turn.stored`, written as this process's own) once it holds an
        attempt slot again; the start gate still ranks it as a retry.
        """
        admitted = await self.admit(turn)
        if admitted is None:
            return None
        return await self._attempt_and_end(admitted, keep_due=True)

    async def admit(self, turn: Turn) -> Admitted | None:
        """Claim the order and pass the start gate; None when the turn ended here (handed back, nothing to run)."""
        try:
            order = await self.holder.claim(turn)
            if order is not None and order.is_waiting_limit:
                order = await self.limits.watch(turn, order)
                if order is None:
                    self.holder.let_go(turn.order_id)
                    return None
            if order is None or order.is_terminal:
                self.holder.let_go(turn.order_id)
                await turn.transport.ack(turn)
                return None
            started_at = await self.gate.admit(rank_for(order))
        except Stopped:
            self.holder.let_go(turn.order_id)
            await turn.transport.hand_back(turn, 0.0)
            return None
        except BaseException:
            self.holder.let_go(turn.order_id)
            raise
        if not self.holder.wanted(order.id):
            # Cancelled while it waited for the window: its start goes to the next in line.
            self.gate.give_back()
            self.holder.let_go(turn.order_id)
            await turn.transport.ack(turn)
            return None
        return Admitted(turn, order, started_at)

    async def finish(self, admitted: Admitted) -> None:
        """Run the admitted attempt, then end the turn by its outcome (the in-process line's second half)."""
        await self._attempt_and_end(admitted, keep_due=False)

    async def _attempt_and_end(self, admitted: Admitted, *, keep_due: bool) -> Order | None:
        """`keep_due`: a retry due at once is returned to the caller instead of given to the transport (`take`)."""
        turn, order = admitted.turn, admitted.order
        transport = turn.transport
        claims_by_write = turn.stored is not None
        try:
            result = await self.attempts.run(
                order,
                self.holder.save,
                started_at=admitted.started_at,
                outcome_queued=transport.outcome_queued,
                claim_on_write=claims_by_write,
            )
        except OrderLost:
            await self.holder.lost(order)
            if not claims_by_write:
                log.warning("order %s was taken over or cancelled by another process; dropped here", order.id)
                await transport.ack(turn)
                return None
            result = None
        except StorageFailure as error:
            self._retry_in.pop(order.id, None)
            if self.holder.failed(order, error):
                await transport.hand_back(turn, STORAGE_RETRY_S)
            else:
                await transport.ack(turn)
            return None
        finally:
            self.holder.let_go(order.id)
        if result is None:
            # The copy the turn brought was refused at its first write (cancelled, held by another
            # process, changed since): nothing was stored or sent. Claim the order as stored, go on from there.
            self._retry_in.pop(order.id, None)
            claimed = await self.admit(replace(turn, stored=None))
            return None if claimed is None else await self._attempt_and_end(claimed, keep_due=keep_due)
        delay_s = self._retry_in.pop(order.id, None)
        if result.is_terminal:
            self.done += 1
            await transport.ack(turn)
        elif delay_s is not None:
            due_in_s = delay_s * self.clock.time_scale
            if keep_due and due_in_s <= 0:
                return result
            await transport.retry_later(turn, due_in_s)
        elif result.is_waiting_limit:
            # Missed its limit at landing: watched again, like a limit order that never triggered.
            again = await self.limits.watch(turn, result)
            if again is not None:
                await transport.hand_back(turn, 0.0)
        else:
            await transport.hand_back(turn, 0.0)
        return None
