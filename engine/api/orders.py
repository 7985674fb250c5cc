"""`/api/orders`: create, read and list orders, with the same rules and words as the desk and the CLI."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import FastAPI, Header, Query, Request
from starlette.responses import Response

from engine.api.admission import Admission
from engine.api.body_rules import USER_LABEL_PATTERN, order_body_schema
from engine.api.idempotency import (
    IDEMPOTENCY_HEADER_DOC,
    IDEMPOTENCY_HEADER_SCHEMA,
    check_same_request,
    order_fingerprint,
    with_idempotency_key,
)
from engine.api.problems import ApiProblem, json_response, looks_like_order_id, parse_object
from engine.api.schemas import BadInput, CancelOutcome, OrderCreated, OrderDetail, OrderPage, Problem
from engine.model.domain import Order, OrderStatus
from engine.model.validation import (
    FieldError,
    InvalidOrder,
    OrderRequest,
    status_filter,
    validate_order,
    validate_pair,
    validate_user_label,
)
from engine.runtime.engine import Engine
from engine.trading.pairs import PairCatalog

ORDER_FIELDS = ("pair", "amount", "direction", "type", "limitPrice", "expiresIn", "slippage", "userId")
CREATED_MESSAGE = "Order created and queued for processing"
MAX_PAGE = 1000
# SQLite and PostgreSQL both keep `seq` in a signed 64-bit integer.
MAX_CURSOR = 2**62

BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": BadInput, "description": "bad input: every bad field and its rule; nothing stored"},
    401: {"model": Problem, "description": "missing or wrong bearer token (only when the server has a token)"},
    413: {"model": Problem, "description": "body larger than 64 KiB"},
    503: {
        "model": Problem,
        "description": "cluster mode only: the queue (Redis) cannot be reached; nothing stored, try again later",
    },
}
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "missing or wrong bearer token (only when the server has a token)"},
}


def documented_body(schema: dict[str, Any]) -> dict[str, Any]:
    """The body as documented (engine.api.body_rules); handlers read it themselves, so bad JSON is a 400."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


OPTIONAL_FIELDS = ("type", "limitPrice", "expiresIn", "slippage")


def empty_fields(payload: dict[str, Any], names: tuple[str, ...]) -> list[FieldError]:
    """An optional field sent as "" is refused (omit it, or send null): the document allows no empty value."""
    return [FieldError(name, "must not be empty: omit it (or send null)") for name in names if payload.get(name) == ""]


def parse_new_order(payload: dict[str, Any], catalog: PairCatalog) -> OrderRequest:
    """Every problem at once: the fields by the desk's and the CLI's rules, then unknown fields."""
    errors: list[FieldError] = []
    request: OrderRequest | None = None
    try:
        request = validate_order(
            payload.get("pair"),
            payload.get("amount"),
            payload.get("direction"),
            catalog,
            order_type=payload.get("type"),
            limit_price=payload.get("limitPrice"),
            expires_in=payload.get("expiresIn"),
            slippage=payload.get("slippage"),
        )
    except InvalidOrder as problem:
        errors.extend(problem.errors)
    for key in payload:
        if key not in ORDER_FIELDS:
            errors.append(FieldError(key[:40], f"is not a field of an order ({', '.join(ORDER_FIELDS)})"))
    errors.extend(empty_fields(payload, OPTIONAL_FIELDS))
    label = validate_user_label(payload.get("userId"))
    if isinstance(label, FieldError):
        errors.append(label)
    if errors or request is None or isinstance(label, FieldError):
        raise InvalidOrder(errors)
    return replace(request, user_label=label)


async def create(engine: Engine, admission: Admission, body: bytes, idempotency_key: str | None) -> Order:
    """`POST /api/orders`: the order stored (or found again by its key); raises InvalidOrder or ApiProblem."""
    parsed = parse_new_order(parse_object(body), engine.catalog)
    # The fingerprint (a SHA-256) only for a request that names itself with a key: nothing compares it otherwise.
    request = (
        parsed if idempotency_key is None else with_idempotency_key(parsed, idempotency_key, order_fingerprint(parsed))
    )
    order = await admission.submit(request)
    check_same_request(order, request)
    return order


def created_body(order: Order) -> dict[str, str]:
    return {"orderId": order.id, "status": "PENDING", "message": CREATED_MESSAGE}


def either_case(names: list[str]) -> list[str]:
    """Documented values: the rules read these case-insensitively, so both spellings are listed."""
    return [*names, *(name.lower() for name in names)]


