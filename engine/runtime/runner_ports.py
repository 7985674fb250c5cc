"""The plugs of the one order runner (engine/runtime/order_runner.py), each with an in-process and a Redis kind.

The runner's steps (claim → start gate → attempt → done / retry later / hand back) are the same in
every mode; only these differ. `Transport` is how a turn reached the runner and how it leaves (the
in-process line, or a BullMQ job); `StartGate` is the rate window (the database's, or the Redis
Lua one); `OrderHolder` is what this process knows and owns of orders (the engine's active set,
or a worker's database claims); `LimitWatch` is who watches a limit order that has not triggered
(the in-process limit book, or the order's job, re-delivered until it triggers or expires).
Nothing here asks which kind it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from engine.model.domain import Order
from engine.storage import StorageFailure


class Stopped(Exception):
    """The process is stopping: the turn was not started (and not counted by any window); it goes back."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One delivery of one order to a runner, and the transport that delivered it (to answer through)."""

    order_id: str
    transport: Transport
    # The transport's own handle on the delivery (a BullMQ job and its lock token); None in-process.
    handle: Any = None
    # The order as stored when it was queued, delivered with it (a cluster job's copy): its first
    # write claims it, with no claim of its own; None: the holder claims it (engine/cluster/job_snapshot.py).
    # Also the order a job goes on with when its retry is due at once (`OrderRunner.take`), still
    # held by this process, so that write finds it its own.
    stored: Order | None = None


class Transport(Protocol):
    """How orders reach a runner (`deliver`: each transport calls the runner's `take`/`admit`) and leave it.

    Every method but `outcome_queued` ends the turn: the runner does nothing more with it after.
    """

    async def retry_later(self, turn: Turn, delay_s: float) -> None:
        """Deliver this order again in `delay_s` real seconds (a back-off, a limit's next look), never by sleeping."""

    async def hand_back(self, turn: Turn, delay_s: float) -> None:
        """The turn could not go on now (stopping, storage away): give it back, due again in `delay_s`."""

    async def ack(self, turn: Turn) -> None:
        """The delivery is done: the order ended, left this process, or waits where it is watched."""

    def outcome_queued(self) -> None:
        """The running attempt's last state is queued for commit: its slot may start the next order."""


class StartGate(Protocol):
    """The rate window every attempt start passes: at most N starts in any S seconds (retries count)."""

    async def admit(self, rank: int) -> datetime | None:
        """Wait for this start's place; the moment the window counted it (or None when it keeps no clock).

        `rank` orders the line (a due retry first, then by submission). Raises `Stopped` when the
        process stops first, with nothing counted.
        """

    def give_back(self) -> None:
        """Undo the start just admitted: its order left (cancelled) while it waited."""


class OrderHolder(Protocol):
    """What a runner knows and owns of orders: claims, latest snapshots, and what to do when one is lost."""

    async def claim(self, turn: Turn) -> Order | None:
        """The turn's order as it stands, held by this process; None when there is nothing to run here.

        A worker gives back the copy a turn carries (`Turn.stored`) unclaimed: the attempt's first
        write claims it (the in-process line's turns carry none). May wait (another live process
        holds it) and raise `Stopped` when stopping meanwhile.
        """

    def wanted(self, order_id: str) -> bool:
        """After the gate: is the order still this process's to run (not cancelled meanwhile)?"""

    def save(self, order: Order) -> None:
        """Every committed snapshot of an order being run here."""

    async def lost(self, order: Order) -> None:
        """Another writer took the order (cancelled, taken over): drop it here, touch nothing of it."""

    def failed(self, order: Order, error: StorageFailure) -> bool:
        """Its state could not be stored; True: hand the turn back to try again from the stored state."""

    def let_go(self, order_id: str) -> None:
        """This turn of the order is over here (whatever its outcome)."""


class LimitWatch(Protocol):
    """Who watches a limit order that has not triggered (engine/runtime/limits.py, engine/cluster/limit_turns.py)."""

    async def watch(self, turn: Turn, order: Order) -> Order | None:
        """Look at a waiting limit order: the triggered order to run now, or None (it waits on, or it ended).

        Ending the turn when it returns None (ack, or a later delivery) is this method's business.
        """
