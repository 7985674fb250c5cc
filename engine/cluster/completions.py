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

A job is completed only once its order's end is on Redis (once the job is gone nobody looks at the
order again). Most calls therefore ride in the worker's mirror pipeline right after that end
(engine/listeners/mirror_riders.py): one round trip for the end and the completion, where waiting
for the mirror's reply and then sending took two in a row. A call that cannot ride (the end already
written, Redis away, its pipeline failed) waits for the end and goes in a batch here.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bullmq.scripts import raw2NextJobData
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from engine.cluster.job_snapshot import order_id_of
from engine.listeners.mirror import RedisMirror
from engine.listeners.mirror_riders import NotCarried
from engine.storage.batching import Batcher

log = logging.getLogger(__name__)

# How long a completion waits for its order's updates to be on Redis before it goes anyway.
END_SENT_WAIT_S = 5.0

# Sends of one batch while Redis answers NOSCRIPT (a call refused so was not run, so sending it again
# is safe): a Redis restarted or flushed again between the script's load and the resend (two
# `SCRIPT FLUSH`es a millisecond apart, in a test under load) refuses the resend too.
_SCRIPT_TRIES = 5

Completion = tuple[Any, Any, Any, str, bool]
"""(job, return value, removeOnComplete, lock token, fetch the next job)"""


class JobCompletions:
    """`complete` answers each job as bullmq's `moveToCompleted` would; the calls travel in batches.

    Given the worker's mirror (`ends`), a job is completed only after its order's updates are on
    Redis: its call rides in the mirror's pipeline right after the order's last update (one round
    trip for both), or, when that cannot be, waits for them and goes in a batch of its own.
    """

    def __init__(self, scripts: Any, client: Redis, ends: RedisMirror | None = None) -> None:
        self._scripts = scripts
        self._client = client
        self._ends = ends
        self._batcher: Batcher[Completion, dict[str, Any]] = Batcher(
            self._send, name="dexdesk-job-completions", gather_turns=1
        )

    async def complete(self, job: Any, result: Any, remove: Any, token: str, fetch_next: bool) -> dict[str, Any]:
        """`RedisBackend.moveToCompleted`'s answer: {"result": next job data or None, "finishedOn": ms}."""
        item: Completion = (job, result, remove, token, fetch_next)
        if self._ends is not None:
            answer = await self._after_end(self._ends, item)
            if isinstance(answer, BaseException):
                raise answer
            if answer is not None:
                return answer
        return await self._batcher.submit(item)

    async def _after_end(self, ends: RedisMirror, item: Completion) -> dict[str, Any] | BaseException | None:
        """The call's answer when it rode in the mirror's pipeline after its order's end; None: send it in a batch.

        Before None is returned the order's updates are on Redis, or `END_SENT_WAIT_S` has gone by
        (a Redis too slow to take them would not take the completion either).
        """
        order_id = order_id_of(item[0])
        deadline = time.monotonic() + END_SENT_WAIT_S
        keys, args = self._scripts.moveToCompletedArgs(*item)
        command = ("EVALSHA", self._scripts.commands["moveToFinished"].sha, len(keys), *keys, *args)
        try:
            reply = await ends.send_after(order_id, command, END_SENT_WAIT_S)
        except NotCarried:
            reply = None  # nothing left to write, or no pipeline took it: sent below
        except (RedisError, OSError):
            reply = None  # its pipeline failed: the mirror writes the end again; the call goes once that is done
        if reply is None or isinstance(reply, NoScriptError):  # NOSCRIPT: not run (the batch loads the script)
            if not await ends.sent(order_id, max(deadline - time.monotonic(), 0.0)):
                log.info("order %s: its end is not on Redis yet; its job is completed anyway", order_id)
            return None
        return self._answer(item[0].id, args[1], _as_text(reply))

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


def _as_text(reply: Any) -> Any:
    """A reply read by the mirror's client (bytes) as bullmq's own client reads it (`decode_responses`: UTF-8 text)."""
    if isinstance(reply, bytes):
        return reply.decode()
    if isinstance(reply, list):
        return [_as_text(part) for part in reply]
    return reply
