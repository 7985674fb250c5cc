"""The engine's numbers and the small value types its commands answer with."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from engine.model.domain import Order
from engine.runtime.queue import QueueSettings
from engine.trading.router import RouterSettings


@dataclass(frozen=True, slots=True)
class StorageHealth:
    """What a status bar says about the database: which one, and the last transient error if any."""

    dialect: str
    url: str
    last_error: str | None


@dataclass(frozen=True, slots=True)
class EngineSettings:
    time_scale: float = 1.0
    queue: QueueSettings = field(default_factory=QueueSettings)
    router: RouterSettings = field(default_factory=RouterSettings)
    # How long a claim on an order holds without renewal: another process takes over a dead
    # owner's orders this long after its last renewal (real seconds, renewed every third of it).
    lease_s: float = 10.0
    feed_interval_s: float = 0.5


@dataclass(frozen=True, slots=True)
class CancelResult:
    """What `cancel` did: `outcome` is cancelled, too_late (SUBMITTED or ended) or unknown; `reason` is one line."""

    outcome: Literal["cancelled", "too_late", "unknown"]
    reason: str
    order: Order | None


def new_owner_id() -> str:
    """Who holds an order: host and process for people reading the database, a random tail for uniqueness."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def engine_settings(
    *,
    time_scale: float = 1.0,
    concurrency: int = 10,
    rate_limit: int = 100,
    rate_window_s: float = 60.0,
    seed: int = 0,
    slippage_tolerance: Decimal | float | str = Decimal("0.01"),
    failure_rate: float = 0.05,
    lease_s: float = 10.0,
) -> EngineSettings:
    """The engine's numbers from the user's words (starts per `rate_window_s`, 0 = off)."""
    return EngineSettings(
        time_scale=time_scale,
        queue=replace(
            QueueSettings(), concurrency=concurrency, limiter_max=rate_limit, limiter_duration_s=rate_window_s
        ),
        router=replace(
            RouterSettings(), seed=seed, slippage_tolerance=Decimal(str(slippage_tolerance)), failure_rate=failure_rate
        ),
        lease_s=lease_s,
    )
