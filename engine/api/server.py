"""Running the API with uvicorn as a task on a loop someone else owns (`dexdesk serve`'s, or the desk's).

uvicorn's own signal capture is switched off: Ctrl-C and quitting stay the owner's to handle,
which then calls `stop()`. The listening socket is bound here, before uvicorn starts, so a
busy port is a plain OSError for the caller (uvicorn would call `sys.exit`), and port 0 works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from fastapi import FastAPI

from engine.api.app import ApiState
from engine.api.deadlines import deadline_protocol
from engine.api.options import ApiOptions

log = logging.getLogger(__name__)
GRACEFUL_STOP_S = 3


class _OwnedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the loop's owner handles signals


def bind(host: str, port: int) -> socket.socket:
    """The listening socket; raises OSError with the system's reason (address in use, not available…)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class ApiServer:
    """`await start()` binds and serves; `await stop()` closes connections (WebSockets get 1012) and ends."""

    def __init__(self, app: FastAPI, options: ApiOptions) -> None:
        self.app = app
        self.options = options
        self.port = options.port
        self._server: _OwnedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        host = f"[{self.options.host}]" if ":" in self.options.host else self.options.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._socket = bind(self.options.host, self.options.port)
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            access_log=False,
            log_config=None,
            ws_max_size=self.options.max_body_bytes,
            # Update messages are ~200 bytes: compressing each costs more CPU than it saves bytes.
            ws_per_message_deflate=False,
            timeout_graceful_shutdown=GRACEFUL_STOP_S,
            # Slow headers are cut off by the protocol itself (408 and close); slow bodies by `BodyDeadline`.
            http=deadline_protocol(self.options.request_timeout_s),
        )
        self._server = _OwnedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]), name="dexdesk-api")
        while not self._server.started:
            if self._task.done():
                await self._task  # raises why it could not start
                raise OSError("the API server stopped while starting")
            await asyncio.sleep(0.01)
        log.info("API serving on %s", self.url)

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        state = getattr(self.app.state, "api", None)
        if isinstance(state, ApiState):
            await state.close()
