"""What a cluster worker runs on, built by app/assembly.py: the shared core and the runner with its Redis plugs.

`ClusterWorker` once built its own clock, router, transitions and runner beside the engine's copy of
the same; now the composition root builds both from engine/runtime/assembly.py's rules and hands a
worker these parts, so the worker is only the BullMQ loop, its heartbeat, lease and reconciler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis

from engine.cluster.limiter import ClusterRateLimiter
from engine.cluster.worker_claims import WorkerClaims
from engine.listeners.mirror import RedisMirror
from engine.runtime.assembly import Core
from engine.runtime.order_runner import OrderRunner


@dataclass(frozen=True, slots=True)
class WorkerParts:
    core: Core
    runner: OrderRunner
    claims: WorkerClaims  # the runner's holder, whose lease the worker renews
    limiter: ClusterRateLimiter  # behind the runner's start gate
    client: Redis  # the worker's own Redis connection (registry, limiter)
    mirror: RedisMirror  # publishes every committed update on Redis
    stopping: asyncio.Event  # set when the worker stops: the gate and the claims give up waiting
    lease_until: Callable[[], datetime]  # when a claim made now runs out
