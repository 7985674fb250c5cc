"""Rows sent to PostgreSQL as one JSON parameter (engine/storage/json_rows.py) arrive as asyncpg's arrays did."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import asyncpg

from engine.storage.json_rows import recordset, rows_json
from tests.conftest import _pg_dsn
from tests.services import require

COLUMNS = (("price", "numeric"), ("moment", "timestamptz"), ("note", "text"), ("count", "int"), ("big", "bigint"))
ROWS = [
    (Decimal("1.50"), datetime(2026, 12, 6, 18, 0, 0, 123456, tzinfo=UTC), 'a "quoted" \\ back\nline', 3, 2**40),
    (Decimal("1E-8"), datetime(2026, 12, 6, 19, 0, tzinfo=timezone(timedelta(hours=2))), "Jupiter ☄ é", -1, 0),
    (Decimal("-123456789012345678901234567890.123456789"), None, None, None, None),
    (Decimal("0.000"), datetime(2026, 1, 1, tzinfo=UTC), "", 0, -(2**40)),
]


async def test_every_value_comes_back_as_it_was_sent_to_the_last_digit_and_microsecond() -> None:
    require("postgres")
    connection = await asyncpg.connect(_pg_dsn())
    try:
        sent = await connection.fetch(f"SELECT * FROM {recordset('$1', COLUMNS)} AS v", rows_json(ROWS, COLUMNS))
        arrays = await connection.fetch(
            "SELECT * FROM unnest($1::numeric[], $2::timestamptz[], $3::text[], $4::int[], $5::bigint[])",
            *[list(column) for column in zip(*ROWS, strict=True)],
        )
    finally:
        await connection.close()
    assert [tuple(row) for row in sent] == [tuple(row) for row in arrays] == ROWS
    # Equal is not enough for a decimal: its scale is part of what was stored ("1.50", not "1.5").
    assert [str(row[0]) for row in sent] == [str(row[0]) for row in ROWS]


def test_no_rows_is_an_empty_array() -> None:
    assert rows_json([], COLUMNS) == "[]"


def test_one_instant_in_two_zones_is_sent_as_that_instant_whichever_came_first() -> None:
    here = datetime(2026, 12, 6, 20, 0, tzinfo=timezone(timedelta(hours=2)))
    utc = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    sent = rows_json([(None, here, None, None, None), (None, utc, None, None, None)], COLUMNS)
    moments = [datetime.fromisoformat(row[1]) for row in json.loads(sent)]
    assert moments == [utc, utc]
