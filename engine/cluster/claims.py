"""A worker's claims, batched: the jobs it starts at about the same moment claim their orders in one transaction.

BullMQ hands a worker its jobs one after another, but the orders that end in one group commit free
their slots together, so several jobs start within a few loop turns. Each used to claim its order
in a transaction of its own (a pool checkout, its ping, BEGIN, the statements, COMMIT); now the
claims made while one transaction runs go together in the next, like the store's group commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from engine.storage.ownership import Claim

ClaimMany = Callable[[Sequence[str]], Awaitable[dict[str, Claim]]]


class ClaimBatcher:
    def __init__(self, claim_many: ClaimMany) -> None:
        self._claim_many = claim_many
        self._waiting: dict[str, list[asyncio.Future[Claim]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def claim(self, order_id: str) -> Claim:
        """The claim of one order, made in the next batch (a database error reaches every caller of that batch)."""
        future: asyncio.Future[Claim] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(order_id, []).append(future)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="dexdesk-worker-claims")
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            await asyncio.sleep(0)  # jobs started in this turn of the loop join the batch
            batch, self._waiting = self._waiting, {}
            try:
                claims = await self._claim_many(list(batch))
            except Exception as error:  # noqa: BLE001 - handed to every caller of this batch
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(error)
                continue
            for order_id, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(claims[order_id])

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
