"""Calls to Gradio's event routes checked before Gradio sees them, so a malformed one gets a 4xx and a
sentence saying what to send instead of ``{"error": null}`` or a bare 500.

Routes: ``POST /gradio_api/call/NAME``, ``/run/NAME``, ``/api/NAME`` (``{"data": [...]}``, positional),
``/call/v2/NAME`` (``{"param": value}``) and ``/queue/join`` (``{"data", "fn_index", "session_hash"}``).

- A call by name reaches only the public API (``/ask``); the page's own events are reached only by
  ``fn_index``, and only from the page itself (a same-origin ``Origin``; see ``guard``).
- A public endpoint gets its optional arguments filled in (``/ask`` with the question alone works), and
  too many or unknown arguments are refused by name.
- A file argument must be a file uploaded to this server (``POST /gradio_api/upload``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.exceptions import RequestValidationError
from gradio_client.utils import is_file_obj_with_meta
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Largest JSON body of an event call: a long conversation's history fits many times over.
MAX_CALL_BYTES = 8 * 2**20
_ROUTE = re.compile(r"^/gradio_api/(?:(?P<kind>call/v2|call|run|api)/(?P<name>[^/]+)|queue/join)/?$")
#: Set in the ASGI scope by ``guard.Guard`` when the request's ``Origin`` is this server's own page.
SAME_ORIGIN = "zonebot.same_origin"


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Param:
    name: str
    required: bool
    default: Any


@dataclass(frozen=True)
class Endpoint:
    fn_index: int
    name: str
    params: tuple[Param, ...]
    public: bool

    def signature(self) -> str:
        return f"/{self.name}(" + ", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in self.params) + ")"


class Api:
    """The page's events and the public API endpoints of a ``gr.Blocks``, read once it is built."""

    def __init__(self, blocks: Any) -> None:
        self.blocks = blocks
        self._endpoints: dict[int, Endpoint] | None = None

    @property
    def endpoints(self) -> dict[int, Endpoint]:
        if self._endpoints is None:
            named = self.blocks.get_api_info()["named_endpoints"]
            found = {}
            for index, fn in self.blocks.fns.items():
                info = named.get(f"/{fn.api_name}") if fn.api_visibility != "private" else None
                params = tuple(Param(p["parameter_name"], not p["parameter_has_default"], p.get("parameter_default"))
                               for p in (info or {}).get("parameters", []))  # fmt: skip
                found[index] = Endpoint(index, str(fn.api_name), params, public=info is not None)
            self._endpoints = found
        return self._endpoints

    def public(self) -> list[Endpoint]:
        return [e for e in self.endpoints.values() if e.public]

    def by_name(self, name: str) -> Endpoint:
        for endpoint in self.public():
            if endpoint.name == name:
                return endpoint
        have = ", ".join(e.signature() for e in self.public()) or "none"
        raise Refused(404, f"There is no API endpoint /{name} on this server. Its API: {have} (see the page's "
                           "\"Use via API\" link).")  # fmt: skip

    def by_index(self, fn_index: Any) -> Endpoint:
        endpoint = self.endpoints.get(fn_index) if isinstance(fn_index, int) else None
        if endpoint is None:
            raise Refused(404, f"There is no event fn_index={fn_index!r} on this page; call the API by name "
                               "instead (POST /gradio_api/call/ask with {\"data\": [question, history]}).")  # fmt: skip
        return endpoint


def positional(endpoint: Endpoint, data: list[Any]) -> list[Any]:
    """``data`` with the endpoint's optional arguments filled in; ``Refused`` when some are missing or extra."""
    params = endpoint.params
    if len(data) > len(params):
        raise Refused(422, f"{endpoint.signature()} takes {len(params)} values, in this order; got {len(data)}. "
                           'Send {"data": [' + ", ".join(p.name for p in params) + "]}.")  # fmt: skip
    missing = [p.name for p in params[len(data) :] if p.required]
    if missing:
        raise Refused(422, f"{endpoint.signature()} needs {', '.join(missing)}; got {len(data)} value(s). "
                           'Send {"data": [' + ", ".join(p.name for p in params) + "]}.")  # fmt: skip
    return [*data, *(p.default for p in params[len(data) :])]


