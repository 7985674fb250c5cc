"""Running the real engine on simulated time: every back-off and rate-limit window is exact."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from engine.model.clock import VirtualTimeLoop, run_virtual
from engine.model.domain import OrderUpdate
from engine.runtime.engine import Engine, EngineSettings
from engine.storage import OrderStore

T = TypeVar("T")


@dataclass
class Timeline:
    """Every announced update with the simulated time it was announced at, and the in-flight count then."""

    events: list[tuple[float, OrderUpdate, int]] = field(default_factory=list)

    def of(self, order_id: str) -> list[tuple[float, OrderUpdate]]:
        return [(moment, update) for moment, update, _ in self.events if update.order_id == order_id]

    def starts(self) -> list[tuple[float, str]]:
        """Attempt starts: each announcement of ROUTING."""
        return [(moment, update.order_id) for moment, update, _ in self.events if update.status == "ROUTING"]


def on_virtual_time(url: str, settings: EngineSettings, scenario: Callable[[Engine, Timeline], Awaitable[T]]) -> T:
    loop = VirtualTimeLoop()

    async def main() -> Any:
        engine = Engine(OrderStore(url), settings)
        loop.real_work_pending = lambda: engine.store.busy
        timeline = Timeline()
        engine.subscribe(
            lambda update: timeline.events.append((engine.clock.monotonic(), update, engine.stats().in_flight))
        )
        await engine.start()
        try:
            return await scenario(engine, timeline)
        finally:
            await engine.stop()

    return run_virtual(main(), loop)
