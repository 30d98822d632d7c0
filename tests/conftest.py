"""Shared fixtures: the real model, a real Chroma index of the real seed corpus, built once."""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
for var in [v for v in os.environ if v.startswith("ZONEBOT_")]:
    del os.environ[var]  # tests state their settings explicitly

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
OUTPUT = ROOT / "test-output"  # git-ignored; screenshots for a human look


@pytest.fixture(scope="session")
def seed_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the shipped corpus and an index folder for it."""
    base = tmp_path_factory.mktemp("seed")
    corpus = base / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    return corpus, base / "index"


@pytest.fixture(scope="session")
def bot(seed_dirs: tuple[Path, Path]):
    """A ZoneBot over the seed corpus, ingested once per session. Do not modify its corpus."""
    from zonebot import ZoneBot

    corpus, index = seed_dirs
    b = ZoneBot(corpus_dir=corpus, index_dir=index)
    b.ingest()
    return b


#: Field cases of what a sentence states, each a folder under ``tests/documents/``: look-alike codes and a phone
#: number, counts and sizes in words, and a dated article that says "on Tuesday" and "last year".
FACT_CASES = ("exact-codes", "number-words", "relative-dates")


@pytest.fixture(scope="session")
def facts_bot(tmp_path_factory: pytest.TempPathFactory):
    """A ZoneBot over the seed corpus plus the ``FACT_CASES`` documents: one index, ingested once per session."""
    from zonebot import ZoneBot

    base = tmp_path_factory.mktemp("facts")
    corpus = base / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    for case in FACT_CASES:
        for f in (ROOT / "tests" / "documents" / case).iterdir():
            shutil.copy(f, corpus / f.name)
    b = ZoneBot(corpus_dir=corpus, index_dir=base / "index")
    b.ingest()
    return b


@pytest.fixture
def make_bot(tmp_path: Path):
    """Factory for a ZoneBot over a fresh, writable copy of the seed corpus (or an empty one)."""
    from zonebot import ZoneBot

    def factory(seed: bool = True, **kwargs):  # type: ignore[no-untyped-def]
        corpus = tmp_path / "corpus"
        if seed and not corpus.exists():
            shutil.copytree(SEED_CORPUS, corpus)
        corpus.mkdir(exist_ok=True)
        return ZoneBot(corpus_dir=corpus, index_dir=tmp_path / "index", **kwargs)

    return factory


def cited_sources(answer) -> set[str]:  # type: ignore[no-untyped-def]
    """The documents an answer cites."""
    return {c.source for c in answer.citations}


def quoted(answer, c) -> bool:  # type: ignore[no-untyped-def]
    """The citation's quote stands verbatim in the answer with its marker; a leading "It" or "The zone"
    may be shown as its subject in brackets ("[Jinqiao ...] covers ...")."""
    if f"{c.quote} [{c.n}]" in answer.text:
        return True
    m = re.match(r"^(It|The \w+( zone)?)\b", c.quote)
    return bool(m) and re.search(r"\[[^\]]+\]" + re.escape(c.quote[m.end() :] + f" [{c.n}]"), answer.text) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_url(bot):  # type: ignore[no-untyped-def]
    """The real chat app over the session's seed-corpus bot, served on a free loopback port."""
    from zonebot.ui import build_app, launch

    demo = build_app(bot)
    _, url, _ = launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield url
    demo.close()


DOCUMENTS = ROOT / "tests" / "documents"


@pytest.fixture(scope="session")
def documents_bot(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One index of the seed corpus plus every document-reading case (the field cases under
    ``tests/documents/`` and the documents ``tests/test_documents.py`` writes), ingested once.
    Returns ``(bot, report)``. Do not modify its corpus."""
    from tests.test_documents import extra_documents
    from zonebot import ZoneBot

    base = tmp_path_factory.mktemp("documents")
    corpus = base / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    for case in sorted(DOCUMENTS.iterdir()):
        for path in sorted(case.iterdir()):
            shutil.copy(path, corpus / path.name)
    for name, data in extra_documents().items():
        (corpus / name).write_bytes(data)
    bot = ZoneBot(corpus_dir=corpus, index_dir=base / "index")
    return bot, bot.ingest()


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Headless Chromium (``make browser`` installs it), for the tests marked ``browser``."""
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
