"""The public task's route: `POST /api/orders/execute {tokenIn, tokenOut, amount}` and lowercase statuses.

Many clients written for the task speak this shape. A token pair maps onto a listed pair and a
direction: selling the BASE token (SOL → USDC on SOL-USDC) is a SELL of `amount` SOL; paying
with the QUOTE token (USDC → SOL) is a BUY whose SOL amount is the USDC amount at the current
indicative price, rounded down to the pair's decimals (the answer says so). Two listed tokens
that no listed pair trades (SOL → RAY) are the routable pair named `tokenIn-tokenOut`, sold:
a SELL of `amount` tokenIn that the router carries through one intermediate token (engine/trading/hops.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal
from typing import Any, NoReturn

from fastapi import FastAPI, Header, Request
from starlette.responses import Response

from engine.api.admission import Admission
from engine.api.body_rules import execute_body_schema, quote_bounds
from engine.api.idempotency import (
    IDEMPOTENCY_HEADER_DOC,
    IDEMPOTENCY_HEADER_SCHEMA,
    check_same_request,
    fingerprint,
    with_idempotency_key,
)
from engine.api.orders import BODY_RESPONSES, documented_body, empty_fields
from engine.api.problems import json_response, read_object
from engine.api.schemas import ExecuteCreated, ExecuteProblem, Problem
from engine.model.domain import Direction
from engine.model.jsonfmt import format_decimal
from engine.model.validation import (
    FieldError,
    InvalidOrder,
    OrderRequest,
    parse_amount,
    validate_order,
    validate_user_label,
)
from engine.runtime.engine import Engine
from engine.trading.pairs import PairSpec

EXECUTE_FIELDS = ("tokenIn", "tokenOut", "amount", "amountIn", "slippage", "orderType", "type", "userId")


@dataclass(frozen=True, slots=True)
class Execution:
    request: OrderRequest
    message: str
    # The request as received (tokens, amount of tokenIn, slippage, userId): what an Idempotency-Key names.
    fingerprint: str = ""


def _token(payload: dict[str, Any], name: str, errors: list[FieldError]) -> str | None:
    raw = payload.get(name)
    if not isinstance(raw, str) or not raw.strip():
        errors.append(FieldError(name, "is required: a token symbol, e.g. SOL"))
        return None
    return raw.strip().upper()


def _find_pair(engine: Engine, token_in: str, token_out: str) -> tuple[PairSpec, Direction] | FieldError:
    for name in engine.catalog.names:
        spec = engine.catalog[name]
        if (spec.base, spec.quote) == (token_in, token_out):
            return spec, Direction.SELL
        if (spec.base, spec.quote) == (token_out, token_in):
            return spec, Direction.BUY
    routed = engine.catalog.routable(f"{token_in}-{token_out}")
    if routed is not None:
        return routed, Direction.SELL
    tokens = ", ".join(engine.catalog.tokens)
    return FieldError(
        "tokenOut",
        f"no listed pair or route through one listed token trades {token_in[:16]} for {token_out[:16]} "
        f"(listed tokens: {tokens})",
    )


def parse_execution(payload: dict[str, Any], engine: Engine) -> Execution:
    errors: list[FieldError] = []
    token_in, token_out = _token(payload, "tokenIn", errors), _token(payload, "tokenOut", errors)
    if "amount" in payload and "amountIn" in payload:
        errors.append(FieldError("amountIn", "give either amount or amountIn, not both"))
    raw_amount = payload.get("amount", payload.get("amountIn"))
    if "orderType" in payload and "type" in payload:
        errors.append(FieldError("type", "give either type or orderType, not both"))
    kind = payload.get("orderType", payload.get("type"))
    if kind is not None and (not isinstance(kind, str) or kind.strip().lower() != "market"):
        errors.append(FieldError("orderType", "only market orders are served: omit it or send `market`"))
    errors.extend(empty_fields(payload, ("slippage",)))
    label = validate_user_label(payload.get("userId"))
    if isinstance(label, FieldError):
        errors.append(label)
    for key in payload:
        if key not in EXECUTE_FIELDS:
            errors.append(FieldError(key[:40], f"is not a field of this route ({', '.join(EXECUTE_FIELDS)})"))
    found: tuple[PairSpec, Direction] | FieldError | None = None
    if token_in and token_out and token_in == token_out:
        errors.append(FieldError("tokenOut", "must differ from tokenIn"))
    elif token_in and token_out:
        found = _find_pair(engine, token_in, token_out)
    if isinstance(found, FieldError):
        errors.append(found)
    if raw_amount is None:
        errors.append(FieldError("amount", "is required: how much tokenIn to swap"))
    if errors or not isinstance(found, tuple):
        _raise_with_amount(errors, raw_amount)
    assert isinstance(found, tuple)
    assert not isinstance(label, FieldError)
    spec, direction = found
    slippage = payload.get("slippage")
    if direction is Direction.SELL:
        request = _validated(spec.pair, raw_amount, direction, slippage, engine)
        message = f"Order created and queued for processing: SELL {request.amount} {spec.base} on {spec.pair}"
        if not spec.listed:
            vias = " or ".join(via.token for via in spec.via)
            message += f", routed through {vias} (no listed pair trades {spec.base} for {spec.quote})"
        execution = Execution(request, message)
    else:
        execution = _buy_with_quote(spec, raw_amount, slippage, engine)
    spent = parse_amount(raw_amount)
    assert not isinstance(spent, FieldError)  # the rules above read it
    request = replace(execution.request, user_label=label)
    received = {
        "tokenIn": token_in,
        "tokenOut": token_out,
        "amount": spent,
        "slippage": request.slippage,
        "userId": label,
    }
    return Execution(request, execution.message, fingerprint("execute", received))


def _raise_with_amount(errors: list[FieldError], raw_amount: object) -> NoReturn:
    if raw_amount is not None and not any(error.field in ("amount", "amountIn") for error in errors):
        amount = parse_amount(raw_amount)
        if isinstance(amount, FieldError):
            errors.append(amount)
        elif amount <= 0:
            errors.append(FieldError("amount", "must be greater than 0"))
    raise InvalidOrder(errors)


def _validated(pair: str, amount: object, direction: Direction, slippage: object, engine: Engine) -> OrderRequest:
    try:
        return validate_order(pair, amount, str(direction), engine.catalog, slippage=slippage)
    except InvalidOrder as problem:
        raise InvalidOrder([error for error in problem.errors if error.field in ("amount", "slippage")]) from None


def _buy_with_quote(spec: PairSpec, raw_amount: object, slippage: object, engine: Engine) -> Execution:
    """Pay `amount` of the QUOTE token: the BASE amount it buys now, at the better venue's price."""
    spend = parse_amount(raw_amount)
    if isinstance(spend, FieldError):
        raise InvalidOrder([spend])
    _validated(spec.pair, spec.min_amount, Direction.BUY, slippage, engine)  # the slippage, on its own
    if spend <= 0:
        raise InvalidOrder([FieldError("amount", "must be greater than 0")])
    low, high = quote_bounds(spec)
    if not low <= spend <= high:
        raise InvalidOrder(
            [
                FieldError(
                    "amount",
                    f"must be between {format_decimal(low)} and {format_decimal(high)} {spec.quote} for {spec.pair} "
                    f"(what {spec.base} amounts within its limits cost at its listed price, with room for it to move)",
                )
            ]
        )
    step = Decimal(1).scaleb(-spec.decimals)
    estimate = (spend / spec.price).quantize(step, ROUND_DOWN)
    if estimate <= 0:
        raise InvalidOrder([FieldError("amount", f"buys less than {step} {spec.base}")])
    price = engine.indicative_quote(spec.pair, estimate, Direction.BUY).chosen.effective_price
    base_amount = (spend / price).quantize(step, ROUND_DOWN)
    if base_amount <= 0:
        raise InvalidOrder([FieldError("amount", f"buys less than {step} {spec.base}")])
    try:
        request = validate_order(spec.pair, base_amount, "BUY", engine.catalog, slippage=slippage)
    except InvalidOrder as problem:
        rules = "; ".join(error.rule for error in problem.errors)
        raise InvalidOrder(
            [
                FieldError(
                    "amount",
                    f"{format_decimal(spend)} {spec.quote} buys about {base_amount} {spec.base}, which {rules}",
                )
            ]
        ) from None
    message = (
        f"Order created and queued for processing: BUY {request.amount} {spec.base} on {spec.pair}, "
        f"the {format_decimal(spend)} {spec.quote} given at the current indicative price of "
        f"{format_decimal(price.quantize(Decimal(1).scaleb(-spec.price_decimals)))} {spec.quote} per {spec.base}"
    )
    return Execution(request, message)


