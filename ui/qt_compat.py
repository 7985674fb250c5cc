"""Refuses to start on a PySide6 build that leaks references, instead of crashing minutes later.

PySide6 6.12's abi3 wheels on Python 3.11 return `None` (and `True` from `emit()`) without a new
reference. On 3.12+ those objects are immortal and nothing happens; on 3.11 every such call takes a
reference, so a busy desk drives `None`'s count to zero and CPython aborts ("none_dealloc:
deallocating None"). pyproject.toml pins below 6.12; this check names the cause if an environment
has the broken build anyway.
"""

from __future__ import annotations

import sys

import PySide6
from PySide6.QtCore import QObject


class BrokenQtBindings(RuntimeError):
    """The installed PySide6 cannot run the desk on this Python."""


def leaks_references() -> bool:
    if sys.version_info >= (3, 12):
        return False  # None and bools are immortal: a missing reference cannot hurt
    probe = QObject()
    calls = 16
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("probe")  # returns None
    return before - sys.getrefcount(None) >= calls


def check_qt_bindings() -> None:
    if leaks_references():
        version = ".".join(str(part) for part in sys.version_info[:3])
        raise BrokenQtBindings(
            f"PySide6 {PySide6.__version__} leaks references on Python {version} and would crash the desk; "
            "install 'pyside6-essentials<6.12' (pyproject.toml asks for it) or use Python 3.12 or newer"
        )
