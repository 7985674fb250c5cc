"""Cancel by anyone: an order whose swap has not been sent is cancelled in any process, owner or not.

Apart from the claims and leases (ownership.py) because it needs neither: it is one versioned
write per order, with its log line and the paper account's release in the same transaction, and
the owner (if any) notices at its next write, which the version bump refuses. The rows are locked
in id order from the read to the write, so no group commit changes them in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.model.domain import LogEntry, Order, OrderStatus
from engine.model.lifecycle import CANCELLABLE, check_transition
from engine.model.log_kinds import LogKind
from engine.storage import account_store
from engine.storage.ownership import orders_with_logs
from engine.storage.rows import log_rows, order_from_row
from engine.storage.schema import order_logs, orders
from engine.storage.store import OrderStore

CancelOutcome = Literal["cancelled", "too_late", "unknown"]
CANCELLED_ERROR = "cancelled before its swap was sent"


@dataclass(frozen=True, slots=True)
class Cancelled:
    outcome: CancelOutcome
    order: Order | None


def too_late_reason(status: OrderStatus) -> str:
    if status is OrderStatus.SUBMITTED:
        return "already SUBMITTED: a sent swap cannot be recalled"
    return f"already {status}: nothing left to cancel"


async def cancel(store: OrderStore, order_ids: Sequence[str], *, now: datetime, by: str) -> list[Cancelled]:
    """Cancel each order whose swap has not been sent, whoever owns it: versioned writes, one transaction."""

    async def work(connection: AsyncConnection) -> list[Cancelled]:
        seq = await store.bump_change_seq(connection)
        rows: dict[str, Any] = {}
        for start in range(0, len(order_ids), 500):
            # Locked (in id order) until this transaction ends: no group commit changes them between
            # this read and the versioned write below.
            chunk = sorted(set(order_ids[start : start + 500]))
            query = select(orders).where(orders.c.id.in_(chunk)).order_by(orders.c.id).with_for_update()
            rows.update({row["id"]: row for row in (await connection.execute(query)).mappings()})
        outcomes: dict[str, CancelOutcome] = {}
        updates, logs = [], []
        for order_id in order_ids:
            row = rows.get(order_id)
            if row is None:
                outcomes[order_id] = "unknown"
                continue
            status = OrderStatus(row["status"])
            if status not in CANCELLABLE or order_id in outcomes:
                outcomes.setdefault(order_id, "too_late")
                continue
            check_transition(status, OrderStatus.CANCELLED)
            outcomes[order_id] = "cancelled"
            entry = LogEntry(
                now,
                OrderStatus.CANCELLED,
                LogKind.CANCELLED,
                f"cancelled in {status} by {by}, before any swap was sent",
                {"by": by, "from": str(status), "owner": row["owner"]},
            )
            updates.append({"o_id": order_id, "o_version": row["version"], "o_log_count": row["log_count"] + 1})
            logs.extend(log_rows(order_id, row["log_count"], [entry]))
        if updates:
            # The rows are locked since they were read; the version condition stays as the rule
            # every write of an order obeys.
            await connection.execute(
                update(orders)
                .where(orders.c.id == bindparam("o_id"), orders.c.version == bindparam("o_version"))
                .values(
                    status=str(OrderStatus.CANCELLED),
                    version=orders.c.version + 1,
                    owner=None,
                    retry_at=None,
                    execution_price=None,
                    error=CANCELLED_ERROR,
                    updated_at=now,
                    log_count=bindparam("o_log_count"),
                    change_seq=seq,
                ),
                updates,
            )
            await connection.execute(order_logs.insert(), logs)
        cancelled = [order_id for order_id, outcome in outcomes.items() if outcome == "cancelled"]
        await account_store.release(connection, cancelled)  # the paper account, in this same transaction
        latest = {order.id: order for order in await orders_with_logs(connection, cancelled)} if cancelled else {}
        return [
            Cancelled(
                outcomes[order_id],
                latest.get(order_id) or (order_from_row(rows[order_id]) if order_id in rows else None),
            )
            for order_id in order_ids
        ]

    result: list[Cancelled] = await store.transaction(work)
    return result
