"""Keep a big board out of the garbage collector's way, and give back to the system what a load freed.

With 100,000 orders on the board a full (generation 2) collection walked every one of them and
froze the window for 100-250 ms, the longest stall of a history load or a busy stream. Orders that
have been loaded are moved to the collector's permanent generation (`gc.freeze`, O(1)), so later
collections only walk what is new. Frozen objects are still freed by reference counting when the
board lets go of them; only reference cycles among them would linger, and orders hold none.

Reading 100,000 stored orders allocates and frees far more than the board keeps (each page's rows
as tuples, before they are packed into columns). glibc keeps what was freed for reuse, so the
desk's RSS stayed ~60 MB above what it holds; `malloc_trim` after the load returns it (measured
with `bench board`: 384 → 321 MB). Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from functools import cache
from typing import Any


def freeze_survivors() -> None:
    gc.freeze()


@cache
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_free_memory() -> None:
    """Hand the memory freed since the last call back to the system (glibc's `malloc_trim`)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
