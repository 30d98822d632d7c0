"""LangChain integration: ``ZoneBotRetriever``, a ``BaseRetriever`` over a zonebot index."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field


class ZoneBotRetriever(BaseRetriever):
    """Hybrid (dense + BM25) passage retrieval as LangChain ``Document``s.

    ``ZoneBotRetriever(k=4)`` opens the default index (``ZONEBOT_INDEX_DIR`` or ``./index``);
    pass ``index_dir=`` or ``bot=`` for another. Metadata carry ``source``, ``title``,
    ``passage_id``, ``ordinal``, ``start``, ``end`` and ``score``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    k: int = 4
    mode: str = "hybrid"
    index_dir: str | None = None
    corpus_dir: str | None = None
    bot: Any = Field(default=None, exclude=True)

    def _bot(self):  # type: ignore[no-untyped-def]
        if self.bot is None:
            from .bot import ZoneBot

            self.bot = ZoneBot(corpus_dir=self.corpus_dir, index_dir=self.index_dir)
        return self.bot

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None, **_: Any
    ) -> list[LCDocument]:
        passages = self._bot().retrieve(query, k=k or self.k, mode=self.mode)
        return [
            LCDocument(
                page_content=p.text,
                id=p.id,
                metadata={
                    "source": p.source,
                    "title": p.title,
                    "passage_id": p.id,
                    "ordinal": p.ordinal,
                    "start": p.start,
                    "end": p.end,
                    "score": p.score,
                },  # fmt: skip
            )
            for p in passages
        ]
