"""The cluster's own commands: `dexdesk worker`, and `info`'s cluster lines (producers submit like one process)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from app.assembly import build_worker, cluster_config
from app.headless import fast_loop, settled_collector
from engine.cluster.config import ClusterUnavailable
from engine.cluster.queue import ClusterProducer
from engine.config.settings import Settings
from engine.listeners.mirror_keys import display_url
from engine.model.exit_codes import ExitCode

# A worker runs on uvloop like `serve` where it is installed: asyncio's default socket writes were
# 31 % of a worker's profile (issue 21). Chosen by app/cli.py through the command's `loop_factory`.
worker_loop = fast_loop


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
        node = build_worker(settings, args.lease)
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
    with settled_collector():
        await stop.wait()
    print(f"dexdesk worker {node.worker_id}: stopping after the attempts in flight", file=sys.stderr, flush=True)
    await node.stop()
    return ExitCode.OK


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
