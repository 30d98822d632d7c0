"""Malformed questions and histories, through the Python API and the ``/ask`` endpoint: an answer or a
reason, never a traceback."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest

from zonebot.errors import InvalidQuestionError


def _nested(depth: int) -> Any:
    content: Any = "When was the Jinqiao zone approved?"
    for _ in range(depth):
        content = [content]
    return content


FOLLOW_UP = [
    {"role": "user", "content": [{"type": "text", "text": "When was the Jinqiao zone approved?"}]},
    {"role": "assistant", "content": [{"type": "text", "text": "It was approved by the State Council in 1990. [1]"}]},
]
MALFORMED_HISTORIES = [
    5,
    "not a list",
    {"role": "user", "content": "a dict, not a list"},
    [None, 3, "text", ["nested"]],
    [{"role": "user", "content": "About Jinqiao", "metadata": "a string, not a dict"}],
    [{"role": "user", "content": _nested(500)}],
    [{"role": "system", "content": "ignored role"}, {"content": "no role"}, {"role": "user"}],
    [{"role": "user", "content": {"type": "image", "url": "x.png"}}],
    [{"role": "user", "content": "\ud800\x00\x1b[31m lone surrogate and control characters"}],
]
ODD_QUESTIONS = [
    "How large is the Jinqiao zone?\ud800",
    "How large\x00 is the\x1b Jinqiao zone?\x7f",
    "\u200b How large is the Jinqiao zone? \u3000",
]
NOT_QUESTIONS = [
    ("\ud800", "empty"),
    ("\x00\x01\x02", "empty"),
    ("   \n\t ", "empty"),
    (None, "must be text"),
    (42, "must be text"),
    (["How large is the Jinqiao zone?"], "must be text"),
    ("x" * 2001, "limit is 2,000"),
]


@pytest.mark.parametrize("question", ODD_QUESTIONS)
def test_a_question_with_surrogates_or_control_characters_is_answered(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    assert "20.48" in bot.ask(question).text


@pytest.mark.parametrize(("question", "reason"), NOT_QUESTIONS)
def test_a_question_that_is_not_one_is_refused_with_the_reason(bot, question: Any, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidQuestionError, match=reason):
        bot.ask(question)


@pytest.mark.parametrize("history", MALFORMED_HISTORIES)
def test_a_malformed_history_is_ignored(bot, history: Any) -> None:  # type: ignore[no-untyped-def]
    assert "20.48" in bot.ask("How large is the Jinqiao zone?", history=history).text


def test_a_history_in_gradio_content_blocks_carries_the_subject(bot) -> None:  # type: ignore[no-untyped-def]
    answer = bot.ask("How big is it?", history=FOLLOW_UP)
    assert "20.48" in answer.text


# -- the same through /ask --------------------------------------------------------------------------
def test_ask_endpoint_works_without_history(server_url: str) -> None:
    from gradio_client import Client

    result = Client(server_url, verbose=False).predict(question="How large is the Jinqiao zone?", api_name="/ask")
    assert "20.48" in result["text"]


def _call_ask(server_url: str, data: list[Any]) -> tuple[str, Any]:
    """POST to /ask over plain HTTP, as any client may: JSON escapes can carry lone surrogates, which
    gradio_client cannot send. Returns the event (``complete`` or ``error``) and its data."""
    base = server_url.rstrip("/") + "/gradio_api/call/ask"
    body = json.dumps({"data": data}).encode()  # ASCII with \\u escapes
    request = urllib.request.Request(base, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{base}/{event_id}", timeout=60) as response:
        stream = response.read().decode()
    event = re.findall(r"^event: (\w+)", stream, re.MULTILINE)[-1]
    payload = re.findall(r"^data: (.*)$", stream, re.MULTILINE)[-1]
    return event, json.loads(payload)


@pytest.mark.parametrize("history", MALFORMED_HISTORIES)
def test_ask_endpoint_ignores_a_malformed_history(server_url: str, history: Any) -> None:
    event, data = _call_ask(server_url, ["How large is the Jinqiao zone?", history])
    assert event == "complete" and "20.48" in data[0]["text"]


@pytest.mark.parametrize("question", ODD_QUESTIONS)
def test_ask_endpoint_answers_a_question_with_surrogates_or_control_characters(server_url: str, question: str) -> None:
    event, data = _call_ask(server_url, [question, []])
    assert event == "complete" and "20.48" in data[0]["text"]


def test_ask_endpoint_reads_a_follow_up_in_content_blocks(server_url: str) -> None:
    from gradio_client import Client

    result = Client(server_url, verbose=False).predict(question="How big is it?", history=FOLLOW_UP, api_name="/ask")
    assert "20.48" in result["text"]


# Over HTTP a question may come as Gradio content blocks; a value that holds no text is an empty question.
@pytest.mark.parametrize(
    ("question", "reason"),
    [
        (q, r) if isinstance(q, str) else (q, "the question is empty")
        for q, r in NOT_QUESTIONS
        if not isinstance(q, list)
    ],
)
def test_ask_endpoint_refuses_a_non_question_with_the_reason(server_url: str, question: Any, reason: str) -> None:
    event, data = _call_ask(server_url, [question, []])
    assert event == "error" and reason in json.dumps(data)


# -- the same through the command line -------------------------------------------------------------
@pytest.mark.parametrize(("content", "reason"), [(b"{not json", "cannot read it as JSON"), (None, "No such file")])
def test_ask_command_names_an_unreadable_history_file(bot, tmp_path, capsys, content, reason) -> None:  # type: ignore[no-untyped-def]
    from zonebot.cli import main

    history = tmp_path / "history.json"
    if content is not None:
        history.write_bytes(content)
    args = ["ask", "How big is it?", "--history", str(history), "--corpus", str(bot.settings.corpus_dir),
            "--index", str(bot.settings.index_dir)]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"--history {history}: cannot read it as JSON" in err and reason in err


def test_ask_command_reads_a_history_file_with_malformed_turns(bot, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from zonebot.cli import main

    history = tmp_path / "history.json"
    history.write_text(
        json.dumps([5, {"role": "user", "metadata": "x", "content": FOLLOW_UP[0]["content"]}, FOLLOW_UP[1]])
    )
    args = ["ask", "How big is it?", "--history", str(history), "--corpus", str(bot.settings.corpus_dir),
            "--index", str(bot.settings.index_dir)]  # fmt: skip
    assert main(args) == 0
    assert "20.48" in capsys.readouterr().out


def test_ask_command_with_a_history_nested_a_thousand_deep_exits_2_with_a_message(bot, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from zonebot.cli import main

    history = tmp_path / "deep.json"
    history.write_text("[" * 1000 + "]" * 1000)
    args = ["ask", "How big is it?", "--history", str(history), "--corpus", str(bot.settings.corpus_dir),
            "--index", str(bot.settings.index_dir)]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "Traceback" not in err


# -- questions with no words ----------------------------------------------------------------------------
NO_WORDS = ["?", "42", "🏭", "\u200b\u200b", "2025?!", "¿¡ … —"]


@pytest.mark.parametrize("question", NO_WORDS)
def test_a_question_with_no_words_is_refused_as_empty(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidQuestionError, match="the question is empty"):
        bot.ask(question)


@pytest.mark.parametrize("question", ["园区?", "Größe?"])
def test_a_one_word_question_in_any_script_is_not_empty(bot, question: str) -> None:  # type: ignore[no-untyped-def]
    assert bot.ask(question).text


@pytest.mark.parametrize("question", NO_WORDS[:3])
def test_ask_endpoint_refuses_a_question_with_no_words(server_url: str, question: str) -> None:
    event, data = _call_ask(server_url, [question, []])
    assert event == "error" and "the question is empty" in json.dumps(data, ensure_ascii=False)


# -- malformed HTTP calls: a 4xx and a sentence saying what to send ------------------------------------------
def _post(server_url: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    import httpx

    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = httpx.post(server_url.rstrip("/") + path, content=raw, headers={"Content-Type": "application/json"},
                          timeout=60)  # fmt: skip
    return response.status_code, response.json()


def test_ask_endpoint_takes_the_question_alone(server_url: str) -> None:
    event, data = _call_ask(server_url, ["How large is the Jinqiao zone?"])
    assert event == "complete" and "20.48" in data[0]["text"]
    status, body = _post(server_url, "/gradio_api/run/ask", {"data": ["How large is the Jinqiao zone?"]})
    assert status == 200 and "20.48" in body["data"][0]["text"]


MALFORMED = [
    ("/gradio_api/run/ask", {"data": ["How large?", [], [], 3]}, 422, "takes 3 values"),
    ("/gradio_api/call/ask", {"data": ["How large?", [], [], 3]}, 422, "takes 3 values"),
    ("/gradio_api/call/ask", {"data": []}, 422, "needs question"),
    ("/gradio_api/call/v2/ask", {"question": "How large?", "top_k": 3}, 422, "has no argument 'top_k'"),
    ("/gradio_api/call/v2/ask", {"history": []}, 422, "needs question"),
    ("/gradio_api/call/answer", {"data": ["How large?"]}, 404, "no API endpoint /answer"),
    ("/gradio_api/run/answer", {"data": ["How large?"]}, 404, "no API endpoint /answer"),
    ("/gradio_api/call/v2/answer", {"question": "How large?"}, 404, "no API endpoint /answer"),
    ("/gradio_api/call/delete_it", {"data": ["jinqiao-development-zone.txt"]}, 404, "no API endpoint /delete_it"),
    ("/gradio_api/queue/join", {"data": ["How large?"], "fn_index": 999, "session_hash": "s"}, 404, "no event"),
    ("/gradio_api/call/ask", {"question": "How large?"}, 422, 'Send a JSON object {"data"'),
    ("/gradio_api/call/ask", b"How large?", 400, "not JSON"),
    ("/gradio_api/call/ask", b'{"data": ["q", ' + b"[" * 100_000 + b"]" * 100_000 + b"]}", 422, "nested too deeply"),
    ("/gradio_api/cancel", {}, 422, "is malformed (session_hash: field required"),
]


@pytest.mark.parametrize(("path", "body", "status", "says"), MALFORMED, ids=[f"{m[0]} {m[3]}" for m in MALFORMED])
def test_a_malformed_call_gets_a_4xx_and_a_sentence(server_url: str, path: str, body: Any, status: int,
                                                    says: str) -> None:  # fmt: skip
    got, payload = _post(server_url, path, body)
    assert got == status and says in payload["detail"] and payload["detail"].endswith((".", ")"))


def test_add_with_a_file_never_uploaded_gets_a_4xx_and_a_sentence(server_url: str) -> None:
    import httpx

    config = httpx.get(server_url.rstrip("/") + "/config").json()
    add = next(d["id"] for d in config["dependencies"] if d["api_name"] == "add_files")
    body = {"data": [[{"path": "/etc/passwd", "orig_name": "zone.md", "meta": {"_type": "gradio.FileData"}}]],
            "fn_index": add, "session_hash": "s1", "event_data": None}  # fmt: skip
    response = httpx.post(server_url.rstrip("/") + "/gradio_api/queue/join", json=body,
                          headers={"Origin": server_url.rstrip("/")})  # fmt: skip
    assert response.status_code == 422
    assert "'passwd' was not uploaded to this server" in response.json()["detail"]
