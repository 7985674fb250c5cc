"""bullmq's `Worker`, completing a job and taking the next one in one Redis call, as BullMQ's Node worker does.

bullmq 3.4's Python worker completes each job with `fetch_next=False` and then asks for the next
one in a second script call (`moveToActive`) from a new task: two round trips, two Lua scripts and
the loop's task for every job. BullMQ's `moveToFinished` script can move the next waiting job to
active in the same call (the Node worker's default); the job it returns is handed back to the
worker's own loop as the finished task's result, which that loop already processes like a job
fetched by `getNextJob`. Everything else (locks, stalled checks, failures, delays) is bullmq's.

The override is of `processJob`, whose body is bullmq 3.4.4's but for the completion: it is pinned
by requirements.lock, and tests/cluster run every path through it (completion, `DelayedError`, a
worker closed while jobs run, a killed worker's jobs taken over). bullmq ships no type information,
hence the class's `type: ignore`. Its clients pack their commands by hiredis (`redis_wire`), and
the completions of jobs that end together go to Redis in one pipeline (`completions`).
"""

from __future__ import annotations

import time
from typing import Any

from bullmq import Worker
from bullmq.custom_errors import DelayedError, UnrecoverableError, WaitingChildrenError
from bullmq.job import Job

from engine.cluster.completions import JobCompletions
from engine.listeners import redis_wire
from engine.listeners.mirror import RedisMirror


class FetchingWorker(Worker):  # type: ignore[misc]
    def __init__(self, name: str, processor: Any, opts: dict[str, Any], *, ends: RedisMirror | None = None) -> None:
        """`ends`: the mirror whose updates of a job's order must be on Redis before the job is completed."""
        super().__init__(name, processor, opts)
        # bullmq builds its two clients from the options; they pack their commands as dexdesk's do.
        for client in {id(client): client for client in (self.client, self.bclient) if client is not None}.values():
            redis_wire.pack_with_hiredis(client)
        self._completions = JobCompletions(self.scripts, self.client, ends)

    async def close(self, force: bool = False) -> None:
        await super().close(force)
        await self._completions.close()

    async def processJob(self, job: Job, token: str) -> Job | None:
        """Run the processor; on success complete the job and return the next one (None: none or closing)."""
        next_job: Job | None = None
        try:
            if "removeOnComplete" not in job.opts and "removeOnComplete" in self.opts:
                job.opts["removeOnComplete"] = self.opts["removeOnComplete"]
            if "removeOnFail" not in job.opts and "removeOnFail" in self.opts:
                job.opts["removeOnFail"] = self.opts["removeOnFail"]
            self.jobs.add((job, token))
            controller = self.lockManager.track_job(
                job.id, token, int(time.time() * 1000), should_create_controller=self._processor_wants_signal
            )
            if job.deferredFailure:
                await job.moveToFailed(UnrecoverableError(job.deferredFailure), token)
                self.emit("failed", job, UnrecoverableError(job.deferredFailure))
                return None
            if controller is not None:
                result = await self.processor(job, token, controller.signal)
            else:
                result = await self.processor(job, token)
            if not self.forceClosing:
                fetch = not (self.closing or self.paused)
                finished = await self._completions.complete(
                    job, result, job.opts.get("removeOnComplete", False), token, fetch
                )
                job.returnvalue = result
                job.attemptsMade = job.attemptsMade + 1
                if fetch:
                    next_job = await self._next_from(finished, token)
            self.emit("completed", job, result)
        except (DelayedError, WaitingChildrenError):
            return None
        except Exception as err:  # noqa: BLE001  (bullmq's own handling: the job goes to failed)
            try:
                if not self.forceClosing:
                    await job.moveToFailed(err, token)
                self.emit("failed", job, err)
            except Exception as error:  # noqa: BLE001
                self.emit("error", error, job)
        finally:
            self.jobs.discard((job, token))
            self.lockManager.untrack_job(job.id)
        return next_job

    async def _next_from(self, finished: Any, token: str) -> Job | None:
        """The job `moveToFinished` moved to active for this token, as `moveToActive`'s answer is read."""
        raw = finished.get("result") if isinstance(finished, dict) else None
        job_data, job_id, limit_until, delay_until = raw if raw else (None, None, None, None)
        job: Job | None = await self.nextJobFromJobData(job_data, job_id, limit_until or 0, delay_until or 0, token)
        return job
