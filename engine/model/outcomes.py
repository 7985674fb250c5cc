"""How an order ended, in the words a trader uses: filled, failed, expired or cancelled.

An expired limit order is stored FAILED with error "expired" (the contract's state machine and
its update messages are unchanged), and a cancelled one CANCELLED; neither went wrong, so the
desk, the detail view and the CSV's `outcome` column name them on their own and show them neutral,
not in the red of a real failure.
"""

from __future__ import annotations

import enum

from engine.model.domain import Order, OrderStatus

EXPIRED = "expired"
"""The error a limit order past its expiry ends FAILED with (engine/runtime/limits.py)."""


class Outcome(enum.StrEnum):
    FILLED = "filled"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


NEUTRAL_OUTCOMES = frozenset({Outcome.EXPIRED, Outcome.CANCELLED})


def outcome_of(status: OrderStatus | str, error: str | None) -> Outcome | None:
    """The outcome of an order in `status` with `error`; None while it has not ended."""
    if status == OrderStatus.CONFIRMED:
        return Outcome.FILLED
    if status == OrderStatus.CANCELLED:
        return Outcome.CANCELLED
    if status == OrderStatus.FAILED:
        return Outcome.EXPIRED if error == EXPIRED else Outcome.FAILED
    return None


def outcome(order: Order) -> Outcome | None:
    return outcome_of(order.status, order.error)


def is_neutral_end(order: Order) -> bool:
    """Expired or cancelled: it ended without a swap and without anything going wrong."""
    return outcome(order) in NEUTRAL_OUTCOMES
