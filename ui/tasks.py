"""The desk's asyncio tasks: kept alive, their failures shown, and stopped in the right way at quit.

A task is cancelled when the desk closes, except one marked `finish`: an order being stored is one
transaction, and cancelled half-way it left its connection inside BEGIN; the engine's stop then
waited on "database is locked" for good (a limit sent just before Quit). Those are awaited instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from ui.dialogs.errors import ErrorReporter


class DeskTasks:
    def __init__(self, errors: ErrorReporter) -> None:
        self.errors = errors
        self._tasks: set[asyncio.Task[Any]] = set()
        self._finishing: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], *, finish: bool = False) -> asyncio.Task[Any]:
        """Run a coroutine on the loop, keep it alive, and show its exception if it fails."""
        task = asyncio.ensure_future(work)
        if finish:
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.errors.excepthook(type(error), error, error.__traceback__)

    async def stop(self) -> None:
        """Let the `finish` tasks end, cancel the rest, and wait for all of them."""
        await asyncio.gather(*self._finishing, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
