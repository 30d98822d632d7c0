"""What ``launch`` adds to the Gradio app beyond the page: the MCP server, the OpenAI-compatible ``/v1`` routes,
and the page's login rules for both (``access.ApiLogin``)."""

from __future__ import annotations

from typing import Any

import gradio as gr
from starlette.middleware import Middleware
from starlette.routing import Mount

from .access import ApiLogin, accounts
from .openai_api import build_openai_app

#: Where the MCP server listens (Gradio's streamable HTTP transport), relative to the app's URL.
MCP_PATH = "gradio_api/mcp/"


def with_endpoints(demo: gr.Blocks, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``demo.launch`` keyword arguments with the MCP server on, ``/v1`` mounted (when ``demo`` was built by
    ``build_app``, which leaves its bot on it) and ``ApiLogin`` guarding both with ``kwargs["auth"]``."""
    kwargs = {**kwargs}
    kwargs.setdefault("mcp_server", True)
    app_kwargs = {**(kwargs.get("app_kwargs") or {})}
    bot = getattr(demo, "zonebot_bot", None)
    if bot is not None:
        app_kwargs["routes"] = [*app_kwargs.get("routes", []), Mount("/v1", app=build_openai_app(bot))]
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []),
                                Middleware(ApiLogin, users=accounts(kwargs.get("auth")))]  # fmt: skip
    kwargs["app_kwargs"] = app_kwargs
    return kwargs
