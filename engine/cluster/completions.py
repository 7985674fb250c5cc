"""BullMQ's completions of the jobs that end together, sent in one pipeline: one Redis round trip for many.

bullmq's worker completes each job with its own `moveToFinished` script call on its one connection,
taken in turn by the jobs running: a round trip each, and a round trip costs a worker more CPU
(its writes, its wake-up, its reply) than the script's arguments. A worker's orders end together
(their CONFIRMED rows commit in one group commit), so their completions are gathered here, as the
group commit gathers rows: the calls ready in the same loop pass go as one pipeline, and those
that come while it is out go in the next.

Each call is BullMQ's own, built by bullmq's `moveToCompletedArgs` and answered as bullmq's
`moveToFinished` answers it (the next job for that lock token, or its error); a pipeline without
`MULTI` runs them one after another as separate calls would. A script Redis does not hold (a
restarted Redis) is loaded and the calls it refused are sent again: `NOSCRIPT` means not run.
"""

from __future__ import annotations

from typing import Any

from bullmq.scripts import raw2NextJobData
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from engine.storage.batching import Batcher

# Sends of one batch while Redis answers NOSCRIPT (a call refused so was not run, so sending it again
# is safe): a Redis restarted or flushed again between the script's load and the resend (two
# `SCRIPT FLUSH`es a millisecond apart, in a test under load) refuses the resend too.
_SCRIPT_TRIES = 5

Completion = tuple[Any, Any, Any, str, bool]
"""(job, return value, removeOnComplete, lock token, fetch the next job)"""


class JobCompletions:
    """`complete` answers each job as bullmq's `moveToCompleted` would; the calls travel in batches."""

    def __init__(self, scripts: Any, client: Redis) -> None:
        self._scripts = scripts
        self._client = client
        self._batcher: Batcher[Completion, dict[str, Any]] = Batcher(
            self._send, name="dexdesk-job-completions", gather_turns=1
        )

    async def complete(self, job: Any, result: Any, remove: Any, token: str, fetch_next: bool) -> dict[str, Any]:
        """`RedisBackend.moveToCompleted`'s answer: {"result": next job data or None, "finishedOn": ms}."""
        return await self._batcher.submit((job, result, remove, token, fetch_next))

    async def close(self) -> None:
        await self._batcher.close()

    async def _send(self, items: list[Completion]) -> list[dict[str, Any] | BaseException]:
        calls = [
            self._scripts.moveToCompletedArgs(job, result, remove, token, fetch_next)
            for job, result, remove, token, fetch_next in items
        ]
        script = self._scripts.commands["moveToFinished"]
        replies: list[Any] = [None] * len(calls)
        todo = list(range(len(calls)))
        for _ in range(_SCRIPT_TRIES):
            async with self._client.pipeline(transaction=False) as pipe:
                for index in todo:
                    keys, args = calls[index]
                    pipe.evalsha(script.sha, len(keys), *keys, *args)
                answers = await pipe.execute(raise_on_error=False)
            for index, answer in zip(todo, answers, strict=True):
                replies[index] = answer
            todo = [index for index, answer in zip(todo, answers, strict=True) if isinstance(answer, NoScriptError)]
            if not todo:
                break
            await self._client.script_load(script.script)
        answered = zip(items, calls, replies, strict=True)
        return [self._answer(job.id, args[1], reply) for (job, *_), (_, args), reply in answered]

    def _answer(self, job_id: str, finished_on: int, reply: Any) -> dict[str, Any] | BaseException:
        if isinstance(reply, BaseException):
            return reply
        if type(reply) is int and reply < 0:
            error: BaseException = self._scripts.finishedErrors(
                {"code": reply, "jobId": job_id, "command": "moveToFinished", "state": "active"}
            )
            return error
        return {"result": raw2NextJobData(reply) if reply is not None else None, "finishedOn": finished_on}
