"""Prints the cluster's measured figures (window, FIFO, take-over) at the end of a run that included them."""

from __future__ import annotations

import pytest

from tests.faults.support import TALLY
from tests.ui.conftest import layout_file, open_desk, qloop  # noqa: F401 - the desk's fixtures, shared


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = [line for line in TALLY.lines if line.startswith("cluster:")]
    if lines:
        terminalreporter.section("cluster figures")
        for line in lines:
            terminalreporter.write_line(line)
