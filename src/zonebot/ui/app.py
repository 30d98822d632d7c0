"""``build_app(bot)``: the chat, the sources panel, the Documents tab and the ``/ask`` API, over one ``ZoneBot``."""

from __future__ import annotations

import gradio as gr

from ..bot import ZoneBot
from .api import add_api
from .chat import build_chat_tab
from .documents import build_documents_tab

#: Chat answers in flight at once per server; the rest wait in the queue. Answering is CPU-bound, and the bot's
#: ``FairShare`` runs only as many steps at once as there are cores, least-served question first: a higher limit
#: lets a short question start while long ones are being answered.
CONCURRENCY = 16


def build_app(bot: ZoneBot, *, allow_corpus_changes: bool = True) -> gr.Blocks:
    """The whole page over ``bot``; ``allow_corpus_changes=False`` hides upload, delete and re-index."""
    with gr.Blocks(title="zonebot · Shanghai industrial zones", analytics_enabled=False, fill_width=True) as demo:
        with gr.Row(elem_id="zb-header"):
            gr.HTML(
                '<div class="zb-brand"><h1>zonebot</h1><p>Cited answers about Shanghai\'s industrial zones, '
                "from the documents in the corpus only.</p></div>",
                padding=False,
            )
            index_info = gr.HTML(elem_id="zb-index", padding=False)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat") as chat_tab:
                build_chat_tab(bot, demo, chat_tab)
            with gr.Tab("Documents", id="documents"):
                build_documents_tab(bot, index_info, demo, allow_corpus_changes)
        add_api(bot)
    demo.zonebot_bot = bot  # type: ignore[attr-defined]  # for launch(): the OpenAI-compatible routes answer with it
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=256)
    return demo
