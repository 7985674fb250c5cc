"""Every refusal the API gives, as one JSON shape per kind, and the reading of request bodies.

Bad input answers 400 naming every bad field with the desk's and the CLI's words; FastAPI's own
validation errors (query parameters) are turned into the same shape, so no client ever sees a 422.
`refusal()` is the one mapping from an error to its status and body: FastAPI's exception handlers
and the fast lanes (engine/api/lanes.py) both answer through it, so a route answers the same
bytes whichever way its request came in.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Send

from engine.cluster.config import ClusterUnavailable
from engine.model.jsonfmt import dumps
from engine.model.validation import FieldError, InvalidOrder

JSON = "application/json"


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON written by `engine.model.jsonfmt`: decimals as plain numbers, the same bytes the CLI prints."""
    return Response(dumps(body), status_code=status_code, media_type=JSON, headers=headers)


def problem(status_code: int, error: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": error}, status_code, headers)


def bad_input_body(errors: list[FieldError]) -> dict[str, Any]:
    return {
        "error": "; ".join(str(item) for item in errors),
        "errors": [{"field": item.field, "message": item.rule} for item in errors],
    }


def bad_input(errors: list[FieldError]) -> Response:
    return json_response(bad_input_body(errors), 400)


async def send_json(send: Send, status: int, body: Any, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """A JSON answer straight on ASGI, for code that runs before (or instead of) FastAPI's routing."""
    payload = dumps(body).encode()
    headers = [(b"content-length", str(len(payload)).encode()), (b"content-type", JSON.encode()), *(extra or ())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class ApiProblem(Exception):
    """A refusal decided inside a handler; becomes `{"error": ...}` with its status code."""

    def __init__(self, status_code: int, error: str) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error


class BodyTooLarge(Exception):
    """A streamed body grew past the limit after its headers were accepted."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.max_bytes = max_bytes


def body_too_large(max_bytes: int) -> dict[str, str]:
    """The 413 answer's body, the one wording for each of the three places a body is refused for its size
    (announced too large, streamed past the limit, read past it before the deadline)."""
    size = f"{max_bytes // 1024} KiB" if max_bytes % 1024 == 0 else f"{max_bytes} bytes"
    return {"error": f"the request body is larger than {size}"}


# The errors a handler or a lane may raise to refuse a request (anything else is a 500).
Refusal = InvalidOrder | ApiProblem | BodyTooLarge | ClusterUnavailable
REFUSALS = (InvalidOrder, ApiProblem, BodyTooLarge, ClusterUnavailable)


def refusal(error: Refusal) -> tuple[int, dict[str, Any]]:
    """The status code and JSON body a refusal is answered with."""
    match error:
        case InvalidOrder():
            return 400, bad_input_body(error.errors)
        case ApiProblem():
            return error.status_code, {"error": error.error}
        case BodyTooLarge():
            return 413, body_too_large(error.max_bytes)
        case ClusterUnavailable():  # cluster mode: the queue is down, nothing was stored
            return 503, {"error": str(error)}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Made once (every POST is parsed by it): `json.loads` with options builds a decoder per call.
_BODY = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


async def read_object(request: Request, *, field: str = "body") -> dict[str, Any]:
    return parse_object(await request.body(), field=field)


def parse_object(raw: bytes, *, field: str = "body") -> dict[str, Any]:
    """The body as a JSON object, numbers with a point read as Decimal (no float noise in amounts)."""
    if not raw.strip():
        raise InvalidOrder([FieldError(field, "is required: a JSON object")])
    # JSON in UTF-8 only (RFC 8259 §8.1): json.loads would guess UTF-16 or UTF-32 and skip a BOM.
    if raw.startswith(b"\xef\xbb\xbf"):
        raise InvalidOrder([FieldError(field, "must be JSON in UTF-8 without a byte-order mark")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidOrder([FieldError(field, "must be JSON in UTF-8")]) from None
    try:
        payload = _BODY.decode(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidOrder([FieldError(field, f"is not valid JSON ({_first_line(error)})")]) from None
    if not isinstance(payload, dict):
        raise InvalidOrder([FieldError(field, "must be a JSON object")])
    return payload


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:120] if text else type(error).__name__


_PYDANTIC_WORDS = {
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "missing": "is required",
}


def _rule(item: dict[str, Any]) -> str:
    kind = item.get("type", "")
    context = item.get("ctx") or {}
    if kind in _PYDANTIC_WORDS:
        return _PYDANTIC_WORDS[kind]
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le')}"
    message = str(item.get("msg", "is not valid"))
    return message[:1].lower() + message[1:]


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at `path`; Starlette's 405 names only the first route's.

    A fixed path (`/api/orders/execute`) answers for itself before a template that also matches it
    (`/api/orders/{order_id}`), as the router tries them.
    """
    matching = [route for route in app.routes if isinstance(route, APIRoute) and route.path_regex.fullmatch(path)]
    fixed = [route for route in matching if not route.param_convertors]
    return sorted({method for route in (fixed or matching) for method in route.methods or ()})


def install_problem_handlers(app: FastAPI) -> None:
    async def refused(_request: Request, error: Exception) -> Response:
        assert isinstance(error, REFUSALS)
        status, body = refusal(error)
        return json_response(body, status)

    async def invalid_request(_request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors = [
            FieldError(str(item["loc"][-1]) if item.get("loc") else "request", _rule(item)) for item in error.errors()
        ]
        return bad_input(errors)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers = {name: value for name, value in headers.items() if name.lower() != "allow"}
            headers["allow"] = ", ".join(allowed_methods(app, request.url.path))
        return problem(error.status_code, str(error.detail), headers)

    for kind in REFUSALS:
        app.add_exception_handler(kind, refused)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)


_ORDER_ID = re.compile(r"[0-9A-Za-z-]{1,64}")


def looks_like_order_id(text: str) -> bool:
    """Ids are UUID strings; anything else cannot be stored, so it is not looked up (NULs break PostgreSQL)."""
    return _ORDER_ID.fullmatch(text) is not None
