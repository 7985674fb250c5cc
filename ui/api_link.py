"""The desk serving the HTTP + WebSocket API on its own engine (Settings → "Serve the API on port …").

uvicorn runs as a task on the desk's loop with its signal capture off, so Ctrl-C and quitting stay
the desk's. The desk listens on 127.0.0.1 only: `dexdesk serve` is the way to listen further out,
with a token. FastAPI is imported only when the API is switched on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from engine.listeners.mirror_state import MirrorState
from engine.runtime.engine import Engine

if TYPE_CHECKING:
    from engine.api import ApiServer


class ApiLink(QObject):
    """`state_changed` carries a short line for the status bar, or "" when the API is off."""

    state_changed = Signal(str)

    def __init__(
        self, engine: Engine, mirror_state: Callable[[], MirrorState | None], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.mirror_state = mirror_state
        self.server: ApiServer | None = None
        self.port: int | None = None

    @property
    def url(self) -> str | None:
        return self.server.url if self.server is not None else None

    async def apply(self, port: int | None) -> None:
        """Serve on `port` (restarting if it changed), or stop serving with None."""
        if port == self.port and (port is None or self.server is not None):
            return
        await self.stop()
        self.port = port
        if port is None:
            self.state_changed.emit("")
            return
        from engine.api import ApiOptions, ApiServer, create_app

        options = ApiOptions(port=port, mirror_state=self.mirror_state)
        server = ApiServer(create_app(self.engine, options), options)
        try:
            await server.start()
        except OSError as problem:
            self.state_changed.emit(f"API off: port {port} — {problem.strerror or problem}")
            return
        self.server = server
        self.state_changed.emit(f"API: {server.url}")

    async def stop(self) -> None:
        server, self.server = self.server, None
        self.port = None
        if server is not None:
            await server.stop()
