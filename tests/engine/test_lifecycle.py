"""An order's life as a listener sees it: states, messages and stored fields, on both databases.

The seeds are fixed, so each outcome is exact: seed 7 confirms the first order on a fresh database,
seed 3 with every attempt failing gives the same three reasons every run. Steps are found by their
log `kind`; the wording of `message` is for people and may change.
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal

from engine.model.domain import OrderStatus, OrderUpdate
from engine.model.jsonfmt import dumps
from engine.model.log_kinds import LogKind
from tests.conftest import running

HAPPY_PATH = ["PENDING", "ROUTING", "BUILDING", "SUBMITTED", "CONFIRMED"]
# SOL-USDC wraps or unwraps SOL around the swap, so BUILDING logs the wrap as well as the build.
HAPPY_KINDS = [
    LogKind.RECEIVED,
    LogKind.ATTEMPT_STARTED,
    LogKind.QUOTE,
    LogKind.QUOTE,
    LogKind.ROUTE_CHOSEN,
    LogKind.BUILT,
    LogKind.WRAP,
    LogKind.SUBMITTED,
    LogKind.CONFIRMED,
]
ATTEMPT_KINDS = [
    LogKind.ATTEMPT_STARTED,
    LogKind.QUOTE,
    LogKind.QUOTE,
    LogKind.ROUTE_CHOSEN,
    LogKind.BUILT,
    LogKind.SUBMITTED,
]
FAILED_KINDS = [
    LogKind.RECEIVED,
    *ATTEMPT_KINDS,
    LogKind.RETRY_SCHEDULED,
    *ATTEMPT_KINDS,
    LogKind.RETRY_SCHEDULED,
    *ATTEMPT_KINDS,
    LogKind.FAILED,
]
# Three attempts; between them the retry is announced as PENDING with its back-off.
ATTEMPT_STATES = ["ROUTING", "BUILDING", "SUBMITTED"]
FAILED_STATES = ["PENDING", *ATTEMPT_STATES, "PENDING", *ATTEMPT_STATES, "PENDING", *ATTEMPT_STATES, "FAILED"]
SEED_3_REASONS = [
    "transaction expired: blockhash not found",
    "transaction dropped by the leader",
    "RPC node timed out after 30 s",
]


async def test_order_goes_through_every_state_and_is_stored_as_announced(db_url: str) -> None:
    updates: list[OrderUpdate] = []
    async with running(db_url) as engine:
        engine.subscribe(updates.append)
        order = await engine.submit("sol-usdc", "10.5", "buy")
        final = await engine.wait_terminal(order.id)
        stored = await engine.store.get(order.id)

    assert [update.message["status"] for update in updates] == HAPPY_PATH
    assert final.status is OrderStatus.CONFIRMED
    assert stored is not None
    assert stored.pair == "SOL-USDC"
    assert stored.amount == Decimal("10.5")
    assert stored.status is OrderStatus.CONFIRMED
    assert [entry.kind for entry in stored.logs] == HAPPY_KINDS
    last = json.loads(dumps(updates[-1].message))
    assert set(last) == {"orderId", "status", "timestamp", "dex", "executionPrice", "txHash"}
    assert 87 <= len(last["txHash"]) <= 88
    assert last["txHash"] == stored.tx_hash
    assert Decimal(str(last["executionPrice"])) == stored.execution_price
    confirmed = stored.logs[-1].data or {}
    assert confirmed["txHash"] == stored.tx_hash
    building = json.loads(dumps(updates[2].message))
    assert set(building) == {"orderId", "status", "timestamp", "dex", "executionPrice"}
    assert building["dex"] == last["dex"] == stored.dex
    received = stored.logs[0].data or {}
    assert (received["pair"], received["direction"], Decimal(str(received["amount"]))) == (
        "SOL-USDC",
        "BUY",
        Decimal("10.5"),
    )


async def test_logs_only_grow_and_failure_reasons_persist(db_url: str) -> None:
    from engine.runtime.engine import engine_settings

    updates: list[OrderUpdate] = []
    settings = engine_settings(time_scale=0, rate_limit=0, seed=3, failure_rate=1.0)
    async with running(db_url, settings) as engine:
        engine.subscribe(updates.append)
        order = await engine.submit("RAY-USDC", "40", "BUY")
        await engine.wait_terminal(order.id)
        stored = await engine.store.get(order.id)

    snapshots = [update.order.logs for update in updates]
    for earlier, later in itertools.pairwise(snapshots):
        assert later[: len(earlier)] == earlier, "a log entry was rewritten or dropped"
    assert stored is not None
    assert stored.logs == snapshots[-1]
    assert sum(len(update.new_logs) for update in updates) == len(stored.logs)
    assert [update.message["status"] for update in updates] == FAILED_STATES
    assert [entry.kind for entry in stored.logs] == FAILED_KINDS
    failures = [entry for entry in stored.logs if entry.kind in (LogKind.RETRY_SCHEDULED, LogKind.FAILED)]
    assert [(entry.data or {})["error"] for entry in failures] == SEED_3_REASONS, "each attempt keeps its own reason"
    assert [(entry.data or {})["attempt"] for entry in failures] == [1, 2, 3]
    retries = [update.message for update in updates if "retryInMs" in update.message]
    assert [(message["attempt"], message["retryInMs"]) for message in retries] == [(1, 2000), (2, 4000)]
    assert stored.status is OrderStatus.FAILED
    assert stored.execution_price is None, "a failed order paid no price"
    assert all(
        "executionPrice" not in update.message for update in updates if update.status is not OrderStatus.BUILDING
    )
    assert stored.error == SEED_3_REASONS[-1]
    assert updates[-1].message["error"] == SEED_3_REASONS[-1]
