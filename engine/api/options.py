"""What a running API is allowed to do: where it listens, who may call it, which browsers may reach it.

Kept apart from the app so the same rules hold for `dexdesk serve` and for the desk serving the API.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.listeners.mirror_state import MirrorState

MAX_BODY_BYTES = 64 * 1024
REQUEST_TIMEOUT_S = 10.0
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


class UnsafeBinding(ValueError):
    """A non-loopback address without a token: anyone on the network could trade on this desk."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach.

    0.0.0.0 and :: listen on every interface, so they are not loopback even though
    127.0.0.1 reaches them.
    """
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ApiOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    # Names besides the bound address and localhost that `Host` may give (a reverse proxy's, a LAN name).
    allow_hosts: tuple[str, ...] = ()
    # Headers, and then the body, must each arrive within this many seconds (408 and close otherwise).
    request_timeout_s: float = REQUEST_TIMEOUT_S
    max_body_bytes: int = MAX_BODY_BYTES
    # The Redis mirror's state for /health, when the process runs one.
    mirror_state: Callable[[], MirrorState | None] = field(default=lambda: None)

    def check(self) -> None:
        """Refuse to listen beyond this machine without a token."""
        if not is_loopback(self.host) and not self.token:
            raise UnsafeBinding(
                f"--host {self.host} is reachable from other machines: give --token TOKEN "
                "(or DEXDESK_API_TOKEN) so every request must carry `Authorization: Bearer TOKEN`"
            )
        if self.token is not None and (len(self.token) < 8 or not self.token.isprintable() or " " in self.token):
            raise UnsafeBinding("--token must be at least 8 printable characters without spaces")
        if not 0 < self.request_timeout_s <= 3600:
            raise UnsafeBinding("--request-timeout must be a number of seconds above 0 and at most 3600")
        for name in self.allow_hosts:
            if not name.strip() or not name.isascii() or any(mark in name for mark in "/: @"):
                raise UnsafeBinding(f"--allow-host {name[:64]!r} must be a host name without scheme or port")
        if not 0 <= self.port <= 65535:
            raise UnsafeBinding("--port must be between 0 and 65535 (0 picks a free port)")
