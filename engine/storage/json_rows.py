"""Many rows as one JSON parameter of a PostgreSQL statement, instead of one array per column.

The group commit and the intake used to hand asyncpg one array per column (`unnest($1::text[], …)`):
32 arrays for a batch of updates with their log lines. asyncpg checks every element of an array
against `collections.abc`'s Iterable, Sized and Mapping to learn the array's shape, through Python
frames, before encoding it: about half a microsecond an element, 15-20 % of `bench engine`'s time on
the loop (py-spy), more than building the rows. Rows as one JSON text cost a list per row and one
C `json.dumps`; PostgreSQL reads them back with `jsonb_array_elements`, each field cast to its
column's type.

Exact as before: a Decimal goes as its `str` (numeric's input keeps every digit and the scale),
a datetime as ISO 8601 with its UTC offset (a naive one is read in the local zone, as asyncpg does).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

Columns = Sequence[tuple[str, str]]  # (name, PostgreSQL type), as engine/storage/order_codec.py declares them


# An order's moments repeat: a step's log lines and its row share one (Transitions.now), and a
# batch carries several orders' steps of the same moment. `isoformat` costs more than a lookup.
_TIMESTAMP_TEXTS: dict[datetime, str] = {}
_TIMESTAMPS_KEPT = 4096


def _timestamp(moment: datetime) -> str:
    text = _TIMESTAMP_TEXTS.get(moment)
    if text is None:
        if len(_TIMESTAMP_TEXTS) >= _TIMESTAMPS_KEPT:
            _TIMESTAMP_TEXTS.clear()
        aware = moment if moment.tzinfo is not None else moment.astimezone(UTC)
        text = _TIMESTAMP_TEXTS[moment] = aware.isoformat()
    return text


# The types JSON has no exact form for, and the text each is sent as.
_TEXT_FORMS: dict[str, Callable[[Any], str]] = {"numeric": str, "timestamptz": _timestamp}
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def rows_json(rows: Sequence[Sequence[Any]], columns: Columns) -> str:
    """The rows (values in `columns` order) as one JSON array of arrays."""
    forms = [(index, form) for index, (_name, kind) in enumerate(columns) if (form := _TEXT_FORMS.get(kind))]
    if not forms:
        return _encode(rows if isinstance(rows, list) else list(rows))
    sent = []
    for row in rows:
        values = list(row)
        for index, form in forms:
            value = values[index]
            if value is not None:
                values[index] = form(value)
        sent.append(values)
    return _encode(sent)


def ready_rows_json(rows: Sequence[Sequence[Any]]) -> str:
    """Rows already in their sent form (text, int, None; a timestamp as its ISO 8601 text): one C encode.

    A batch's log lines are made that way once, when their change is (`changes.log_row`): going
    through `rows_json` copied each row to a list and formatted its moment again (1.49 against
    1.11 µs a row, most of what is left being the C encoder's escaping of each line's JSON data).
    """
    return _encode(rows if isinstance(rows, list) else list(rows))


def recordset(parameter: str, columns: Columns) -> str:
    """SQL for a subquery of the rows `rows_json` sent as `parameter`, one typed column each."""
    fields = ", ".join(f"(r->>{index})::{kind} AS {name}" for index, (name, kind) in enumerate(columns))
    return f"(SELECT {fields} FROM jsonb_array_elements({parameter}::jsonb) AS r)"
