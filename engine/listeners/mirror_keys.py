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


# KEYS: snapshot hash, active set.
# ARGV: order id, message line, status, terminal ("1"/"0"), ttl, source, pid, channel.
# `source`/`pid` make a re-sent batch harmless: after a connection drops mid-pipeline the mirror
# sends the batch again, and whatever already landed is skipped instead of published twice.
PUBLISH_SCRIPT = """
if redis.call('HGET', KEYS[1], 'source') == ARGV[6] then
  local last = tonumber(redis.call('HGET', KEYS[1], 'pid') or '0')
  if last >= tonumber(ARGV[7]) then return 0 end
end
redis.call('HSET', KEYS[1], 'message', ARGV[2], 'status', ARGV[3], 'source', ARGV[6], 'pid', ARGV[7])
redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('EXPIRE', KEYS[1], ARGV[5])
if ARGV[4] == '1' then
  redis.call('SREM', KEYS[2], ARGV[1])
else
  redis.call('SADD', KEYS[2], ARGV[1])
end
redis.call('PUBLISH', ARGV[8], ARGV[2])
return 1
"""

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
