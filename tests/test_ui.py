"""The chat server, driven over HTTP with gradio_client as a remote user would."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from zonebot.ui import message_text, plain_history, server_options

JINQIAO_SIZE = "How large is the Jinqiao Economic and Technological Development Zone?"


@pytest.fixture(scope="session")
def client(server_url: str) -> Client:
    return Client(server_url, verbose=False)


def ask(client: Client, question: str, history: list | None = None) -> dict:
    return client.predict(question=question, history=history or [], api_name="/ask")


def test_ask_returns_a_cited_answer(client: Client) -> None:
    result = ask(client, JINQIAO_SIZE)
    assert not result["abstained"]
    assert "[1]" in result["text"] and "20.48" in result["text"]
    assert result["citations"] and set(result["citations"][0]) == {"n", "source", "title", "quote"}
    assert result["citations"][0]["source"] == "jinqiao-development-zone.txt"


def test_follow_up_uses_the_conversation(client: Client) -> None:
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Tell me about the Jinqiao zone."}]},
        {"role": "assistant", "content": "Jinqiao is an economic and technological development zone in Pudong. [1]"},
    ]
    result = ask(client, "How big is it?", history)
    assert not result["abstained"]
    assert "20.48" in result["text"]


@pytest.mark.parametrize("question", ["", "   ", "x" * 3000], ids=["empty", "blank", "3000-chars"])
def test_invalid_question_gets_a_clear_message(client: Client, question: str) -> None:
    with pytest.raises(AppError) as err:
        ask(client, question)
    message = str(err.value)
    assert "question" in message and "Traceback" not in message


def test_unanswerable_question_abstains(client: Client) -> None:
    result = ask(client, "What is the population of Tokyo?")
    assert result["abstained"]
    assert result["citations"] == []


def test_sixteen_concurrent_users(server_url: str) -> None:
    questions = [
        JINQIAO_SIZE,
        "When was the Jinqiao zone approved for construction, and by which body?",
        "Which road forms the southern limit of the Jinqiao zone?",
        "Which industries will Jinshan District concentrate on?",
        "What was the Jinshan Industrial Park renamed?",
        "What share of the city's gross industrial output will Baoshan and Jinshan contribute by 2025?",
        "What industries does the Shanghai Bay Area High-tech Industrial Development Zone focus on?",
        "What is the population of Tokyo?",
    ] * 2

    def one_user(question: str) -> tuple[str, dict]:
        return question, ask(Client(server_url, verbose=False), question)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one_user, questions))
    assert len(results) == 16
    for question, result in results:
        if "Tokyo" in question:
            assert result["abstained"], question
        else:
            assert not result["abstained"] and result["citations"] and "[1]" in result["text"], question


def test_page_and_api_are_served_without_extra_files(server_url: str) -> None:
    import httpx

    assert httpx.get(server_url).status_code == 200
    assert httpx.get(server_url + "gradio_api/file=/etc/passwd").status_code in (403, 404)


# -- the small pieces the UI is made of ----------------------------------------------------
def test_message_content_blocks_become_plain_text() -> None:
    assert message_text([{"type": "text", "text": "How big"}, {"type": "text", "text": "is it?"}]) == "How big is it?"
    assert message_text(None) == ""


def test_history_drops_the_ui_markup() -> None:
    chat = [
        {"role": "user", "content": "Size of Jinqiao?"},
        {"role": "assistant", "content": "It covers 20.48 square kilometers. [\\[1\\]](#src-1-1)"},
        {"role": "system", "content": "ignored"},
    ]
    assert plain_history(chat) == [
        {"role": "user", "content": "Size of Jinqiao?"},
        {"role": "assistant", "content": "It covers 20.48 square kilometers. [1]"},
    ]


def test_server_binds_loopback_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZONEBOT_HOST", raising=False)
    monkeypatch.delenv("ZONEBOT_AUTH", raising=False)
    assert server_options() == server_options(None, None)
    assert server_options().host == "127.0.0.1" and server_options().auth is None
    monkeypatch.setenv("ZONEBOT_AUTH", "analyst:s3cret")
    monkeypatch.setenv("ZONEBOT_PORT", "8123")
    assert server_options().auth == ("analyst", "s3cret")
    assert server_options().port == 8123
    assert server_options(port=9000).port == 9000
