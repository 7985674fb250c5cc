"""What a web page in a browser may not do to this API: the checks that make it CSRF and DNS-rebinding proof.

A browser sends some cross-origin requests without asking first ("simple" requests: a form, or
`text/plain`), and a page whose name was rebound to 127.0.0.1 reads the answers as its own. So,
before anything else runs:

- `Host` must name this server (its bound address, a loopback name or address, or a name given with
  `--allow-host`): a rebound page's requests carry the page's own name (421 otherwise);
- a request or WebSocket with an `Origin` must come from this server's own origin or one `--cors`
  lists (403 otherwise); clients that send no `Origin` (curl, scripts, Postman) are not browsers
  and are unaffected;
- a POST must declare `Content-Type: application/json` in UTF-8, which no form or simple request
  can (415 otherwise), so nothing reaches the routes that a page could send without a preflight.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from engine.api.problems import send_json
from engine.api.refusals import refuse_websocket

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
LOOPBACK_HOST_NAMES = frozenset({"localhost", "ip6-localhost"})
WILDCARDS = frozenset({"0.0.0.0", "::"})
JSON_TYPE = b"application/json"
UTF8_NAMES = frozenset({"utf-8", "utf8"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def split_host(value: str) -> tuple[str, int | None] | None:
    """`name[:port]` or `[v6]:port` as (lower-case name without a trailing dot, port); None if malformed."""
    text = value.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        name, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:]
    elif text.count(":") == 1:
        name, port_text = text.split(":")
    else:
        name, port_text = text, ""
    if port_text and not port_text.isdigit():
        return None
    name = name.rstrip(".")
    if not name:
        return None
    return name, int(port_text) if port_text else None


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


class HostNames:
    """The names a request may give in `Host`: which ones cannot be a page's rebound name."""

    def __init__(self, bound: str, allowed: tuple[str, ...]) -> None:
        self.bound = bound.strip("[]").lower()
        self.allowed = frozenset(name.strip().lower().rstrip(".") for name in allowed)

    def accepts(self, name: str) -> bool:
        if name in LOOPBACK_HOST_NAMES or name in self.allowed or name == self.bound:
            return True
        address = _ip(name)
        if address is None:
            return False
        # Listening on every interface, any address of this machine reaches it; an address literal
        # is never a rebound name (the page's origin would be that address, not the attacker's name).
        return address.is_loopback or self.bound in WILDCARDS


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def is_json(content_type: str | None) -> bool:
    """`application/json`, with no charset or UTF-8's: a form or a simple request never is."""
    if content_type is None:
        return False
    media, *parameters = (part.strip() for part in content_type.split(";"))
    if media.lower().encode() != JSON_TYPE:
        return False
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in UTF8_NAMES:
            return False
    return True


class BrowserGuard:
    """Host, Origin and (for POST) Content-Type, before the token, CORS or any route."""

    def __init__(self, app: ASGIApp, host: str, allow_hosts: tuple[str, ...], cors_origins: tuple[str, ...]) -> None:
        self.app = app
        self.hosts = HostNames(host, allow_hosts)
        self.cors_origins = frozenset(origin.rstrip("/").lower() for origin in cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        elif kind == "http":
            await send_json(send, refusal[0], {"error": refusal[1]}, [(b"connection", b"close")])
        else:
            await refuse_websocket(scope, receive, send, refusal[0], {"error": refusal[1]})

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        hosts = [bytes(value).decode("latin-1") for key, value in scope.get("headers", ()) if key == b"host"]
        if len(hosts) != 1:
            return 400, "Host: is required, once"
        host_header = hosts[0]
        host = split_host(host_header)
        if host is None or not self.hosts.accepts(host[0]):
            return (
                421,
                f"Host: {host_header[:64]} is not a name of this server "
                "(its address, localhost, or a name given with --allow-host)",
            )
        origin = _header(scope, b"origin")
        if origin is not None and not self._origin_allowed(origin, host, scope):
            return 403, f"Origin: {origin[:64]} may not call this API (only this server's own and --cors origins)"
        if scope["type"] == "http" and scope["method"] in BODY_METHODS and not is_json(_header(scope, b"content-type")):
            return 415, "Content-Type: must be application/json (UTF-8)"
        return None

    def _origin_allowed(self, origin: str, host: tuple[str, int | None], scope: Scope) -> bool:
        written = origin.strip().rstrip("/").lower()
        if written in self.cors_origins or "*" in self.cors_origins:
            return True
        try:
            parts = urlsplit(written)
            origin_port = parts.port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            return False
        server_scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        own_port = host[1] if host[1] is not None else DEFAULT_PORTS[server_scheme]
        return (parts.hostname.rstrip("."), origin_port or DEFAULT_PORTS[parts.scheme]) == (host[0], own_port)