def keywords(endpoint: Endpoint, body: dict[str, Any]) -> None:
    """Refuse unknown or missing keyword arguments of a ``/call/v2/NAME`` body."""
    known = {p.name for p in endpoint.params} | {"oauth_token"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise Refused(422, f"{endpoint.signature()} has no argument {', '.join(map(repr, unknown))}.")
    missing = [p.name for p in endpoint.params if p.required and p.name not in body]
    if missing:
        raise Refused(422, f"{endpoint.signature()} needs {', '.join(missing)}.")


def check_files(data: Any, upload_dir: Path) -> None:
    """Every file a call names must be one uploaded to this server (it is in Gradio's upload folder)."""
    root = upload_dir.resolve()
    for obj in _file_objects(data):
        path = Path(str(obj.get("path") or ""))
        try:
            ok = path.resolve().is_relative_to(root) and path.is_file()
        except (OSError, ValueError):
            ok = False
        if not ok:
            raise Refused(422, f"The file {path.name or '(no name)'!r} was not uploaded to this server. Upload it "
                               "first (POST /gradio_api/upload), then send the path that call returns.")  # fmt: skip


def _file_objects(data: Any) -> Iterator[dict[str, Any]]:
    """Gradio's file objects (``{"path": ..., "meta": {"_type": "gradio.FileData"}}``) anywhere in ``data``,
    walked without recursion: a history may be nested deeper than Python's recursion limit."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if is_file_obj_with_meta(item):
                yield item
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class CallCheck:
    """ASGI middleware: checks (and completes) event calls, see the module docstring."""

    def __init__(self, app: ASGIApp, blocks: Any, upload_dir: Path) -> None:
        self.app = app
        self.api = Api(blocks)
        self.upload_dir = upload_dir

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _ROUTE.match(scope.get("path", "")) if scope["type"] == "http" and scope["method"] == "POST" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_json(receive)
            body = self._check(match["kind"], match["name"], body, bool(scope.get(SAME_ORIGIN)))
        except Refused as refused:
            await JSONResponse({"detail": str(refused)}, refused.status)(scope, receive, send)
            return
        raw = json.dumps(body).encode()
        headers = MutableHeaders(scope=scope)
        headers["content-length"] = str(len(raw))
        await self.app(scope, _replay(raw, receive), send)

    def _check(self, kind: str | None, name: str | None, body: Any, same_origin: bool) -> Any:
        if kind == "call/v2":
            endpoint = self.api.by_name(str(name))
            if not isinstance(body, dict):
                raise Refused(422, f"{endpoint.signature()} takes a JSON object of its arguments by name.")
            keywords(endpoint, body)
            check_files(body, self.upload_dir)
            return body
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise Refused(422, 'Send a JSON object {"data": [...]} with the values in order, e.g. '
                               '{"data": ["your question", []]} for /ask.')  # fmt: skip
        if "fn_index" in body and body["fn_index"] is not None:
            endpoint = self.api.by_index(body["fn_index"])
        elif kind is None:
            raise Refused(422, "queue/join needs fn_index; to call the API by name, POST to /gradio_api/call/ask.")
        else:
            endpoint = self.api.by_name(str(name))
        if not endpoint.public and not same_origin:
            raise Refused(403, "That event belongs to this server's page and is accepted only from it; "
                               "the API is /ask (POST /gradio_api/call/ask).")  # fmt: skip
        if endpoint.public:
            body["data"] = positional(endpoint, body["data"])
        check_files(body["data"], self.upload_dir)
        return body


async def _read_json(receive: Receive) -> Any:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise Refused(400, "The request ended before its body was read.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_CALL_BYTES:
            raise Refused(413, f"The request body is over {MAX_CALL_BYTES // 2**20} MiB, the most a call may send.")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        raise Refused(400, 'The request body is not JSON. Send e.g. {"data": ["your question"]} with '
                           "Content-Type: application/json.") from None  # fmt: skip
    except RecursionError:
        raise Refused(422, "The request body is nested too deeply to read; a history is a list of "
                           '{"role": "user" or "assistant", "content": "text"} messages.') from None  # fmt: skip


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # the disconnect, when it comes

    return replay


def _explain_invalid(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 (a body that does not fit a route's model) as a sentence, not a list of loc/msg."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'the body'}: {str(e.get('msg', '')).lower()}"
        for e in errors[:5]
    )  # fmt: skip
    return JSONResponse({"detail": f"The request to {request.url.path} is malformed ({problems or 'unreadable'}). "
                                   "The page's \"Use via API\" link shows how to call this server."}, 422)  # fmt: skip


def _explain_failure(_request: Request, _exc: Exception) -> JSONResponse:
    # Starlette re-raises after this answer, so the traceback goes to the server's log, not the caller.
    return JSONResponse({"detail": "The server failed on this request; the failure is logged. Try again, and tell "
                                   "whoever runs zonebot if it keeps happening."}, 500)  # fmt: skip


#: For ``FastAPI(exception_handlers=...)``: every error of the app's routes answered in words.
EXCEPTION_HANDLERS: dict[Any, Any] = {RequestValidationError: _explain_invalid, Exception: _explain_failure}
