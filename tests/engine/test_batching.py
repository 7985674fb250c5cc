"""The one micro-batcher under the group commit, the API's admission and a worker's claims."""

from __future__ import annotations

import asyncio

from engine.storage.batching import Batcher


class Recorder:
    """A batch function that records its batches; the first waits for `release` (a round trip in flight)."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, batch: list[str]) -> list[str | BaseException]:
        self.batches.append(batch)
        self.started.set()
        await self.release.wait()
        return [ValueError(f"{item} refused") if item.startswith("bad") else item.upper() for item in batch]


async def test_what_arrives_while_a_batch_runs_goes_together_in_the_next_and_each_hears_its_own_answer() -> None:
    run = Recorder()
    batcher: Batcher[str, str] = Batcher(run, name="test-batcher")
    first = batcher.submit("a")
    await asyncio.wait_for(run.started.wait(), 5)
    later = [batcher.submit(item) for item in ("b", "bad-c", "d")]
    assert batcher.pending == 4
    run.release.set()
    answers = await asyncio.gather(first, *later, return_exceptions=True)
    assert answers[:2] == ["A", "B"]
    assert answers[3] == "D"
    assert isinstance(answers[2], ValueError)
    assert str(answers[2]) == "bad-c refused"
    assert run.batches == [["a"], ["b", "bad-c", "d"]]
    assert batcher.pending == 0


async def test_a_failed_batch_answers_every_caller_of_that_batch_and_the_next_batch_runs() -> None:
    calls: list[list[int]] = []

    async def fail_first(batch: list[int]) -> list[int | BaseException]:
        calls.append(batch)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return [item * 10 for item in batch]

    batcher: Batcher[int, int] = Batcher(fail_first, name="test-batcher", limit=2)
    futures = [batcher.submit(item) for item in (1, 2, 3)]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    assert [str(outcome) for outcome in outcomes[:2]] == ["disk on fire", "disk on fire"]
    assert outcomes[2] == 30
    assert calls == [[1, 2], [3]], "the limit cut the first batch at two"


async def test_a_batcher_made_closed_holds_its_items_until_opened_and_flush_waits_for_their_answers() -> None:
    run = Recorder()
    run.release.set()
    batcher: Batcher[str, str] = Batcher(run, name="test-batcher", opened=False, gather_turns=3)
    futures = [batcher.submit(item) for item in ("x", "y")]
    await batcher.flush()
    assert run.batches == []
    assert not any(future.done() for future in futures)
    batcher.open()
    await batcher.flush()
    assert [future.result() for future in futures] == ["X", "Y"]
    assert run.batches == [["x", "y"]]
    await batcher.close()
    held = batcher.submit("z")
    await batcher.flush()
    assert not held.done(), "nothing runs after close"
    assert run.batches == [["x", "y"]]
    held.cancel()


async def test_a_batch_function_answering_the_wrong_number_of_outcomes_fails_the_batch_instead_of_hanging() -> None:
    async def short(batch: list[str]) -> list[str | BaseException]:
        return batch[:1]

    batcher: Batcher[str, str] = Batcher(short, name="test-batcher")
    outcomes = await asyncio.gather(batcher.submit("a"), batcher.submit("b"), return_exceptions=True)
    assert [str(outcome) for outcome in outcomes] == ["test-batcher: 1 outcomes for a batch of 2"] * 2
