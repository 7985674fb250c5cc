"""`dexdesk bench cluster`: orders/s with 1, 2, 4… real `dexdesk worker` processes on one queue.

Time scale 0 and the rate limit off, so what is measured is how the cluster's throughput grows
with workers: each worker is its own process (its own core), all share PostgreSQL and Redis.

Two figures per worker count. `orders_per_s` is the cluster working off a backlog: the orders
are stored before the clock starts, the clock runs from queueing them all (one bulk add, which
wakes every idle worker) to the database showing every one ended; the producer and any listener
are clients, on other machines in a real cluster. (BullMQ's global pause would leave the queue
filled before the clock, but resuming wakes one blocked worker only; the rest sleep out their
drain delay.)
`orders_per_s_end_to_end` puts them in the window too, on the same two cores: the producer stores
and queues every order, then hears each one end on Redis. A last run with the limit on reports
the most attempt starts heard in any window. Every run gets its own PostgreSQL schema and its own
queue name, so a shared Redis is safe.

`--cpu-quota Q` holds each worker to Q of a core in a cgroup of its own (app/bench/cpu_quota.py),
so that on a machine with few cores the workers behave like small machines and the servers keep
the rest: `scaling` (N workers' orders/s ÷ one worker's) then measures the design, not the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from app.bench import cluster_rounds, engine_beside, worker_logs
from app.bench.cluster_rounds import Run
from app.bench.cpu_quota import CpuQuota, QuotaUnavailable
from app.bench.databases import scratch_database
from app.bench.report import emit
from app.bench.server_cpu import cpu_s, server_cpu_s, spent
from app.bench.worker_logs import WorkerLog
from engine.cluster.config import ClusterConfig
from engine.cluster.producer import TERMINAL_NAMES, UpdateFollower, now_ms
from engine.cluster.queue import ClusterProducer
from engine.cluster.worker import unfinished_ids
from engine.config.settings import Settings, resolve
from engine.listeners import redis_wire
from engine.model.domain import Order
from engine.storage import OrderStore
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog

DEXDESK = str(Path(sys.executable).with_name("dexdesk"))
POLL_S = 0.05
IDLE_S = 5.0
LIMITED_ORDERS = 240
LIMIT = 60
WINDOW_S = 2.0
SEED = 1  # the market every worker of a run (and the engine beside them) trades on


async def start_workers(
    count: int, env: dict[str, str], args: list[str], logs: Path
) -> list[asyncio.subprocess.Process]:
    processes = []
    for index in range(count):
        sink = (logs / f"worker-{index}.log").open("wb")
        process = await asyncio.create_subprocess_exec(DEXDESK, "worker", *args, env=env, stdout=sink, stderr=sink)
        processes.append(process)
    for index, process in enumerate(processes):
        log = logs / f"worker-{index}.log"
        deadline = time.monotonic() + 60
        while "taking orders" not in log.read_text():
            if process.returncode is not None or time.monotonic() > deadline:
                raise SystemExit(f"dexdesk bench: worker {index} did not start: {log.read_text().strip()}")
            await asyncio.sleep(0.05)
    return processes


async def stop_workers(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def _stamp(message: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(message["timestamp"]).replace("Z", "+00:00")).timestamp()


async def _backlog(store: OrderStore, requests: list[Any]) -> list[Order]:
    """The backlog, stored PENDING before the clock starts; no worker hears of it until it is queued."""
    now = now_ms()
    return [order for order, _created in await store.insert([request.to_order(now) for request in requests])]


async def _drain(store: OrderStore, producer: ClusterProducer, backlog: list[Order]) -> None:
    """Queue the stored backlog, as a producer does; done when the database shows every order ended."""
    await producer.enqueue_stored(backlog)
    ended, last_change, seen = 0, time.monotonic(), -1
    while ended < len(backlog):
        await asyncio.sleep(POLL_S)  # another process's progress: no signal to wait on, so a cheap count
        counts = await store.counts_by_status()
        ended = sum(count for status, count in counts.items() if status.is_terminal)
        if ended != seen:
            seen, last_change = ended, time.monotonic()
        elif time.monotonic() - last_change > IDLE_S:
            break  # five still seconds: whatever has not ended is counted as lost


async def _end_to_end(
    store: OrderStore, producer: ClusterProducer, follower: UpdateFollower, requests: list[Any]
) -> list[float]:
    """Store and queue every order, then hear each one end on Redis (and every attempt start)."""
    await producer.check()
    stored = await _backlog(store, requests)
    ours = {order.id for order in stored}
    await producer.enqueue_stored(stored)
    remaining = set(ours)
    starts: list[float] = []
    async for message in follower.messages(idle_s=IDLE_S):
        if message is None:
            break  # five silent seconds: whatever has not ended is counted as lost
        if message.get("orderId") not in ours:
            continue  # another cluster on a shared Redis
        if message.get("status") == "ROUTING":
            starts.append(_stamp(message))
        if message.get("status") in TERMINAL_NAMES:
            remaining.discard(str(message["orderId"]))
            if not remaining:
                break
    return starts


async def one_run(
    base: Settings,
    db_base: str,
    workers: int,
    orders: int,
    *,
    rate_limit: int = 0,
    window_s: float = 60.0,
    end_to_end: bool = True,
    quota: CpuQuota | None = None,
) -> Run:
    assert base.queue_url is not None
    queue_name = f"bench-{uuid.uuid4().hex[:10]}"
    async with scratch_database(db_base) as db_url:
        env = {key: value for key, value in os.environ.items() if not key.startswith("DEXDESK_")}
        env.update(DEXDESK_QUEUE_NAME=queue_name, DEXDESK_REDIS_PREFIX=queue_name)
        args = ["--db", db_url, "--queue", base.queue_url, "--time-scale", "0", "--seed", str(SEED)]
        args += [
            "--rate-limit",
            str(rate_limit),
            "--rate-window",
            str(window_s),
            "--concurrency",
            str(base.concurrency),
        ]
        config = ClusterConfig(base.queue_url, queue_name, rate_limit=rate_limit, rate_window_s=window_s)
        store = OrderStore(db_url)
        await store.open()
        producer = ClusterProducer(config)
        follower = UpdateFollower(base.queue_url)
        with tempfile.TemporaryDirectory(prefix="dexdesk-bench-cluster-") as folder:
            processes = await start_workers(workers, env, args, Path(folder))
            try:
                if quota is not None:
                    for process in processes:
                        quota.hold(process.pid)
                if end_to_end:
                    await follower.start()  # a subscriber nobody reads would fill Redis's output buffer
                requests = random_requests(default_catalog(), orders, seed=workers)
                backlog = [] if end_to_end else await _backlog(store, requests)
                cpu_before = [cpu_s(process.pid) for process in processes]
                servers_before = server_cpu_s()
                producer_before = time.process_time()
                started = time.perf_counter()
                starts: list[float] = []
                if end_to_end:
                    starts = await _end_to_end(store, producer, follower, requests)
                else:
                    await _drain(store, producer, backlog)
                wall = time.perf_counter() - started
                producer_cpu = time.process_time() - producer_before
                worker_cpu = [cpu_s(p.pid) - before for p, before in zip(processes, cpu_before, strict=True)]
                server_cpu = spent(servers_before, server_cpu_s())
            finally:
                await stop_workers(processes)
                if quota is not None:
                    quota.close()
                await follower.close()
                await producer.close()
            said = worker_logs.read(Path(folder))
        unfinished = await unfinished_ids(store)
        executions = await store.executions()
        await store.close()
        await _forget_queue(base.queue_url, queue_name)
    twice = sum(1 for n in executions.values() if n > 1)
    return Run(
        workers, orders, wall, len(unfinished), twice, sorted(starts), worker_cpu, producer_cpu, server_cpu, said
    )


async def _forget_queue(url: str, queue_name: str) -> None:
    """Remove the run's keys (BullMQ's, the cluster's, the mirror's snapshots) from a possibly shared Redis."""
    client = redis_wire.from_url(url)
    try:
        for pattern in (f"bull:{queue_name}:*", f"dexdesk:cluster:{queue_name}:*", f"{queue_name}:*"):
            keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
            for first in range(0, len(keys), 1000):
                await client.delete(*keys[first : first + 1000])
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


def most_in_window(times: list[float], window_s: float) -> int:
    best, end = 0, 0
    for begin, moment in enumerate(times):
        end = max(end, begin)
        while end < len(times) and times[end] < moment + window_s:
            end += 1
        best = max(best, end - begin)
    return best


def worker_counts(asked: list[int]) -> list[int]:
    """One count N: 1, 2, 4 … up to N; several: exactly those, smallest first."""
    if len(asked) > 1:
        return sorted(set(asked))
    most = asked[0]
    counts = [1]
    while counts[-1] * 2 <= most:
        counts.append(counts[-1] * 2)
    if counts[-1] != most:
        counts.append(most)
    return counts


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    flags = {name: getattr(args, name, None) for name in ("db_url", "queue_url", "concurrency")}
    settings = resolve(flags)
    if not settings.queue_url:
        raise SystemExit("dexdesk bench cluster: needs --queue redis://host:6379/0 (a Redis the workers share)")
    if not settings.db_url or not settings.db_url.startswith("postgresql"):
        raise SystemExit("dexdesk bench cluster: needs --db postgresql://… (cluster mode needs a server database)")
    counts = worker_counts(args.workers)
    quota: CpuQuota | None = args.quota
    db = settings.db_url
    rounds: int = args.rounds
    backlog: list[list[Run]] = []
    engine_ms: list[float] = []  # `bench engine` beside each round's one-worker run (app/bench/engine_beside.py)
    for index in range(rounds):
        backlog.append(await _round(settings, db, counts, index, args.orders, False, quota))
        if 1 in counts:
            engine_ms.append(
                await engine_beside.engine_cpu_ms_per_order(
                    DEXDESK, db, args.orders, concurrency=settings.concurrency, seed=SEED
                )
            )
    whole = [await _round(settings, db, counts, index, args.orders, True, quota) for index in range(rounds)]
    # Enough orders to fill the window twice, so the limit has something to hold back.
    limited_orders = min(LIMITED_ORDERS, max(2 * LIMIT, args.orders))
    limited = await one_run(
        settings, db, min(2, max(counts)), limited_orders, rate_limit=LIMIT, window_s=WINDOW_S, quota=quota
    )
    every = [run for one in (*backlog, *whole) for run in one] + [limited]
    return {
        "workers": counts,
        "orders": args.orders,
        # Each worker's cgroup CPU quota, in cores (None: unlimited), and the cgroup version used.
        "cpu_quota": quota.share if quota is not None else None,
        "cgroup": quota.version if quota is not None else None,
        # Every count measured once a round, the counts in alternating order (app/bench/cluster_rounds.py):
        # orders/s, N workers ÷ one worker's, CPU per order, as the rounds' medians, each round's beside them.
        "rounds": len(backlog),
        **cluster_rounds.figures(backlog, whole),
        **cluster_rounds.beside_engine(backlog, engine_ms),
        "load_average_1m": os.getloadavg()[0],
        "max_starts_per_window": most_in_window(limited.starts, WINDOW_S),
        "rate_limit": LIMIT,
        "rate_window_s": WINDOW_S,
        # What the workers logged at WARNING and above in every run, and their tracebacks (app/bench/worker_logs.py).
        "worker_log": asdict(sum((run.said for run in every), WorkerLog())),
        "lost": sum(run.lost for run in every),
        "executed_twice": sum(run.executed_twice for run in every),
    }


async def _round(
    settings: Settings, db: str, counts: list[int], index: int, orders: int, end_to_end: bool, quota: CpuQuota | None
) -> list[Run]:
    """One run of every worker count, in round `index`'s order; the runs by count, smallest first."""
    runs = {
        count: await one_run(settings, db, count, orders, end_to_end=end_to_end, quota=quota)
        for count in cluster_rounds.round_order(counts, index)
    }
    return [runs[count] for count in counts]


