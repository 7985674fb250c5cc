"""Interop with the design's own stack: an order enqueued by Node's `bullmq` runs on a dexdesk worker.

The npm package is installed into a temporary folder by the test (never committed); no node, no test.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from engine.cluster.config import QUEUE_NAME
from engine.cluster.producer import now_ms
from engine.model.domain import OrderStatus
from engine.model.validation import validate_order
from engine.storage import OrderStore
from engine.trading.pairs import default_catalog
from tests.cluster.support import cluster, messages
from tests.faults.support import eventually

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent


async def _npm_bullmq(folder: Path) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the Node producer cannot run here")
    install = await asyncio.create_subprocess_exec(
        "npm",
        "install",
        "--no-audit",
        "--no-fund",
        "--silent",
        "--no-save",
        "--prefix",
        str(folder),
        "bullmq",
        "ioredis",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await install.communicate()
    if install.returncode != 0:
        pytest.skip(f"npm could not install bullmq (no registry?): {err.decode().strip()[:200]}")
    shutil.copy(HERE / "enqueue.js", folder / "enqueue.js")


async def test_an_order_enqueued_by_node_bullmq_is_run_by_a_dexdesk_worker(tmp_path: Path) -> None:
    node_folder = tmp_path / "node"
    node_folder.mkdir()
    await _npm_bullmq(node_folder)
    async with cluster(tmp_path, "--time-scale", "0", "--rate-limit", "0", "--seed", "3") as running:
        store = OrderStore(running.db_url)
        await store.open()
        try:
            request = validate_order("SOL-USDC", "2.5", "SELL", default_catalog())
            order = (await store.insert([request.to_order(now_ms())]))[0][0]
            await running.start_worker()
            node = await asyncio.create_subprocess_exec(
                "node",
                str(node_folder / "enqueue.js"),
                running.redis.url,
                QUEUE_NAME,
                order.id,
                cwd=node_folder,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            _out, err = await node.communicate()
            assert node.returncode == 0, err.decode()

            async def ended() -> bool:
                stored = await store.get(order.id)
                return stored is not None and stored.is_terminal

            await eventually(ended, "the Node-enqueued order to end", within=30)
            final = await store.get(order.id)
        finally:
            await store.close()
        assert final is not None
        assert final.status in (OrderStatus.CONFIRMED, OrderStatus.FAILED)
        await eventually(lambda: order.id in messages(running.recorder), "its updates on Redis")  # type: ignore[arg-type]
        heard = [message["status"] for message in messages(running.recorder)[order.id]]  # type: ignore[arg-type]
        assert heard[0] == "ROUTING"
        assert heard[-1] == str(final.status)
