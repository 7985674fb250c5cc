"""The kinds of log entry: a stable machine name for every step an order's log records.

Readers (the desk's detail view, reports, the API, tests) go by `kind` and `data`, never by the
wording of `message`, which is for people and may change. `infer_kind` reads the kind back from a
log written before kinds existed (0.1.0), from its status, message and data; the migration uses it.
"""

from __future__ import annotations

import enum
from typing import Any


class LogKind(enum.StrEnum):
    RECEIVED = "received"
    """The order was stored as PENDING (data: pair, direction, amount)."""
    RESUMED = "resumed"
    """A process took the order up again after a restart or a take-over (data: from status, owner)."""
    ATTEMPT_STARTED = "attempt_started"
    """An attempt began routing (data: attempt, attempts)."""
    QUOTE = "quote"
    """One venue's quote (data: the quote's fields)."""
    ROUTE_CHOSEN = "route_chosen"
    """The routing decision (data: quotes, chosen, marginBps)."""
    BUILT = "built"
    """The swap was built and signed (data: venue, quotedPrice, signature)."""
    WRAP = "wrap"
    """SOL wrapped or unwrapped around the swap (data: action)."""
    SUBMITTED = "submitted"
    """The signed transaction was sent (data: signature, venue)."""
    CONFIRMED = "confirmed"
    """The swap landed (data: txHash, executionPrice, quotedPrice)."""
    ATTEMPT_FAILED = "attempt_failed"
    """An attempt failed (data: attempt, error, signature when one was built)."""
    RETRY_SCHEDULED = "retry_scheduled"
    """A retry waits out its back-off (data: attempt, retryInMs, retryAt)."""
    FAILED = "failed"
    """No attempts left: the order is FAILED (data: error)."""
    CANCELLED = "cancelled"
    """Cancelled before its swap was sent (data: by, reason)."""
    LIMIT_TRIGGERED = "limit_triggered"
    """A waiting limit order's price was reached; it joins the queue (data: triggerPrice, limitPrice, marketTime)."""
    LIMIT_WAITING = "limit_waiting"
    """A triggered limit order missed its limit at landing and waits for its price again (data: attempt, reason)."""
    EXPIRED = "expired"
    """A waiting limit order reached its expiry without triggering (data: expiresAt)."""
    NOTE = "note"
    """Anything else worth a line in the log (data: free-form)."""


WAITING_AGAIN = "waitingAgain"
"""The data key that marks a limit order's return to waiting: its earlier trigger no longer holds."""


def infer_kind(status: str, message: str, data: dict[str, Any] | None) -> LogKind:
    """The kind of a log entry written by 0.1.0, which had none, from what it did record."""
    data = data or {}
    if status == "PENDING":
        if "retryInMs" in data:
            return LogKind.RETRY_SCHEDULED
        if "triggerPrice" in data:
            return LogKind.LIMIT_TRIGGERED
        return LogKind.RECEIVED if message.startswith("order received") else LogKind.NOTE
    if status == "ROUTING":
        if "chosen" in data and "quotes" in data:
            return LogKind.ROUTE_CHOSEN
        if "effectivePrice" in data and "venue" in data:
            return LogKind.QUOTE
        return LogKind.ATTEMPT_STARTED if message.startswith("attempt ") else LogKind.NOTE
    if status == "BUILDING":
        if message.startswith("building swap"):
            return LogKind.BUILT
        return LogKind.WRAP if "wrap" in message else LogKind.NOTE
    if status == "SUBMITTED":
        return LogKind.RESUMED if message.startswith("resumed") else LogKind.SUBMITTED
    if status == "CONFIRMED":
        return LogKind.CONFIRMED
    if status == "FAILED":
        return LogKind.EXPIRED if "expiresAt" in data else LogKind.FAILED
    if status == "CANCELLED":
        return LogKind.CANCELLED
    return LogKind.NOTE
