"""A worker's attempt slots: never more than `concurrency` attempts at once, a slot freed once its outcome is queued.

Real tasks on a real loop, as a worker's BullMQ jobs run them (one task a job); the worker's own use
of them is measured by `bench cluster` and exercised by every cluster test.
"""

from __future__ import annotations

import asyncio

from engine.cluster.attempt_slots import AttemptSlots


async def test_at_most_concurrency_attempts_hold_a_slot_at_once() -> None:
    slots = AttemptSlots(3)
    most = 0
    full, release = asyncio.Event(), asyncio.Event()

    async def job() -> None:
        nonlocal most
        async with slots.held():
            most = max(most, slots.attempting)
            if slots.attempting == 3:
                full.set()
            await release.wait()

    jobs = [asyncio.create_task(job()) for _ in range(7)]
    await asyncio.wait_for(full.wait(), 5)
    assert slots.attempting == 3
    release.set()
    await asyncio.gather(*jobs)
    assert most == 3
    assert slots.attempting == 0


async def test_a_queued_outcome_lets_the_next_job_attempt_while_its_own_turn_goes_on() -> None:
    slots = AttemptSlots(1)
    settled, second_started = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with slots.held():
            slots.outcome_queued()  # its last state is queued: the commit and the completion still to come
            slots.outcome_queued()  # once is enough; a second call frees nothing more
            await settled.wait()

    async def second() -> None:
        async with slots.held():
            second_started.set()

    one = asyncio.create_task(first())
    two = asyncio.create_task(second())
    await asyncio.wait_for(second_started.wait(), 5)
    assert not one.done()  # the first job's turn is still going on
    settled.set()
    await asyncio.gather(one, two)
    assert slots.attempting == 0


async def test_a_task_holding_no_slot_frees_none() -> None:
    slots = AttemptSlots(1)
    holding, release = asyncio.Event(), asyncio.Event()

    async def job() -> None:
        async with slots.held():
            holding.set()
            await release.wait()

    one = asyncio.create_task(job())
    await asyncio.wait_for(holding.wait(), 5)
    slots.outcome_queued()  # from this task, which holds no slot: nothing is given back
    assert slots.full
    release.set()
    await one
    assert not slots.full
