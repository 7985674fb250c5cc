"""Which workers are alive and what each is doing: one Redis key per worker, kept alive by a heartbeat.

A key expires a few heartbeats after its worker stops beating, so a SIGKILLed worker drops out of
`dexdesk info` and the desk's status bar by itself, with no one to clean up after it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

HEARTBEAT_S = 1.0
EXPIRES_AFTER_S = 4.0


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    worker_id: str
    host: str
    pid: int
    concurrency: int
    in_flight: int
    started_at: float
    done: int = 0
    # BullMQ's id of this worker: the lock of every job it holds starts with it.
    lock_owner: str = ""

    @staticmethod
    def here(worker_id: str, concurrency: int) -> WorkerInfo:
        return WorkerInfo(worker_id, socket.gethostname(), os.getpid(), concurrency, 0, time.time())


class WorkerRegistry:
    def __init__(self, client: Redis, key_prefix: str) -> None:
        self.client = client
        self.pattern = f"{key_prefix}:worker:*"
        self.key_prefix = key_prefix

    def key(self, worker_id: str) -> str:
        return f"{self.key_prefix}:worker:{worker_id}"

    async def beat(self, info: WorkerInfo) -> None:
        await self.client.set(self.key(info.worker_id), json.dumps(asdict(info)), px=int(EXPIRES_AFTER_S * 1000))

    async def leave(self, worker_id: str) -> None:
        await self.client.delete(self.key(worker_id))

    async def alive(self) -> list[WorkerInfo]:
        keys = [key async for key in self.client.scan_iter(match=self.pattern, count=200)]
        if not keys:
            return []
        values = await self.client.mget(keys)
        workers = [WorkerInfo(**json.loads(value)) for value in values if value]
        return sorted(workers, key=lambda worker: (worker.host, worker.started_at))
