"""The closing figures of a run (fault tallies, the cluster's measurements), also under pytest-xdist.

Fault and cluster tests add to `TALLY` in whichever process runs them. Under `-n`, that is a worker:
each worker hands its tally to the controller when it finishes (`workeroutput`), and the controller,
which runs no test itself, sums them and prints. A plain `pytest -n0` run prints its own tally.
Imported by tests/conftest.py, the one conftest the xdist controller loads.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.faults.support import TALLY, Tally


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["tally"] = dataclasses.asdict(TALLY)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    tally = getattr(node, "workeroutput", {}).get("tally")
    if tally:
        TALLY.add(Tally(**tally))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.orders or TALLY.faults:
        terminalreporter.section("fault figures")
        terminalreporter.write_line(
            f"orders run through faults: {TALLY.orders}; faults injected: {TALLY.faults}; "
            f"orders lost: {TALLY.lost}; orders executed twice: {TALLY.executed_twice}"
        )
    cluster = [line for line in TALLY.lines if line.startswith("cluster:")]
    if cluster:
        terminalreporter.section("cluster figures")
        for line in cluster:
            terminalreporter.write_line(line)
