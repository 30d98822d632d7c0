"""``build_app(bot)``: the chat, the sources panel, the Documents tab and the ``/ask`` API, over one ``ZoneBot``."""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from ..bot import ZoneBot
from ..errors import ZoneBotError
from ..validation import clean_history, content_text
from .chat import build_chat_tab
from .documents import build_documents_tab
from .render import citation_dict, passage_dict, plain_history

log = logging.getLogger(__name__)

#: Answers computed at once per server; the rest wait in the queue. Answering is CPU-bound
#: (one query embedding plus scoring), so more than a few in flight only adds latency.
CONCURRENCY = 4


def make_ask(bot: ZoneBot):  # type: ignore[no-untyped-def]
    def ask(question: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Answer ``question`` (with earlier ``history`` messages) from the corpus, with citations.

        Each citation carries its document's publisher, date and URL; an answer that is not in the
        sources (``abstained``) carries the ``closest`` passages instead.
        """
        try:
            answer = bot.ask(content_text(question), plain_history(clean_history(history)))
        except ZoneBotError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception:  # a bug: the log gets the traceback, the caller a sentence
            log.exception("answering %r over the API failed", str(question)[:200])
            raise gr.Error("Something went wrong answering that question; it is logged. Try again, and tell "
                           "whoever runs zonebot if it keeps happening.", print_exception=False) from None  # fmt: skip
        return {
            "text": answer.text,
            "abstained": answer.abstained,
            "citations": [citation_dict(c) for c in answer.citations],
            "closest": [passage_dict(p) for p in answer.passages[:3]] if answer.abstained else [],
        }

    return ask


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
            with gr.Tab("Chat", id="chat"):
                build_chat_tab(bot)
            with gr.Tab("Documents", id="documents"):
                build_documents_tab(bot, index_info, demo, allow_corpus_changes)
        gr.api(make_ask(bot), api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=256)
    return demo
