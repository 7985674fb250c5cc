"""An order's log read back as a story: the states it went through, each attempt, each routing decision.

Pure functions over `Order.logs` (no Qt), so the detail view stays a thin painter and the reading
of the log is testable on its own. The log entries' `data` carries the machine-readable facts
(quotes, chosen venue, margin, error, back-off); entries are read by their `kind`, never by their wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.domain import LogEntry, Order, OrderStatus
from engine.model.log_kinds import LogKind


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
    signature: str | None = None
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
        if entry.kind == LogKind.ATTEMPT_STARTED:
            number = (entry.data or {}).get("attempt")
            stories.append(AttemptStory(int(number) if number else len(stories) + 1, entry.timestamp))
            continue
        if not stories:
            continue
        _read_into(stories[-1], entry)
    return stories


def _read_into(story: AttemptStory, entry: LogEntry) -> None:
    data = entry.data or {}
    kind = entry.kind
    if kind == LogKind.ROUTE_CHOSEN:
        story.decision = data
        split, two_hop = data.get("split"), data.get("twoHop")
        legs = split.get("legs", []) if isinstance(split, dict) else []
        hops = two_hop.get("hops", []) if isinstance(two_hop, dict) else []
        if hops:  # the venues in the order the tokens flow through them
            story.venue = " then ".join(str(hop["venue"]) for hop in hops)
        else:
            story.venue = " + ".join(str(leg["venue"]) for leg in legs) if legs else str(data["chosen"])
    elif kind == LogKind.BUILT and story.decision is not None:
        chosen = _chosen_quote(story.decision)
        story.quoted_price = _decimal(chosen.get("effectivePrice")) if chosen else None
        story.signature = data.get("signature")
    elif kind in (LogKind.WRAP, LogKind.NOTE):
        story.notes.append(entry.message)
    elif kind == LogKind.SUBMITTED and story.outcome == "running":
        story.outcome = "sent"
    elif kind == LogKind.RETRY_SCHEDULED:
        story.outcome = "failed, retried"
        story.error = str(data.get("error"))
        story.retry_in_ms = int(data["retryInMs"])
    elif kind == LogKind.FAILED:
        story.outcome = "failed, final"
        story.error = str(data.get("error", entry.message))
    elif kind == LogKind.CANCELLED:
        story.outcome = "cancelled"
        story.error = str(data.get("reason", entry.message))
    elif kind == LogKind.CONFIRMED:
        story.outcome = "confirmed"
        story.executed_price = _decimal(data.get("executionPrice"))


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _chosen_quote(decision: dict[str, Any]) -> dict[str, Any] | None:
    for route in ("split", "twoHop"):  # a split or two hops: the route's average is what the attempt was quoted
        chosen = decision.get(route)
        if isinstance(chosen, dict):
            return chosen
    return next((quote for quote in decision["quotes"] if quote["venue"] == decision["chosen"]), None)


def last_decision(order: Order) -> tuple[int, dict[str, Any]] | None:
    """The latest routing decision and the attempt it belongs to: the quotes a trader asks about."""
    for story in reversed(attempts(order)):
        if story.decision is not None:
            return story.number, story.decision
    return None
