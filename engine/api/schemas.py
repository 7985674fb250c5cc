"""The shapes the API answers with, for the OpenAPI document.

Handlers write their JSON with `engine.jsonfmt` (decimals as plain numbers, exactly the bytes the
CLI prints), so these models describe responses; they never build them. Field names are the
contract's, camelCase.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

StatusName = Literal["PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED", "FAILED", "CANCELLED"]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewOrder(BaseModel):
    """The body of `POST /api/orders`; the server checks it with the desk's and the CLI's rules."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra={"example": {"pair": "SOL-USDC", "amount": 10.5, "direction": "BUY"}}
    )

    pair: str = Field(description="a listed pair, BASE-QUOTE, case-insensitive, e.g. SOL-USDC")
    amount: float | str = Field(
        description="amount of the BASE token, > 0, within the pair's limits and decimals; "
        "a JSON number or a plain decimal string"
    )
    direction: str = Field(description="BUY or SELL, case-insensitive")
    type: str | None = Field(None, description="`market` (the default) or `limit`")
    limitPrice: float | str | None = Field(
        None, description="limit orders: QUOTE per BASE to buy at or below, or sell at or above"
    )
    expiresIn: float | None = Field(None, gt=0, description="limit orders: give up after this many seconds")
    slippage: float | None = Field(
        None, gt=0, le=0.5, description="market orders: tolerance around the quote as a fraction (0.01 = 1%)"
    )
    userId: str | None = Field(
        None, min_length=1, max_length=64, description="your own label for the order; list them with `?userId=`"
    )


class FieldProblem(_Shape):
    field: str
    message: str


class BadInput(_Shape):
    """Every bad field at once; `error` joins them into one line."""

    error: str = Field(examples=["amount: must be greater than 0"])
    errors: list[FieldProblem]


class Problem(_Shape):
    """Any other refusal (not found, unauthorised, too large): one line saying why."""

    error: str


class OrderCreated(_Shape):
    orderId: str
    status: Literal["PENDING"]
    message: str


class LogLine(_Shape):
    timestamp: str
    status: StatusName
    kind: str
    message: str
    data: dict[str, Any] | None


class OrderSummary(_Shape):
    id: str
    pair: str
    amount: float
    direction: Literal["BUY", "SELL"]
    status: StatusName
    dex: Literal["raydium", "meteora"] | None
    executionPrice: float | None
    txHash: str | None
    attempts: int
    error: str | None
    createdAt: str
    updatedAt: str
    userId: str | None = Field(None, description="the label the order was given, when it was given one")


class OrderDetail(OrderSummary):
    logs: list[LogLine]


class OrderPage(_Shape):
    orders: list[OrderSummary]
    nextBefore: int | None = Field(description="pass as `before` for the next (older) page; null on the last page")


class CancelOutcome(_Shape):
    outcome: Literal["cancelled", "too_late", "unknown"]
    reason: str
    order: OrderSummary | None


class DatabaseHealth(_Shape):
    ok: bool
    dialect: str
    url: str
    error: str | None


class QueueHealth(_Shape):
    waiting: int
    delayed: int
    inFlight: int
    concurrency: int
    windowUsed: int
    windowMax: int


class RedisHealth(_Shape):
    status: str
    url: str | None
    reason: str | None


class Health(_Shape):
    status: Literal["ok", "degraded"]
    version: str
    database: DatabaseHealth
    queue: QueueHealth
    redis: RedisHealth


class ExecuteOrder(BaseModel):
    """The public task's body: a swap from one token to another."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra={"example": {"tokenIn": "SOL", "tokenOut": "USDC", "amount": 1.5}}
    )

    tokenIn: str
    tokenOut: str
    amount: float | str | None = Field(None, description="amount of tokenIn (also accepted as amountIn)")
    amountIn: float | str | None = None
    slippage: float | None = Field(None, description="tolerance as a fraction, e.g. 0.01 for 1%")
    orderType: str | None = Field(None, description="`market` (also accepted as type)")
    type: str | None = None
    userId: str | None = Field(
        None, min_length=1, max_length=64, description="your own label for the order; list them with `?userId=`"
    )


class ExecuteCreated(_Shape):
    orderId: str
    status: Literal["pending"]
    message: str
    websocketUrl: str


class ExecuteProblem(_Shape):
    error: str
    message: str
    errors: list[FieldProblem] | None = None


class IndexLinks(_Shape):
    docs: str
    openapi: str
    health: str
    metrics: str
    orders: str


class Index(_Shape):
    name: Literal["dexdesk"]
    version: str
    links: IndexLinks
