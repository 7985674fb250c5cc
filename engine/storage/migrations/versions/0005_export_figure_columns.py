"""Stored figures of confirmed orders, for the CSV report and the summary (branch `export`).

Revision ID: 0005
Revises: 0004
Orders gain `quoted_price`, `slippage_bps`, `notional`, `fee` (the report's added columns, exact)
and `confirm_ms` (submission to CONFIRMED), set when an order is stored as CONFIRMED
(engine/storage/figure_columns.py), and two partial covering indexes over finished orders for the
summary. Every CONFIRMED order already stored gets its figures worked out from its stored route
and prices exactly as the report did, so an older database keeps every order and its report
stays byte for byte the same.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.jsonfmt import format_decimal
from engine.storage.figure_columns import FIGURE_COLUMNS, NO_FIGURES, stored_figure_values

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BACKFILL_CHUNK = 5000
_FINISHED = "status IN ('CANCELLED', 'CONFIRMED', 'FAILED')"
_CONFIRMED = "status = 'CONFIRMED'"


def _decimal() -> sa.types.TypeEngine[Any]:
    return sa.String(64).with_variant(postgresql.NUMERIC(), "postgresql")


def upgrade() -> None:
    for name in ("quoted_price", "slippage_bps", "notional", "fee"):
        op.add_column("orders", sa.Column(name, _decimal()))
    op.add_column("orders", sa.Column("confirm_ms", sa.BigInteger))
    _backfill()
    op.create_index(
        "ix_orders_summary",
        "orders",
        ["pair", "direction", "status", "dex", "attempts", "amount", "notional", "fee", "slippage_bps"],
        sqlite_where=sa.text(_FINISHED),
        postgresql_where=sa.text(_FINISHED),
    )
    op.create_index(
        "ix_orders_confirm_ms",
        "orders",
        ["dex", "confirm_ms"],
        sqlite_where=sa.text(_CONFIRMED),
        postgresql_where=sa.text(_CONFIRMED),
    )


def _backfill() -> None:
    """Work out the figures of every stored CONFIRMED order, a chunk at a time, in seq order."""
    bind = op.get_bind()
    stored_decimal = (lambda value: value) if bind.dialect.name == "postgresql" else format_decimal
    orders = sa.table(
        "orders",
        *(
            sa.column(name)
            for name in (
                "seq",
                "status",
                "direction",
                "amount",
                "dex",
                "execution_price",
                "route",
                "created_at",
                "updated_at",
                *FIGURE_COLUMNS,
            )
        ),
    )
    update = (
        orders.update()
        .where(orders.c.seq == sa.bindparam("o_seq"))
        .values({name: sa.bindparam(f"o_{name}") for name in FIGURE_COLUMNS})
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                orders.c.seq,
                orders.c.status,
                orders.c.direction,
                orders.c.amount,
                orders.c.dex,
                orders.c.execution_price,
                orders.c.route,
                orders.c.created_at,
                orders.c.updated_at,
            )
            .where(orders.c.seq > last, orders.c.status == "CONFIRMED")
            .order_by(orders.c.seq)
            .limit(_BACKFILL_CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        values = [
            {"o_seq": row[0], **{f"o_{name}": value for name, value in zip(FIGURE_COLUMNS, figures, strict=True)}}
            for row in rows
            if (figures := stored_figure_values(row[1:], stored_decimal)) is not NO_FIGURES
        ]
        if values:
            bind.execute(update, values)


def downgrade() -> None:
    op.drop_index("ix_orders_confirm_ms", "orders")
    op.drop_index("ix_orders_summary", "orders")
    with op.batch_alter_table("orders") as batch:
        for name in ("confirm_ms", "fee", "notional", "slippage_bps", "quoted_price"):
            batch.drop_column(name)
