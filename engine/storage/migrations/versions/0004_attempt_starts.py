"""Attempt starts, shared: the rate limit holds per database, across restarts and processes.

Revision ID: 0004
Revises: 0003
One row per admitted attempt start (its wall-clock time in seconds); rows older than two windows
are pruned by the admitting transaction itself, so the table stays a few hundred rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_starts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.Float(precision=53), nullable=False),
    )
    op.create_index("ix_attempt_starts_started_at", "attempt_starts", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_attempt_starts_started_at", "attempt_starts")
    op.drop_table("attempt_starts")
