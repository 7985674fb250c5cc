"""JSON output with decimals as plain numbers: no float noise, no quotes, no exponent.

The standard encoder turns a Decimal into a float (noise) or a string (not a number), so
messages are written by this small encoder, which hands everything but Decimal to `json`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

_encode_scalar = json.JSONEncoder(ensure_ascii=False).encode
# Made once: `json.loads(text, parse_float=Decimal)` builds a decoder and its scanner on every call,
# about half of what reading a stored log line's data cost (every order read, every job's copy).
_EXACT = json.JSONDecoder(parse_float=Decimal)


def loads_exact(text: str | bytes | bytearray) -> Any:
    """`json.loads(text, parse_float=Decimal)`: numbers with a point come back as the Decimal they were written as."""
    if isinstance(text, bytes | bytearray):
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    elif not isinstance(text, str):
        raise TypeError(f"JSON text must be str or bytes, not {type(text).__name__}")
    return _EXACT.decode(text)


def format_decimal(value: Decimal) -> str:
    """Plain positional notation with trailing zeros after the point removed (10.50 → 10.5)."""
    # `str` is the C fast path and gives the same digits whenever it does not switch to an exponent.
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def dumps(value: Any, indent: int | None = None, _depth: int = 0) -> str:
    """JSON text: one compact line (update messages), or indented for people (`show --json`)."""
    if indent is None:
        return _compact(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dict):
        space = " " if indent else ""
        members = [f"{_encode_scalar(str(k))}:{space}{dumps(v, indent, _depth + 1)}" for k, v in value.items()]
        return _indented_block("{", members, "}", indent, _depth)
    if isinstance(value, list | tuple):
        return _indented_block("[", [dumps(item, indent, _depth + 1) for item in value], "]", indent, _depth)
    return _encode_scalar(value)


def _indented_block(opening: str, items: list[str], closing: str, indent: int, depth: int) -> str:
    if not items:
        return opening + closing
    inner = "\n" + " " * (indent * (depth + 1))
    return opening + inner + ("," + inner).join(items) + "\n" + " " * (indent * depth) + closing


def _compact(value: Any) -> str:
    """The one-line form, on the hot path (every stored log line): exact types first, `json` for the rest.

    Every attempt writes a dozen log lines of small dicts of decimals, ints and flags; handing an
    int or a bool to `json`'s encoder cost ~2 µs each (its Python entry point), a third of the
    attempt's JSON. Their JSON text is their `repr`, made here; anything unusual still goes to `json`.
    """
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is Decimal:
        return format_decimal(value)
    if kind is dict:
        return "{" + ",".join([f"{encode_basestring(str(key))}:{_compact(item)}" for key, item in value.items()]) + "}"
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is list or kind is tuple:
        return "[" + ",".join([_compact(item) for item in value]) + "]"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dict):
        return "{" + ",".join([f"{encode_basestring(str(key))}:{_compact(item)}" for key, item in value.items()]) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join([_compact(item) for item in value]) + "]"
    return _encode_scalar(value)
