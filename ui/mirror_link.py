"""The desk's side of the Redis mirror: started with the engine, shown in the status bar, switched live, stopped last.

`ui/` never builds a mirror. `app/` hands the window a `MirrorStarter` (in the app that is
`app.wiring.start_mirror`), so which Redis, which key prefix and how it is wired stay in one
place for the CLI and the desk alike; this module only decides *when* to call it and shows what
the mirror reports.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from engine.config.settings import Settings
from engine.listeners.mirror import RedisMirror
from engine.listeners.mirror_state import MirrorState
from engine.runtime.engine import Engine

MirrorStarter = Callable[[Engine, Settings, Callable[[MirrorState], None]], RedisMirror | None]

SWITCH_FLUSH_S = 2.0


def mirror_text(state: MirrorState) -> str:
    """Short enough for a status bar; the URL goes in the tooltip.

    "Redis: connected", "Redis: disconnected — connection refused, retrying in 0.4 s".
    """
    if state.status == "disconnected":
        retry = f", retrying in {state.retry_in_s:g} s" if state.retry_in_s else ""
        return f"Redis: disconnected — {state.reason}{retry}"
    return f"Redis: {state.status}"


class MirrorLink(QObject):
    """Owns the running mirror (if any). `state_changed` carries a `MirrorState`, or None when off."""

    state_changed = Signal(object)

    def __init__(self, engine: Engine, starter: MirrorStarter | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._starter = starter
        self.mirror: RedisMirror | None = None
        self.settings: Settings | None = None
        self._generation = 0

    @property
    def state(self) -> MirrorState | None:
        return self.mirror.state if self.mirror is not None else None

    def start(self, settings: Settings) -> None:
        """Mirror the engine from now on; call right after `await engine.start()`, with no await between.

        Between the two the engine may announce nothing the mirror would miss (start_mirror adopts
        the resumed orders synchronously).
        """
        self.settings = settings
        self._generation += 1
        generation = self._generation

        def report(state: MirrorState) -> None:
            # A replaced mirror still reports "stopped" as it goes; only the current one speaks.
            if generation == self._generation:
                self.state_changed.emit(state)

        self.mirror = self._starter(self.engine, settings, report) if self._starter else None
        if self.mirror is None:
            self.state_changed.emit(None)

    @staticmethod
    def same_target(old: Settings | None, new: Settings) -> bool:
        return old is not None and (old.redis_url, old.redis_prefix) == (new.redis_url, new.redis_prefix)

    async def switch(self, settings: Settings) -> None:
        """Move to another Redis URL or prefix (or none) without a restart.

        The old mirror first gets a moment to send what it holds, so an order's messages never
        arrive out of order across the switch; then, with no await between, the new mirror
        attaches and the old one detaches, so no update is sent twice or not at all.
        """
        if self.same_target(self.settings, settings):
            self.settings = settings
            return
        old = self.mirror
        if old is not None and old.state.connected:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(old.flushed(), SWITCH_FLUSH_S)
        self.start(settings)
        if old is not None:
            await old.stop()

    async def stop(self) -> None:
        """After the engine has stopped, so a clean stop's last states still go out."""
        mirror, self.mirror = self.mirror, None
        if mirror is not None:
            await mirror.stop()
