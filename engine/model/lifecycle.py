"""The order's lifecycle as one table: which status may follow which. Every stored change is checked.

PENDING → ROUTING → BUILDING → SUBMITTED → CONFIRMED is the happy path; any non-terminal state may
end in FAILED; an order may be CANCELLED until its swap is sent (PENDING, ROUTING, BUILDING). A
failed attempt that will be retried goes back to PENDING; a resumed order repeats the state it
was stored in (ROUTING or BUILDING restart their attempt, SUBMITTED re-sends the same signed
transaction). Terminal states have no way out.
"""

from __future__ import annotations

from engine.model.domain import OrderStatus

P, R, B, S = OrderStatus.PENDING, OrderStatus.ROUTING, OrderStatus.BUILDING, OrderStatus.SUBMITTED
C, F, X = OrderStatus.CONFIRMED, OrderStatus.FAILED, OrderStatus.CANCELLED

ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    P: frozenset({P, R, F, X}),
    R: frozenset({R, B, P, F, X}),
    B: frozenset({B, S, P, R, F, X}),
    S: frozenset({S, C, P, F}),
    C: frozenset(),
    F: frozenset(),
    X: frozenset(),
}

CANCELLABLE = frozenset(status for status, nexts in ALLOWED.items() if X in nexts)


class IllegalTransition(ValueError):
    """A change the lifecycle forbids: a bug, never something a user can cause."""


def check_transition(old: OrderStatus, new: OrderStatus) -> None:
    if new not in ALLOWED[old]:
        raise IllegalTransition(f"an order cannot go from {old} to {new}")
