"""A worker's claims, batched: the jobs it starts at about the same moment claim their orders in one transaction.

BullMQ hands a worker its jobs one after another, but the orders that end in one group commit free
their slots together, so several jobs start within a few loop turns. Each used to claim its order
in a transaction of its own (a pool checkout, its ping, BEGIN, the statements, COMMIT); now the
claims made while one transaction runs go together in the next, like the store's group commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from engine.storage.batching import Batcher
from engine.storage.ownership import Claim

ClaimMany = Callable[[Sequence[str]], Awaitable[dict[str, Claim]]]


class ClaimBatcher:
    def __init__(self, claim_many: ClaimMany) -> None:
        self._claim_many = claim_many
        # One loop turn: the jobs started in this turn of the loop join the batch.
        self._batcher: Batcher[str, Claim] = Batcher(self._claim_batch, name="dexdesk-worker-claims", gather_turns=1)

    async def claim(self, order_id: str) -> Claim:
        """The claim of one order, made in the next batch (a database error reaches every caller of that batch)."""
        return await self._batcher.submit(order_id)

    async def close(self) -> None:
        await self._batcher.close()

    async def _claim_batch(self, order_ids: list[str]) -> list[Claim | BaseException]:
        # The same order asked twice in one batch is claimed once; both callers hear that claim.
        claims = await self._claim_many(list(dict.fromkeys(order_ids)))
        return [claims[order_id] for order_id in order_ids]
