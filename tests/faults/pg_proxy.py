"""A TCP proxy to PostgreSQL that drops the client's connection right after COMMIT is acknowledged.

It also stands in for a PostgreSQL outage (`cut` … `restore`) without stopping the shared server.

The server has committed; the client never hears so (it waits for ReadyForQuery, which never comes).
That is the fault of issue 9: a writer that treats it as a failure and retries blindly writes twice
or trips over its own rows. The proxy speaks just enough of the wire protocol to see message
boundaries from the server: it answers SSL/GSS requests itself with "N" (no encryption), then
forwards bytes both ways and cuts the link after the chosen CommandComplete("COMMIT") messages.

With `autocommit`, a statement sent outside a transaction block counts as a commit too: it commits
on its own (the group commit's single statement does, engine/storage/fast_write.py), and the
server sends its CommandComplete and ReadyForQuery together after committing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.faults.support import free_port

_ENCRYPTION_REQUESTS = {80877103, 80877104}  # SSLRequest, GSSENCRequest


@dataclass
class CommitDroppingProxy:
    """Forwards 127.0.0.1:`port` to PostgreSQL; `drop(n)` says whether the n-th COMMIT's ack is cut (1-based)."""

    drop: Callable[[int], bool]
    autocommit: bool = False  # statements outside a transaction block count as commits too
    upstream: tuple[str, int] = ("127.0.0.1", 5432)
    port: int = field(default_factory=free_port)
    commits: int = 0
    dropped: int = 0
    down: bool = False
    _server: asyncio.Server | None = None
    _links: set[asyncio.StreamWriter] = field(default_factory=set)

    async def __aenter__(self) -> CommitDroppingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._links):
            writer.close()
        with contextlib.suppress(Exception):
            await self._server.wait_closed()

    def url(self, schema: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/test?schema={schema}"

    def cut(self) -> None:
        """PostgreSQL goes away: every open link is cut and new connections are refused until `restore`."""
        self.down = True
        for writer in list(self._links):
            writer.close()

    def restore(self) -> None:
        self.down = False

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.down:
            client_writer.close()  # as a stopped server: the connection is dropped at once
            return
        self._links.add(client_writer)
        server_writer: asyncio.StreamWriter | None = None
        try:
            startup = await self._startup(client_reader, client_writer)
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
            self._links.add(server_writer)
            server_writer.write(startup)
            await asyncio.gather(
                self._pipe(client_reader, server_writer),
                self._from_server(server_reader, client_writer),
            )
        except (OSError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for writer in (client_writer, server_writer):
                if writer is not None:
                    self._links.discard(writer)
                    writer.close()

    async def _startup(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        while True:
            header = await reader.readexactly(8)
            length, code = struct.unpack("!ii", header)
            rest = await reader.readexactly(length - 8)
            if code in _ENCRYPTION_REQUESTS:
                writer.write(b"N")
                await writer.drain()
                continue
            return header + rest

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        writer.close()

    async def _from_server(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        idle = True  # this connection is outside a transaction block (its last ReadyForQuery said "I")
        while True:
            header = await reader.readexactly(5)
            (length,) = struct.unpack("!i", header[1:])
            body = await reader.readexactly(length - 4)
            writer.write(header + body)
            if header[:1] == b"Z":
                idle = body[:1] == b"I"
            if header[:1] == b"C" and self._commits(body, idle):
                self.commits += 1
                if self.drop(self.commits):
                    self.dropped += 1
                    await writer.drain()
                    raise ConnectionError("dropped right after COMMIT was acknowledged")
            await writer.drain()

    def _commits(self, tag: bytes, idle: bool) -> bool:
        """Whether the statement this CommandComplete ends has committed (COMMIT, or on its own outside a block)."""
        if tag.startswith(b"COMMIT"):
            return True
        return self.autocommit and idle and not tag.startswith((b"BEGIN", b"ROLLBACK", b"SET", b"SHOW"))
