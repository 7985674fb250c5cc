"""The desk's asyncio loop: qasync's, with every ready callback run from one queue, in order.

qasync makes each `call_soon` a Qt timer of its own: `startTimer`, a `QTimerEvent` through
`QApplication.notify` into Python, `killTimer`. Every task step and every resolved future is a
`call_soon`, so at time scale 0 the desk's engine paid that thousands of times a second; in
`bench board`'s stream it was over half the time of a group commit's drain on the loop (py-spy),
and the same engine costs about three times as much CPU per order on the desk as headless.
Separate timers also do not promise the order asyncio does ("callbacks are called in the order
in which they are registered"): under heavy painting Qt may fire them out of order (qasync
pull request 123).

Here ready callbacks wait in one deque, served by one zero-interval timer, the way asyncio's own
loop serves its ready queue: each pass runs the callbacks that were ready when it began, then Qt
paints and reads its sockets before the next pass. Delayed callbacks (`call_later`) stay qasync's.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Callable
from typing import Any

import qasync
from PySide6.QtCore import QTimer


class DeskEventLoop(qasync.QEventLoop):  # type: ignore[misc]  # qasync ships no type information
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._ready: deque[asyncio.Handle] = deque()
        self._pass = QTimer()
        self._pass.setSingleShot(True)
        self._pass.setInterval(0)
        self._pass.timeout.connect(self._run_ready)
        super().__init__(*args, **kwargs)

    def call_soon(
        self, callback: Callable[..., object], *args: Any, context: contextvars.Context | None = None
    ) -> asyncio.Handle:
        """Queue `callback(*args)` behind every callback already queued; the next pass runs it."""
        handle = asyncio.Handle(callback, args, self, context=context)
        self._ready.append(handle)
        if not self._pass.isActive():
            self._pass.start()
        return handle

    def _run_ready(self) -> None:
        """One pass: the callbacks ready when it began, oldest first; those they queue wait for the next.

        The next pass is armed before any callback runs, so a callback that spins a nested Qt
        event loop (a modal dialog) does not hold back the rest: the nested loop runs them.
        """
        ready = self._ready
        self._pass.start()
        for _ in range(len(ready)):
            if not ready:
                break  # a nested event loop inside a callback ran the rest already
            handle = ready.popleft()
            if not handle.cancelled():
                handle._run()
        if not ready:
            self._pass.stop()

    def close(self) -> None:
        """Callbacks still queued are dropped, as qasync drops its pending timers."""
        self._pass.stop()
        self._ready.clear()
        super().close()
