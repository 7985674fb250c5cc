"""Counter-based random draws: a keyed hash of (seed, order, attempt, purpose), no generator per draw.

The router needs a few random numbers per attempt (the swap's duration, whether the network drops
it, which failure, the transaction's signature) that a seed must replay exactly, whatever order
concurrent orders run in and on whichever database or process. Seeding `random.Random` from a
string for each draw did that at ~15 µs a draw (SHA-512 of the seed text, then the Mersenne
Twister's 624-word state). One BLAKE2b digest of the same key gives 64 independent bytes in about
1 µs: enough for the signature and for every number an attempt draws.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
_UNIT = 2.0**-64


class Draws:
    """The 64 bytes of one key, read as uniform numbers in order (8 bytes each) or as bytes."""

    __slots__ = ("_digest", "_offset")

    def __init__(self, seed: int, key: str) -> None:
        self._digest = hashlib.blake2b(f"{seed}:{key}".encode()).digest()
        self._offset = 0

    def random(self) -> float:
        """Uniform in [0, 1)."""
        start = self._offset
        if start + 8 > len(self._digest):
            raise ValueError("an attempt draws at most eight numbers from one key")
        self._offset = start + 8
        return int.from_bytes(self._digest[start : start + 8], "big") * _UNIT

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def choice(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def signature_bytes(self) -> bytes:
        """64 bytes for a transaction signature, the first at least 2 so its base58 text is 87-88 characters."""
        return bytes([2 + self._digest[0] % 254]) + self._digest[1:]
