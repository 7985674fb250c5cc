"""Committed state changes fan out from here to the desk, the CLI and the Redis mirror.

Listeners are called in the engine's task, after the commit; they must not block. One failing
listener is logged and never stops the others or the order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from engine.model.domain import OrderUpdate

log = logging.getLogger(__name__)

Listener = Callable[[OrderUpdate], None]


class UpdateSource(Protocol):
    """Anything that announces committed updates: the engine, or its hub. Subscribing returns the unsubscribe."""

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...


class UpdateHub:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, update: OrderUpdate) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(update)
            except Exception:
                log.exception("update listener %r failed", listener)
