"""zonebot where people already work: MCP tools and an OpenAI-compatible chat API, called with the real `mcp` and
`openai` clients against the running server on loopback."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager

import httpx
import openai
import pytest
from gradio_client import Client
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

from tests.conftest import free_port

JINQIAO = "jinqiao-development-zone.txt"
JINSHAN = "jinshan-district-industrial-parks.txt"
SIZE = "How large is the Jinqiao Economic and Technological Development Zone?"
LOGIN = ("analyst", "s3cret:with colon")


@asynccontextmanager
async def mcp_session(url: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    async with (
        streamablehttp_client(url + "gradio_api/mcp/", headers=headers) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments) -> dict:  # type: ignore[no-untyped-def]
    result = await session.call_tool(tool, arguments)
    assert not result.isError, result.content
    return json.loads(result.content[0].text)


# -- MCP ------------------------------------------------------------------------------------------
async def test_mcp_lists_ask_and_search_with_their_parameters(server_url: str) -> None:
    async with mcp_session(server_url) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == {"ask", "search"}  # nothing of the page's own events
    assert set(tools["ask"].inputSchema["properties"]) == {"question", "history", "sources"}
    assert tools["ask"].inputSchema["required"] == ["question"]
    assert set(tools["search"].inputSchema["properties"]) == {"query", "k", "sources"}
    assert "citations" in tools["ask"].description and tools["search"].description


async def test_mcp_ask_gives_a_cited_answer_as_json(server_url: str) -> None:
    async with mcp_session(server_url) as session:
        answer = await call(session, "ask", question=SIZE)
    assert not answer["abstained"] and "20.48" in answer["text"] and "[1]" in answer["text"]
    assert answer["citations"][0]["source"] == JINQIAO and "20.48" in answer["citations"][0]["quote"]


async def test_mcp_ask_reads_history_and_keeps_to_the_sources(server_url: str) -> None:
    history = [{"role": "user", "content": "When was the Jinqiao zone approved?"},
               {"role": "assistant", "content": "It was approved by the State Council in 1990. [1]"}]  # fmt: skip
    async with mcp_session(server_url) as session:
        follow_up = await call(session, "ask", question="How big is it?", history=history)
        kept_out = await call(session, "ask", question=SIZE, sources=[JINSHAN])
    assert "20.48" in follow_up["text"]
    assert kept_out["abstained"] and all(p["source"] == JINSHAN for p in kept_out["closest"])


async def test_mcp_search_gives_passages_with_source_title_score_and_text(server_url: str) -> None:
    async with mcp_session(server_url) as session:
        found = await call(session, "search", query="Jinqiao total area", k=3)
    passages = found["passages"]
    assert len(passages) == 3 and passages[0]["source"] == JINQIAO and "20.48" in passages[0]["text"]
    assert all({"source", "title", "score", "text"} <= set(p) for p in passages)
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)


@pytest.mark.parametrize(("tool", "arguments", "said"), [
    ("ask", {"question": "x" * 2100}, "2,000"),
    ("ask", {"question": SIZE, "sources": ["nowhere.txt"]}, "nowhere.txt"),
    ("search", {"query": "area", "k": 500}, "k must be"),
])  # fmt: skip
async def test_mcp_bad_arguments_get_the_reason(server_url: str, tool: str, arguments: dict, said: str) -> None:
    async with mcp_session(server_url) as session:
        result = await session.call_tool(tool, arguments)
    assert result.isError and said in result.content[0].text


# -- OpenAI-compatible ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def llm(server_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server_url + "v1", api_key="not-needed", max_retries=0)


def test_openai_client_lists_the_model(llm: openai.OpenAI) -> None:
    assert [m.id for m in llm.models.list()] == ["zonebot"]


def test_openai_client_gets_a_cited_answer(llm: openai.OpenAI) -> None:
    reply = llm.chat.completions.create(model="zonebot", messages=[{"role": "user", "content": SIZE}])
    text = reply.choices[0].message.content or ""
    assert "20.48" in text and "[1]" in text and reply.choices[0].finish_reason == "stop"
    sources = reply.model_extra["sources"]
    assert sources[0]["n"] == 1 and sources[0]["source"] == JINQIAO
    assert f"[1] {sources[0]['title']}" in text  # the numbered sources follow the answer in the message
    assert reply.model_extra["abstained"] is False


def test_openai_client_streams_the_same_answer(llm: openai.OpenAI) -> None:
    question = [{"role": "user", "content": "Which industries will Jinshan District concentrate on?"}]
    whole = llm.chat.completions.create(model="zonebot", messages=question)
    chunks = list(llm.chat.completions.create(model="zonebot", messages=question, stream=True))
    assert len(chunks) > 3
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["sources"] == whole.model_extra["sources"] and whole.model_extra["sources"]


def test_openai_sources_field_keeps_the_answer_to_those_documents(llm: openai.OpenAI) -> None:
    question = [{"role": "user", "content": "What was the Jinshan Industrial Park renamed?"}]
    reply = llm.chat.completions.create(model="zonebot", messages=question, extra_body={"sources": [JINQIAO]})
    assert reply.model_extra["abstained"] and reply.model_extra["sources"] == []


def test_openai_follow_up_reads_the_conversation_it_was_given(llm: openai.OpenAI) -> None:
    first = [{"role": "system", "content": "You are a helpful assistant."},
             {"role": "user", "content": "When was the Jinqiao zone approved?"}]  # fmt: skip
    reply = llm.chat.completions.create(model="zonebot", messages=first)
    follow = first + [{"role": "assistant", "content": reply.choices[0].message.content},
                      {"role": "user", "content": "How big is it?"}]  # fmt: skip
    assert "20.48" in (llm.chat.completions.create(model="zonebot", messages=follow).choices[0].message.content or "")


def test_openai_errors_say_what_is_wrong(llm: openai.OpenAI, server_url: str) -> None:
    with pytest.raises(openai.BadRequestError, match="2,000"):
        llm.chat.completions.create(model="zonebot", messages=[{"role": "user", "content": "y" * 2100}])
    with pytest.raises(openai.NotFoundError, match="zonebot"):
        llm.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": SIZE}])
    with pytest.raises(openai.BadRequestError, match="last message"):
        llm.chat.completions.create(model="zonebot", messages=[{"role": "assistant", "content": "Hi"}])
    raw = httpx.post(server_url + "v1/chat/completions", content=b'{"messages": [', timeout=10)
    assert raw.status_code == 400 and "not JSON" in raw.json()["error"]["message"]


# -- the same login rules as the page ------------------------------------------------------------------
@pytest.fixture(scope="module")
def login_url(bot):  # type: ignore[no-untyped-def]
    from zonebot.ui import build_app, launch

    demo = build_app(bot)
    _, url, _ = launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                       auth=LOGIN)  # fmt: skip
    yield url
    demo.close()


def test_with_a_login_the_openai_api_needs_it(login_url: str) -> None:
    stranger = openai.OpenAI(base_url=login_url + "v1", api_key="analyst:guess", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="ZONEBOT_AUTH"):
        stranger.models.list()
    member = openai.OpenAI(base_url=login_url + "v1", api_key=":".join(LOGIN), max_retries=0)
    reply = member.chat.completions.create(model="zonebot", messages=[{"role": "user", "content": SIZE}])
    assert "20.48" in (reply.choices[0].message.content or "")


async def test_with_a_login_mcp_needs_it(login_url: str) -> None:
    refused = httpx.post(login_url + "gradio_api/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                         headers={"Accept": "application/json, text/event-stream"}, timeout=10)  # fmt: skip
    assert refused.status_code == 401
    async with mcp_session(login_url, {"Authorization": "Bearer " + ":".join(LOGIN)}) as session:
        assert "20.48" in (await call(session, "ask", question=SIZE))["text"]


def test_with_a_login_the_page_session_opens_the_api_too(login_url: str) -> None:
    with httpx.Client(base_url=login_url, timeout=10) as browser:
        assert browser.get("v1/models").status_code == 401
        assert browser.post("login", data={"username": LOGIN[0], "password": LOGIN[1]}).status_code == 200
        assert browser.get("v1/models").json()["data"][0]["id"] == "zonebot"


def test_with_a_login_gradio_client_still_asks(login_url: str) -> None:
    client = Client(login_url, auth=LOGIN, verbose=False)
    assert "20.48" in client.predict(question=SIZE, api_name="/ask")["text"]


# -- raw HTTP calls to /ask ----------------------------------------------------------------------------
def test_a_raw_call_may_leave_out_the_optional_values(server_url: str) -> None:
    reply = httpx.post(server_url + "gradio_api/run/ask", json={"data": [SIZE]}, timeout=60)
    assert reply.status_code == 200 and "20.48" in reply.json()["data"][0]["text"]


@pytest.mark.parametrize(("body", "said"), [
    ({"data": []}, "needs query"), ({"data": ["area", 4, [], "extra"]}, "takes 3 values"),
])  # fmt: skip
def test_a_malformed_raw_search_is_told_what_search_takes(server_url: str, body: dict, said: str) -> None:
    reply = httpx.post(server_url + "gradio_api/call/search", json=body, timeout=10)
    assert reply.status_code == 422 and said in reply.json()["detail"] and "/search(query" in reply.json()["detail"]


def test_a_raw_search_may_leave_out_k_and_sources(server_url: str) -> None:
    reply = httpx.post(server_url + "gradio_api/run/search", json={"data": ["Jinqiao total area"]}, timeout=60)
    assert len(reply.json()["data"][0]["passages"]) == 4


def test_a_question_that_is_not_text_gets_a_reason_not_null(server_url: str) -> None:
    reply = httpx.post(server_url + "gradio_api/run/ask", json={"data": [123]}, timeout=10)
    assert reply.json()["error"].startswith("the question is empty")
