"""Commands that must reach Redis after an order's updates, sent in the very pipeline that writes the last one.

A cluster worker completes an order's job only once the order's end is on Redis (mirror_waiters
says why). Waiting for the mirror's reply and then sending the completion took two round trips in
a row for every order, about a millisecond each on this machine. A command that rides in the
mirror's pipeline right after the order's last update takes none of its own: Redis runs a
pipeline's commands one after another, in the order they were written on the one connection, so
the end is there before the completion runs, and a connection lost midway loses the completion
with the end or after it, never before it.

A rider boards the first pipeline after which its order has nothing left to write (or a pipeline of
its own when that is already so); one that no pipeline takes in time (Redis away) is withdrawn,
and its sender sends the command its own way.

A pipeline's commands all run, whatever an earlier one answered, so a pipeline that carries
riders sends the mirror's updates as the script's text (`EVAL`), not its digest: a Redis that
forgot the script (flushed, restarted) would refuse the digest and still run the riders after it.
What else refuses the script (out of memory, another script busy) refuses the riders' writes too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio.client import Pipeline


class NotCarried(Exception):
    """The command did not go with the mirror: nothing of its order was left to write, or nothing took it in time."""


@dataclass(eq=False, slots=True)
class Rider:
    order_id: str
    command: tuple[Any, ...]
    reply: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    boarded: bool = False


class Riders:
    """The riders waiting for a pipeline, and the answer of each once its pipeline is back."""

    def __init__(self, holds: Callable[[str], bool], wake: Callable[[], None]) -> None:
        self._holds = holds
        self._wake = wake
        self._waiting: list[Rider] = []

    def __bool__(self) -> bool:
        return bool(self._waiting)

    async def send(self, order_id: str, command: tuple[Any, ...], timeout_s: float) -> Any:
        """The command's reply (an error Redis answered is returned, not raised), once it ran after the order's updates.

        Raises `NotCarried` at once when nothing of the order is left to write, or after
        `timeout_s` when no pipeline has taken the command; a pipeline that failed raises its
        error (the command may or may not have run).
        """
        if not self._holds(order_id):
            raise NotCarried(f"nothing of order {order_id} is left to write")
        rider = Rider(order_id, command)
        self._waiting.append(rider)
        self._wake()
        # A timer rather than `wait_for(shield(...))`: one handle instead of a waiter, a shield's
        # outer future and their callbacks, for every job a worker completes.
        expiry = asyncio.get_running_loop().call_later(timeout_s, self._expire, rider, timeout_s)
        try:
            return await rider.reply
        finally:
            expiry.cancel()

    def _expire(self, rider: Rider, timeout_s: float) -> None:
        """No pipeline took the rider in time: its sender sends the command its own way."""
        if rider.boarded or rider.reply.done():
            return  # its pipeline is out: the mirror's socket timeout bounds the answer
        self._waiting.remove(rider)
        rider.reply.set_exception(
            NotCarried(f"no write to Redis took order {rider.order_id}'s updates within {timeout_s:g} s")
        )

    def board(self, held_after: Callable[[str], bool]) -> list[Rider]:
        """The riders whose orders have nothing left to write once the pipeline being made has run."""
        boarding = [rider for rider in self._waiting if not held_after(rider.order_id)]
        if boarding:
            self._waiting = [rider for rider in self._waiting if held_after(rider.order_id)]
            for rider in boarding:
                rider.boarded = True
        return boarding

    @staticmethod
    def answer(riders: list[Rider], replies: list[Any]) -> None:
        for rider, reply in zip(riders, replies, strict=True):
            if not rider.reply.done():
                rider.reply.set_result(reply)

    @staticmethod
    def fail(riders: list[Rider], error: BaseException) -> None:
        """Their pipeline did not come back: each sender learns it (a cancel becomes an ordinary error here)."""
        if isinstance(error, asyncio.CancelledError):
            error = ConnectionError("the Redis mirror stopped while the command was out")
        for rider in riders:
            if not rider.reply.done():
                rider.reply.set_exception(error)
                with contextlib.suppress(BaseException):
                    rider.reply.exception()  # a sender that already gave up must not log "never retrieved"

    def withdraw_all(self, why: str) -> None:
        """The mirror is stopping: no pipeline will take the riders still waiting; their senders send on their own."""
        waiting, self._waiting = self._waiting, []
        self.fail(waiting, NotCarried(why))


async def execute_with_riders(pipe: Pipeline, riders: list[Rider]) -> None:
    """Run the pipeline's own commands, then the riders'; one of its own that Redis refused is raised."""
    for rider in riders:
        pipe.execute_command(*rider.command)
    try:
        replies = await pipe.execute(raise_on_error=False)
    except BaseException as error:
        Riders.fail(riders, error)
        raise
    own = len(replies) - len(riders)
    Riders.answer(riders, replies[own:])
    for reply in replies[:own]:
        if isinstance(reply, Exception):
            raise reply
