"""New orders from many concurrent requests stored together: one insert transaction carries every
order that arrived while the previous one was being written.

A request is answered only after its order is stored, as the engine promises; batching changes
how many round trips the database makes, never what is stored or announced.
"""

from __future__ import annotations

import asyncio

from engine.domain import Order
from engine.engine import Engine
from engine.validation import OrderRequest

MAX_BATCH = 500


class Admission:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._waiting: list[tuple[OrderRequest, asyncio.Future[Order]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, request: OrderRequest) -> Order:
        future: asyncio.Future[Order] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="dexdesk-api-admission")
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            # The same Idempotency-Key twice in one batch is one order: store it once, answer both.
            unique = list({request.order_id: request for request, _ in batch}.values())
            try:
                stored = {order.id: order for order in await self.engine.submit_many(unique)}
            except Exception as error:  # noqa: BLE001 (every waiting request hears why; none is left hanging)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for request, future in batch:
                if not future.done():
                    future.set_result(stored[request.order_id])

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
