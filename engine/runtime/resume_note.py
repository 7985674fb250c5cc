"""The `resumed` log entry an order gets when an engine claims it after a restart or a takeover."""

from __future__ import annotations

from typing import Any

from engine.model.domain import LogEntry, Order, OrderStatus
from engine.model.log_kinds import LogKind
from engine.runtime.pipeline import Transitions


def resumed_entry(transitions: Transitions, order: Order, owner: str, remaining_s: float) -> LogEntry:
    """Says where the order picks up: re-sending its signed transaction, waiting out its back-off, or its state."""
    data: dict[str, Any] = {"from": str(order.status), "owner": owner}
    if remaining_s:
        data["retryInMs"] = round(remaining_s * 1000)
    if order.route and order.status is OrderStatus.SUBMITTED:
        data["signature"] = order.route.signature
    return transitions.entry(order.status, LogKind.RESUMED, _resumed_line(order, remaining_s), data)


def _resumed_line(order: Order, remaining_s: float) -> str:
    if order.status is OrderStatus.SUBMITTED and order.route is not None:
        signature = order.route.signature[:12]
        return f"resumed after restart: re-sending signed transaction {signature}…, which can land only once"
    if remaining_s:
        return f"resumed in PENDING: the retry is due in {remaining_s:.3g} s (what was left of its back-off)"
    return f"resumed in {order.status}"
