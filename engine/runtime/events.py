"""Committed state changes fan out from here to the desk, the CLI and the Redis mirror.

Listeners are called in the engine's task, after the commit; they must not block. One failing
listener is logged and never stops the others or the order.

A listener says which of `update.order` it reads of changes *another process* made (a cluster
worker's message heard by a producer): of every change, of ends only, or none. Building such a
snapshot means reading the order back from the database, which in `serve --queue` cost the producer
and PostgreSQL more than the message itself (the API's feed needs only the message). A producer
reads back what its listeners and its own waiters (`wait_terminal`) need, and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal, Protocol

from engine.model.domain import OrderUpdate

log = logging.getLogger(__name__)

Listener = Callable[[OrderUpdate], None]
# Which snapshots of another process's changes a listener reads: of every change, of ends, or none.
Snapshots = Literal["every", "ends", "none"]
_LEVELS: tuple[Snapshots, ...] = ("none", "ends", "every")


class UpdateSource(Protocol):
    """Anything that announces committed updates: the engine, or its hub. Subscribing returns the unsubscribe."""

    def subscribe(self, listener: Listener, *, snapshots: Snapshots = "every") -> Callable[[], None]: ...


class UpdateHub:
    def __init__(self) -> None:
        self._listeners: list[tuple[Listener, Snapshots]] = []

    def subscribe(self, listener: Listener, *, snapshots: Snapshots = "every") -> Callable[[], None]:
        """Call `listener` with every update; `snapshots`: which of another process's `update.order` it reads."""
        entry = (listener, snapshots)
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry) if entry in self._listeners else None

    @property
    def snapshots_wanted(self) -> Snapshots:
        """The most any listener reads of another process's changes' snapshots."""
        return _LEVELS[max((_LEVELS.index(level) for _, level in self._listeners), default=0)]

    def publish(self, update: OrderUpdate) -> None:
        for listener, _ in tuple(self._listeners):
            try:
                listener(update)
            except Exception:
                log.exception("update listener %r failed", listener)