def main(args: argparse.Namespace) -> int:
    for flag, value in (("--workers", min(args.workers)), ("--rounds", args.rounds)):
        if value < 1:
            print(f"dexdesk bench cluster: {flag} must be at least 1", file=sys.stderr)
            return 2
    args.quota = None
    if args.cpu_quota is not None:
        if not 0 < args.cpu_quota <= (os.cpu_count() or 1):
            print(
                f"dexdesk bench cluster: --cpu-quota must be above 0 and at most {os.cpu_count()} cores",
                file=sys.stderr,
            )
            return 2
        try:
            args.quota = CpuQuota(args.cpu_quota).open()
        except QuotaUnavailable as error:
            print(
                f"dexdesk bench cluster: --cpu-quota needs a writable cgroup CPU controller: {error}", file=sys.stderr
            )
            return 2
    try:
        result = asyncio.run(bench(args))
    finally:
        if args.quota is not None:
            args.quota.close()
    rows = [
        (f"orders/s, {workers} worker(s), backlog", f"{rate:,.1f}") for workers, rate in result["orders_per_s"].items()
    ]
    if result["cpu_quota"] is not None:
        rows.insert(0, ("CPU quota per worker (cgroup " + result["cgroup"] + ")", f"{result['cpu_quota']:g} core"))
    rows += [
        (f"{workers} workers ÷ 1 worker, backlog", _with_rounds(ratio, result["scaling_by_round"][workers]))
        for workers, ratio in result["scaling"].items()
    ]
    rows += [
        (f"orders/s, {workers} worker(s), end to end", f"{rate:,.1f}")
        for workers, rate in result["orders_per_s_end_to_end"].items()
    ]
    each_round = result["scaling_end_to_end_by_round"]
    rows += [
        (f"{workers} workers ÷ 1 worker, end to end", _with_rounds(ratio, each_round[workers]))
        for workers, ratio in result["scaling_end_to_end"].items()
    ]
    for workers, per_worker in result["worker_cpu_ms_per_order"].items():
        cpu = " + ".join(f"{ms:.2f}" for ms in per_worker)
        rows.append(
            (
                f"CPU ms/order, {workers} worker(s) + producer",
                f"{cpu} + {result['producer_cpu_ms_per_order'][workers]:.2f}",
            )
        )
        servers = result["server_cpu_ms_per_order"][workers]
        rows.append(
            (
                f"CPU ms/order, {workers} worker(s): PostgreSQL + Redis here",
                f"{servers['postgres']:.2f} + {servers['redis']:.2f}",
            )
        )
    if result["worker_vs_engine"] is not None:
        rows.append(("CPU ms/order, in-process engine (bench engine)", f"{result['engine_cpu_ms_per_order']:.2f}"))
        each_round = result["worker_vs_engine_by_round"]
        rows.append(("1 worker ÷ in-process engine, CPU/order", _with_rounds(result["worker_vs_engine"], each_round)))
    rows.append(("load average (1 min) at the end", f"{result['load_average_1m']:.2f}"))
    rows.append((worker_logs.ROW, worker_logs.shown(result["worker_log"])))
    rows += [
        (f"most starts in any {WINDOW_S:g} s (limit {LIMIT})", str(result["max_starts_per_window"])),
        ("lost", str(result["lost"])),
        ("executed twice", str(result["executed_twice"])),
    ]
    title = f"cluster: {args.orders:,} orders per run"
    if result["rounds"] > 1:
        title += f", medians of {result['rounds']} rounds"
    emit(title, result, rows, as_json=args.json)
    return 0 if result["lost"] == 0 and result["executed_twice"] == 0 else 1


def _with_rounds(ratio: float, each: list[float]) -> str:
    """A ratio, and each round's beside it when there were several."""
    return f"{ratio:.2f}×" + (f" ({', '.join(f'{one:.2f}' for one in each)})" if len(each) > 1 else "")
