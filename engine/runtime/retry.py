"""The retry policy, in BullMQ's words: `attempts` and an exponential `backoff` with a base `delay`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    backoff_delay_ms: int = 2000

    def backoff_ms(self, failed_attempt: int) -> int | None:
        """The wait after the n-th failed attempt (2 s, then 4 s), or None when that failure is final."""
        if failed_attempt >= self.attempts:
            return None
        return self.backoff_delay_ms * (1 << max(failed_attempt - 1, 0))
