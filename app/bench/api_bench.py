"""`dexdesk bench api`: a real `dexdesk serve` process under C clients posting N orders and following them.

Each client holds one keep-alive HTTP connection on which it posts its share of the orders back to
back, and one WebSocket at a time on which it follows its posted orders in turn (joining late
when it falls behind, as the API allows). A separate board feed (`/ws/orders`), connected before
the first post, sees every order end: POST → CONFIRMED latency is measured there, so a client's
own backlog does not count against the server. The server runs at time scale 0 with the rate
limit off, on a scratch database; the HTTP client is a few lines of asyncio streams, so the
client's cost stays small next to the server's.

With `--follow none` the clients only post, and every order's end is read from the database every
50 ms: issue 26's load generator, by which its targets and the peer's figures were measured. Each
order's own WebSocket costs the server its handshake and frames (and the clients as much again),
so the two loads give different figures; both are the server's.

With `--queue URL` the server is a cluster producer and one `dexdesk worker` runs the orders (a
queue name of the run's own, so a shared Redis is safe); its CPU is a part of the total beside the
server's. The same figures side by side with a plain `serve` say what the cluster path costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.bench import worker_logs
from app.bench.cluster_bench import start_workers, stop_workers
from app.bench.databases import scratch_database
from app.bench.report import emit, percentile
from app.bench.server_cpu import server_cpu_s, spent
from engine.model.jsonfmt import dumps
from engine.storage import OrderStore
from engine.trading.demo import random_requests
from engine.trading.pairs import default_catalog

TERMINAL = ("CONFIRMED", "FAILED", "CANCELLED")
START_TIMEOUT_S = 60.0
ENDED_TIMEOUT_S = 120.0
POLL_S = 0.05  # how often `--follow none` looks at the database, as issue 26's load generator did


@dataclass
class Tally:
    posted: int = 0
    errors: int = 0
    frames: int = 0
    first_post: float = 0.0
    last_post: float = 0.0
    first_frame: float = 0.0
    last_frame: float = 0.0
    all_ended: float = 0.0  # `--follow none`: the look at the database that found every order ended
    sent_at: dict[str, float] = field(default_factory=dict)
    ended_at: dict[str, float] = field(default_factory=dict)
    answered_in: list[float] = field(default_factory=list)  # each POST's send → 201, seconds
    problems: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.problems) < 5:
            self.problems.append(what)


class HttpConnection:
    """One keep-alive HTTP/1.1 connection that posts JSON and reads the answer; nothing more."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


def run_settings(db_url: str, concurrency: int, queue_url: str | None) -> list[str]:
    """The options the server (and a worker) run with: time scale 0, no rate limit, the run's database."""
    options = ["--db", db_url, "--time-scale", "0", "--rate-limit", "0", "--concurrency", str(concurrency)]
    return [*options, "--queue", queue_url] if queue_url else options


async def start_server(
    options: list[str], env: dict[str, str] | None = None
) -> tuple[asyncio.subprocess.Process, str, int]:
    script = Path(sys.executable).with_name("dexdesk")
    command = (
        [str(script)] if script.exists() else [sys.executable, "-c", "from app.cli import entry_point; entry_point()"]
    )
    process = await asyncio.create_subprocess_exec(
        *command,
        "serve",
        "--port",
        "0",
        *options,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_S)).decode()
    if not line.startswith("serving http://"):
        raise SystemExit(f"dexdesk bench: the server did not start: {line.strip()}")
    address = line.split()[1].removeprefix("http://")
    host, _, port = address.rpartition(":")
    return process, host, int(port)


async def watch_board(url: str, tally: Tally, expected: int, opened: asyncio.Event, done: asyncio.Event) -> None:
    async with connect(f"{url}/ws/orders", max_queue=None, open_timeout=30) as websocket:
        opened.set()
        async for frame in websocket:
            message = json.loads(frame)
            if message["status"] in TERMINAL:
                tally.ended_at.setdefault(message["orderId"], time.perf_counter())
                if len(tally.ended_at) >= expected:
                    done.set()


async def poll_database(url: str, tally: Tally, expected: int, done: asyncio.Event) -> None:
    """`--follow none`: look at the database every 50 ms until every order has ended."""
    store = OrderStore(url)
    await store.open()
    try:
        while True:
            counts = await store.counts_by_status()
            if sum(count for status, count in counts.items() if status.is_terminal) >= expected:
                tally.all_ended = time.perf_counter()
                done.set()
                return
            await asyncio.sleep(POLL_S)
    finally:
        await store.close()


async def follow(url: str, order_id: str, tally: Tally) -> None:
    try:
        async with connect(f"{url}/ws/orders/{order_id}", max_queue=None, open_timeout=30) as websocket:
            last = ""
            with contextlib.suppress(ConnectionClosed):
                async for frame in websocket:
                    now = time.perf_counter()
                    tally.first_frame = tally.first_frame or now
                    tally.last_frame = now
                    tally.frames += 1
                    last = json.loads(frame)["status"]
            if websocket.close_code != 1000 or last not in TERMINAL:
                tally.error(f"order {order_id}: closed {websocket.close_code} after {last or 'nothing'}")
    except (OSError, ConnectionClosed, TimeoutError) as problem:
        tally.error(f"order {order_id}: websocket {problem!r}")


