"""The one composition root: what every process (desk, CLI, `serve`, `dexdesk worker`) runs orders on.

Each mode's market, clock, router, transitions and order runner are made here, by the rules of
engine/runtime/assembly.py, and handed to `Engine` or `ClusterWorker`, which build none of them.
Three modes: an engine that runs its own orders (no queue URL), a cluster producer (an engine whose
runner is in the workers) and a worker (the same runner with the Redis plugs). Every process of a
cluster derives its market by one rule (`engine_settings_for`), so a producer's quote and the
worker that executes it agree.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from engine.cluster.config import DEFAULT_LEASE_S, ClusterConfig, refuse_unshared_database
from engine.cluster.limit_turns import LimitTurns
from engine.cluster.limiter import ClusterRateLimiter, RedisWindowGate
from engine.cluster.remote import ClusterQueue
from engine.cluster.worker import ClusterWorker
from engine.cluster.worker_claims import WorkerClaims
from engine.cluster.worker_parts import WorkerParts
from engine.config.settings import Settings
from engine.listeners import redis_wire
from engine.listeners.mirror import RedisMirror
from engine.listeners.mirror_keys import client_options
from engine.runtime.assembly import build_core, build_runner, cluster_producer
from engine.runtime.engine import Engine, EngineSettings, new_owner_id
from engine.storage import OrderStore


def pick_seed(settings: Settings) -> int:
    """The seed the user gave, or a fresh one (so unseeded sessions differ, as markets do)."""
    return settings.seed if settings.seed is not None else secrets.randbelow(2**31)


def engine_settings_for(settings: Settings) -> EngineSettings:
    """The engine's numbers from the user's settings, by the one rule every process of a cluster shares.

    The market (reference prices, spreads) comes from `--seed`, or seed 0 when none is given, so a
    producer that binds an order to a quote and the worker that executes it see the same market;
    only the outcomes (network failures, execution drift) are fresh without a seed. A worker that
    drew its own market failed 287 of 1,000 orders on slippage against its producer's quotes.
    """
    engine_settings = settings.engine(pick_seed(settings))
    if settings.seed is None:
        engine_settings = replace(engine_settings, router=replace(engine_settings.router, market_seed=0))
    return engine_settings


def cluster_config(settings: Settings, lease_s: float = DEFAULT_LEASE_S) -> ClusterConfig:
    """The cluster's shared numbers from the user's settings (the queue URL must be set)."""
    assert settings.queue_url is not None
    return ClusterConfig(
        queue_url=settings.queue_url,
        queue_name=settings.queue_name,
        lease_s=lease_s,
        rate_limit=settings.rate_limit,
        rate_window_s=settings.rate_window_s,
    )


def build_engine(settings: Settings) -> Engine:
    """The engine; with a queue URL, a cluster producer whose orders `dexdesk worker`s run.

    Raises ClusterUnavailable (one line) when cluster mode is asked for on a database it cannot share.
    """
    engine_settings = engine_settings_for(settings)
    store = OrderStore(settings.database_url)
    if not settings.queue_url:
        return Engine(store, engine_settings)
    refuse_unshared_database(settings.database_url)
    queue = ClusterQueue(cluster_config(settings), engine_settings.queue)
    return Engine(store, engine_settings, mode=cluster_producer(queue))


def build_worker(settings: Settings, lease_s: float) -> ClusterWorker:
    """A `dexdesk worker`: the one runner with the Redis plugs, on the market every process shares.

    Raises ClusterUnavailable (one line) on a database a cluster cannot share.
    """
    refuse_unshared_database(settings.database_url)
    config = cluster_config(settings, lease_s)
    store = OrderStore(settings.database_url)
    store.owner_id = new_owner_id()
    core = build_core(store, engine_settings_for(settings))
    mirror = RedisMirror(config.queue_url, namespace=settings.redis_prefix)
    client = redis_wire.from_url(config.queue_url, decode_responses=True, **client_options())
    limiter = ClusterRateLimiter(client, config.key_prefix, config.rate_limit, config.rate_window_s)
    stopping = asyncio.Event()

    def lease_until() -> datetime:
        return core.clock.utc_now() + timedelta(seconds=config.lease_s)

    claims = WorkerClaims(store, core.transitions, mirror, stopping, lease_s=config.lease_s, lease_until=lease_until)
    runner = build_runner(
        core,
        gate=RedisWindowGate(limiter, stopping),
        holder=claims,
        limits=LimitTurns(core.transitions, core.router, store),
    )
    parts = WorkerParts(core, runner, claims, limiter, client, mirror, stopping, lease_until)
    return ClusterWorker(config, parts, concurrency=settings.concurrency)
