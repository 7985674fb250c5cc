"""A background task whose first cancellation is lost somewhere inside it still stops, and `stop` returns."""

from __future__ import annotations

import asyncio

from engine.runtime.task_stop import stop_task


async def test_a_task_that_swallows_its_first_cancel_is_stopped_at_its_next_await() -> None:
    calling, swallowed = asyncio.Event(), asyncio.Event()

    async def refresh_forever() -> None:
        # As a client library's call that catches its cancellation and answers "no data" ...
        try:
            calling.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            swallowed.set()
        # ... after which the refresh loop pauses: where a second cancel lands.
        await asyncio.Event().wait()

    task = asyncio.create_task(refresh_forever())
    await calling.wait()
    await asyncio.wait_for(stop_task(task, every_s=0.01), timeout=5)
    assert swallowed.is_set(), "the first cancel was swallowed, as in the hang it guards against"
    assert task.cancelled()


async def test_a_task_that_fails_while_stopping_does_not_raise_into_the_caller() -> None:
    waiting = asyncio.Event()

    async def fails_on_cancel() -> None:
        try:
            waiting.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("closing failed") from None

    task = asyncio.create_task(fails_on_cancel())
    await waiting.wait()
    await asyncio.wait_for(stop_task(task), timeout=5)
    assert task.done()
    assert not task.cancelled()
