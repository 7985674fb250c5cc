"""Keep a big board out of the garbage collector's way.

With 100,000 orders on the board a full (generation 2) collection walked every one of them and
froze the window for 100-250 ms, the longest stall of a history load or a busy stream. Orders that
have been loaded are moved to the collector's permanent generation (`gc.freeze`, O(1)), so later
collections only walk what is new. Frozen objects are still freed by reference counting when the
board lets go of them; only reference cycles among them would linger, and orders hold none.
"""

from __future__ import annotations

import gc


def freeze_survivors() -> None:
    gc.freeze()
