"""The schema of dexdesk 0.1.0, exactly as its `metadata.create_all` made it.

Revision ID: 0001
Revises:
A 0.1.0 database has these tables but no alembic_version; opening it stamps it 0001 first.
Decimals are NUMERIC on PostgreSQL and text on SQLite, timestamps TIMESTAMPTZ or ISO text.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _decimal() -> sa.types.TypeEngine[Any]:
    return sa.String(64).with_variant(postgresql.NUMERIC(), "postgresql")


def _timestamp() -> sa.types.TypeEngine[Any]:
    return sa.String(24).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("pair", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(4), nullable=False),
        sa.Column("amount", _decimal(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("dex", sa.String(10)),
        sa.Column("execution_price", _decimal()),
        sa.Column("tx_hash", sa.String(90)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.Column("route", sa.Text),
        sa.Column("log_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_pair", "orders", ["pair"])
    op.create_table(
        "order_logs",
        sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("timestamp", _timestamp(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("data", sa.Text),
    )
    op.create_table(
        "ledger",
        sa.Column("signature", sa.String(90), primary_key=True),
        sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False, unique=True),
        sa.Column("venue", sa.String(10), nullable=False),
        sa.Column("price", _decimal(), nullable=False),
        sa.Column("executed_at", _timestamp(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger")
    op.drop_table("order_logs")
    op.drop_table("orders")
