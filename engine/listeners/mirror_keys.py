"""Where the Redis mirror puts things, and the scripts that put them there.

Names (with the default namespace `dexdesk`):

- `order-updates:{orderId}` — the channel; every update message is PUBLISHed here, byte-for-byte
  the JSON line `dexdesk submit --json` prints. Channels never carry the namespace: the seed's
  listeners subscribe to exactly this name.
- `{namespace}:order:{orderId}` — a hash with the order's latest state: `message` (that JSON line),
  `status`, and `seq` (how many messages have been published on the channel so far). It expires
  24 h after the order's last update.
- `{namespace}:active` — the set of order ids not yet CONFIRMED or FAILED.

A listener that must not miss anything subscribes first and then reads the hash; `seq` tells it
which channel messages the snapshot already covers (see `app/watch.py`). The snapshot, the set
and the PUBLISH change together in one Lua script, so no reader ever sees one without the other.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

CHANNEL_PREFIX = "order-updates:"
CHANNEL_PATTERN = CHANNEL_PREFIX + "*"
DEFAULT_NAMESPACE = "dexdesk"
SNAPSHOT_TTL_S = 24 * 3600
NAMESPACE_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


@dataclass(frozen=True, slots=True)
class MirrorKeys:
    """Key names for one namespace, so test runs and desks sharing one Redis never collide."""

    namespace: str = DEFAULT_NAMESPACE

    def __post_init__(self) -> None:
        if not NAMESPACE_RULE.fullmatch(self.namespace):
            raise ValueError("namespace: 1-64 letters, digits or _.:- (starting with a letter or digit)")

    @staticmethod
    def channel(order_id: str) -> str:
        return CHANNEL_PREFIX + order_id

    def snapshot(self, order_id: str) -> str:
        return f"{self.namespace}:order:{order_id}"

    @property
    def active(self) -> str:
        return f"{self.namespace}:active"


# A batch of updates in one call, each as one call of the former one-update script did, in order.
# KEYS: the active set, then one snapshot hash per update.
# ARGV: ttl, source, then per update: order id, message line, status, terminal ("1"/"0"), pid, channel.
# `source`/`pid` make a re-sent batch harmless: after a connection drops mid-pipeline the mirror
# sends the batch again, and whatever already landed is skipped instead of published twice.
# One call per batch rather than per update: a worker's mirror packed, sent and parsed a script
# call for every state change (five an order), and Redis ran each as a call of its own.
PUBLISH_SCRIPT = """
local ttl, source = ARGV[1], ARGV[2]
local published = 0
for i = 2, #KEYS do
  local a = 3 + (i - 2) * 6
  local snapshot = KEYS[i]
  local fresh = true
  if redis.call('HGET', snapshot, 'source') == source then
    fresh = tonumber(redis.call('HGET', snapshot, 'pid') or '0') < tonumber(ARGV[a + 4])
  end
  if fresh then
    redis.call('HSET', snapshot, 'message', ARGV[a + 1], 'status', ARGV[a + 2], 'source', source, 'pid', ARGV[a + 4])
    redis.call('HINCRBY', snapshot, 'seq', 1)
    redis.call('EXPIRE', snapshot, ttl)
    if ARGV[a + 3] == '1' then
      redis.call('SREM', KEYS[1], ARGV[a])
    else
      redis.call('SADD', KEYS[1], ARGV[a])
    end
    redis.call('PUBLISH', ARGV[a + 5], ARGV[a + 1])
    published = published + 1
  end
end
return published
"""
PUBLISH_CHUNK = 100  # updates per script call: a call holds Redis for its whole run


def publish_call(
    keys: MirrorKeys, updates: Sequence[tuple[str, str, str, bool, int]], ttl_s: int, source: str
) -> tuple[int, list[str | int]]:
    """`EVALSHA`'s key count and keys + ARGV for (order id, line, status, terminal, pid)s."""
    snapshots = [keys.snapshot(order_id) for order_id, *_ in updates]
    arguments: list[str | int] = [keys.active, *snapshots, ttl_s, source]
    for order_id, line, status, terminal, pid in updates:
        arguments += (order_id, line, status, "1" if terminal else "0", pid, keys.channel(order_id))
    return 1 + len(updates), arguments


# KEYS: snapshot hash, active set. ARGV: order id, message line, status, ttl.
# After a reconnect: put back what a restarted Redis lost, never overwrite what it kept.
REFRESH_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'message', ARGV[2], 'status', ARGV[3], 'seq', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""


def display_url(url: str) -> str:
    """The URL with any password masked, fit for a status bar or a log line."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit((parts.scheme, f"{user}:***@{host}{port}", parts.path, parts.query, parts.fragment))
    except ValueError:
        return "<unparsable Redis URL>"


def check_redis_url(url: str) -> str:
    """Refuse a URL redis-py would misread or choke on later, with the reason in words."""
    from redis.asyncio.connection import URL_QUERY_ARGUMENT_PARSERS, parse_url

    try:
        options = parse_url(url)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise ValueError(f"not a usable Redis URL ({error})") from None
    if parts.scheme in ("redis", "rediss"):
        if not parts.hostname:
            raise ValueError("needs a host, e.g. redis://127.0.0.1:6379/0")
        database = parts.path.strip("/")
        if database and not database.isdigit():
            raise ValueError(f"the database after the host must be a number, not {database!r}")
    elif not options.get("path"):
        raise ValueError("needs a socket path, e.g. unix:///run/redis.sock")
    from_url_parts = {"username", "password", "host", "port", "path", "connection_class"}
    unknown = sorted(set(options) - set(URL_QUERY_ARGUMENT_PARSERS) - from_url_parts)
    if unknown:
        raise ValueError(f"unknown URL option {unknown[0]!r}")
    return url


def client_options() -> dict[str, Any]:
    """Fail fast and let the caller decide about retries: redis-py's own retries would hide outages."""
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return {
        "socket_connect_timeout": 2.0,
        "socket_timeout": 5.0,
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 0,
    }


def describe_error(error: BaseException) -> str:
    """One line for a status bar: the plain cause when the network gave one, else redis-py's text."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return f"unknown host ({cause.strerror})"
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(error).split())
    return text or type(error).__name__
