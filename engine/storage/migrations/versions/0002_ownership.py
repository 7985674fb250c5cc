"""Ownership, versions, the change feed and typed log entries.

Revision ID: 0002
Revises: 0001
Orders gain `version` (bumped by every stored change), `owner` (which process runs the order),
`retry_at` (when a backed-off retry is due) and `change_seq` (the change feed's position); `owners`
holds each live process's lease. Log entries gain `kind`; the ones written before kinds existed get the
kind `infer_kind` reads from their status, message and data. `change_counter` holds the feed's
counter. Every order and log line is kept; unfinished orders are left unowned, so the next
process to start resumes them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.model.log_kinds import infer_kind

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BACKFILL_CHUNK = 5000


def _timestamp() -> sa.types.TypeEngine[Any]:
    return sa.String(24).with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    op.add_column("orders", sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    op.add_column("orders", sa.Column("owner", sa.String(64)))
    op.add_column("orders", sa.Column("retry_at", _timestamp()))
    op.add_column("orders", sa.Column("change_seq", sa.BigInteger, nullable=False, server_default="0"))
    op.create_index("ix_orders_change_seq", "orders", ["change_seq"])
    op.add_column("order_logs", sa.Column("kind", sa.String(24)))
    counter = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(counter, [{"id": 1, "value": 0}])
    op.create_table(
        "owners",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("lease_until", _timestamp(), nullable=False),
    )
    _backfill_kinds()


def _backfill_kinds() -> None:
    """Give every 0.1.0 log line its kind, a chunk at a time (a big database has millions of lines)."""
    bind = op.get_bind()
    logs = sa.table(
        "order_logs",
        sa.column("order_id", sa.String),
        sa.column("idx", sa.Integer),
        sa.column("status", sa.String),
        sa.column("message", sa.Text),
        sa.column("data", sa.Text),
        sa.column("kind", sa.String),
    )
    update = (
        logs.update()
        .where(logs.c.order_id == sa.bindparam("o_id"), logs.c.idx == sa.bindparam("o_idx"))
        .values(kind=sa.bindparam("o_kind"))
    )

    def kind(row: Any) -> str:
        data = json.loads(row.data, parse_float=Decimal) if row.data else None
        return str(infer_kind(row.status, row.message, data))

    while True:
        rows = bind.execute(
            sa.select(logs.c.order_id, logs.c.idx, logs.c.status, logs.c.message, logs.c.data)
            .where(logs.c.kind.is_(None))
            .limit(_BACKFILL_CHUNK)
        ).all()
        if not rows:
            return
        bind.execute(
            update,
            [
                {
                    "o_id": row.order_id,
                    "o_idx": row.idx,
                    "o_kind": kind(row),
                }
                for row in rows
            ],
        )


def downgrade() -> None:
    op.drop_table("owners")
    op.drop_table("change_counter")
    with op.batch_alter_table("order_logs") as batch:
        batch.drop_column("kind")
    op.drop_index("ix_orders_change_seq", "orders")
    with op.batch_alter_table("orders") as batch:
        for name in ("change_seq", "retry_at", "owner", "version"):
            batch.drop_column(name)
