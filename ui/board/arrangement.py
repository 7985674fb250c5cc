"""The board's rows in display order for a sort and a filter, computed with numpy over cached keys.

Out of the model (ui/board/model.py), which keeps slots and announces layouts: this is the one
arithmetic of arranging them. The natural order is new orders newest first on top, then history
newest first; a filter selects from it and a stable sort keeps ties in it (newest first when
descending, oldest first when ascending), so a re-sort never shuffles equal rows.
"""

from __future__ import annotations

from array import array

import numpy as np

from ui.board.columns import Column
from ui.board.filter import BoardFilter
from ui.board.keys import BoardKeys


def arranged_slots(
    live: array[int],
    history: array[int],
    chosen: BoardFilter,
    keys: BoardKeys,
    column: Column,
    descending: bool,
) -> list[int] | None:
    """Slots in display order, or None for the natural order (nothing to arrange: a slot's row is arithmetic)."""
    natural_sort = column is Column.TIME and descending
    if natural_sort and not chosen.is_filtering:
        return None
    newest_live = np.frombuffer(live, dtype=np.int64)[::-1]
    natural = np.concatenate((newest_live, np.frombuffer(history, dtype=np.int64)))
    del newest_live  # a view of the array: released before the array may grow again
    if chosen.is_filtering:
        natural = np.array(chosen.select(natural, keys), dtype=np.int64)
    if natural_sort:
        return natural.tolist()  # type: ignore[no-any-return]
    if descending:  # a stable sort of the natural order keeps ties newest first
        values = keys.of(column, natural)
        return natural[np.argsort(-values, kind="stable")].tolist()  # type: ignore[no-any-return]
    oldest_first = natural[::-1]  # ascending: ties oldest first
    values = keys.of(column, oldest_first)
    return oldest_first[np.argsort(values, kind="stable")].tolist()  # type: ignore[no-any-return]