async def client(host: str, port: int, bodies: list[bytes], tally: Tally, *, follows: bool) -> None:
    url = f"ws://{host}:{port}"
    connection = HttpConnection(host, port)
    posted: asyncio.Queue[str | None] = asyncio.Queue()

    async def follower() -> None:
        while (order_id := await posted.get()) is not None:
            if follows:
                await follow(url, order_id, tally)

    following = asyncio.create_task(follower())
    try:
        for body in bodies:
            sent = time.perf_counter()
            tally.first_post = tally.first_post or sent
            try:
                status, answer = await connection.post("/api/orders", body)
            except (OSError, asyncio.IncompleteReadError, ValueError) as problem:
                tally.error(f"POST: {problem!r}")
                await connection.close()
                connection = HttpConnection(host, port)
                continue
            tally.last_post = time.perf_counter()
            tally.answered_in.append(tally.last_post - sent)
            if status != 201:
                tally.error(f"POST answered {status}: {answer[:200]!r}")
                continue
            order_id = json.loads(answer)["orderId"]
            tally.sent_at[order_id] = sent
            tally.posted += 1
            posted.put_nowait(order_id)
    finally:
        posted.put_nowait(None)
        await following
        await connection.close()


async def measure(
    db_url: str | None,
    orders: int,
    clients: int,
    concurrency: int,
    seed: int,
    queue_url: str | None = None,
    follow_each: bool = True,
) -> dict[str, Any]:
    requests = random_requests(default_catalog(), orders, seed=seed)
    bodies = [dumps({"pair": r.pair, "amount": r.amount, "direction": str(r.direction)}).encode() for r in requests]
    tally = Tally()
    said: list[worker_logs.WorkerLog] = []
    async with scratch_database(db_url) as url, contextlib.AsyncExitStack() as workers:
        options = run_settings(url, concurrency, queue_url)
        env = None
        worker_processes: list[psutil.Process] = []
        if queue_url:
            name = f"bench-api-{uuid.uuid4().hex[:10]}"
            env = {key: value for key, value in os.environ.items() if not key.startswith("DEXDESK_")}
            env.update(DEXDESK_QUEUE_NAME=name, DEXDESK_REDIS_PREFIX=name)
            logs = Path(workers.enter_context(tempfile.TemporaryDirectory(prefix="dexdesk-bench-api-")))
            started = await start_workers(1, env, [*options, "--seed", str(seed)], logs)
            # Last in, first out: the worker stops, then its log is read, then the folder goes.
            workers.callback(lambda: said.append(worker_logs.read(logs)))
            workers.push_async_callback(stop_workers, started)
            worker_processes = [psutil.Process(worker.pid) for worker in started]
        process, host, port = await start_server(options, env)
        server_process = psutil.Process(process.pid)
        server_cpu_before = sum(server_process.cpu_times()[:2])
        worker_cpu_before = [sum(worker.cpu_times()[:2]) for worker in worker_processes]
        databases_before = server_cpu_s()
        client_cpu_before = time.process_time()
        began = time.perf_counter()
        try:
            opened, ended = asyncio.Event(), asyncio.Event()
            if follow_each:
                watcher = asyncio.create_task(watch_board(f"ws://{host}:{port}", tally, orders, opened, ended))
                await asyncio.wait_for(opened.wait(), START_TIMEOUT_S)
            else:
                watcher = asyncio.create_task(poll_database(url, tally, orders, ended))
            shares = [bodies[index::clients] for index in range(clients)]
            await asyncio.gather(*(client(host, port, share, tally, follows=follow_each) for share in shares if share))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), ENDED_TIMEOUT_S)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            wall_s = time.perf_counter() - began
            serve_cpu_s = sum(server_process.cpu_times()[:2]) - server_cpu_before
            worker_cpu_s = sum(
                sum(worker.cpu_times()[:2]) - before
                for worker, before in zip(worker_processes, worker_cpu_before, strict=True)
            )
            database_cpu_s = spent(databases_before, server_cpu_s())
            client_cpu_s = time.process_time() - client_cpu_before
        finally:
            process.terminate()
            await process.wait()
    if follow_each:
        missing = [order_id for order_id in tally.sent_at if order_id not in tally.ended_at]
        for order_id in missing[:3]:
            tally.error(f"order {order_id} never ended on the board feed")
        tally.errors += max(0, len(missing) - 3)
        last_end = max(tally.ended_at.values(), default=tally.first_post)
    else:
        if not tally.all_ended:
            tally.error(f"not every order had ended in the database {ENDED_TIMEOUT_S:g} s after the last POST")
        last_end = tally.all_ended or tally.first_post
    latencies = [tally.ended_at[key] - sent for key, sent in tally.sent_at.items() if key in tally.ended_at]
    post_s = max(tally.last_post - tally.first_post, 1e-9)
    # First POST to the last order's end: every end is committed before it is announced, so the
    # board feed's last terminal frame comes right after the last order is terminal in the database.
    end_to_end_s = max(last_end - tally.first_post, 1e-9)
    ended_count = len(tally.ended_at) if follow_each else (orders if tally.all_ended else 0)
    parts_ms = {"server": serve_cpu_s * 1000 / orders}
    if queue_url:
        parts_ms["worker"] = worker_cpu_s * 1000 / orders
    parts_ms.update({name: cpu * 1000 / orders for name, cpu in database_cpu_s.items()})
    frame_s = max(tally.last_frame - tally.first_frame, 1e-9)
    return {
        "orders": orders,
        "clients": clients,
        "cluster": bool(queue_url),
        "follow": "each" if follow_each else "none",
        "posts_per_s": tally.posted / post_s,
        "orders_per_s_end_to_end": ended_count / end_to_end_s,
        "ws_messages": tally.frames,
        "ws_messages_per_s": tally.frames / frame_s,
        # How long a POST waits for its answer (its own order's commit): what ingestion costs a client.
        "post_answer_p50_ms": percentile(tally.answered_in, 0.5) * 1000,
        "post_answer_p99_ms": percentile(tally.answered_in, 0.99) * 1000,
        # POST → CONFIRMED, seen on the board feed (`--follow none` has none: None).
        "latency_p50_ms": percentile(latencies, 0.5) * 1000 if follow_each else None,
        "latency_p99_ms": percentile(latencies, 0.99) * 1000 if follow_each else None,
        "errors": tally.errors,
        "problems": tally.problems,
        "wall_s": wall_s,
        "server_cpu_s": serve_cpu_s,
        # What bounds the server on a busy machine too: CPU per order does not count time spent waiting.
        "server_cpu_ms_per_order": serve_cpu_s * 1000 / orders,
        # Every process the orders cost on this machine: the server, PostgreSQL's backends, Redis.
        "cpu_ms_per_order_all": sum(parts_ms.values()),
        "cpu_ms_per_order_parts": parts_ms,
        "client_cpu_s": client_cpu_s,
        # With --queue: what the worker logged at WARNING and above, and its tracebacks (app/bench/worker_logs.py).
        "worker_log": asdict(said[0]) if said else None,
    }


