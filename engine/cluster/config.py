"""The numbers and names one cluster shares: every producer and worker must agree on them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import make_url

from engine.config.settings import QUEUE_NAME

DEFAULT_LEASE_S = 10.0
DEFAULT_RATE_WINDOW_S = 60.0
# How long a worker's blocking wait for a job lasts before it loops; the worker's Redis socket
# timeout must stay above it (redis-py 8's default 5 s timeout otherwise cuts the wait short).
DRAIN_DELAY_S = 2


class ClusterUnavailable(RuntimeError):
    """The queue cannot be reached or used; the message is one line fit for the user."""


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    queue_url: str
    queue_name: str = QUEUE_NAME
    lease_s: float = DEFAULT_LEASE_S
    rate_limit: int = 100
    rate_window_s: float = DEFAULT_RATE_WINDOW_S

    @property
    def key_prefix(self) -> str:
        """dexdesk's own keys (rate window, workers alive), beside BullMQ's `bull:{queue}:*`."""
        return f"dexdesk:cluster:{self.queue_name}"


def refuse_unshared_database(database_url: str) -> None:
    """Cluster mode needs a database every process on every machine reaches: a server, not a file.

    A SQLite file is reachable by one machine only, and its single writer lock makes several
    worker processes take turns on every commit; the queue's promise (any worker, any machine,
    one shared store) would not hold, so producers and workers refuse it up front.
    """
    backend = make_url(database_url).get_backend_name()
    if backend != "postgresql":
        raise ClusterUnavailable(
            f"cluster mode needs a PostgreSQL database shared by every producer and worker "
            f"(--db postgresql://…); {backend} is a file only one machine can reach"
        )
