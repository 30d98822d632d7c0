"""Questions and conversation history as they arrive at the API boundary, made safe to answer.

Whatever a caller sends (Python, the CLI's ``--history`` file, the ``/ask`` HTTP endpoint), a
question either becomes clean text or is refused with ``InvalidQuestionError`` and the reason; a
history turn that cannot be read is left out. Nothing here raises anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .errors import InvalidQuestionError

#: Earlier turns kept: a follow-up is read against the recent conversation, not a whole transcript.
MAX_TURNS = 40
#: Characters kept of one earlier turn.
MAX_TURN_CHARS = 20_000
#: How deeply nested a message's content may be (lists of blocks inside blocks) before it is ignored.
MAX_DEPTH = 8
# Lone surrogates cannot be encoded (the tokenizer fails on them); C0/C1 control characters other
# than white space are noise from copy and paste.
_UNSAFE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ROLES = ("user", "assistant")


def clean_text(text: str) -> str:
    """``text`` without lone surrogates and control characters, white space collapsed."""
    return " ".join(_UNSAFE.sub(" ", text).split())


def clean_question(question: Any, max_chars: int) -> str:
    """The question as clean text; ``InvalidQuestionError`` saying why when it cannot be answered."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text, not {type(question).__name__}")
    if len(question) > max_chars:
        raise InvalidQuestionError(
            f"the question is {len(question):,} characters; the limit is {max_chars:,} (ZONEBOT_MAX_QUESTION_CHARS)"
        )
    text = clean_text(question)
    if not text:
        raise InvalidQuestionError("the question is empty: type a question about the corpus")
    if not has_words(text):
        raise InvalidQuestionError(
            "the question is empty: it has no words (only digits, signs or symbols); type a question about the corpus"
        )
    return text


def has_words(text: str) -> bool:
    """True when ``text`` holds a letter of any script: "?", "42", an emoji or zero-width spaces hold none."""
    return any(ch.isalpha() for ch in text)


def content_text(content: Any, depth: int = 0) -> str:
    """The plain text of a message's ``content``: a string, a ``{"type": "text", "text": ...}`` block, or a
    list of those (Gradio's messages format). Anything else, or nesting past ``MAX_DEPTH``, gives ``""``."""
    if depth > MAX_DEPTH or content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        if content.get("type", "text") != "text":
            return ""  # an image or file block carries no question text
        return content_text(content.get("text", content.get("content")), depth + 1)
    if isinstance(content, list | tuple):
        return " ".join(t for t in (content_text(c, depth + 1) for c in content) if t)
    return ""


def clean_history(history: Any) -> list[dict[str, Any]]:
    """The readable turns of ``history`` as ``{"role", "content": str}`` (plus ``metadata`` when it is a
    dict); malformed turns (not a dict, unknown role, no text) are left out, and only the last
    ``MAX_TURNS`` are kept."""
    if not isinstance(history, Iterable) or isinstance(history, str | bytes | dict):
        return []
    turns: list[dict[str, Any]] = []
    for message in history:
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            continue
        text = clean_text(content_text(message.get("content"))[:MAX_TURN_CHARS])
        if not text:
            continue
        turn: dict[str, Any] = {"role": message["role"], "content": text}
        if isinstance(message.get("metadata"), dict):
            turn["metadata"] = message["metadata"]
        turns.append(turn)
    return turns[-MAX_TURNS:]
