"""Who may talk to the chat server: a ``Host`` it answers to, and for anything that changes state
(a POST: upload, add, delete, re-index, feedback, asking) a same-origin ``Origin``.

- **Host allowlist** (against DNS rebinding: a page of another site whose name was made to point at
  this machine). The server answers a request only when its ``Host`` names the address the request
  arrived at, a loopback name for a request that arrived on loopback, the address or name it was told
  to listen on (the machine's own name when it listens beyond loopback), or a name in
  ``ZONEBOT_ALLOWED_HOSTS``. Starlette's ``TrustedHostMiddleware`` is not used: it checks fixed names
  only, cannot follow a server listening on every address, and splits IPv6 hosts wrongly.
- **Origin** (against cross-site requests): a POST that carries an ``Origin`` must come from this
  server's own page (same host and port) or a name in ``ZONEBOT_ALLOWED_HOSTS``; one without an
  ``Origin`` whose ``Sec-Fetch-Site`` says another site sent it is refused too. Browsers send
  ``Origin`` with every POST; API clients (``gradio_client``, curl) send none and may call the public
  API only (``calls.CallCheck``).
- **Uploads** (``POST /gradio_api/upload``) only when the page has somewhere to upload to, and only
  from the page itself.

Every refusal is a 4xx with a sentence in ``{"detail": ...}``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .calls import SAME_ORIGIN

WILDCARDS = ("0.0.0.0", "::", "")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
UPLOAD_PATH = "/gradio_api/upload"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def split_host(value: str) -> tuple[str, int | None]:
    """``Host`` header → (lower-case name without brackets or trailing dot, port or None)."""
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:7860
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        name, _, port = value.partition(":")
    else:
        name, port = value, ""
    return name.rstrip("."), int(port) if port.isdigit() else None


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(name.strip("[]").split("%")[0])
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return mapped or ip


def is_loopback(name: str | None) -> bool:
    if not name:
        return False
    ip = _address(name)
    return ip.is_loopback if ip is not None else name.lower() == "localhost"


def _same_name(a: str, b: str) -> bool:
    ia, ib = _address(a), _address(b)
    return ia == ib if ia is not None and ib is not None else a == b


@dataclass(frozen=True)
class HostPolicy:
    """The names a server listening on ``listen`` answers to, plus ``extra`` (ZONEBOT_ALLOWED_HOSTS)."""

    listen: str
    extra: tuple[str, ...] = ()
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        listen = self.listen.strip("[]").lower()
        names = set()
        if listen not in WILDCARDS:
            names.add(listen)
        if is_loopback(listen):
            names.update(LOOPBACK_NAMES)
        else:  # reachable from other machines, which may use its name
            names.add(socket.gethostname().lower())
        object.__setattr__(self, "names", frozenset(names))

    @classmethod
    def of(cls, listen: str, allowed_hosts: str | Iterable[str] | None) -> HostPolicy:
        if isinstance(allowed_hosts, str):
            allowed_hosts = allowed_hosts.split(",")
        extra = tuple(h.strip().lower().rstrip(".") for h in allowed_hosts or () if h.strip())
        return cls(listen, extra)

    def configured(self, name: str, everything: bool = True) -> bool:
        """``name`` is one the user allowed: exactly, or under a ``*.domain`` entry, or (with ``everything``)
        by a ``*`` entry, which turns the Host check off but never the Origin check."""
        return any((everything and e == "*") or e == name or (e.startswith("*.") and name.endswith(e[1:]))
                   for e in self.extra)  # fmt: skip

    def allows(self, name: str, arrived_at: str | None) -> bool:
        """May a request whose ``Host`` names ``name``, arriving at local address ``arrived_at``, be answered?"""
        if any(_same_name(name, n) for n in self.names) or self.configured(name):
            return True
        if arrived_at and _same_name(name, arrived_at):
            return True
        return is_loopback(arrived_at) and name in LOOPBACK_NAMES


def same_origin(origin: str, host: str, policy: HostPolicy) -> bool:
    """Is ``origin`` (an ``Origin`` header) this server's own page, reached as ``host`` (the ``Host`` header)?"""
    try:
        parts = urlsplit(origin.strip())
        origin_port = parts.port
    except ValueError:
        return False
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return False  # "null" (a sandboxed frame, a file), or not a web origin at all
    name = parts.hostname.lower().rstrip(".")
    if policy.configured(name, everything=False):
        return True
    default = _DEFAULT_PORTS[parts.scheme]
    host_name, host_port = split_host(host)
    return _same_name(name, host_name) and (origin_port or default) == (host_port or default)


class Guard:
    """ASGI middleware applying ``HostPolicy``, the Origin rule and the upload rule (module docstring)."""

    def __init__(self, app: ASGIApp, policy: HostPolicy, uploads: bool) -> None:
        self.app = app
        self.policy = policy
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = self.problem(scope)
        if problem is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": problem[1][:120]})
        else:
            await JSONResponse({"detail": problem[1]}, problem[0])(scope, receive, send)

    def problem(self, scope: Scope) -> tuple[int, str] | None:
        """(status, sentence) when the request is refused, else None; marks same-origin requests in ``scope``."""
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        arrived_at = (scope.get("server") or (None, None))[0]
        name, _ = split_host(host)
        if not name or not self.policy.allows(name, arrived_at):
            return 400, self._foreign_host(name, scope)
        origin = headers.get("origin")
        if origin is not None and same_origin(origin, host, self.policy):
            scope[SAME_ORIGIN] = True
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            return None
        if origin is not None and not scope.get(SAME_ORIGIN):
            return 403, (f"Refused: a page at {origin[:100]} may not change anything on this server. "
                         "Use this server's own page, or an API client (which sends no Origin).")  # fmt: skip
        if origin is None and headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return 403, "Refused: another site's page may not change anything on this server."
        if scope["path"].rstrip("/") == UPLOAD_PATH:
            if not self.uploads:
                return 403, ("Uploads are turned off on this server: adding documents needs a login "
                             "(ZONEBOT_AUTH) or a server listening on 127.0.0.1.")  # fmt: skip
            if not scope.get(SAME_ORIGIN):
                return 403, "Uploads are accepted only from this server's own page (it sends a same-origin Origin)."
        return None

    def _foreign_host(self, name: str, scope: Scope) -> str:
        server = scope.get("server") or ("127.0.0.1", None)
        here = f"http://{server[0]}:{server[1]}/" if ":" not in str(server[0]) else f"http://[{server[0]}]:{server[1]}/"
        asked = f"the name {name[:100]!r}" if name else "a request without a Host header"
        return (f"This server does not answer to {asked}. Open it by an address it listens on, e.g. {here}, "
                "or whoever runs it can add the name to ZONEBOT_ALLOWED_HOSTS.")  # fmt: skip
