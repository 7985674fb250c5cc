"""Which workers are alive and what each is doing: one Redis key per worker, kept alive by a heartbeat.

A key expires a few heartbeats after its worker stops beating, so a SIGKILLed worker drops out of
`dexdesk info` and the desk's status bar by itself, with no one to clean up after it.

The worker ids are also kept in one set, so reading who is alive costs one script call whatever
else the Redis holds. It used to `SCAN` the whole keyspace for the keys' pattern: with the queue's
jobs and the mirror's snapshots of a day's orders that was 150 calls per look at 30,000 keys,
twice a second from every producer. The set is pruned as it is read: an id whose key expired is
taken out of it.
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
# The set outlives its last worker by a day, then goes by itself.
_INDEX_TTL_S = 86_400

# KEYS: the set of worker ids. ARGV: the workers' key prefix (`…:worker:`).
# Returns the values of the workers alive; takes the ids whose key expired out of the set.
ALIVE_SCRIPT = """
local alive = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local value = redis.call('GET', ARGV[1] .. id)
  if value then
    table.insert(alive, value)
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return alive
"""


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
        self.key_prefix = key_prefix
        self.index = f"{key_prefix}:workers"
        self._alive = client.register_script(ALIVE_SCRIPT)

    def key(self, worker_id: str) -> str:
        return f"{self.key_prefix}:worker:{worker_id}"

    async def beat(self, info: WorkerInfo) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.key(info.worker_id), json.dumps(asdict(info)), px=int(EXPIRES_AFTER_S * 1000))
        pipe.sadd(self.index, info.worker_id)
        pipe.expire(self.index, _INDEX_TTL_S)
        await pipe.execute()

    async def leave(self, worker_id: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.key(worker_id))
        pipe.srem(self.index, worker_id)
        await pipe.execute()

    async def alive(self) -> list[WorkerInfo]:
        values = await self._alive(keys=[self.index], args=[self.key("")])
        workers = [WorkerInfo(**json.loads(value)) for value in values]
        return sorted(workers, key=lambda worker: (worker.host, worker.started_at))
