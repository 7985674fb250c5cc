"""An order's log read back as a story: the states it went through, each attempt, each routing decision.

Pure functions over `Order.logs` (no Qt), so the detail view stays a thin painter and the reading
of the log is testable on its own. The log entries' `data` carries the machine-readable facts
(quotes, chosen venue, margin, error, back-off); messages are only used to spot where an attempt starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.domain import LogEntry, Order, OrderStatus

_ATTEMPT_START = re.compile(r"^attempt (\d+) of \d+")


@dataclass(frozen=True, slots=True)
class StateSpan:
    status: OrderStatus
    entered: datetime
    left: datetime | None  # None while the order is still in this state (or for the final state)
    note: str


@dataclass(slots=True)
class AttemptStory:
    number: int
    started: datetime
    venue: str | None = None
    quoted_price: Decimal | None = None
    decision: dict[str, Any] | None = None
    outcome: str = "running"
    error: str | None = None
    retry_in_ms: int | None = None
    executed_price: Decimal | None = None
    notes: list[str] = field(default_factory=list)


def state_spans(order: Order) -> list[StateSpan]:
    """One span per change of state, in order; a retry's PENDING is a span of its own."""
    spans: list[tuple[OrderStatus, datetime, str]] = []
    for entry in order.logs:
        if not spans or spans[-1][0] is not entry.status:
            spans.append((entry.status, entry.timestamp, entry.message))
    result = []
    for number, (status, entered, note) in enumerate(spans):
        left = spans[number + 1][1] if number + 1 < len(spans) else None
        result.append(StateSpan(status, entered, left, note))
    return result


def attempts(order: Order) -> list[AttemptStory]:
    stories: list[AttemptStory] = []
    for entry in order.logs:
        match = _ATTEMPT_START.match(entry.message)
        if entry.status is OrderStatus.ROUTING and match:
            stories.append(AttemptStory(int(match.group(1)), entry.timestamp))
            continue
        if not stories:
            continue
        _read_into(stories[-1], entry)
    return stories


def _read_into(story: AttemptStory, entry: LogEntry) -> None:
    data = entry.data or {}
    if "chosen" in data and "quotes" in data:
        story.decision = data
        story.venue = str(data["chosen"])
    elif entry.status is OrderStatus.BUILDING and story.decision is not None and story.quoted_price is None:
        chosen = _chosen_quote(story.decision)
        story.quoted_price = _decimal(chosen.get("effectivePrice")) if chosen else None
        if not entry.message.startswith("building swap"):
            story.notes.append(entry.message)
    elif entry.status is OrderStatus.BUILDING:
        story.notes.append(entry.message)
    elif entry.status is OrderStatus.SUBMITTED and story.outcome == "running":
        story.outcome = "sent"
    elif entry.status is OrderStatus.PENDING and "retryInMs" in data:
        story.outcome = "failed, retried"
        story.error = str(data.get("error"))
        story.retry_in_ms = int(data["retryInMs"])
    elif entry.status is OrderStatus.FAILED:
        story.outcome = "failed, final"
        story.error = str(data.get("error", entry.message))
    elif entry.status is OrderStatus.CONFIRMED:
        story.outcome = "confirmed"
        story.executed_price = _decimal(data.get("executionPrice"))


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _chosen_quote(decision: dict[str, Any]) -> dict[str, Any] | None:
    return next((quote for quote in decision["quotes"] if quote["venue"] == decision["chosen"]), None)


def last_decision(order: Order) -> tuple[int, dict[str, Any]] | None:
    """The latest routing decision and the attempt it belongs to: the quotes a trader asks about."""
    for story in reversed(attempts(order)):
        if story.decision is not None:
            return story.number, story.decision
    return None
