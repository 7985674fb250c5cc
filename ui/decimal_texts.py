"""A column of stored decimal texts split into packed parts (coefficient, exponent) by numpy, all at once.

SQLite stores a decimal as its text ("148.9312"). The desk's history packs each into a 64-bit
coefficient and the Decimal's own exponent (ui/order_rows.py); splitting them in SQL expressions
cost a third of reading a page, and one at a time in Python more. Here the texts become one byte
matrix and every plain one (an optional minus, digits, at most one point with digits on both sides,
18 characters at most) is split with a few array operations. Any other text (an exponent, more
digits) goes through `Decimal`, one by one, and is kept whole when it does not fit: nothing is
rounded.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from ui.order_rows import NO_EXPONENT, DecimalColumn, split_decimal

_MOST_CHARACTERS = 18  # 18 digits always fit a signed 64-bit coefficient
_ZERO, _POINT, _MINUS = ord("0"), ord("."), ord("-")


def decimal_column(texts: tuple[str | None, ...] | list[str | None]) -> DecimalColumn:
    """The packed column of `texts` (None: no value), exactly `DecimalColumn.append(Decimal(text))` of each."""
    column = DecimalColumn()
    count = len(texts)
    if None in texts:
        present = [row for row, text in enumerate(texts) if text is not None]
        coefficients = np.zeros(count, dtype=np.int64)
        exponents = np.full(count, NO_EXPONENT, dtype=np.int8)
        plain = _split_into([texts[row] for row in present], coefficients, exponents, present)
    else:
        present = list(range(count))
        coefficients, exponents = np.empty(count, dtype=np.int64), np.empty(count, dtype=np.int8)
        plain = _split_into(texts, coefficients, exponents, slice(None))
    for index in np.flatnonzero(~plain).tolist():
        row = present[index]
        value = Decimal(texts[row])  # type: ignore[arg-type]  # present rows have text
        parts = split_decimal(value)
        if parts is None:
            column.odd[row] = value
            parts = (0, NO_EXPONENT)
        coefficients[row], exponents[row] = parts
    column.coefficients = array("q", coefficients.tobytes())
    column.exponents = array("b", exponents.tobytes())
    return column


def _split_into(
    texts: Sequence[str | None],
    coefficients: npt.NDArray[np.int64],
    exponents: npt.NDArray[np.int8],
    rows: list[int] | slice,
) -> npt.NDArray[np.bool_]:
    """Split `texts` into `coefficients` and `exponents` at `rows`; returns which texts were plain decimals."""
    if not texts:
        return np.zeros(0, dtype=bool)
    try:
        raw = np.array(texts, dtype=bytes)
    except UnicodeEncodeError:  # not ASCII: no plain decimal near it; each on its own
        return np.zeros(len(texts), dtype=bool)
    width = raw.dtype.itemsize
    chars = raw.view(np.uint8).reshape(len(raw), width)
    digit = chars - np.uint8(_ZERO)  # wraps below '0': every non-digit byte reads as 10 or more
    is_digit = digit < 10
    is_point = chars == _POINT
    length = np.count_nonzero(chars, axis=1)  # numpy pads a shorter text with NUL bytes at its end
    negative = chars[:, 0] == _MINUS
    points = np.count_nonzero(is_point, axis=1)
    point_at = np.where(points == 1, np.argmax(is_point, axis=1), length)
    # Every character a digit but a leading minus and one point, with digits on both sides of it.
    plain: npt.NDArray[np.bool_] = (length <= _MOST_CHARACTERS) & (points <= 1) & (point_at > negative)
    plain &= point_at != length - 1
    plain &= np.count_nonzero(is_digit, axis=1) + points + negative == length
    # Read left to right, each digit shifts what came before one place up (a column at a time: a few
    # operations on short vectors cost less than weighing every byte of the matrix).
    magnitude = np.zeros(len(raw), dtype=np.int64)
    values = digit.astype(np.int64)
    for column in range(width):
        magnitude = np.where(is_digit[:, column], magnitude * 10 + values[:, column], magnitude)
    coefficients[rows] = np.where(negative, -magnitude, magnitude)
    exponents[rows] = np.where(points == 1, point_at + 1 - length, 0)
    return plain
