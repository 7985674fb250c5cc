"""The paper account: balances per token, reservations per order, fills, and when it started.

Revision ID: 0003
Revises: 0002
New tables only (engine/storage/account_store.py): a database upgraded from 0.1.0 or 0002 keeps
every order and has no account until one is started (`dexdesk account reset`, the desk's first
start), so its orders are not limited by balances until then. Order terms (limit price, quote,
slippage bound, expiry) live in each order's first log entry, so `orders` is unchanged.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _decimal() -> sa.types.TypeEngine[Any]:
    return sa.String(64).with_variant(postgresql.NUMERIC(), "postgresql")


def _timestamp() -> sa.types.TypeEngine[Any]:
    return sa.String(24).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "account_meta",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "account_balances",
        sa.Column("token", sa.String(16), primary_key=True),
        sa.Column("total", _decimal(), nullable=False),
        sa.Column("reserved", _decimal(), nullable=False),
    )
    op.create_table(
        "account_reservations",
        sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("token", sa.String(16), nullable=False),
        sa.Column("amount", _decimal(), nullable=False),
    )
    op.create_table(
        "account_fills",
        sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("pair", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(4), nullable=False),
        sa.Column("amount", _decimal(), nullable=False),
        sa.Column("price", _decimal(), nullable=False),
        sa.Column("notional", _decimal(), nullable=False),
        sa.Column("fee", _decimal(), nullable=False),
        sa.Column("venue", sa.String(10), nullable=False),
        sa.Column("executed_at", _timestamp(), nullable=False),
    )
    op.create_index("ix_account_fills_seq", "account_fills", ["seq"])


def downgrade() -> None:
    op.drop_index("ix_account_fills_seq", "account_fills")
    for table in ("account_fills", "account_reservations", "account_balances", "account_meta"):
        op.drop_table(table)
