"""Past conversations kept in the user's browser (Gradio's ``BrowserState``): nothing is stored on the server.

The stored value is plain data, never markup: ``{"current": id, "chats": [{"id", "title", "renamed", "updated",
"turns": [...]}]}``, each turn the question and either the problem it met or the ``Answer`` as a dict. Opening a
chat renders it again with ``render``'s escaping, so whatever the browser hands back is shown as text. A value
that is not in this shape (another version, a hand-edited one) is read as far as it can be and the rest left out.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from ..models import Answer, Citation, Passage
from .render import (
    Message,
    Turn,
    abstention_html,
    answer_html,
    answer_turn,
    plain_history,
    problem_html,
    problem_turn,
    sources_section,
    user_html,
)  # fmt: skip

#: The ``localStorage`` key, and the key Gradio encrypts the value with (it is sent with the page, so it keeps
#: the value from being read by accident, not from the user; a fixed one keeps chats across server restarts).
STORAGE_KEY = "zonebot-chats"
STORAGE_SECRET = "zonebot-chats-v1"
#: Chats kept; the least recently used go first. Also a bound on the stored characters (browsers allow ~5 MB).
MAX_CHATS = 30
MAX_CHARS = 2_500_000
TITLE_CHARS = 60
#: Passages kept per answer: the sources panel shows the cited ones and the closest few.
KEEP_PASSAGES = 8

Saved = dict[str, Any]


def empty() -> Saved:
    return {"current": None, "chats": []}


def read(saved: Any) -> Saved:
    """The stored value as ``{"current", "chats"}``, keeping only chats that have an id and a list of turns."""
    if not isinstance(saved, dict) or not isinstance(saved.get("chats"), list):
        return empty()
    chats = [c for c in saved["chats"] if isinstance(c, dict) and isinstance(c.get("id"), str)
             and isinstance(c.get("turns"), list)]  # fmt: skip
    current = saved.get("current") if any(c["id"] == saved.get("current") for c in chats) else None
    return {"current": current, "chats": chats}


def choices(saved: Saved) -> list[tuple[str, str]]:
    """``(label, id)`` of each chat, most recently used first, for a list to pick from."""
    ordered = sorted(saved["chats"], key=lambda c: str(c.get("updated", "")), reverse=True)
    return [(f"{c.get('title') or 'Untitled chat'} · {str(c.get('updated', ''))[:10]}", c["id"]) for c in ordered]


def find(saved: Saved, chat_id: str | None) -> dict[str, Any] | None:
    return next((c for c in saved["chats"] if c["id"] == chat_id), None)


def store(saved: Saved, chat_id: str | None, turns: list[Turn], now: datetime | None = None) -> tuple[Saved, str]:
    """``saved`` with the conversation ``turns`` kept as chat ``chat_id`` (a new chat when None); returns the value
    and the chat's id. The title is the first question, unless the user renamed the chat."""
    saved = read(saved)
    chat = find(saved, chat_id)
    if chat is None:
        chat = {"id": uuid.uuid4().hex[:12], "title": "", "renamed": False}
        saved["chats"].append(chat)
    if not chat.get("renamed") and turns:
        first = " ".join(str(turns[0].get("question", "")).split())
        chat["title"] = first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"
    chat["turns"] = [_stored(t) for t in turns]
    chat["updated"] = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
    saved["current"] = chat["id"]
    return _bounded(saved), chat["id"]


def rename(saved: Saved, chat_id: str | None, title: str) -> Saved:
    saved = read(saved)
    chat = find(saved, chat_id)
    title = " ".join(title.split())[:TITLE_CHARS]
    if chat is not None and title:
        chat["title"], chat["renamed"] = title, True
    return saved


def delete(saved: Saved, chat_id: str | None) -> Saved:
    saved = read(saved)
    saved["chats"] = [c for c in saved["chats"] if c["id"] != chat_id]
    if saved["current"] == chat_id:
        saved["current"] = None
    return saved


def opened(chat: dict[str, Any], totals: dict[str, int], limit: int) -> tuple[list[Message], list[Turn]]:
    """A stored chat as the chat's messages and turns (with their sources sections), rendered again (``totals``:
    passages per document; ``limit``: the longest question, as the chat shows a longer one cut short); turns
    that cannot be read are left out."""
    messages: list[Message] = []
    turns: list[Turn] = []
    for stored in chat.get("turns", []):
        if not isinstance(stored, dict) or not isinstance(stored.get("question"), str):
            continue
        question, number = stored["question"], len(turns) + 1
        if isinstance(stored.get("problem"), str):
            shown = question if len(question) <= limit else question[:280] + "…"
            messages += [{"role": "user", "content": user_html(shown)},
                         {"role": "assistant", "content": problem_html(stored["problem"])}]  # fmt: skip
            turns.append(problem_turn(question, number, stored["problem"]))
            continue
        answer = _answer(stored.get("answer"))
        if answer is None:
            continue
        history = plain_history(messages)
        content = abstention_html(answer.text) if answer.abstained else answer_html(answer.text, number)
        messages += [{"role": "user", "content": user_html(question)}, {"role": "assistant", "content": content}]
        turns.append(answer_turn(question, history, answer, sources_section(number, answer, totals)))
    return messages, turns


def _stored(turn: Turn) -> dict[str, Any]:
    if turn.get("problem"):
        return {"question": turn["question"], "problem": turn["problem"]}
    record = dict(turn.get("record") or {})
    record["passages"] = record.get("passages", [])[:KEEP_PASSAGES]
    return {"question": turn["question"], "answer": record}


def _answer(record: Any) -> Answer | None:
    """An ``Answer`` from its stored dict; None when it is not one."""
    if not isinstance(record, dict):
        return None
    try:
        data = _known(Answer, record)
        data["citations"] = [Citation(**_known(Citation, c)) for c in record.get("citations") or []]
        data["passages"] = [Passage(**_known(Passage, p)) for p in record.get("passages") or []]
        answer = Answer(**data)
    except (TypeError, ValueError):
        return None
    return answer if isinstance(answer.text, str) else None


def _known(kind: type, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError(f"not a {kind.__name__}")
    names = {f.name for f in fields(kind)} - {"sentences"}
    return {k: v for k, v in data.items() if k in names}


def _bounded(saved: Saved) -> Saved:
    """At most ``MAX_CHATS`` chats and ``MAX_CHARS`` characters: the least recently used are dropped first."""
    saved["chats"].sort(key=lambda c: str(c.get("updated", "")))
    while len(saved["chats"]) > MAX_CHATS or (
        len(saved["chats"]) > 1 and len(json.dumps(saved, ensure_ascii=False)) > MAX_CHARS
    ):
        dropped = saved["chats"].pop(0)
        if saved["current"] == dropped["id"]:
            saved["current"] = None
    return saved
