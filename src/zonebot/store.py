"""The vector store adapter: Chroma through ``langchain-chroma``, embedded or server.

Embedded mode keeps one Chroma directory per index generation; server mode keeps
one collection per generation on a Chroma server (``ZONEBOT_CHROMA_URL``). Vectors
are computed by zonebot and handed to Chroma, so Chroma never loads a model itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .embeddings import Embedder, LangChainEmbeddings

#: HNSW construction effort: Chroma's default (100). Search effort: 200 for recall on large indexes.
EF_CONSTRUCTION, EF_SEARCH = 100, 200


def _schema():  # type: ignore[no-untyped-def]
    """Cosine HNSW, and no full-text index on the documents: zonebot searches words with its own BM25,
    and Chroma's trigram index on passage text cost half the write time (measured: 5,000 passages
    took 8.4 s with it and ef_construction 200, 4.4 s without both)."""
    from chromadb import FtsIndexConfig, HnswIndexConfig, K, Schema, VectorIndexConfig

    schema = Schema()
    schema.create_index(
        config=VectorIndexConfig(
            space="cosine",
            embedding_function=None,
            hnsw=HnswIndexConfig(ef_construction=EF_CONSTRUCTION, ef_search=EF_SEARCH),
        )
    )
    schema.delete_index(config=FtsIndexConfig(), key=K.DOCUMENT)
    return schema


def _settings():  # type: ignore[no-untyped-def]
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


class VectorStore:
    """One generation's passage vectors."""

    def __init__(self, client: Any, collection: str, embedder: Embedder, owns_client: bool) -> None:
        from langchain_chroma import Chroma

        self.client = client
        self.collection_name = collection
        self._owns_client = owns_client
        client.get_or_create_collection(collection, schema=_schema(), embedding_function=None)
        self.langchain = Chroma(
            collection_name=collection,
            client=client,
            embedding_function=LangChainEmbeddings(embedder),
        )
        # Writes go straight to the collection: the vectors are already computed.
        self._collection = self.langchain._collection

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, gen_dir: Path, gen_name: str, embedder: Embedder, chroma_url: str | None) -> VectorStore:
        if chroma_url:
            import chromadb

            url = urlparse(chroma_url)
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=_settings(),
            )
            return cls(client, f"zonebot-{gen_name}", embedder, owns_client=False)
        import chromadb

        client = chromadb.PersistentClient(path=str(gen_dir / "chroma"), settings=_settings())
        return cls(client, "zonebot", embedder, owns_client=True)

    @staticmethod
    def clone(src_dir: Path, dst_dir: Path, chroma_url: str | None) -> bool:
        """Copy an embedded generation's files (cheaper than re-adding). False in server mode."""
        if chroma_url or not (src_dir / "chroma").exists():
            return False
        shutil.copytree(src_dir / "chroma", dst_dir / "chroma")
        return True

    def copy_from(self, other: VectorStore, ids: list[str]) -> None:
        """Copy records with their vectors (server mode's clone)."""
        for i in range(0, len(ids), 1000):
            batch = other._collection.get(ids=ids[i : i + 1000], include=["embeddings", "documents", "metadatas"])
            if batch["ids"]:
                self._collection.add(
                    ids=batch["ids"],
                    embeddings=batch["embeddings"],
                    documents=batch["documents"],
                    metadatas=batch["metadatas"],
                )

    # -- writing -------------------------------------------------------------------------
    def add(self, ids: list[str], vectors: np.ndarray, texts: list[str], metadatas: list[dict]) -> None:
        step = max(1, min(5000, int(self.client.get_max_batch_size())))
        for i in range(0, len(ids), step):
            self._collection.upsert(
                ids=ids[i : i + step],
                embeddings=vectors[i : i + step],
                documents=texts[i : i + step],
                metadatas=metadatas[i : i + step],
            )

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 5000):
            self._collection.delete(ids=ids[i : i + 5000])

    def count(self) -> int:
        return int(self._collection.count())

    def drop(self) -> None:
        """Delete this generation's collection (server mode)."""
        try:
            self.client.delete_collection(self.collection_name)
        except Exception:  # already gone
            pass

    def close(self) -> None:
        if self._owns_client:
            try:
                self.client.close()  # release an old generation's file handles
            except Exception:
                pass

    # -- reading -------------------------------------------------------------------------
    def query(self, vector: np.ndarray, k: int, sources: frozenset[str] | None = None) -> list[tuple[str, float]]:
        """``(passage id, cosine similarity)`` pairs, best first; with ``sources``, only passages of those documents."""
        n = self.count()
        if n == 0 or sources is not None and not sources:
            return []
        where = None if sources is None else {"source": {"$in": sorted(sources)}}
        hits = self.langchain.similarity_search_by_vector_with_relevance_scores(vector.tolist(), k=min(k, n),
                                                                                filter=where)  # fmt: skip
        # langchain-chroma returns the raw cosine *distance* here, despite the method name.
        return [(str(doc.id), 1.0 - float(distance)) for doc, distance in hits]
