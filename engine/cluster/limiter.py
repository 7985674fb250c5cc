"""The cluster's rate window: at most `max` attempt starts in ANY `window` seconds, across all workers.

One Lua script does it atomically on the Redis server's clock (`TIME`), so workers on machines
whose clocks disagree still share one exact sliding window: a sorted set of start times, pruned
as they leave the window. BullMQ's own limiter is a fixed window (it lets 2×max through across a
boundary) and stalls in bullmq 3.4.4, so it is not used.

Waiting attempts line up in a second sorted set ranked by the caller (a due retry first, then by
submission), so a window that frees up goes to the first in line, not to whichever worker polls
first: FIFO across the cluster. A waiter that stops polling (its worker died) drops out of the
line after `waiter_ttl_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from engine.runtime.runner_ports import Stopped

log = logging.getLogger(__name__)

# KEYS: starts (zset: token → start µs), line (zset: token → rank), deadlines (zset: token → µs).
# ARGV: token, rank, max, window µs, waiter ttl µs.
# Returns {granted (1/0), server µs, wait µs until the window could have room, starts in window}.
ACQUIRE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local token, rank = ARGV[1], tonumber(ARGV[2])
local max, window, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  redis.call('ZREM', KEYS[2], gone)
  redis.call('ZREM', KEYS[3], gone)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[2], rank, token)
redis.call('ZADD', KEYS[3], now + ttl, token)
local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if first == token and used < max then
  redis.call('ZADD', KEYS[1], now, token)
  redis.call('ZREM', KEYS[2], token)
  redis.call('ZREM', KEYS[3], token)
  local keep = math.floor(window / 1000) + 60000
  redis.call('PEXPIRE', KEYS[1], keep)
  redis.call('PEXPIRE', KEYS[2], keep)
  redis.call('PEXPIRE', KEYS[3], keep)
  return {1, now, 0, used + 1}
end
local wait = 0
if used >= max then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = tonumber(oldest[2]) + window - now
end
return {0, now, wait, used}
"""

# KEYS: starts. ARGV: window µs. Returns the starts in the current window.
USED_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
return redis.call('ZCARD', KEYS[1])
"""


@dataclass(frozen=True, slots=True)
class Grant:
    """A start the window allowed, at the Redis server's time."""

    server_time_s: float
    used: int

    @property
    def moment(self) -> datetime:
        """The grant as a UTC timestamp with milliseconds, like every update's `timestamp`."""
        moment = datetime.fromtimestamp(self.server_time_s, UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class ClusterRateLimiter:
    def __init__(
        self,
        client: Redis,
        key_prefix: str,
        max_starts: int,
        window_s: float,
        *,
        poll_s: float = 0.02,
        refresh_s: float = 0.5,
        waiter_ttl_s: float = 2.0,
        reconnect_s: float = 0.5,
    ) -> None:
        self.client = client
        self.max_starts = max_starts
        self.window_s = window_s
        self.keys = [f"{key_prefix}:starts", f"{key_prefix}:line", f"{key_prefix}:line-deadlines"]
        self.poll_s = poll_s
        self.refresh_s = refresh_s
        self.waiter_ttl_s = waiter_ttl_s
        self.reconnect_s = reconnect_s
        self._acquire = client.register_script(ACQUIRE_SCRIPT)
        self._used = client.register_script(USED_SCRIPT)

    @property
    def enabled(self) -> bool:
        return self.max_starts > 0

    async def acquire(self, rank: int, stop: asyncio.Event | None = None) -> Grant | None:
        """Wait for this attempt's turn and a free place in the window; never refuses, only delays.

        Redis going away makes it wait and try again: an attempt must not start uncounted.
        Returns None when the limit is off; raises `Stopped` once `stop` is set (the caller
        hands its job back). A flag rather than task cancellation: redis-py can swallow a
        cancellation that arrives mid-command, and the wait would then run to its end.
        """
        if not self.enabled:
            return None
        token = uuid.uuid4().hex
        window_us = int(self.window_s * 1_000_000)
        ttl_us = int(self.waiter_ttl_s * 1_000_000)
        stop = stop or asyncio.Event()
        while True:
            if stop.is_set():
                await self._leave_line(token)
                raise Stopped
            try:
                granted, now_us, wait_us, used = await self._acquire(
                    keys=self.keys, args=[token, rank, self.max_starts, window_us, ttl_us]
                )
            except (RedisError, OSError) as error:
                log.warning("rate window unavailable (%s); waiting %.1f s", error, self.reconnect_s)
                await _wait(stop, self.reconnect_s)
                continue
            if granted:
                return Grant(int(now_us) / 1_000_000, int(used))
            # Not first in line, or the window is full: look again when it could have changed,
            # and often enough to stay in the line (a silent waiter is dropped after its ttl).
            wait_s = max(int(wait_us) / 1_000_000, self.poll_s)
            await _wait(stop, min(wait_s, self.refresh_s))

    async def _leave_line(self, token: str) -> None:
        """Step out of the line at once rather than holding it up until the waiter's ttl runs out."""
        try:
            await self.client.zrem(self.keys[1], token)
            await self.client.zrem(self.keys[2], token)
        except (RedisError, OSError):
            log.info("could not leave the rate window's line; it drops this waiter by itself")

    async def used(self) -> int:
        """Starts in the current window, cluster-wide (for `info` and the desk's status bar)."""
        if not self.enabled:
            return 0
        return int(await self._used(keys=self.keys[:1], args=[int(self.window_s * 1_000_000)]))


class RedisWindowGate:
    """The order runner's start gate in a cluster: this window, shared by every worker, until the worker stops."""

    def __init__(self, limiter: ClusterRateLimiter, stopping: asyncio.Event) -> None:
        self.limiter = limiter
        self.stopping = stopping

    async def admit(self, rank: int) -> datetime | None:
        grant = await self.limiter.acquire(rank, self.stopping)
        return grant.moment if grant is not None else None

    def give_back(self) -> None:
        """The start stays counted: the window lives on the Redis server, and one spare start is harmless."""
