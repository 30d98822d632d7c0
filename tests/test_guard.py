"""The chat server on a network: foreign hosts refused, state changes only from its own page, bounded
feedback, slowed password guessing. Real servers on loopback, called over plain HTTP as an attacker's
page or script would."""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio.utils import get_upload_folder

from zonebot.ui.guard import HostPolicy, same_origin

from .conftest import free_port

JINQIAO = "jinqiao-development-zone.txt"


@pytest.fixture(scope="module")
def managed(seed_dirs, bot, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A copy of the seed corpus and its index (the session's bot built it), for servers that may change it."""
    base = tmp_path_factory.mktemp("guarded")
    corpus, index = base / "corpus", base / "index"
    shutil.copytree(seed_dirs[0], corpus)
    shutil.copytree(seed_dirs[1], index, ignore=shutil.ignore_patterns(".lock", "feedback.jsonl"))
    return corpus, index


def serve(bot, **kwargs):  # type: ignore[no-untyped-def]
    from zonebot.ui import build_app, launch

    demo = build_app(bot, allow_corpus_changes=kwargs.pop("allow_corpus_changes", True))
    _, url, _ = launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                       **kwargs)  # fmt: skip
    return demo, url.rstrip("/")


@pytest.fixture(scope="module")
def app(managed):  # type: ignore[no-untyped-def]
    """A server over ``managed`` where corpus changes are on (loopback), feedback notes up to 300 characters."""
    from zonebot import ZoneBot

    bot = ZoneBot(corpus_dir=managed[0], index_dir=managed[1], feedback_note_chars=300)
    demo, url = serve(bot)
    yield url, bot
    demo.close()


class Page:
    """Speaks Gradio's page protocol over HTTP, as the page's script does (or a script imitating it)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url, self.session = url, uuid.uuid4().hex[:10]
        self.headers = {"Origin": url, **(headers or {})}
        config = httpx.get(url + "/config").json()
        self.fns = {d["api_name"]: d["id"] for d in config["dependencies"]}

    def queued(self, name: str, data: list[Any]) -> httpx.Response:
        body = {"data": data, "fn_index": self.fns[name], "session_hash": self.session, "event_data": None}
        return httpx.post(self.url + "/gradio_api/queue/join", json=body, headers=self.headers)

    def result(self, name: str, data: list[Any]) -> list[Any]:
        """Run a queued event to its end; its outputs."""
        assert self.queued(name, data).status_code == 200
        with httpx.stream("GET", f"{self.url}/gradio_api/queue/data", params={"session_hash": self.session},
                          timeout=60) as stream:  # fmt: skip
            for line in stream.iter_lines():
                message = json.loads(line[6:]) if line.startswith("data: ") else {}
                if message.get("msg") == "process_completed":
                    return message["output"]["data"]
        raise AssertionError("the event never completed")

    def direct(self, name: str, data: list[Any], event_data: Any = None) -> httpx.Response:
        body = {"data": data, "fn_index": self.fns[name], "session_hash": self.session, "event_data": event_data}
        return httpx.post(self.url + "/gradio_api/run/predict", json=body, headers=self.headers)


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


# -- Host ---------------------------------------------------------------------------------------------
def test_a_request_naming_another_host_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    url, _ = app
    port = url.rsplit(":", 1)[1]
    for response in (httpx.get(url + "/", headers={"Host": f"evil.example:{port}"}),
                     httpx.post(url + "/gradio_api/call/ask", json={"data": ["How large is the Jinqiao zone?"]},
                                headers={"Host": f"evil.example:{port}"})):  # fmt: skip
        assert response.status_code == 400
        assert "does not answer to the name 'evil.example'" in response.json()["detail"]
        assert "ZONEBOT_ALLOWED_HOSTS" in response.json()["detail"]


def test_loopback_names_of_the_server_are_answered(app) -> None:  # type: ignore[no-untyped-def]
    url, _ = app
    port = url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
        assert httpx.get(url + "/", headers={"Host": host}).status_code == 200


# -- Origin: nothing changes unless the page itself asks ----------------------------------------------------
FOREIGN = {
    "foreign origin": lambda port: {"Origin": f"http://evil.example:{port}"},
    "rebound host": lambda port: {"Origin": f"http://evil.example:{port}", "Host": f"evil.example:{port}"},
    "null origin": lambda port: {"Origin": "null"},
    "no origin, cross-site fetch": lambda port: {"Origin": "", "Sec-Fetch-Site": "cross-site"},
    "script without origin": lambda port: {"Origin": ""},
}


def _foreign_page(url: str, kind: str) -> Page:
    page = Page(url)
    page.headers = {k: v for k, v in FOREIGN[kind](url.rsplit(":", 1)[1]).items() if v}
    return page


@pytest.mark.parametrize("kind", FOREIGN)
def test_delete_and_reindex_from_elsewhere_change_nothing(app, kind: str) -> None:  # type: ignore[no-untyped-def]
    url, bot = app
    page = _foreign_page(url, kind)
    (bot.settings.corpus_dir / "new-park.md").write_text("# New park\n\nThe New Park opened in 2024 with ten firms.\n")
    try:
        for name, data in (("delete_it", [JINQIAO]), ("reindex_all", [None])):
            response = page.queued(name, data)
            assert 400 <= response.status_code < 500 and response.json()["detail"], (name, response.text)
        assert (bot.settings.corpus_dir / JINQIAO).exists()
        sources = {d["source"] for d in bot.documents()}
        assert JINQIAO in sources and "new-park.md" not in sources
    finally:
        (bot.settings.corpus_dir / "new-park.md").unlink()


@pytest.mark.parametrize("kind", FOREIGN)
def test_feedback_from_elsewhere_writes_nothing(app, kind: str) -> None:  # type: ignore[no-untyped-def]
    url, bot = app
    log = bot.settings.index_dir / "feedback.jsonl"
    before = _lines(log)
    response = _foreign_page(url, kind).direct("on_like", [[], None], {"index": [1], "value": "x", "liked": False})
    assert 400 <= response.status_code < 500 and response.json()["detail"]
    assert _lines(log) == before


def _upload(url: str, headers: dict[str, str]) -> httpx.Response:
    files = {"files": ("zone.md", b"# Zone\n\nThe zone has ten firms.\n", "text/markdown")}
    return httpx.post(url + "/gradio_api/upload", files=files, headers=headers)


def _uploaded() -> set[Path]:
    return set(Path(get_upload_folder()).rglob("*")) if Path(get_upload_folder()).exists() else set()


@pytest.mark.parametrize("kind", FOREIGN)
def test_an_upload_from_elsewhere_stores_nothing(app, kind: str) -> None:  # type: ignore[no-untyped-def]
    url, _ = app
    before = _uploaded()
    response = _upload(url, {k: v for k, v in FOREIGN[kind](url.rsplit(":", 1)[1]).items() if v})
    assert response.status_code in (400, 403) and response.json()["detail"]
    assert _uploaded() == before


def test_an_upload_from_the_page_is_stored(app) -> None:  # type: ignore[no-untyped-def]
    url, _ = app
    response = _upload(url, {"Origin": url})
    assert response.status_code == 200 and Path(response.json()[0]).is_file()


def test_uploads_are_refused_where_corpus_changes_are_off(bot) -> None:  # type: ignore[no-untyped-def]
    demo, url = serve(bot, allow_corpus_changes=False)
    try:
        before = _uploaded()
        response = _upload(url, {"Origin": url})
        assert response.status_code == 403 and "Uploads are turned off" in response.json()["detail"]
        assert _uploaded() == before
    finally:
        demo.close()


# -- Bounded feedback ---------------------------------------------------------------------------------
def _answered(page: Page) -> list[Any]:
    """Ask one question through the page's own event; the chat it shows."""
    outputs = page.result("respond", ["How large is the Jinqiao zone?", [], None, []])
    return outputs[1]


def test_an_oversized_feedback_note_is_refused_and_nothing_is_written(app) -> None:  # type: ignore[no-untyped-def]
    url, bot = app
    log = bot.settings.index_dir / "feedback.jsonl"
    page = Page(url)
    chat = _answered(page)
    thumb = page.direct("on_like", [chat, None], {"index": [1], "value": chat[1]["content"], "liked": False})
    assert thumb.status_code == 200 and "is saved" in json.dumps(thumb.json())
    lines = _lines(log)
    refused = page.direct("on_note", [None, "n" * 301, None])
    assert refused.status_code == 200
    assert "The note is 301 characters; notes can be up to 300" in json.dumps(refused.json())
    assert _lines(log) == lines
    kept = page.direct("on_note", [None, "the figure is right " * 15, None])
    assert "Note saved" in json.dumps(kept.json()) and _lines(log) == lines + 1


def test_feedback_beyond_the_rate_per_client_is_refused(managed) -> None:  # type: ignore[no-untyped-def]
    from zonebot import ZoneBot

    bot = ZoneBot(corpus_dir=managed[0], index_dir=managed[1], feedback_per_minute=3)
    demo, url = serve(bot)
    try:
        log = bot.settings.index_dir / "feedback.jsonl"
        page = Page(url)
        chat = _answered(page)
        before = _lines(log)
        said = [json.dumps(page.direct("on_like", [chat, None], {"index": [1], "value": "", "liked": up}).json())
                for up in (True, False, True, False)]  # fmt: skip
        assert all("is saved" in s for s in said[:3])
        assert "a lot of feedback in one minute" in said[3]
        assert _lines(log) == before + 3
    finally:
        demo.close()


# -- Password guessing --------------------------------------------------------------------------------
def test_the_eleventh_wrong_password_in_a_minute_is_delayed_and_logged(bot, caplog) -> None:  # type: ignore[no-untyped-def]
    demo, url = serve(bot, auth=("analyst", "s3cret"))
    caplog.set_level(logging.WARNING, logger="zonebot.ui")
    try:
        def login(password: str) -> tuple[int, float]:
            start = time.monotonic()
            response = httpx.post(url + "/login", data={"username": "analyst", "password": password}, timeout=120)
            return response.status_code, time.monotonic() - start

        def said() -> list[str]:
            return [r.getMessage() for r in caplog.records if r.name == "zonebot.ui"]

        assert [login(f"guess-{i}")[0] for i in range(10)] == [400] * 10
        # Only the tenth failure announces a wait (timings of the first ten are not asserted: a busy machine
        # can make any request slow, but only the throttle makes one wait a second or more on purpose).
        assert [m.endswith("waits 1 s") for m in said()] == [False] * 9 + [True]
        status, seconds = login("guess-10")
        assert status == 400 and seconds >= 1.0
        assert said()[-1] == "failed login from 127.0.0.1 (11 in the last minute); the next attempt waits 2 s"
        status, seconds = login("s3cret")  # the right password still works, after its wait
        assert status == 200 and seconds >= 2.0
        assert login("guess-12")[0] == 400
        assert said()[-1] == "failed login from 127.0.0.1 (1 in the last minute)"  # the success cleared the count
    finally:
        demo.close()


# -- The rules themselves -------------------------------------------------------------------------------
def test_a_server_on_every_address_answers_to_the_address_a_request_arrived_at() -> None:
    policy = HostPolicy.of("0.0.0.0", None)
    assert policy.allows("192.168.1.5", arrived_at="192.168.1.5")
    assert policy.allows("localhost", arrived_at="127.0.0.1")
    assert not policy.allows("localhost", arrived_at="192.168.1.5")
    assert not policy.allows("evil.example", arrived_at="192.168.1.5")
    assert HostPolicy.of("::", None).allows("::1", arrived_at="::ffff:127.0.0.1")


def test_allowed_hosts_add_names_and_domains_but_never_trust_another_origin() -> None:
    policy = HostPolicy.of("127.0.0.1", "zonebot.example.org, *.corp.example")
    assert policy.allows("zonebot.example.org", arrived_at="127.0.0.1")
    assert policy.allows("chat.corp.example", arrived_at="127.0.0.1")
    assert not policy.allows("corp.example.evil", arrived_at="127.0.0.1")
    assert same_origin("https://zonebot.example.org", "127.0.0.1:7860", policy)  # behind a proxy
    everything = HostPolicy.of("127.0.0.1", "*")
    assert everything.allows("evil.example", arrived_at="127.0.0.1")
    assert not same_origin("http://evil.example:7860", "127.0.0.1:7860", everything)


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [("http://127.0.0.1:7860", "127.0.0.1:7860", True), ("http://[::1]:7860", "[::1]:7860", True),
     ("https://zb.lan", "zb.lan", True), ("http://127.0.0.1:7861", "127.0.0.1:7860", False),
     ("http://localhost:7860", "127.0.0.1:7860", False), ("null", "127.0.0.1:7860", False),
     ("file://", "127.0.0.1:7860", False)],
)  # fmt: skip
def test_same_origin_means_the_same_host_and_port(origin: str, host: str, same: bool) -> None:
    assert same_origin(origin, host, HostPolicy.of("127.0.0.1", None)) is same
