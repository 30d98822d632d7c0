"""An OpenAI-compatible chat API over ``ZoneBot``, mounted at ``/v1`` beside the page: Open WebUI, the ``openai``
client or any OpenAI-compatible front end can use zonebot as a model named ``zonebot``.

- ``GET /v1/models``: the one model.
- ``POST /v1/chat/completions``: the last user message is the question, the messages before it the conversation
  (system messages are left out). The reply's message is the answer with its ``[n]`` markers, then its numbered
  sources; the response (or, streamed, its last chunk) also carries ``sources`` (the citations: ``n``, ``source``,
  ``title``, ``quote``, ``publisher``, ``date``, ``url``) and ``abstained``. An extra request field ``sources``
  (a list of document names) keeps the answer to those documents.

Errors come back in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..bot import ZoneBot
from ..errors import IndexMissingError, ZoneBotError
from ..models import Answer
from ..validation import clean_history, content_text
from .render import SOURCES_HEADING, citation_dict, copy_text

log = logging.getLogger(__name__)

MODEL = "zonebot"
#: Characters per streamed piece of the answer (cut at a space).
CHUNK_CHARS = 48


class RequestError(Exception):
    """A request zonebot cannot answer: the message, the HTTP status, and OpenAI's error type, param and code."""

    def __init__(self, message: str, status: int = 400, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.param, self.code = status, param, code

    def response(self) -> JSONResponse:
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        return JSONResponse({"error": {"message": str(self), "type": kind, "param": self.param, "code": self.code}},
                            status_code=self.status)  # fmt: skip


def build_openai_app(bot: ZoneBot) -> Starlette:
    """The ``/v1`` app (mount it at ``/v1``): models and chat completions, answered by ``bot``."""

    async def models(_request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [_model_card()]})

    async def model(request: Request) -> Response:
        if request.path_params["name"] != MODEL:
            return _unknown_model(request.path_params["name"]).response()
        return JSONResponse(_model_card())

    async def chat_completions(request: Request) -> Response:
        try:
            question, history, sources, stream = _read_request(await request.body())
            answer = await run_in_threadpool(bot.ask, question, history, sources=sources)
        except RequestError as exc:
            return exc.response()
        except IndexMissingError as exc:
            return RequestError(str(exc), 503, code="no_index").response()
        except ZoneBotError as exc:
            return RequestError(str(exc), 400, param="messages" if "question" in str(exc) else None).response()
        except Exception:
            log.exception("answering a chat completion failed")
            return RequestError("Something went wrong answering that; the server log has the details.", 500).response()
        reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if stream:
            return StreamingResponse(_chunks(answer, reply_id, created), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})  # fmt: skip
        return JSONResponse({
            "id": reply_id, "object": "chat.completion", "created": created, "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": copy_text(answer)},
                         "finish_reason": "stop"}],
            **_extra(answer),
        })  # fmt: skip

    return Starlette(routes=[
        Route("/models", models, methods=["GET"]),
        Route("/models/{name:path}", model, methods=["GET"]),
        Route("/chat/completions", chat_completions, methods=["POST"]),
    ])  # fmt: skip


def _model_card() -> dict[str, Any]:
    return {"id": MODEL, "object": "model", "created": 0, "owned_by": "zonebot"}


def _unknown_model(name: Any) -> RequestError:
    return RequestError(f"The model {name!r} is not served here; this server serves one model, {MODEL!r}.", 404,
                        param="model", code="model_not_found")  # fmt: skip


def _read_request(body: bytes) -> tuple[str, list[dict[str, Any]], list[str] | None, bool]:
    """The question, the conversation before it, the chosen sources and whether to stream, from a request body."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"The request body is not JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise RequestError('The request body must be a JSON object with "messages".')
    if data.get("model", MODEL) != MODEL:
        raise _unknown_model(data.get("model"))
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError('"messages" must be a non-empty list of {"role", "content"} objects.', param="messages")
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        raise RequestError("The last message must be the user's question (role \"user\").", param="messages")
    sources = data.get("sources")
    if sources is not None and not (isinstance(sources, list) and all(isinstance(s, str) for s in sources)):
        raise RequestError('"sources" must be a list of document names.', param="sources")
    history = clean_history([_without_sources(m) for m in messages[:-1]])
    return content_text(last.get("content")), history, sources or None, data.get("stream") is True


def _without_sources(message: Any) -> Any:
    """An earlier reply of ours without its sources list: a follow-up is read against the answer, not the titles."""
    if isinstance(message, dict) and message.get("role") == "assistant" and isinstance(message.get("content"), str):
        return {**message, "content": message["content"].split(f"\n\n{SOURCES_HEADING}\n", 1)[0]}
    return message


def _extra(answer: Answer) -> dict[str, Any]:
    return {"sources": [citation_dict(c) for c in answer.citations], "abstained": answer.abstained}


def _pieces(text: str) -> Iterator[str]:
    """``text`` in pieces of about ``CHUNK_CHARS`` characters, each ending after a space (joined, the text)."""
    start = 0
    while start < len(text):
        cut = text.find(" ", start + CHUNK_CHARS)
        end = len(text) if cut < 0 else cut + 1
        yield text[start:end]
        start = end


def _chunks(answer: Answer, reply_id: str, created: int) -> Iterator[str]:
    """The answer as server-sent chat completion chunks: the role, the text in pieces, then the sources."""

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        chunk = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}  # fmt: skip
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    for piece in _pieces(copy_text(answer)):
        yield event({"content": piece})
    yield event({}, "stop", **_extra(answer))
    yield "data: [DONE]\n\n"
