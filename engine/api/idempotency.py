"""`Idempotency-Key`: one key names one whole request, and answers only that request's order.

The key becomes the order id (so a retried POST finds the order the first one made, on any server
of a cluster), and the request's fingerprint (a SHA-256 of the request as normalised by the rules:
route, pair or tokens, side, amount as sent, type, limit, expiry, slippage, userId) is stored with
the order. A later request with the same key is answered with that order only when its fingerprint
is the same; a different request is 409, never the first order's answer. `/api/orders/execute`
is fingerprinted on its tokens and amount as received, not on the BASE amount worked out from
today's price, so its retry matches whatever the price did since.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

from engine.api.problems import ApiProblem
from engine.model.domain import Order
from engine.model.jsonfmt import dumps, format_decimal
from engine.model.validation import FieldError, InvalidOrder, OrderRequest

# Idempotency keys become order ids: the same key always names the same order, on every server.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f0c7d4e-2b1a-5c3d-9e8f-0a1b2c3d4e5f")
MAX_KEY_LENGTH = 200
# As `with_idempotency_key` reads it: printable ASCII, not only spaces, at most 200 characters.
IDEMPOTENCY_HEADER_SCHEMA = {"minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[ -~]*[!-~][ -~]*$"}
IDEMPOTENCY_HEADER_DOC = (
    "any string up to 200 characters: the same key with the same request makes one order however often "
    "it is sent (the order id is derived from it); the same key with a different request is 409"
)


def fingerprint(route: str, fields: dict[str, Any]) -> str:
    """SHA-256 of the normalised request: equal exactly when the two requests ask for the same order."""
    normal = {name: format_decimal(value) if isinstance(value, Decimal) else value for name, value in fields.items()}
    return hashlib.sha256(dumps({"route": route, **normal}).encode()).hexdigest()


def order_fingerprint(request: OrderRequest) -> str:
    """`POST /api/orders`: every field that changes the order, as the rules read it."""
    return fingerprint(
        "orders",
        {
            "pair": request.pair,
            "direction": str(request.direction),
            "amount": request.amount,
            "type": str(request.order_type),
            "limitPrice": request.limit_price,
            "expiresIn": request.expires_in_s,
            "slippage": request.slippage,
            "userId": request.user_label,
        },
    )


def with_idempotency_key(request: OrderRequest, key: str | None, request_fingerprint: str) -> OrderRequest:
    """The order id derived from the client's key, and the request's fingerprint to check a retry against."""
    if key is None:
        return request
    if not key.strip() or len(key) > MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
        raise InvalidOrder([FieldError("Idempotency-Key", f"must be 1-{MAX_KEY_LENGTH} printable ASCII characters")])
    return replace(request, order_id=str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, key)), request_key=request_fingerprint)


def check_same_request(order: Order, request: OrderRequest) -> None:
    """A key reused for a different request is refused rather than answered with the first order."""
    if request.request_key is None:
        return
    if order.request_key is not None:
        same = order.request_key == request.request_key
    else:  # stored by an earlier release, which kept no fingerprint: the fields it compared
        same = (order.pair, order.amount, order.direction) == (request.pair, request.amount, request.direction)
    if not same:
        raise ApiProblem(
            409,
            "Idempotency-Key was already used for a different request "
            f"(order {order.id}: {order.direction} {order.amount} {order.pair}); use a new key for a new order",
        )
