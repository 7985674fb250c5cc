"""The change feed without a counter on PostgreSQL (branch `cluster`).

Revision ID: 0006
Revises: 0005
On PostgreSQL, `orders.change_seq` now holds the id of the transaction that last changed the row
(see engine/storage/change_feed.py); `change_counter` is no longer bumped there. Counter values
and transaction ids are unrelated numbers, so the counter's marks are cleared to 0 (no reader ever
asks for a change that old); every order is kept as it is. SQLite keeps the counter: nothing to do.

Downgrade (PostgreSQL): the counter resumes from the highest mark stored, so a feed reader of the
previous release never sees a later change with a lower number than one it has read.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE orders SET change_seq = 0 WHERE change_seq <> 0")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE change_counter SET value = (SELECT coalesce(max(change_seq), 0) FROM orders) WHERE id = 1")
