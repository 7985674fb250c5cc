"""A worker's jobs that end together are completed in one pipeline, each with its own result, on a real Redis."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from bullmq import Queue
from redis.asyncio import Redis

from engine.cluster.fetching_worker import FetchingWorker
from engine.cluster.worker import bullmq_connection, log_queue_error
from tests.faults.support import ThrowawayRedis
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.redis

_JOBS = 60


async def _run_jobs(url: str, on_job: Any = None) -> tuple[Queue, list[str], dict[str, int]]:
    """Queue `_JOBS` jobs, run them on a 10-wide worker whose result is each job's own number, close it."""
    name = f"dexdesk-test-completions-{uuid.uuid4().hex}"
    client = Redis.from_url(url, decode_responses=True)
    queue = Queue(name, {"connection": client})
    jobs = [{"name": "order", "data": {"n": n}, "opts": {"jobId": f"job-{n}"}} for n in range(_JOBS)]
    await queue.addBulk(jobs)
    runs: dict[str, int] = {}
    completed: list[str] = []
    all_completed = asyncio.Event()

    async def processor(job: Any, _token: str) -> int:
        runs[job.id] = runs.get(job.id, 0) + 1
        if on_job is not None:
            await on_job(job)
        return int(job.data["n"])

    def on_completed(job: Any, _result: Any) -> None:
        completed.append(job.id)
        if len(completed) == _JOBS:
            all_completed.set()

    worker = FetchingWorker(name, processor, {"connection": bullmq_connection(url, 10.0), "concurrency": 10})
    worker.on("completed", on_completed)
    try:
        await asyncio.wait_for(all_completed.wait(), 30)
    finally:
        await worker.close()
    return queue, [job["opts"]["jobId"] for job in jobs], runs


async def _assert_each_completed_once_with_its_result(queue: Queue, ids: list[str], runs: dict[str, int]) -> None:
    assert runs == dict.fromkeys(ids, 1)
    counts = await queue.getJobCounts("completed", "failed", "active", "wait", "delayed")
    assert counts == {"completed": _JOBS, "failed": 0, "active": 0, "wait": 0, "delayed": 0}
    for n, job_id in enumerate(ids):
        job = await queue.getJob(job_id)
        assert job.returnvalue == n, job_id
        assert job.finishedOn, job_id


async def test_jobs_that_end_together_each_complete_once_with_their_own_result() -> None:
    require("redis")
    queue, ids, runs = await _run_jobs(REDIS_URL)
    try:
        await _assert_each_completed_once_with_its_result(queue, ids, runs)
    finally:
        await queue.obliterate(force=True)
        await queue.close()


async def test_completions_go_on_after_redis_forgets_its_scripts(tmp_path: Path) -> None:
    """`SCRIPT FLUSH` (as a restarted Redis has none) twice: the refused completions are sent again.

    The two flushes run in two jobs' processors and can overlap: under load the second one reached
    Redis between a batch's script load and its resend (1 run in 10), which then failed 8 jobs.
    """
    require("redis")
    redis = ThrowawayRedis(tmp_path / "redis")
    await redis.start()
    admin = Redis.from_url(redis.url)

    async def flush_halfway(job: Any) -> None:
        if job.data["n"] in (_JOBS // 3, 2 * _JOBS // 3):
            await admin.script_flush()

    try:
        queue, ids, runs = await _run_jobs(redis.url, flush_halfway)
        await _assert_each_completed_once_with_its_result(queue, ids, runs)
        await queue.close()
    finally:
        await admin.aclose()
        await redis.kill()


async def test_a_lock_renewal_that_missed_its_job_is_one_info_line_not_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """bullmq reports a job whose lock it could not renew (here: the lock key gone) on its `error` event."""
    require("redis")
    name = f"dexdesk-test-lock-{uuid.uuid4().hex}"
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    queue = Queue(name, {"connection": client})
    await queue.add("order", {"n": 0}, {"jobId": "job-0"})
    running, reported = asyncio.Event(), asyncio.Event()

    async def processor(job: Any, _token: str) -> int:
        running.set()
        await reported.wait()
        return 0

    options = {"connection": bullmq_connection(REDIS_URL, 10.0), "lockDuration": 400}
    worker = FetchingWorker(name, processor, options)
    worker.on("error", log_queue_error)
    worker.on("lockRenewalFailed", lambda *_: reported.set())
    try:
        with caplog.at_level(logging.INFO, logger="engine.cluster.worker"):
            await asyncio.wait_for(running.wait(), 10)
            await client.delete(f"bull:{name}:job-0:lock")  # as if moved on by this worker meanwhile
            await asyncio.wait_for(reported.wait(), 10)
    finally:
        await worker.close()
        await queue.obliterate(force=True)
        await queue.close()
    lines = [record for record in caplog.records if "could not renew lock for job job-0" in record.getMessage()]
    assert lines
    assert {record.levelno for record in lines} == {logging.INFO}
