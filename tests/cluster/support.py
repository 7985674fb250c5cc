"""Real clusters for tests: a throwaway redis-server, a PostgreSQL schema, real `dexdesk worker` processes.

Nothing imitates a project part: workers and producers are the installed `dexdesk` command, the
listener is a plain Redis subscriber, the checks read the real database and the real queue.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from redis.asyncio import Redis

from engine.cluster.config import QUEUE_NAME
from engine.cluster.registry import WorkerInfo, WorkerRegistry
from engine.model.domain import Order
from engine.storage import OrderStore
from tests.conftest import postgres_schema
from tests.faults.listeners import Recorder
from tests.faults.support import DEXDESK, ThrowawayRedis, dexdesk_env, eventually


@dataclass
class WorkerProcess:
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Cluster:
    home: Path
    redis: ThrowawayRedis
    db_url: str
    options: list[str]
    workers: list[WorkerProcess] = field(default_factory=list)
    recorder: Recorder | None = None

    def env(self) -> dict[str, str]:
        return dexdesk_env(self.home)

    def args(self) -> list[str]:
        return ["--db", self.db_url, "--queue", self.redis.url, *self.options]

    async def start_worker(self, *extra: str, verbose: bool = False) -> WorkerProcess:
        log = self.home / f"worker-{len(self.workers)}.log"
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                DEXDESK,
                *(["--verbose"] if verbose else []),
                "worker",
                *self.args(),
                *extra,
                env=self.env(),
                stdout=sink,
                stderr=sink,
            )
        worker = WorkerProcess(process, log)
        self.workers.append(worker)
        await eventually(
            lambda: "taking orders" in log.read_text() or process.returncode is not None,
            f"worker {len(self.workers)} to start",
            within=30,
        )
        assert process.returncode is None, log.read_text()
        return worker

    async def produce(self, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            DEXDESK,
            *args,
            *self.args(),
            env=self.env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        return int(process.returncode or 0), out.decode(), err.decode()

    async def alive(self) -> list[WorkerInfo]:
        client = Redis.from_url(self.redis.url, decode_responses=True)
        try:
            return await WorkerRegistry(client, f"dexdesk:cluster:{QUEUE_NAME}").alive()
        finally:
            await client.aclose()

    async def locked_by(self, lock_owner: str) -> list[str]:
        """Job ids (= order ids) whose BullMQ lock belongs to this worker right now."""
        client = Redis.from_url(self.redis.url, decode_responses=True)
        try:
            active = await client.lrange(f"bull:{QUEUE_NAME}:active", 0, -1)
            tokens = [await client.get(f"bull:{QUEUE_NAME}:{job_id}:lock") for job_id in active]
            return [
                job_id for job_id, token in zip(active, tokens, strict=True) if token and token.startswith(lock_owner)
            ]
        finally:
            await client.aclose()

    async def taken_over(self, job_ids: list[str], dead_owner: str) -> set[str]:
        """The jobs now locked by another worker, or finished (a finished job is removed)."""
        client = Redis.from_url(self.redis.url, decode_responses=True)
        try:
            taken = set()
            for job_id in job_ids:
                holder = await client.get(f"bull:{QUEUE_NAME}:{job_id}:lock")
                locked_elsewhere = bool(holder) and not str(holder).startswith(dead_owner)
                if locked_elsewhere or not await client.exists(f"bull:{QUEUE_NAME}:{job_id}"):
                    taken.add(job_id)
            return taken
        finally:
            await client.aclose()

    async def stop(self) -> None:
        for worker in self.workers:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                await asyncio.wait_for(worker.process.wait(), 20)
            except TimeoutError:
                worker.process.kill()
                await worker.process.wait()


@asynccontextmanager
async def cluster(tmp_path: Path, *options: str, redis_options: tuple[str, ...] = ()) -> AsyncIterator[Cluster]:
    redis = ThrowawayRedis(tmp_path / "redis", extra=redis_options)
    await redis.start()
    try:
        async with postgres_schema() as db_url:
            running = Cluster(tmp_path, redis, db_url, list(options))
            running.recorder = Recorder(redis.url)
            await running.recorder.follow_all()
            try:
                yield running
            finally:
                await running.stop()
                await running.recorder.close()
    finally:
        await redis.kill()


def parse_time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def messages(recorder: Recorder) -> dict[str, list[dict[str, object]]]:
    return {order_id: [json.loads(line) for line in lines] for order_id, lines in recorder.everything.items()}


def starts(recorder: Recorder) -> list[float]:
    """Every attempt start a listener heard (ROUTING), by the worker's timestamp, sorted."""
    return sorted(
        parse_time(str(message["timestamp"]))
        for lines in messages(recorder).values()
        for message in lines
        if message["status"] == "ROUTING"
    )


def most_in_any_window(times: list[float], window_s: float) -> int:
    """The most starts in any half-open window [t, t + window_s)."""
    best = 0
    end = 0
    for begin, moment in enumerate(times):
        end = max(end, begin)
        while end < len(times) and times[end] < moment + window_s:
            end += 1
        best = max(best, end - begin)
    return best


async def ended_orders(db_url: str, order_ids: list[str], within: float = 30) -> tuple[list[Order], dict[str, int]]:
    """Wait until every one of these orders has ended; each as stored (with its log), and the executions by order."""
    store = OrderStore(db_url)
    await store.open()
    try:

        async def all_ended() -> bool:
            orders = [await store.get(order_id) for order_id in order_ids]
            return all(order is not None and order.is_terminal for order in orders)

        await eventually(all_ended, "every order to end", within=within)
        ended = [order for order in [await store.get(order_id) for order_id in order_ids] if order is not None]
        return ended, await store.executions()
    finally:
        await store.close()
