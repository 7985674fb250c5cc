"""A client's label on each order, and the fingerprint of the request an Idempotency-Key named (branch `api`).

Revision ID: 0007
Revises: 0006
Orders gain `user_label` (the public task's `userId`: an optional label up to 64 characters, shown
and filtered on) and `request_key` (a SHA-256 of the normalised request that made an order through
the API with an Idempotency-Key, so the same key with a different request is refused, never
answered with this order). Both are NULL for every order already stored, which keeps them all as
they were.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("user_label", sa.String(64), nullable=True))
    op.add_column("orders", sa.Column("request_key", sa.String(64), nullable=True))
    op.create_index("ix_orders_user_label", "orders", ["user_label"])


def downgrade() -> None:
    op.drop_index("ix_orders_user_label", table_name="orders")
    if op.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        # No ALTER TABLE … DROP COLUMN before SQLite 3.35: Alembic copies the table instead.
        with op.batch_alter_table("orders") as batch:
            batch.drop_column("request_key")
            batch.drop_column("user_label")
        return
    # In place (SQLite 3.35+, PostgreSQL): copying `orders` would trip order_logs' foreign key.
    op.drop_column("orders", "request_key")
    op.drop_column("orders", "user_label")
