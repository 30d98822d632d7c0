"""Raw HTTP calls to the API functions, answered with a reason when their body is incomplete.

``POST /gradio_api/call/ask`` (or ``/run/ask``) takes ``{"data": [question, history, sources]}``. Gradio refuses
a ``data`` list shorter than the function's parameters with ``{"error": null}`` and no reason (its message is
hidden with ``show_error=False``). ``CompleteCalls`` fills the values left out with the parameters' defaults, as
``gradio_client`` does, and answers a list that is too long, or a body that is not ``{"data": [...]}``, with a 400
that names the parameters.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gradio.utils import get_function_params
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CALL = re.compile(r"/gradio_api/(?:call|run|api)/(?P<name>[\w-]+)/?$")
#: Largest request body read here (a question and 40 long turns fit); larger ones go to Gradio as they are.
MAX_BODY = 4_000_000

Params = list[tuple[str, bool, Any]]  # (name, has a default, default)


def api_params(fns: Any, names: tuple[str, ...]) -> dict[str, Params]:
    """The parameters of each API function named in ``names``, from a Blocks' ``fns``."""
    found: dict[str, Params] = {}
    for block_fn in fns.values():
        if block_fn.api_name in names and block_fn.fn is not None:
            found[block_fn.api_name] = [(n, has, default) for n, has, default, _ in get_function_params(block_fn.fn)]
    return found


class CompleteCalls:
    """ASGI middleware: completes or refuses, with a reason, the ``data`` of raw calls to the functions in ``params``."""

    def __init__(self, app: ASGIApp, params: dict[str, Params]) -> None:
        self.app = app
        self.params = params

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _CALL.search(scope.get("path", "")) if scope["type"] == "http" and scope.get("method") == "POST" else None
        params = self.params.get(match.group("name")) if match else None
        if params is None:
            await self.app(scope, receive, send)
            return
        body, more = await _read(receive)
        if more:  # too large to look at: Gradio's own limits apply
            await self.app(scope, _replay(body, receive, more=True), send)
            return
        try:
            body = _complete(body, params, match.group("name"))  # type: ignore[union-attr]
        except ValueError as exc:
            await JSONResponse({"error": str(exc)}, status_code=400)(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
        scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        await self.app(scope, _replay(body, receive), send)


def _complete(body: bytes, params: Params, name: str) -> bytes:
    """``body`` with ``data`` filled up to every parameter; ``ValueError`` naming them when it cannot be."""
    wanted = ", ".join(n if not has else f"{n} (optional)" for n, has, _ in params)
    usage = f'POST {{"data": [{", ".join(n for n, _, _ in params)}]}} to /{name}: {wanted}'
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"The request body is not JSON. {usage}") from None
    data = request.get("data") if isinstance(request, dict) else None
    if not isinstance(data, list):
        raise ValueError(f'The request body needs a "data" list. {usage}')
    required = sum(1 for _, has, _ in params if not has)
    if not required <= len(data) <= len(params):
        raise ValueError(f"{len(data)} values were sent; /{name} takes {required} to {len(params)}. {usage}")
    request["data"] = data + [default for _, _, default in params[len(data) :]]
    return json.dumps(request).encode()


async def _read(receive: Receive) -> tuple[bytes, bool]:
    """The request body (up to ``MAX_BODY`` bytes) and whether more is left unread."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body") or size > MAX_BODY:
            return b"".join(chunks), bool(message.get("more_body"))


def _replay(body: bytes, receive: Receive, more: bool = False) -> Receive:
    """A ``receive`` that first gives ``body`` as one message (``more``: the client has more to send), then
    whatever the client sends next."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replayed
