"""Reaching the real PostgreSQL and Redis: skip with a reason when absent, fail under CI.

`.ci/run` sets DEXDESK_REQUIRE_SERVICES=1, where a missing server is an error, not a skip.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_ADMIN_URL = os.environ.get("DEXDESK_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DEXDESK_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require(service: str) -> None:
    host, port = {"postgres": ("127.0.0.1", 5432), "redis": ("127.0.0.1", 6379)}[service]
    if _answers(host, port):
        return
    reason = f"{service} is not answering on {host}:{port}"
    if os.environ.get("DEXDESK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (DEXDESK_REQUIRE_SERVICES=1)")
    pytest.skip(reason)
