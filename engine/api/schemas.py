"""The shapes the API answers with, for the OpenAPI document.

Handlers write their JSON with `engine.model.jsonfmt` (decimals as plain numbers, exactly the bytes the
CLI prints), so these models describe responses; they never build them. Field names are the
contract's, camelCase.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

StatusName = Literal["PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED", "FAILED", "CANCELLED"]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
