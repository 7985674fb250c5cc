"""Prints the fault figures the issue asks for at the end of a run that included fault tests."""

from __future__ import annotations

import pytest

from tests.faults.support import TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY.orders and not TALLY.faults:
        return
    terminalreporter.section("fault figures")
    terminalreporter.write_line(
        f"orders run through faults: {TALLY.orders}; faults injected: {TALLY.faults}; "
        f"orders lost: {TALLY.lost}; orders executed twice: {TALLY.executed_twice}"
    )
