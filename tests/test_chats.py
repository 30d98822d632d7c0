"""Past chats as the browser keeps them: plain data, read back safely, bounded."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from zonebot import ZoneBot
from zonebot.ui import chats
from zonebot.ui.render import answer_turn, problem_turn, sources_section

QUESTION = "How large is the Jinqiao Economic and Technological Development Zone?"


@pytest.fixture(scope="module")
def turns(bot: ZoneBot) -> list[dict]:
    answer = bot.ask(QUESTION)
    return [answer_turn(QUESTION, [], answer, sources_section(1, answer, {})), problem_turn("x" * 2100, 2, "Too long.")]


def test_a_stored_chat_is_plain_data_and_opens_as_it_was(turns: list[dict]) -> None:
    saved, chat_id = chats.store(None, None, turns)
    text = json.dumps(saved)
    assert not re.search(r"<(span|div|article|section|mark|a)\b", text)  # no markup kept, only data
    messages, reopened = chats.opened(chats.find(saved, chat_id), {}, limit=2000)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert reopened[0]["answer"] == turns[0]["answer"] and reopened[0]["citations"] == turns[0]["citations"]
    assert reopened[0]["section"] == turns[0]["section"]  # the sources panel, rendered again
    assert reopened[1]["problem"] == "Too long." and "…" in messages[2]["content"]  # shown cut, as in the chat
    assert saved["current"] == chat_id and chats.choices(saved)[0][0].startswith("How large is the Jinqiao")


def test_what_the_browser_hands_back_is_shown_as_text(turns: list[dict]) -> None:
    saved, chat_id = chats.store(None, None, turns[:1])
    chat = chats.find(saved, chat_id)
    chat["turns"][0]["question"] = '<img src=x onerror="alert(1)">'
    chat["turns"][0]["answer"]["text"] = "<script>alert(2)</script> [1]"
    messages, _ = chats.opened(chat, {}, limit=2000)
    shown = "".join(m["content"] for m in messages)
    assert "<img" not in shown and "<script" not in shown and "&lt;script&gt;" in shown


@pytest.mark.parametrize("value", [None, "text", [], {"chats": "no"}, {"chats": [{"id": 3}, "x", {"turns": []}]}])
def test_a_value_not_in_the_shape_reads_as_no_chats(value) -> None:  # type: ignore[no-untyped-def]
    assert chats.read(value) == chats.empty()


def test_unreadable_turns_are_left_out(turns: list[dict]) -> None:
    saved, chat_id = chats.store(None, None, turns[:1])
    chat = chats.find(saved, chat_id)
    chat["turns"] += [{"question": "Q?", "answer": {"text": 5, "citations": "no"}}, "junk", {"question": 7}]
    messages, reopened = chats.opened(chat, {}, limit=2000)
    assert len(reopened) == 1 and len(messages) == 2


def test_rename_keeps_the_name_and_delete_forgets_the_chat(turns: list[dict]) -> None:
    saved, chat_id = chats.store(None, None, turns[:1])
    saved = chats.rename(saved, chat_id, "  Jinqiao   size ")
    saved, _ = chats.store(saved, chat_id, turns)  # a later answer does not rename it back
    assert chats.find(saved, chat_id)["title"] == "Jinqiao size"
    saved = chats.delete(saved, chat_id)
    assert saved == chats.empty()


def test_the_least_recently_used_chats_go_first_past_the_limit(turns: list[dict]) -> None:
    saved: dict = chats.empty()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(chats.MAX_CHATS + 5):
        saved, _ = chats.store(saved, None, [{**turns[1], "question": f"question {i}"}], now=start + timedelta(i))
    titles = [c["title"] for c in saved["chats"]]
    assert len(titles) == chats.MAX_CHATS and "question 0" not in titles and f"question {chats.MAX_CHATS + 4}" in titles