def main(args: argparse.Namespace) -> int:
    clients = args.clients
    if clients < 1:
        raise SystemExit("dexdesk bench: --clients must be at least 1")
    concurrency = getattr(args, "concurrency", None) or 10
    seed = getattr(args, "seed", None) or 0
    queue_url = getattr(args, "queue_url", None)
    follow_each = getattr(args, "follow", "each") == "each"
    result = asyncio.run(
        measure(getattr(args, "db_url", None), args.orders, clients, concurrency, seed, queue_url, follow_each)
    )
    rows = [
        (
            "orders",
            f"{result['orders']:,} from {clients} clients, {concurrency} in flight"
            + (", run by one `dexdesk worker`" if queue_url else "")
            + ("" if follow_each else "; not followed: ends read from the database every 50 ms"),
        ),
        ("POST requests/s", f"{result['posts_per_s']:,.0f}"),
        ("orders/s end to end (first POST → all ended)", f"{result['orders_per_s_end_to_end']:,.0f}"),
        ("WebSocket messages/s", f"{result['ws_messages_per_s']:,.0f} ({result['ws_messages']:,} messages)"),
        ("POST → 201 p50 / p99", f"{result['post_answer_p50_ms']:,.1f} / {result['post_answer_p99_ms']:,.1f} ms"),
        (
            "POST → CONFIRMED p50 / p99",
            f"{result['latency_p50_ms']:,.0f} / {result['latency_p99_ms']:,.0f} ms"
            if follow_each
            else "not measured (--follow none)",
        ),
        (
            "CPU seconds: server / clients / wall",
            f"{result['server_cpu_s']:.1f} / {result['client_cpu_s']:.1f} / {result['wall_s']:.1f}",
        ),
        ("server CPU per order", f"{result['server_cpu_ms_per_order']:.2f} ms"),
        (
            "CPU per order, all processes",
            f"{result['cpu_ms_per_order_all']:.2f} ms ("
            + ", ".join(f"{name} {ms:.2f}" for name, ms in result["cpu_ms_per_order_parts"].items())
            + ")",
        ),
        ("errors", f"{result['errors']}" + (f" (first: {result['problems'][0]})" if result["problems"] else "")),
    ]
    if result["worker_log"] is not None:
        rows.append((worker_logs.ROW, worker_logs.shown(result["worker_log"])))
    emit("dexdesk bench api", result, rows, as_json=args.json)
    return 0 if result["errors"] == 0 else 1