def pair_filter(raw: str | None, catalog: PairCatalog) -> str | None:
    if raw is None:
        return None
    result = validate_pair(raw, catalog)
    if isinstance(result, FieldError):
        raise InvalidOrder([result])
    return result


def add_order_routes(app: FastAPI, engine: Engine, admission: Admission) -> None:
    @app.post(
        "/api/orders",
        status_code=201,
        summary="Submit a market order",
        response_model=None,
        responses={
            201: {"model": OrderCreated, "description": "stored as PENDING and queued (or, for a repeated key, found)"},
            **BODY_RESPONSES,
            409: {"model": Problem, "description": "the Idempotency-Key was used for a different request"},
        },
        openapi_extra=documented_body(order_body_schema(engine.catalog)),
        tags=["orders"],
    )
    async def create_order(
        request: Request,
        idempotency_key: str | None = Header(
            None,
            alias="Idempotency-Key",
            description=IDEMPOTENCY_HEADER_DOC,
            json_schema_extra=IDEMPOTENCY_HEADER_SCHEMA,
        ),
    ) -> Response:
        # Served by `engine.api.lanes` before FastAPI routes it; this route documents it (and would serve it).
        order = await create(engine, admission, await request.body(), idempotency_key)
        return json_response(created_body(order), 201, {"location": f"/api/orders/{order.id}"})

    @app.get(
        "/api/orders",
        summary="List orders, newest first",
        response_model=None,
        responses={
            200: {"model": OrderPage, "description": "one page; follow `nextBefore` for older orders"},
            400: {"model": BadInput, "description": "a bad filter"},
            **READ_RESPONSES,
        },
        tags=["orders"],
    )
    async def list_orders(
        status: str | None = Query(
            None,
            description="only orders in this status (case-insensitive)",
            json_schema_extra={"enum": either_case([str(status) for status in OrderStatus])},
        ),
        pair: str | None = Query(
            None,
            description="only orders of this pair (case-insensitive)",
            json_schema_extra={"enum": either_case(list(engine.catalog.names))},
        ),
        limit: int = Query(50, ge=1, le=MAX_PAGE, description="at most this many orders"),
        before: int | None = Query(None, ge=1, le=MAX_CURSOR, description="`nextBefore` of the previous page"),
        user_id: str | None = Query(
            None,
            alias="userId",
            description="only orders with this userId",
            json_schema_extra={"pattern": USER_LABEL_PATTERN},
        ),
    ) -> Response:
        wanted_status, wanted_pair = status_filter(status), pair_filter(pair, engine.catalog)
        label = validate_user_label(user_id)
        if isinstance(label, FieldError):
            raise InvalidOrder([label])
        page = await engine.orders_page(
            limit=limit, before_seq=before, status=wanted_status, pair=wanted_pair, user_label=label
        )
        return json_response(
            {
                "orders": [order.to_json(with_logs=False) for order in page],
                "nextBefore": page[-1].seq if len(page) == limit else None,
            }
        )

    @app.get(
        "/api/orders/{order_id}",
        summary="One order with its whole typed log",
        response_model=None,
        responses={
            200: {"model": OrderDetail, "description": "the order, as `dexdesk show --json` prints it"},
            404: {"model": Problem, "description": "no order has this id"},
            **READ_RESPONSES,
        },
        tags=["orders"],
    )
    async def get_order(order_id: str) -> Response:
        order = await engine.order(order_id) if looks_like_order_id(order_id) else None
        if order is None:
            raise ApiProblem(404, f"no order has the id {order_id[:64]}")
        return json_response(order.to_json())

    @app.delete(
        "/api/orders/{order_id}",
        summary="Cancel an order whose swap has not been sent",
        response_model=None,
        responses={
            200: {"model": CancelOutcome, "description": "cancelled: it will never be sent"},
            404: {"model": Problem, "description": "no order has this id"},
            409: {
                "model": CancelOutcome,
                "description": "too late: already SUBMITTED or ended (the reason says which)",
            },
            **READ_RESPONSES,
        },
        tags=["orders"],
    )
    async def cancel_order(order_id: str) -> Response:
        if not looks_like_order_id(order_id):
            raise ApiProblem(404, f"no order has the id {order_id[:64]}")
        result = await engine.cancel(order_id)
        if result.outcome == "unknown":
            raise ApiProblem(404, result.reason or f"no order has the id {order_id}")
        return json_response(
            {
                "outcome": result.outcome,
                "reason": result.reason,
                "order": result.order.to_json(with_logs=False) if result.order else None,
            },
            200 if result.outcome == "cancelled" else 409,
        )
