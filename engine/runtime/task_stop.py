"""Stopping a background task for certain: cancel it, and cancel it again until it has ended.

A cancellation can be lost inside a client library: a cluster producer's `run --queue` hung at exit
about one run in five, with every order ended, because the cancel reached its refresh loop while a
Redis call was under way and never came out; the loop went on refreshing and `stop` waited on it for
good (SIGTERM too: it only cancels the same waiting task). Asking again each `every_s` ends it at its
next await, whatever swallowed the first request.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def stop_task(task: asyncio.Task[Any], *, every_s: float = 1.0) -> None:
    """Cancel `task` and wait until it has ended (asking again every `every_s`); its outcome is dropped."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=every_s)
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved
