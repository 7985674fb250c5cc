"""A real `dexdesk serve` process on a free port, for the API tests and the schemathesis run."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults.support import DEXDESK, dexdesk_env

START_TIMEOUT_S = 30.0


@dataclass
class ServeProcess:
    """`dexdesk serve --port 0 …`: the address is read from the one line it prints on stdout."""

    home: Path
    options: tuple[str, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)
    database: str | None = None  # a SQLite file in `home` unless given
    process: subprocess.Popen[str] | None = None
    url: str = ""

    def start(self) -> ServeProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        database = self.database or f"sqlite+aiosqlite:///{self.home / 'api.db'}"
        command = [DEXDESK, "serve", "--port", "0", "--db", database, "--time-scale", "0", "--rate-limit", "0"]
        self.process = subprocess.Popen(
            [*command, "--seed", "11", *self.options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dexdesk_env(self.home, **self.environment),
        )
        line = self._first_line()
        self.url = line.split()[1]
        return self

    def _first_line(self) -> str:
        assert self.process is not None
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(START_TIMEOUT_S):
                self.stop()
                raise AssertionError(f"dexdesk serve printed nothing within {START_TIMEOUT_S:g} s")
        line = self.process.stdout.readline()
        if not line.startswith("serving "):
            self.process.wait(10)
            raise AssertionError(f"dexdesk serve did not start: {line!r} {self.process.stderr.read()!r}")  # type: ignore[union-attr]
        return line

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def stop(self) -> tuple[int, str]:
        """SIGTERM, as a service manager stops it; returns the exit status and what it said on stderr."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            _, err = self.process.communicate()
        return self.process.returncode, err


def started(home: Path, *options: str, database: str | None = None, **environment: str) -> ServeProcess:
    began = time.monotonic()
    server = ServeProcess(home, options, environment, database).start()
    assert time.monotonic() - began < START_TIMEOUT_S
    return server
