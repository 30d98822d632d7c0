"""ZoneBotRetriever is a LangChain retriever: LangChain's own standard suite runs against it."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from zonebot import ZoneBot, ZoneBotRetriever


class TestZoneBotRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _index(self, bot: ZoneBot, seed_dirs: tuple[Path, Path]) -> None:
        type(self)._dirs = seed_dirs

    @property
    def retriever_constructor(self) -> type[ZoneBotRetriever]:
        return ZoneBotRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        corpus, index = self._dirs
        return {"corpus_dir": str(corpus), "index_dir": str(index)}

    @property
    def retriever_query_example(self) -> str:
        return "How large is the Jinqiao zone?"


def test_retriever_documents_carry_source_title_id_and_score(bot: ZoneBot) -> None:
    docs = bot.as_retriever(k=4).invoke("How large is the Jinqiao zone?")
    assert len(docs) == 4
    top = docs[0]
    assert top.metadata["source"] == "jinqiao-development-zone.txt"
    assert "20.48" in top.page_content
    for d in docs:
        assert {"source", "title", "passage_id", "score"} <= set(d.metadata)
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)


def test_default_retriever_uses_the_default_index(bot: ZoneBot, seed_dirs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    corpus, index = seed_dirs
    monkeypatch.chdir(index.parent)  # ./index and ./corpus are the defaults
    docs = ZoneBotRetriever(k=2).invoke("Who is Peng Xijun?")
    assert len(docs) == 2 and any("Peng Xijun" in d.page_content for d in docs)