def add_execute_route(app: FastAPI, engine: Engine, admission: Admission) -> None:
    @app.post(
        "/api/orders/execute",
        status_code=201,
        summary="The public task's route: swap tokenIn for tokenOut at market",
        response_model=None,
        responses={
            201: {"model": ExecuteCreated, "description": "stored and queued; follow it on `websocketUrl`"},
            400: {"model": ExecuteProblem, "description": "bad input; nothing stored"},
            409: {"model": Problem, "description": "the Idempotency-Key was used for a different request"},
            401: {"model": Problem, "description": "missing or wrong bearer token (only when the server has a token)"},
            413: BODY_RESPONSES[413],
            503: BODY_RESPONSES[503],
        },
        openapi_extra=documented_body(execute_body_schema(engine.catalog)),
        tags=["public task"],
    )
    async def execute(
        request: Request,
        idempotency_key: str | None = Header(
            None,
            alias="Idempotency-Key",
            description=IDEMPOTENCY_HEADER_DOC,
            json_schema_extra=IDEMPOTENCY_HEADER_SCHEMA,
        ),
    ) -> Response:
        try:
            execution = parse_execution(await read_object(request), engine)
            order_request = with_idempotency_key(execution.request, idempotency_key, execution.fingerprint)
        except InvalidOrder as problem:
            return json_response(
                {
                    "error": "invalid order",
                    "message": str(problem),
                    "errors": [{"field": error.field, "message": error.rule} for error in problem.errors],
                },
                400,
            )
        order = await admission.submit(order_request)
        check_same_request(order, order_request)
        scheme = "wss" if request.url.scheme == "https" else "ws"
        host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
        return json_response(
            {
                "orderId": order.id,
                "status": "pending",
                "message": execution.message,
                "websocketUrl": f"{scheme}://{host}/api/orders/execute?orderId={order.id}",
            },
            201,
        )
