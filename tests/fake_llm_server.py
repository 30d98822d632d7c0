"""A scripted chat-model server on loopback, for testing the LLM answerers without a model.

It speaks two protocols on one port:

* OpenAI ``POST /v1/chat/completions``: plain JSON, or server-sent events
  (``data: {...}`` ... ``data: [DONE]``) when the request says ``"stream": true``;
* Ollama ``POST /api/chat``: plain JSON, or one JSON object per line when streaming.

Tests script it by setting ``server.reply`` to a ``Reply`` or to a function of the
request body returning one; every request body is kept in ``server.requests``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What the server does with the next request."""

    text: str = ""  #: the assistant message
    status: int = 200  #: an error status sends ``{"error": ...}`` instead
    raw: bytes | None = None  #: sent as the body verbatim (for malformed replies)
    hang: bool = False  #: never reply (until the server stops)
    chunk_words: int = 3  #: words per streamed chunk


Script = Reply | Callable[[dict[str, Any]], Reply]


def passage_number(body: dict[str, Any], source: str) -> int:
    """The ``n`` of the passage from ``source`` in the prompt of ``body`` (0 if absent)."""
    prompt = prompt_of(body)
    marker = f'source="{source}"'
    for part in prompt.split("<passage n=")[1:]:
        if marker in part.split(">", 1)[0]:
            return int(part.split('"')[1])
    return 0


def passage_containing(body: dict[str, Any], text: str) -> int:
    """The ``n`` of the first passage in the prompt of ``body`` whose text holds ``text`` (0 if none)."""
    for part in prompt_of(body).split("<passage n=")[1:]:
        if text in part.split("</passage>", 1)[0]:
            return int(part.split('"')[1])
    return 0


def prompt_of(body: dict[str, Any]) -> str:
    """The last message of a chat request: the one carrying the passages and the question."""
    return str(body["messages"][-1]["content"])


def system_of(body: dict[str, Any]) -> str:
    return str(body["messages"][0]["content"])


class FakeLLMServer:
    """``with FakeLLMServer() as server: ... server.base_url ...``"""

    def __init__(self) -> None:
        self.reply: Script = Reply("Not in the sources.")
        self.requests: list[dict[str, Any]] = []
        self._stopped = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def ollama_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()  # releases hanging handlers
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _script(self, body: dict[str, Any]) -> Reply:
        self.requests.append(body)
        return self.reply(body) if callable(self.reply) else self.reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/").endswith("/chat/completions"):
                    protocol = "openai"
                elif self.path.rstrip("/").endswith("/api/chat"):
                    protocol = "ollama"
                else:
                    return self._send(404, b'{"error": "not found"}', "application/json")
                reply = server._script(body)
                if reply.hang:
                    server._stopped.wait(60)
                    return
                if reply.raw is not None:
                    return self._send(reply.status, reply.raw, "application/json")
                if reply.status != 200:
                    return self._send(reply.status, json.dumps({"error": {"message": "scripted failure"}}
                                      if protocol == "openai" else {"error": "scripted failure"}).encode(),
                                      "application/json")  # fmt: skip
                model = body.get("model", "fake")
                words = reply.text.split(" ")
                pieces = [
                    " ".join(words[i : i + reply.chunk_words]) + (" " if i + reply.chunk_words < len(words) else "")
                    for i in range(0, len(words), reply.chunk_words)
                ]
                if protocol == "openai":
                    if body.get("stream"):
                        events = [_openai_chunk(model, {"role": "assistant", "content": ""}, None)]
                        events += [_openai_chunk(model, {"content": p}, None) for p in pieces]
                        events.append(_openai_chunk(model, {}, "stop"))
                        self._stream([f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"],
                                     "text/event-stream")  # fmt: skip
                    else:
                        self._send(200, json.dumps(_openai_completion(model, reply.text)).encode(), "application/json")
                elif body.get("stream", True):
                    lines = [_ollama_message(model, p, done=False) for p in pieces]
                    lines.append(_ollama_message(model, "", done=True))
                    self._stream([json.dumps(x) + "\n" for x in lines], "application/x-ndjson")
                else:
                    self._send(200, json.dumps(_ollama_message(model, reply.text, done=True)).encode(),
                               "application/json")  # fmt: skip

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, parts: list[str], content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for part in parts:
                    data = part.encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

        return Handler


def _openai_chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip


def _openai_completion(model: str, text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}  # fmt: skip


def _ollama_message(model: str, text: str, *, done: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"model": model, "created_at": "2024-01-01T00:00:00Z",
                            "message": {"role": "assistant", "content": text}, "done": done}  # fmt: skip
    if done:
        data.update(done_reason="stop", total_duration=1, eval_count=1, prompt_eval_count=1)
    return data
