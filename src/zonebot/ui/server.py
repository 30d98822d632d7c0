"""Where the chat listens, who may log in, and whether the corpus may be changed from the browser."""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from ..bot import ZoneBot
from ..config import Settings
from ..errors import ZoneBotError
from .assets import CSS, HEAD, THEME
from .calls import EXCEPTION_HANDLERS, CallCheck
from .endpoints import MCP_PATH, with_endpoints
from .guard import Guard, HostPolicy
from .throttle import LoginThrottle

LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: Uploads are small documents; Gradio refuses larger ones before they reach zonebot's own check.
MAX_UPLOAD = "20mb"


@dataclass(frozen=True)
class ServerOptions:
    host: str
    port: int
    auth: tuple[str, str] | None

    @property
    def corpus_changes_allowed(self) -> bool:
        """Uploads and deletes: always on loopback; elsewhere only behind a login."""
        return self.host in LOOPBACK or self.auth is not None


def server_options(host: str | None = None, port: int | None = None) -> ServerOptions:
    """Where to listen and who may log in: arguments first, then ZONEBOT_HOST / ZONEBOT_PORT / ZONEBOT_AUTH."""
    settings = Settings.from_env()
    raw_auth = settings.auth or ""
    auth = None
    if raw_auth:
        user, sep, password = raw_auth.partition(":")
        if not sep or not user or not password:
            raise ZoneBotError("ZONEBOT_AUTH must look like user:password (both non-empty)")
        auth = (user, password)
    return ServerOptions(host=host or settings.host, port=port if port is not None else settings.port, auth=auth)


#: Components through which a page takes files: without one, ``POST /gradio_api/upload`` is refused.
UPLOADERS = (gr.File, gr.UploadButton, gr.Image, gr.Audio, gr.Video, gr.Gallery, gr.MultimodalTextbox, gr.Model3D)


def takes_uploads(demo: gr.Blocks) -> bool:
    return any(isinstance(block, UPLOADERS) and block.interactive is not False for block in demo.blocks.values())


def guarded(demo: gr.Blocks, listen: str, allowed_hosts: str | None, login_failures: int) -> dict[str, Any]:
    """``app_kwargs`` for ``demo.launch``: the Host/Origin guard, login throttling, checked API calls and
    errors in words (see ``guard``, ``throttle``, ``calls``), outermost first."""
    return {
        "middleware": [
            Middleware(Guard, policy=HostPolicy.of(listen, allowed_hosts), uploads=takes_uploads(demo)),
            Middleware(LoginThrottle, allowed=login_failures),
            Middleware(CallCheck, blocks=demo, upload_dir=Path(get_upload_folder())),
        ],
        "exception_handlers": EXCEPTION_HANDLERS,
    }


def launch(demo: gr.Blocks, **kwargs: Any):  # type: ignore[no-untyped-def]
    """``demo.launch`` with zonebot's styling and safe defaults (loopback, no extra file access, the guard
    of ``guarded``: ZONEBOT_ALLOWED_HOSTS and ZONEBOT_LOGIN_FAILURES_PER_MINUTE apply)."""
    kwargs.setdefault("server_name", "127.0.0.1")
    settings = Settings.from_env()
    kwargs.setdefault("app_kwargs", guarded(demo, kwargs["server_name"], settings.allowed_hosts,
                                            settings.login_failures_per_minute))  # fmt: skip
    kwargs.setdefault("ssr_mode", False)  # a Node front server would stand in front of the guard
    kwargs.setdefault("css", CSS)
    kwargs.setdefault("head", HEAD)
    kwargs.setdefault("theme", THEME)
    kwargs.setdefault("show_error", False)
    kwargs.setdefault("footer_links", ["api"])
    kwargs.setdefault("run_history", False)  # questions stay out of the browser's storage
    kwargs.setdefault("max_file_size", MAX_UPLOAD)
    return demo.launch(**with_endpoints(demo, kwargs))


def serve(
    host: str | None = None,
    port: int | None = None,
    corpus_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    chroma_url: str | None = None,
    llm: str | None = None,
) -> None:
    """Build the index when missing or stale, then serve the chat until interrupted."""
    from .app import build_app

    options = server_options(host, port)
    bot = ZoneBot(corpus_dir=corpus_dir, index_dir=index_dir, chroma_url=chroma_url, llm=llm)

    def progress(msg: str) -> None:
        print(f"  {msg}", file=sys.stderr, flush=True)

    if bot.ensure_index(progress=progress) is None:
        print("index is up to date", file=sys.stderr)
    if not options.corpus_changes_allowed:
        print(f"warning: serving on {options.host} without a login; adding and deleting documents is off. "
              "Set ZONEBOT_AUTH=user:password to require a login", file=sys.stderr)  # fmt: skip
    if options.host not in LOOPBACK:
        names = sorted(HostPolicy.of(options.host, bot.settings.allowed_hosts).names | {"the address a request arrives at"})
        print(f"answering to: {', '.join(names)}, and names in ZONEBOT_ALLOWED_HOSTS (set it for any other name)",
              file=sys.stderr)  # fmt: skip
    demo = build_app(bot, allow_corpus_changes=options.corpus_changes_allowed)
    with contextlib.redirect_stdout(io.StringIO()):  # Gradio's own lines (a share=True hint) say nothing of use here
        _, url, _ = launch(demo, server_name=options.host, server_port=options.port, auth=options.auth, quiet=True,
                           prevent_thread_lock=True)  # fmt: skip
    print(addresses(url), file=sys.stderr, flush=True)
    demo.block_thread()


def addresses(url: str) -> str:
    """Where the running server answers: the chat, the MCP tools, the OpenAI-compatible API."""
    return (f"zonebot is serving on {url}\n  chat:       {url}\n  MCP tools:  {url}{MCP_PATH} (ask, search)\n"
            f"  OpenAI API: {url}v1 (model zonebot)\nPress Ctrl+C to stop.")
