"""The page's login rules for the API routes Gradio does not guard itself: the OpenAI-compatible ``/v1/`` and
the MCP server under ``/gradio_api/mcp``.

With no login set (``ZONEBOT_AUTH`` unset), they are as open as the page. With one, a request needs the same
user and password, as ``Authorization: Bearer user:password`` (how OpenAI and MCP clients send an API key),
``Authorization: Basic ...``, or the login cookie the page itself set.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

#: Paths whose requests this middleware checks.
GUARDED = ("/v1", "/gradio_api/mcp")


def accounts(auth: Any) -> dict[str, str]:
    """``launch``'s ``auth`` (a ``(user, password)`` pair or a list of them) as ``{user: password}``."""
    if not auth:
        return {}
    pairs: Iterable[Any] = [auth] if isinstance(auth, tuple) and len(auth) == 2 and isinstance(auth[0], str) else auth
    return {str(user): str(password) for user, password in pairs}


class ApiLogin:
    """ASGI middleware: requests to ``GUARDED`` paths need a login when ``users`` is not empty.

    Refused requests get ``401`` with an OpenAI-style error body saying how to log in.
    """

    def __init__(self, app: ASGIApp, users: dict[str, str]) -> None:
        self.app = app
        self.users = users

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.users and scope["type"] == "http" and _guarded(scope.get("path", "")) and not self._allowed(scope):
            response = JSONResponse(
                {"error": {"message": "This zonebot server needs a login: send the user and password set in "
                                      "ZONEBOT_AUTH as the API key (Authorization: Bearer user:password).",
                           "type": "authentication_error", "code": "invalid_api_key"}},
                status_code=401, headers={"WWW-Authenticate": 'Bearer realm="zonebot"'},
            )  # fmt: skip
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return self._matches(value.strip())
        if scheme.lower() == "basic":
            try:
                return self._matches(base64.b64decode(value.strip(), validate=True).decode("utf-8"))
            except (binascii.Error, UnicodeDecodeError):
                return False
        return _page_session(scope, headers.get("cookie", ""))

    def _matches(self, credentials: str) -> bool:
        user, sep, password = credentials.partition(":")
        expected = self.users.get(user)
        # Compared in constant time, and a password is compared even for an unknown user.
        ok = hmac.compare_digest(password.encode(), (expected or "\0").encode())
        return bool(sep) and expected is not None and ok


def _guarded(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in GUARDED)


def _page_session(scope: Scope, cookie_header: str) -> bool:
    """True when the request carries the login cookie of a user logged in to the page."""
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if not tokens or not cookie_id:
        return False
    names = (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}")
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name in names and value in tokens:
            return True
    return False
