"""`dexdesk serve`: the engine headless behind the HTTP + WebSocket API until Ctrl-C or SIGTERM.

Stopping closes the server first (no new orders; WebSockets get 1012), then the engine: attempts
in flight finish, queued orders stay stored and resume on the next start.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from dataclasses import replace

from app.assembly import build_engine
from app.headless import fast_loop, settled_collector
from app.wiring import start_mirror
from engine.cluster.config import ClusterUnavailable
from engine.config.settings import Settings
from engine.model.exit_codes import ExitCode
from engine.storage import StorageUnavailable

TOKEN_VARIABLE = "DEXDESK_API_TOKEN"


def add_serve_command(command: argparse.ArgumentParser) -> None:
    command.set_defaults(loop_factory=fast_loop)
    command.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    command.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000, 0 = any free)")
    command.add_argument(
        "--token",
        help=f"require `Authorization: Bearer TOKEN` on every request (or {TOKEN_VARIABLE}); "
        "needed to listen on any address but loopback",
    )
    command.add_argument(
        "--cors", action="append", default=[], metavar="ORIGIN", help="let browsers on ORIGIN call the API (repeatable)"
    )
    command.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host is NAME (a proxy's or LAN name; repeatable); "
        "by default only the bound address and localhost, so a rebound web page's requests are refused",
    )
    command.add_argument(
        "--request-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="headers, then the body, must each arrive within SECONDS (default 10; 408 and close otherwise)",
    )


def _say(text: str) -> None:
    print(f"dexdesk: {text}", file=sys.stderr, flush=True)


async def serve(args: argparse.Namespace, settings: Settings) -> int:
    # FastAPI and uvicorn load only for this command: every other `dexdesk` starts without them.
    from engine.api import ApiOptions, ApiServer, UnsafeBinding, create_app

    options = ApiOptions(
        host=args.host,
        port=args.port,
        token=args.token or os.environ.get(TOKEN_VARIABLE) or None,
        cors_origins=tuple(args.cors),
        allow_hosts=tuple(args.allow_host),
        request_timeout_s=args.request_timeout,
    )
    try:
        options.check()
    except UnsafeBinding as problem:
        _say(str(problem))
        return ExitCode.BAD_INPUT
    try:
        engine = build_engine(settings)
    except ClusterUnavailable as refused:
        _say(str(refused))
        return ExitCode.BAD_INPUT
    try:
        await engine.start()
    except StorageUnavailable as problem:
        _say(str(problem))
        return ExitCode.BAD_INPUT
    mirror = start_mirror(engine, settings)
    if mirror is not None:
        options = replace(options, mirror_state=lambda: mirror.state)
    server = ApiServer(create_app(engine, options), options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        try:
            await server.start()
        except OSError as problem:
            _say(f"cannot listen on {options.host}:{options.port}: {problem.strerror or problem}")
            return ExitCode.BAD_INPUT
        with settled_collector():
            # One line on stdout with the address, for scripts that start the server on port 0.
            print(f"serving {server.url} (docs at {server.url}/docs); Ctrl-C stops", flush=True)
            waiting = asyncio.create_task(stop.wait())
            await asyncio.wait({waiting, asyncio.create_task(server.wait())}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
        _say("stopping: orders in flight finish, queued orders resume on the next start")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await server.stop()
        await engine.stop()
        if mirror is not None:
            await mirror.stop()
    return ExitCode.OK
