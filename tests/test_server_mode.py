"""Server mode: the same answers with vectors on a real Chroma server (``chroma run``) on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import cited_sources, free_port
from zonebot import ZoneBot

pytestmark = pytest.mark.slow

QUESTIONS = [
    "How large is the Jinqiao zone?",
    "When was the Jinqiao Economic and Technological Development Zone approved?",
    "What is the population of Mars?",
]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Chroma server on a free loopback port, stopped at the end of the module."""
    chroma = Path(sys.executable).with_name("chroma")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data / "db"), "--port", str(port), "--host", "127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as resp:
                    if json.load(resp):
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"chroma server did not start: {(data / 'server.log').read_text(errors='replace')[-2000:]}"
                    ) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _collections(url: str) -> set[str]:
    import chromadb
    from chromadb.config import Settings

    port = int(url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False))
    return {c.name for c in client.list_collections()}


def test_server_mode_answers_as_embedded_mode_does(chroma_url: str, bot: ZoneBot, make_bot) -> None:  # type: ignore[no-untyped-def]
    server_bot = make_bot(chroma_url=chroma_url)
    report = server_bot.ingest()
    assert report.passages == len(bot.snapshot.passages)
    assert not (server_bot.settings.index_dir / server_bot.snapshot.name / "chroma").exists()
    assert f"zonebot-{server_bot.snapshot.name}" in _collections(chroma_url)
    for question in QUESTIONS:
        embedded, served = bot.ask(question), server_bot.ask(question)
        assert served.text == embedded.text, question
        assert cited_sources(served) == cited_sources(embedded)
    size = server_bot.ask("How large is the Jinqiao zone?")
    assert "20.48" in size.text and cited_sources(size) == {"jinqiao-development-zone.txt"}


def test_server_mode_reingest_embeds_nothing_and_a_deleted_doc_is_never_cited(chroma_url: str, make_bot) -> None:  # type: ignore[no-untyped-def]
    b = make_bot(chroma_url=chroma_url)
    b.ingest()
    again = b.ingest()
    assert again.embedded == 0 and again.added == [] and again.updated == []

    gone = "jinshan-district-industrial-parks.txt"
    question = "Which industrial parks are in Jinshan district?"
    assert gone in cited_sources(b.ask(question))
    (b.settings.corpus_dir / gone).unlink()
    report = b.ingest()
    assert report.removed == [gone] and report.embedded == 0
    assert gone not in cited_sources(b.ask(question))
    assert all(p.source != gone for p in b.retrieve("Jinshan district industrial parks", k=20))
    assert b.snapshot.vectors.count() == len(b.snapshot.passages)
    # Generations older than the previous one are dropped from the server too.
    ours = {c for c in _collections(chroma_url) if c.startswith("zonebot-gen-")}
    local = {f"zonebot-{p.name}" for p in b.settings.index_dir.iterdir() if p.name.startswith("gen-")}
    assert f"zonebot-{b.snapshot.name}" in ours and local <= ours and len(local) <= 2


def test_two_app_instances_share_one_index(chroma_url: str, make_bot) -> None:  # type: ignore[no-untyped-def]
    """Instances share the index folder (lexical index, passage table, manifest) and the server (vectors)."""
    first = make_bot(chroma_url=chroma_url)
    first.ingest()
    second = ZoneBot(corpus_dir=first.settings.corpus_dir, index_dir=first.settings.index_dir, chroma_url=chroma_url)
    assert second.ask(QUESTIONS[0]).text == first.ask(QUESTIONS[0]).text

    (first.settings.corpus_dir / "lingang.md").write_text(
        "# Lingang\n\nThe Lingang Special Area covers a total area of 873 square kilometers in southeast Shanghai.\n",
        encoding="utf-8",
    )
    first.ingest()
    answer = second.ask("How large is the Lingang Special Area?")  # no restart: sees the new generation
    assert "873" in answer.text and cited_sources(answer) == {"lingang.md"}
