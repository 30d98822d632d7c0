"""The Gradio chat: a thin web shell over ``ZoneBot`` (``zonebot serve`` or ``python app.py``).

``build_app(bot)`` returns the ``gr.Blocks``; ``launch(demo, ...)`` starts it with our styling;
``serve(...)`` does both after building the index when it is missing or stale.

Modules: ``render`` (all escaping and HTML/Markdown), ``chat`` (asking, feedback, export),
``documents`` (the corpus tab), ``assets`` (CSS and page script), ``server`` (binding, login, launch).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from .app import CONCURRENCY, build_app  # noqa: E402
from .render import message_text, plain_history  # noqa: E402
from .server import ServerOptions, launch, serve, server_options  # noqa: E402

__all__ = ["CONCURRENCY", "ServerOptions", "build_app", "launch", "message_text", "plain_history", "serve",
           "server_options"]  # fmt: skip
