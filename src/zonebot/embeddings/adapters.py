"""Adapters from ``Embedder`` to other libraries' interfaces (LangChain, for Chroma)."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from .embedder import Embedder


class LangChainEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over an ``Embedder``."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()
