"""The app's two API functions, ``ask`` and ``search``: HTTP endpoints (``/ask``, ``/search``) and MCP tools.

Gradio serves each public API function three ways: to ``gradio_client`` (``api_name``), on its HTTP API, and as
an MCP tool named after the function, described by its docstring (``Args:`` become the parameter descriptions).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import gradio as gr

from ..bot import ZoneBot
from ..errors import ZoneBotError
from ..models import Answer
from ..validation import clean_history, content_text
from .endpoints import MCP_PATH
from .render import citation_dict, passage_dict, plain_history

log = logging.getLogger(__name__)

#: Passages ``search`` returns at most.
MAX_K = 20


def for_caller(result: dict[str, Any], request: gr.Request | None) -> Any:
    """``result`` for whoever asked: JSON text for an MCP client (Gradio hands it ``str()`` of what the function
    returns, and a Python repr, with single quotes and ``None``, is not JSON), the dict itself for everyone else."""
    path = getattr(getattr(request, "url", None), "path", "") or ""
    return json.dumps(result, ensure_ascii=False) if f"/{MCP_PATH}".rstrip("/") in path else result


def answer_result(answer: Answer) -> dict[str, Any]:
    """An ``Answer`` as the API gives it: text, abstained, citations, and for an abstention the closest passages."""
    return dict(
        text=answer.text,
        abstained=answer.abstained,
        citations=[citation_dict(c) for c in answer.citations],
        closest=[passage_dict(p) for p in answer.passages[:3]] if answer.abstained else [],
    )


def _refused(exc: ZoneBotError) -> gr.Error:
    return gr.Error(str(exc), print_exception=False)


def _failed(what: Any) -> gr.Error:
    """A bug: the log gets the traceback, the caller a sentence."""
    log.exception("answering %r over the API failed", str(what)[:200])
    return gr.Error("Something went wrong answering that question; it is logged. Try again, and tell whoever runs "
                    "zonebot if it keeps happening.", print_exception=False)  # fmt: skip


def make_ask(bot: ZoneBot):  # type: ignore[no-untyped-def]
    def ask(question: str, history: list[dict[str, Any]] | None = None, sources: list[str] | None = None,
            request: gr.Request = None) -> dict[str, Any]:  # type: ignore[assignment]  # fmt: skip
        """Answer a question about Shanghai's industrial zones from the indexed documents, with numbered citations.

        Every statement of the answer is quoted from a document and carries a [n] marker to its citation; when the
        documents do not hold the answer, abstained is true and the closest passages are given instead.

        Args:
            question: the question, in plain words (up to 2,000 characters)
            history: earlier messages of the conversation, oldest first, each {"role": "user" or "assistant", "content": text}; lets a follow-up such as "How big is it?" be understood
            sources: document names (the source of a search result or a citation) to answer from; none other is cited. Empty or missing: every document

        Returns:
            {"text": answer with [n] markers, "abstained": bool, "citations": [{"n", "source", "title", "quote", "publisher", "date", "url"}], "closest": passages when abstained}
        """
        try:
            answer = bot.ask(content_text(question), plain_history(clean_history(history)), sources=sources or None)
        except ZoneBotError as exc:
            raise _refused(exc) from None
        except Exception:
            raise _failed(question) from None
        return for_caller(answer_result(answer), request)

    return ask


def make_search(bot: ZoneBot):  # type: ignore[no-untyped-def]
    def search(query: str, k: int = 4, sources: list[str] | None = None,
               request: gr.Request = None) -> dict[str, Any]:  # type: ignore[assignment]  # fmt: skip
        """Search the indexed documents about Shanghai's industrial zones: the passages that best match a query.

        Args:
            query: what to look for, in words or as a question
            k: how many passages to return (1 to 20)
            sources: document names to search in; empty or missing: every document

        Returns:
            {"passages": [{"source", "title", "text", "score", "publisher", "date", "url"}]}, best first
        """
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
            raise gr.Error(f"k must be a whole number from 1 to {MAX_K}, not {k!r}", print_exception=False)
        try:
            passages = bot.retrieve(content_text(query), k, sources=sources or None)
        except ZoneBotError as exc:
            raise _refused(exc) from None
        except Exception:
            raise _failed(query) from None
        return for_caller({"passages": [passage_dict(p) for p in passages]}, request)

    return search


def add_api(bot: ZoneBot) -> None:
    """``/ask`` and ``/search`` (and the MCP tools ``ask`` and ``search``), inside the current Blocks context.

    Not queued: the bot's ``FairShare`` decides which question computes next, and MCP calls a queued function
    through a second HTTP round trip that would not carry an API client's login.
    """
    gr.api(make_ask(bot), api_name="ask", queue=False)
    gr.api(make_search(bot), api_name="search", queue=False)
