"""Redis clients whose commands hiredis packs in one C call, argument for argument as redis-py would.

redis-py packs a command by handing every argument to `Encoder.encode` in a Python generator
before hiredis joins them: about 60 arguments an order in a cluster worker (BullMQ's completion
script's keys and arguments, the mirror's publish script). hiredis takes `str` (as UTF-8), `bytes`,
`int` and `float` itself and writes the very bytes redis-py's encoder writes for them (a float as
its `repr`), so a command made only of those goes to hiredis as it is. Anything else (a
`bytearray`, a `memoryview`, a `bool`, `None`, a subclass of `str` or `int`) goes redis-py's own
way, which packs or refuses it exactly as before; so does a command name with a space in it
(`"CONFIG GET"`, which redis-py splits) and a client with another encoding than strict UTF-8.

The same connection writes a command (or a pipeline) whose bytes the socket's buffer takes at once
without redis-py's `asyncio.wait_for`, which on Python 3.11 runs each write as a task of its own.

`from_url` is `Redis.from_url` with such a connection; `pack_with_hiredis` gives one to a client
someone else built (bullmq builds its own from options) before it has connected.
"""

from __future__ import annotations

import codecs
import contextlib
from typing import Any

from hiredis import pack_command as _hiredis_pack
from redis.asyncio import Redis
from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    ConnectionPool,
    SSLConnection,
    UnixDomainSocketConnection,
    parse_url,
)


class _PackedByHiredis(AbstractConnection):
    """`pack_command` straight to hiredis when every argument is a type it packs as redis-py would."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        encoder = self.encoder
        self._direct = codecs.lookup(encoder.encoding).name == "utf-8" and encoder.encoding_errors == "strict"

    def pack_command(self, *args: Any) -> list[bytes]:
        name = args[0]
        if self._direct and type(name) is str and " " not in name:
            # An argument hiredis does not take raises TypeError: redis-py's way below packs or refuses it.
            with contextlib.suppress(TypeError):
                return [_hiredis_pack(args)]
        return super().pack_command(*args)

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        """Bytes the socket's buffer takes without waiting are handed to it here; anything else goes redis-py's way.

        redis-py bounds every write by its socket timeout with `asyncio.wait_for`, which on Python
        3.11 runs the write as a task of its own, with a timer and a future to wake the caller: two
        turns of the loop and three objects per command or pipeline, for a write that never waits.
        A write waits only when the transport's buffer is over its high-water mark; bytes that
        keep it under the mark are taken whole at once, so there is nothing to time out.
        """
        writer = self._writer
        if (
            writer is not None
            and self._reader is not None
            and type(command) is list
            and not (check_health and self.health_check_interval)
            and _fits(writer.transport, command)
        ):
            writer.writelines(command)
            return
        await super().send_packed_command(command, check_health)


def _fits(transport: Any, command: list[bytes]) -> bool:
    """The transport is open and takes `command` staying under its high-water mark (so nothing pauses the writer)."""
    if transport.is_closing():
        return False
    _, high = transport.get_write_buffer_limits()
    return bool(transport.get_write_buffer_size() + sum(map(len, command)) <= high)


class PackedConnection(_PackedByHiredis, Connection):
    """TCP (`redis://`)."""


class PackedSSLConnection(_PackedByHiredis, SSLConnection):
    """TLS (`rediss://`)."""


class PackedUnixConnection(_PackedByHiredis, UnixDomainSocketConnection):
    """A socket file (`unix://`)."""


_PACKED: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: PackedConnection,
    SSLConnection: PackedSSLConnection,
    UnixDomainSocketConnection: PackedUnixConnection,
}


def packed(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """The hiredis-packing form of one of redis-py's three connection classes (any other is kept)."""
    return _PACKED.get(connection_class, connection_class)


def from_url(url: str, **options: Any) -> Redis:
    """`Redis.from_url(url, **options)`, its commands packed by hiredis."""
    base = parse_url(url).get("connection_class", Connection)
    return Redis.from_url(url, connection_class=packed(base), **options)


def pack_with_hiredis(client: Redis) -> None:
    """Make the connections `client` opens from now on pack by hiredis (call it before the first command)."""
    pool: ConnectionPool = client.connection_pool
    pool.connection_class = packed(pool.connection_class)
