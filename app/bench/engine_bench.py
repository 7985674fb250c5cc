"""`dexdesk bench engine`: N orders through the whole pipeline, against the storage layer alone.

The engine runs at time scale 0 with the rate limit off, so what is measured is the engine's own
cost: routing maths, state transitions, the group-commit writer and the database. The storage
ceiling replays the very same writes (the PENDING inserts, then every committed state change of
every order, in order, from as many concurrent writers as the engine has orders in flight,
waiting for a commit exactly where the engine waits) with no router and no queue.
engine ÷ ceiling says how much of the storage's speed the engine keeps.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from app.bench.databases import scratch_database
from app.bench.report import emit, peak_rss_mb, percentile
from app.bench.server_cpu import server_cpu_s, spent
from app.headless import fast_loop, settled_collector
from engine.model.domain import Order, OrderStatus, OrderUpdate
from engine.runtime.engine import Engine, engine_settings
from engine.storage import Change, OrderStore
from engine.storage.group_commit import CommitTimes
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog

# The one state an attempt waits for before going on: SUBMITTED is stored before the swap is
# sent. ROUTING and BUILDING are queued without waiting, and an attempt's last state (CONFIRMED,
# FAILED, or PENDING for a retry) frees its slot for the next order once queued (see engine/runtime/pipeline.py).
_WAITED = frozenset({str(OrderStatus.SUBMITTED)})


@dataclass
class EngineRun:
    """What one engine run saw: timings, and every committed write, kept for the ceiling's replay."""

    orders: int
    elapsed_s: float = 0.0
    state_changes: int = 0
    latencies_s: list[float] = field(default_factory=list)
    attempt_latencies_s: list[float] = field(default_factory=list)
    inserted: list[Order] = field(default_factory=list)
    changes: dict[str, list[OrderUpdate]] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    # CPU seconds in the timed window: the whole process (every thread), the loop's thread alone, the
    # garbage collector's share, and this machine's PostgreSQL processes.
    cpu_s: float = 0.0
    loop_cpu_s: float = 0.0
    gc_s: float = 0.0
    server_cpu_s: float = 0.0
    # The group commits in the timed window: whether the loop worked or waited while they were in flight.
    commits: CommitTimes = field(default_factory=CommitTimes)


async def run_engine(url: str, count: int, *, concurrency: int, seed: int) -> EngineRun:
    """Submit `count` orders at once and wait until every one has reached CONFIRMED or FAILED."""
    requests = random_requests(default_catalog(), count, seed=seed)
    store = OrderStore(url)
    engine = Engine(store, engine_settings(time_scale=0, rate_limit=0, concurrency=concurrency, seed=seed))
    run = EngineRun(count)
    started_at: dict[str, float] = {}
    t0 = 0.0

    def on_update(update: OrderUpdate) -> None:
        now = time.perf_counter()
        run.state_changes += 1
        status = update.status
        if status is OrderStatus.PENDING and update.attempts == 0:
            return  # the insert; replayed as one batch, not as a change
        run.changes.setdefault(update.order_id, []).append(update)
        if status is OrderStatus.ROUTING:
            started_at.setdefault(update.order_id, now)
        elif status is OrderStatus.CONFIRMED:
            run.latencies_s.append(now - t0)
            run.attempt_latencies_s.append(now - started_at[update.order_id])

    collecting = [0.0]

    def timed_collection(phase: str, _info: dict[str, Any]) -> None:
        # The CPU time of the thread collecting (start and stop run on it): wall time would count the neighbours.
        if phase == "start":
            collecting[0] = time.thread_time()
        else:
            run.gc_s += time.thread_time() - collecting[0]

    await engine.start()
    gc.callbacks.append(timed_collection)
    try:
        with settled_collector():  # as `run` and `serve` once their engine started
            engine.subscribe(on_update)
            servers = server_cpu_s()
            cpu, loop_cpu, commits = time.process_time(), time.thread_time(), replace(store.commit_times)
            t0 = time.perf_counter()
            run.inserted = await engine.submit_many(requests)
            await engine.wait_idle()
            run.elapsed_s = time.perf_counter() - t0
            run.cpu_s, run.loop_cpu_s = time.process_time() - cpu, time.thread_time() - loop_cpu
            run.server_cpu_s = spent(servers, server_cpu_s())["postgres"]
            run.commits = store.commit_times.since(commits)
            run.peak_rss_mb = peak_rss_mb()
    finally:
        gc.callbacks.remove(timed_collection)
        await engine.stop()
    return run


