"""The cluster's commands: `dexdesk worker`, and `submit`/`run` when a queue URL is set (producers only)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from app.console import update_lines
from app.wiring import pick_seed
from engine.cluster.config import DEFAULT_LEASE_S, ClusterConfig, ClusterUnavailable, refuse_unshared_database
from engine.cluster.producer import TERMINAL_NAMES, UpdateFollower, submit_to_cluster
from engine.cluster.queue import ClusterProducer
from engine.cluster.worker import ClusterWorker
from engine.domain import Order, OrderStatus, OrderUpdate, update_message
from engine.exit_codes import ExitCode
from engine.jsonfmt import dumps
from engine.mirror_keys import display_url
from engine.settings import Settings
from engine.storage import OrderStore
from engine.validation import OrderRequest


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


async def worker(args: argparse.Namespace, settings: Settings) -> int:
    """Headless: take orders from the queue until SIGTERM or Ctrl-C, then finish the ones in flight."""
    if not settings.queue_url:
        print("dexdesk: worker: needs a queue URL (--queue redis://host:6379/0 or DEXDESK_QUEUE_URL)", file=sys.stderr)
        return ExitCode.BAD_INPUT
    if args.lease is None:
        args.lease = settings.lease_s
    if args.lease <= 0:
        print("dexdesk: lease: must be greater than 0 seconds", file=sys.stderr)
        return ExitCode.BAD_INPUT
    try:
        node = ClusterWorker(
            settings.database_url,
            cluster_config(settings, args.lease),
            settings.engine(pick_seed(settings)),
            concurrency=settings.concurrency,
            mirror_namespace=settings.redis_prefix,
        )
    except ClusterUnavailable as error:
        print(f"dexdesk: {error}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await node.start()
    window = (
        f"{settings.rate_limit} starts per {settings.rate_window_s:g} s across the cluster"
        if settings.rate_limit
        else "no rate limit"
    )
    print(
        f"dexdesk worker {node.worker_id}: taking orders from {display_url(settings.queue_url)} "
        f"(concurrency {settings.concurrency}, {window}, lease {args.lease:g} s); "
        f"database {node.store.display_url}; re-queued {node.requeued} unfinished",
        file=sys.stderr,
        flush=True,
    )
    await stop.wait()
    print(f"dexdesk worker {node.worker_id}: stopping after the attempts in flight", file=sys.stderr, flush=True)
    await node.stop()
    return ExitCode.OK


class _Producer:
    """Stores and queues orders, then follows them from Redis until each is terminal."""

    def __init__(self, settings: Settings) -> None:
        refuse_unshared_database(settings.database_url)
        self.settings = settings
        self.store = OrderStore(settings.database_url)
        self.producer = ClusterProducer(cluster_config(settings))
        assert settings.queue_url is not None
        self.follower = UpdateFollower(settings.queue_url)

    async def __aenter__(self) -> _Producer:
        await self.store.open()
        try:
            await self.producer.check()
            await self.follower.start()
        except Exception:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.follower.close()
        await self.producer.close()
        await self.store.close()

    async def submit(self, requests: list[OrderRequest]) -> list[Order]:
        return await submit_to_cluster(self.store, self.producer, requests)

    async def follow(self, order_ids: set[str], on_message: Callable[[dict[str, Any]], None]) -> dict[str, Order]:
        """Pass each followed order's messages to `on_message` until all are terminal; return them from the database."""
        remaining = set(order_ids)
        async for message in self.follower.messages():
            if message is None:
                await self._settled_meanwhile(remaining)
            elif message.get("orderId") in remaining:
                on_message(message)
                if message.get("status") in TERMINAL_NAMES:
                    remaining.discard(str(message["orderId"]))
            if not remaining:
                break
        finals = {}
        for order_id in order_ids:
            order = await self.store.get(order_id)
            assert order is not None
            finals[order_id] = order
        return finals

    async def _settled_meanwhile(self, remaining: set[str]) -> None:
        """After a quiet second (or a lost feed), the database says which followed orders ended unheard."""
        for order_id in list(remaining):
            order = await self.store.get(order_id)
            if order is not None and order.is_terminal:
                remaining.discard(order_id)


async def submit(args: argparse.Namespace, settings: Settings, request: OrderRequest) -> int:
    async with _Producer(settings) as producer:
        order = (await producer.submit([request]))[0]
        if args.json:
            sys.stdout.write(dumps(update_message(order)) + "\n")
        else:
            print(order.id, flush=True)

        def show(message: dict[str, Any]) -> None:
            if args.json:
                sys.stdout.write(dumps(message) + "\n")
                sys.stdout.flush()
            elif args.wait:
                extras = "  ".join(
                    f"{key} {message[key]}" for key in ("dex", "executionPrice", "error") if key in message
                )
                print(f"{message['status']:<10} {extras}".rstrip(), flush=True)

        final = (await producer.follow({order.id}, show))[order.id]
    if not args.json and not args.wait:
        from app.commands import out

        out.print(update_lines(OrderUpdate({}, final, final.logs[-1:])))
    return ExitCode.OK if final.status is OrderStatus.CONFIRMED else ExitCode.FAILED


async def run(
    requests: list[OrderRequest],
    settings: Settings,
    progress: Callable[[], AbstractContextManager[Callable[[int], None]]],
) -> tuple[list[Order], float]:
    """Submit a batch to the cluster and wait for all of it; returns the final orders and the wall time.

    `progress()` is entered only once the database and the queue have answered, so a refusal is
    the only thing the user sees when either is missing.
    """
    async with _Producer(settings) as producer:
        with progress() as advance:
            started = time.perf_counter()
            submitted = await producer.submit(requests)
            ended = 0

            def count(message: dict[str, Any]) -> None:
                nonlocal ended
                if message.get("status") in TERMINAL_NAMES:
                    ended += 1
                    advance(ended)

            finals = await producer.follow({order.id for order in submitted}, count)
            wall = time.perf_counter() - started
    return list(finals.values()), wall


async def info_lines(settings: Settings) -> list[str]:
    """`dexdesk info`: the mode, the queue, and the workers alive with what each has in flight."""
    if not settings.queue_url:
        return ["mode: single process (no queue URL: --queue URL or DEXDESK_QUEUE_URL runs orders on workers)"]
    lines = [f"mode: cluster producer; queue {settings.queue_name!r} on {display_url(settings.queue_url)}"]
    producer = ClusterProducer(cluster_config(settings))
    try:
        stats = await producer.stats()
    except ClusterUnavailable as error:
        return [*lines, f"queue: {error}"]
    finally:
        with contextlib.suppress(Exception):
            await producer.close()
    lines.append(stats.text)
    for node in stats.workers:
        lines.append(
            f"  worker {node.worker_id} on {node.host} (pid {node.pid}): "
            f"{node.in_flight}/{node.concurrency} in flight, {node.done} done"
        )
    return lines
