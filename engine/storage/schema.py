"""Tables and column types. Decimals and timestamps are stored exactly, never as floats.

`order_logs` is its own table so the log can only be appended to: an update never rewrites it.
`ledger` is the mock chain: one row per executed swap, unique per order and per signature, so a
second execution of one order cannot be committed even by mistake.

Ownership (see engine/storage/ownership.py): `orders.owner` says which process runs an order, and
that process's row in `owners` until when its claims hold (one row per process, so renewing every
lease is one small write however many orders it runs); `version` is bumped by every stored change and every
write is conditional on it; `change_seq` is the change feed's mark of the transaction that last
changed the row (engine/storage/change_feed.py: on SQLite a `change_counter` value, on PostgreSQL
the transaction's id). The tables are made and upgraded by the
Alembic migrations in `engine/storage/migrations/`; this module must describe their head.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import NUMERIC, TIMESTAMP
from sqlalchemy.types import TypeEngine

from engine.model.domain import format_timestamp, parse_timestamp
from engine.model.jsonfmt import format_decimal


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC on PostgreSQL; text on SQLite, whose NUMERIC would round-trip through float."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(NUMERIC())
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value if dialect.name == "postgresql" else format_decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(format_decimal(Decimal(value))) if dialect.name == "postgresql" else Decimal(value)


class UtcTimestamp(TypeDecorator[datetime]):
    """TIMESTAMPTZ on PostgreSQL; on SQLite the contract's ISO text, which sorts by time."""

    impl = String(24)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TIMESTAMP(timezone=True))
        return dialect.type_descriptor(String(24))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value if dialect.name == "postgresql" else format_timestamp(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return parse_timestamp(value)


metadata = MetaData()

orders = Table(
    "orders",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("pair", String(32), nullable=False),
    Column("direction", String(4), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("status", String(10), nullable=False),
    Column("dex", String(10)),
    Column("execution_price", ExactDecimal),
    Column("tx_hash", String(90)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("updated_at", UtcTimestamp, nullable=False),
    Column("route", Text),
    Column("log_count", Integer, nullable=False, default=0),
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    Column("owner", String(64)),
    Column("retry_at", UtcTimestamp),
    Column("change_seq", BigInteger, nullable=False, default=0, server_default="0"),
    # Set once, by the write that stores CONFIRMED (engine/storage/figure_columns.py); revision 0005.
    Column("quoted_price", ExactDecimal),
    Column("slippage_bps", ExactDecimal),
    Column("notional", ExactDecimal),
    Column("fee", ExactDecimal),
    Column("confirm_ms", BigInteger),
    # A client's label (the API's `userId`) and the Idempotency-Key's request fingerprint; revision 0007.
    Column("user_label", String(64)),
    Column("request_key", String(64)),
    Index("ix_orders_status", "status"),
    Index("ix_orders_pair", "pair"),
    Index("ix_orders_change_seq", "change_seq"),
    Index("ix_orders_user_label", "user_label"),
)

order_logs = Table(
    "order_logs",
    metadata,
    Column("order_id", String(36), ForeignKey("orders.id"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("timestamp", UtcTimestamp, nullable=False),
    Column("status", String(10), nullable=False),
    Column("message", Text, nullable=False),
    Column("data", Text),
    Column("kind", String(24)),
)

ledger = Table(
    "ledger",
    metadata,
    Column("signature", String(90), primary_key=True),
    Column("order_id", String(36), ForeignKey("orders.id"), nullable=False, unique=True),
    Column("venue", String(10), nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("executed_at", UtcTimestamp, nullable=False),
)

change_counter = Table(
    "change_counter",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
)
"""One row, SQLite only: every write transaction bumps it first and stamps the rows it changes with
the new value (the file's write lock already orders writers, so the marks become visible in order).

PostgreSQL marks rows with the writing transaction's id instead (since revision 0006): a counter
row there made the writers of every process queue behind one another.
"""

owners = Table(
    "owners",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("lease_until", UtcTimestamp, nullable=False),
)
"""The live processes: each renews its `lease_until`; orders of an owner whose lease ran out (or who
has no row) may be claimed by another process."""

# One row per admitted attempt start (wall-clock seconds), shared by every process on the database
# (see engine/storage/rate_window.py); revision 0004.
attempt_starts = Table(
    "attempt_starts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", Float(precision=53), nullable=False),
    Index("ix_attempt_starts_started_at", "started_at"),
)


# The summary's totals of finished orders, kept by the database itself: triggers on `orders` add
# each order once, when it is stored finished (revision 0005, engine/storage/summary.py).
_SUM = Float(precision=53).with_variant(NUMERIC(), "postgresql")
order_totals = Table(
    "order_totals",
    metadata,
    Column("pair", String(32), primary_key=True),
    Column("direction", String(4), primary_key=True),
    Column("status", String(10), primary_key=True),
    Column("dex", String(10), primary_key=True),  # "" for none
    Column("orders", BigInteger, nullable=False),
    Column("retried", BigInteger, nullable=False),
    Column("amount", _SUM, nullable=False),
    Column("notional", _SUM, nullable=False),
    Column("fee", _SUM, nullable=False),
    Column("slippage_bps", _SUM, nullable=False),
    Column("slippage_count", BigInteger, nullable=False),
)
confirm_times = Table(
    "confirm_times",
    metadata,
    Column("dex", String(10), primary_key=True),
    Column("confirm_ms", BigInteger, primary_key=True),
    Column("orders", BigInteger, nullable=False),
)
"""How many CONFIRMED orders took each whole number of milliseconds from submission, per venue."""