async def run_ceiling(url: str, run: EngineRun, *, concurrency: int) -> float:
    """Replay the engine run's writes through `OrderStore` alone; returns the seconds it took."""
    # The replayed writes are conditional on the engine's ownership, so the replay writes as that owner.
    store = OrderStore(url, owner_id=run.inserted[0].owner or "" if run.inserted else "")
    await store.open()
    try:
        # The changes are made before the clock starts, as the engine makes its own in its pass.
        replay: dict[str, list[Change]] = {}
        for order_id, updates in run.changes.items():
            earlier: Change | None = None
            made = replay[order_id] = []
            for update in updates:
                earlier = Change(update.order, update.new_logs, update.status is OrderStatus.CONFIRMED, after=earlier)
                made.append(earlier)
        pending = deque(order.id for order in run.inserted)

        async def writer() -> None:
            while pending:
                for change in replay.get(pending.popleft(), ()):
                    stored = store.enqueue(change)
                    if change.state[0] in _WAITED:  # wait where the engine waits
                        await stored

        t0 = time.perf_counter()
        await store.insert(run.inserted)
        await asyncio.gather(*(writer() for _ in range(concurrency)))
        await store.flush()  # the engine's run ends when the last state is stored and announced
        return time.perf_counter() - t0
    finally:
        await store.close()


async def measure(db_url: str | None, count: int, *, concurrency: int, seed: int) -> dict[str, Any]:
    async with scratch_database(db_url) as url:
        run = await run_engine(url, count, concurrency=concurrency, seed=seed)
    async with scratch_database(db_url) as url:
        ceiling_s = await run_ceiling(url, run, concurrency=concurrency)
    postgres = not (db_url is None or db_url.startswith("sqlite"))
    engine_rate = run.state_changes / run.elapsed_s
    ceiling_rate = run.state_changes / ceiling_s
    return {
        "orders": count,
        "database": "postgresql" if postgres else "sqlite",
        "elapsed_s": run.elapsed_s,
        "orders_per_s": count / run.elapsed_s,
        "state_changes": run.state_changes,
        "state_changes_per_s": engine_rate,
        "latency_p50_ms": percentile(run.latencies_s, 0.5) * 1000,
        "latency_p99_ms": percentile(run.latencies_s, 0.99) * 1000,
        "attempt_p50_ms": percentile(run.attempt_latencies_s, 0.5) * 1000,
        "attempt_p99_ms": percentile(run.attempt_latencies_s, 0.99) * 1000,
        "peak_rss_mb": run.peak_rss_mb,
        "cpu_ms_per_order": run.cpu_s / count * 1000,
        "loop_cpu_ms_per_order": run.loop_cpu_s / count * 1000,
        "gc_ms_per_order": run.gc_s / count * 1000,
        "server_cpu_ms_per_order": run.server_cpu_s / count * 1000 if postgres else 0.0,
        "ceiling_state_changes_per_s": ceiling_rate,
        "ceiling_ratio": engine_rate / ceiling_rate,
        **_commit_figures(run),
    }


def _commit_figures(run: EngineRun) -> dict[str, Any]:
    """The group commits' shape: how many, how large, and whether the loop worked while they were in flight."""
    times = run.commits
    return {
        "commits": times.commits,
        "changes_per_commit": times.changes / times.commits if times.commits else 0.0,
        "commit_in_flight_share": times.in_flight_s / run.elapsed_s if run.elapsed_s else 0.0,
        "loop_busy_in_commits": times.loop_cpu_s / times.in_flight_s if times.in_flight_s else 0.0,
    }


def main(args: argparse.Namespace) -> int:
    concurrency = getattr(args, "concurrency", None) or 10
    seed = getattr(args, "seed", None) or 0
    with asyncio.Runner(loop_factory=fast_loop()) as runner:  # the loop `run` and `serve` take
        result = runner.run(measure(getattr(args, "db_url", None), args.orders, concurrency=concurrency, seed=seed))
    rows = [
        ("orders", f"{result['orders']:,} on {result['database']}, {concurrency} in flight"),
        ("orders/s", f"{result['orders_per_s']:,.0f}"),
        ("state changes/s", f"{result['state_changes_per_s']:,.0f} ({result['state_changes']:,} changes)"),
        ("submit → CONFIRMED p50 / p99", f"{result['latency_p50_ms']:,.0f} / {result['latency_p99_ms']:,.0f} ms"),
        ("attempt start → CONFIRMED p50 / p99", f"{result['attempt_p50_ms']:.1f} / {result['attempt_p99_ms']:.1f} ms"),
        ("peak RSS", f"{result['peak_rss_mb']:.0f} MB"),
        (
            "CPU per order: process / loop thread / in GC",
            f"{result['cpu_ms_per_order'] * 1000:,.0f} / {result['loop_cpu_ms_per_order'] * 1000:,.0f}"
            f" / {result['gc_ms_per_order'] * 1000:,.0f} µs",
        ),
        ("PostgreSQL CPU per order (this machine)", f"{result['server_cpu_ms_per_order'] * 1000:,.0f} µs"),
        (
            "group commits",
            f"{result['commits']:,}, {result['changes_per_commit']:.1f} changes each; in flight"
            f" {result['commit_in_flight_share']:.0%} of the run,"
            f" the loop busy {result['loop_busy_in_commits']:.0%} of that",
        ),
        ("storage ceiling (state changes/s)", f"{result['ceiling_state_changes_per_s']:,.0f}"),
        ("engine ÷ ceiling", f"{result['ceiling_ratio']:.2f}"),
    ]
    emit("dexdesk bench engine", result, rows, as_json=args.json)
    return 0
