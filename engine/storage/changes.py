"""What the group-commit writer takes (`Change`) and how a write fails, shared by the store and its fast writer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.model.domain import LogEntry, Order


class StorageFailure(RuntimeError):
    """A state change could not be stored; the order keeps its last stored state and resumes later."""


class OrderLost(StorageFailure):
    """The stored order is no longer this writer's: cancelled, or taken over after its lease ran out.

    The conditional write (id, owner, version) matched nothing; the writer must stop working on the
    order and touch nothing of it. Later queued changes of the same order fail the same way.
    """


class StorageUnavailable(RuntimeError):
    """The database cannot be opened at all (bad URL, refused, wrong credentials)."""


class DatabaseMissing(StorageUnavailable):
    """A read-only command found no database there (read-only commands never create one)."""


@dataclass(slots=True)
class Change:
    """One order's state change: its new snapshot, the log lines it appends, and an execution if any.

    The snapshot's `version` is one more than the stored version the change was made from; the
    write lands only if the row still has that version and this writer as its owner.
    """

    order: Order
    new_logs: Sequence[LogEntry]
    executed: bool = False
    done: asyncio.Future[None] | None = field(default=None, repr=False)
    # An earlier change of the same order still queued or in flight: if it cannot be stored,
    # neither is this one, so a stored order never skips a state or has a gap in its log.
    after: Change | None = field(default=None, repr=False)

    @property
    def failed(self) -> bool:
        return (
            self.done is not None and self.done.done() and (self.done.cancelled() or self.done.exception() is not None)
        )
